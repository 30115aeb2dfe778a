"""dev, staging and production on the local PostgreSQL: what each has, promotion, the soak."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from git import Repo

from bot.core.gates import GateFailed
from bot.core.records import BOT_ACTOR
from bot.demo.project import DEMO_PENDING
from bot.errors import SchemabotError
from tests.conftest import FixedClock
from tests.support.applyteam import (
    APPLIER,
    BASELINE,
    REVIEWER,
    columns,
    origin_doc,
    production_versions,
)
from tests.support.environments import SOAK_MINUTES, Stages, make_stages, three_databases, trailers

REVISION = DEMO_PENDING.revision
DEV_ITEM = "migration-created-and-tested-in-dev-environment"
STAGING_ITEM = "migration-tested-on-production-like-data-if-possible"


@pytest.fixture
def stages(tmp_path: Path, pg_template: None, clock: FixedClock) -> Iterator[Stages]:
    for urls in three_databases():
        yield from make_stages(tmp_path, urls, clock)


def refusal(stages: Stages, environment: str | None = None) -> str:
    with pytest.raises(GateFailed) as refused:
        stages.applier.request(REVISION, APPLIER, environment=environment)
    return str(refused.value)


def test_the_dev_tick_appears_when_dev_is_upgraded_by_hand(stages: Stages) -> None:
    watch = stages.services.environment_watch
    assert watch is not None
    assert not stages.services.reviews.state(REVISION).ticked(DEV_ITEM)

    stages.upgrade_by_hand("dev", REVISION)
    changed = watch.cycle()

    assert REVISION in changed
    tick = stages.services.store.checklist_for(REVISION)[DEV_ITEM]
    assert tick.ticked and tick.by == BOT_ACTOR
    snapshot = stages.services.snapshot(REVISION)
    [line] = [line for line in snapshot.checklist if line.entry.key == DEV_ITEM]
    assert line.done and not line.entry.manual
    rows = {row.name: row for row in snapshot.environments}
    assert rows["dev"].presence is not None and rows["dev"].presence.run_id is None
    assert rows["staging"].presence is None and rows["production"].presence is None
    assert watch.cycle() == set(), "a second look at the same databases changes nothing"


def test_what_an_apply_reads_first_still_reaches_the_watchers_cards(stages: Stages) -> None:
    watch = stages.services.environment_watch
    assert watch is not None
    stages.upgrade_by_hand("dev", REVISION)

    # An apply reads the environments before its gates (refused: nobody ticked anything).
    refusal(stages, "staging")

    assert stages.services.store.checklist_for(REVISION)[DEV_ITEM].ticked
    assert REVISION in watch.cycle(), "the watcher's next cycle refreshes the card"


def test_a_person_cannot_tick_what_an_environment_verifies(stages: Stages) -> None:
    stages.tick_what_people_tick(REVISION)
    stages.services.store.set_checklist(REVISION, DEV_ITEM, True, REVIEWER)

    message = refusal(stages, "staging")

    assert "Migration created and tested in dev environment" in message


def test_production_is_refused_before_staging_and_during_the_soak_then_allowed(
    stages: Stages, clock: FixedClock
) -> None:
    stages.tick_what_people_tick(REVISION)
    stages.upgrade_by_hand("dev", REVISION)
    before = origin_doc(stages.dev)

    assert "`production` requires it in `staging` first" in refusal(stages)

    run = stages.applier.execute(stages.applier.request(REVISION, APPLIER, environment="staging"))
    assert run.state == "succeeded", run.error
    assert run.environment == "staging" and run.doc_commit is None
    assert production_versions(stages.urls["staging"]) == {REVISION}
    assert production_versions(stages.urls["production"]) == {BASELINE}
    assert origin_doc(stages.dev) == before, "only production commits the document"
    assert stages.services.reviews.state(REVISION).status_line == "Approved 1/1"
    staging = stages.services.store.checklist_for(REVISION)[STAGING_ITEM]
    assert staging.ticked and staging.by == BOT_ACTOR

    assert f"for {SOAK_MINUTES} min before `production`: {SOAK_MINUTES} min left" in refusal(stages)
    clock.advance(minutes=SOAK_MINUTES - 1)
    assert "`staging` for 60 min before `production`: 1 min left" in refusal(stages)
    clock.advance(minutes=1)

    run = stages.applier.execute(stages.applier.request(REVISION, APPLIER))

    assert run.state == "succeeded", run.error
    assert production_versions(stages.urls["production"]) == {REVISION}
    assert "visibility" in columns(stages.urls["production"], "posts")
    assert "Applied to Prod**: Yes - 2025-03-14" in origin_doc(stages.dev)
    rows = {row.name: row for row in stages.services.snapshot(REVISION).environments}
    assert rows["staging"].presence is not None
    assert rows["staging"].presence.applied_by == APPLIER
    assert rows["production"].presence is not None
    assert rows["production"].presence.run_id == run.id


def test_the_status_commit_carries_trailers_git_can_parse(
    stages: Stages, clock: FixedClock
) -> None:
    stages.tick_what_people_tick(REVISION)
    stages.upgrade_by_hand("dev", REVISION)
    stages.applier.execute(stages.applier.request(REVISION, APPLIER, environment="staging"))
    clock.advance(minutes=SOAK_MINUTES)
    stages.services.store.set_card(REVISION, "C0REVIEW01", "1741944600.000100")
    stages.services.store.set_card_permalink(
        REVISION, "https://example.slack.com/archives/C0REVIEW01/p1741944600000100"
    )

    run = stages.applier.execute(stages.applier.request(REVISION, APPLIER))

    assert run.doc_commit is not None
    assert trailers(stages.dev.origin, run.doc_commit) == [
        ("Approved-by", REVIEWER),
        ("Applied-by", APPLIER),
        ("Environment", "production"),
        ("Reviewed-at", "https://example.slack.com/archives/C0REVIEW01/p1741944600000100"),
        ("Schemabot-Run", str(run.id)),
    ]
    with Repo(stages.dev.origin) as origin:
        assert list(origin.commit(run.doc_commit).stats.files) == ["SCHEMA_CHANGES.md"]


def test_a_read_only_environment_is_never_migrated(stages: Stages) -> None:
    stages.tick_what_people_tick(REVISION)

    with pytest.raises(SchemabotError, match="`dev` is read-only"):
        stages.applier.request(REVISION, APPLIER, environment="dev")
    with pytest.raises(SchemabotError, match="No environment `qa`"):
        stages.applier.request(REVISION, APPLIER, environment="qa")
    assert production_versions(stages.urls["dev"]) == {BASELINE}


def test_each_environment_has_its_own_apply_lock(stages: Stages) -> None:
    stages.tick_what_people_tick(REVISION)
    stages.upgrade_by_hand("dev", REVISION)
    assert stages.services.store.try_acquire_lock("apply", "run 99 (apply elsewhere)")

    run = stages.applier.request(REVISION, APPLIER, environment="staging")

    assert stages.services.store.get_lock("apply:staging") is not None
    stages.applier.execute(run)
    assert stages.services.store.get_lock("apply:staging") is None
    assert "another apply is running (run 99" in refusal(stages)


def test_staging_rolls_back_with_the_bytes_it_was_given(stages: Stages) -> None:
    stages.tick_what_people_tick(REVISION)
    stages.upgrade_by_hand("dev", REVISION)
    stages.applier.execute(stages.applier.request(REVISION, APPLIER, environment="staging"))
    before = origin_doc(stages.dev)

    run = stages.applier.execute(
        stages.applier.request(REVISION, APPLIER, "rollback", environment="staging")
    )

    assert run.state == "succeeded", run.error
    assert production_versions(stages.urls["staging"]) == {BASELINE}
    assert origin_doc(stages.dev) == before
    assert "staging" not in stages.services.store.presence_of(REVISION)
    assert "`production` requires it in `staging` first" in refusal(stages)
