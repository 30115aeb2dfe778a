"""Rollback, and what happens when schemabot dies in the middle of an apply."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from git import Repo
from sqlalchemy import create_engine, text

from bot.apply.applier import Applier
from bot.core.checklist import BotCheck
from bot.core.doc_update import mark_applied
from bot.core.text import Text
from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY, MigrationSpec
from tests.support.applyteam import (
    APPLIER,
    BASELINE,
    TODAY,
    Notes,
    Team,
    approve_and_tick,
    columns,
    origin_doc,
    production_versions,
    push_pending,
)
from tests.support.chaos import start_crash_apply, wait_until

SLOW = MigrationSpec(
    "51ee9c0ffee1",
    DEMO_PENDING.revision,
    "Add rank to posts, slowly",
    "add_rank_slowly",
    upgrade="""
    op.execute("SELECT pg_sleep(4)")
    op.add_column("posts", sa.Column("rank", sa.Integer))
    """,
    downgrade='op.drop_column("posts", "rank")',
)


def sleeping_in(url: str) -> bool:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep%'"
            )
        ).scalar()
    engine.dispose()
    return bool(found)


def fresh_applier(team: Team) -> Applier:
    """The applier of a bot process started after the crash."""
    return Applier(team.services.apply_parts, Notes())


def test_rollback_downgrades_production_and_records_it_in_the_document(team: Team) -> None:
    approve_and_tick(team, DEMO_PENDING.revision)
    team.applier.execute(team.applier.request(DEMO_PENDING.revision, APPLIER))

    run = team.applier.execute(team.applier.request(DEMO_PENDING.revision, APPLIER, "rollback"))

    assert run.state == "succeeded", run.error
    assert production_versions(team.production) == {BASELINE}
    assert "visibility" not in columns(team.production, "posts")
    doc = origin_doc(team.dev)
    assert "Applied to Prod**: No - rolled back 2026-11-25" in doc
    assert "Rolled back on 2026-11-25" in doc
    assert team.services.reviews.state(DEMO_PENDING.revision).status_line == "Rolled back"


def test_rollback_of_a_revision_production_is_not_at_is_refused(team: Team) -> None:
    with pytest.raises(Exception, match="production is not at"):
        team.applier.request(DEMO_PENDING.revision, APPLIER, "rollback")
    assert production_versions(team.production) == {BASELINE}


def test_killed_during_the_migration_production_unchanged_then_applied_once(
    team: Team, tmp_path: Path
) -> None:
    push_pending(team.dev, SLOW, DEMO_PENDING_ENTRY.replace(DEMO_PENDING.revision, SLOW.revision))
    team.services.scanner.run()
    approve_and_tick(team, DEMO_PENDING.revision)
    team.applier.execute(team.applier.request(DEMO_PENDING.revision, APPLIER))
    team.services.scanner.run()
    approve_and_tick(team, SLOW.revision)

    bot = start_crash_apply(team.services.settings, SLOW.revision, APPLIER, tmp_path)
    wait_until(lambda: sleeping_in(team.production))
    bot.send_signal(signal.SIGKILL)
    bot.wait()

    applier = fresh_applier(team)
    applier.recover()
    [run] = team.services.store.runs_for(SLOW.revision)
    assert run.state == "interrupted"
    assert production_versions(team.production) == {DEMO_PENDING.revision}
    assert team.services.store.get_lock("apply") is None

    run = applier.execute(applier.request(SLOW.revision, APPLIER))
    assert run.state == "succeeded", run.error
    assert production_versions(team.production) == {SLOW.revision}
    assert "rank" in columns(team.production, "posts")


def test_killed_between_the_migration_and_the_push_the_document_is_updated_once(
    team: Team, tmp_path: Path
) -> None:
    approve_and_tick(team, DEMO_PENDING.revision)
    before = origin_doc(team.dev)
    hook = team.dev.origin / "hooks" / "pre-receive"
    started = tmp_path / "push-started"
    hook.write_text(f"#!/bin/sh\ntouch {started}\nsleep 30\nexit 1\n")
    hook.chmod(0o755)

    bot = start_crash_apply(team.services.settings, DEMO_PENDING.revision, APPLIER, tmp_path)
    wait_until(started.exists)
    bot.send_signal(signal.SIGKILL)
    bot.wait()
    hook.unlink()
    assert production_versions(team.production) == {DEMO_PENDING.revision}
    assert origin_doc(team.dev) == before

    applier = fresh_applier(team)
    applier.recover()
    applier.recover()

    [run] = team.services.store.runs_for(DEMO_PENDING.revision)
    assert run.state == "succeeded", run.error
    expected = mark_applied(before, DEMO_PENDING.revision, DEMO_PENDING.path, TODAY.date())
    assert origin_doc(team.dev) == expected
    with Repo(team.dev.origin) as origin:
        messages = [c.message for c in origin.iter_commits("main")]
    assert sum(m.startswith(f"Mark {DEMO_PENDING.revision} applied") for m in messages) == 1


class BrokenNotes(Notes):
    """A reporting layer with a bug: it raises the first time the apply says something
    containing `breaks_at`."""

    def __init__(self, breaks_at: str) -> None:
        super().__init__()
        self.breaks_at: str | None = breaks_at

    def progress(self, revision: str, said: Text) -> None:
        super().progress(revision, said)
        if self.breaks_at is not None and self.breaks_at in str(said):
            self.breaks_at = None
            raise RuntimeError("a bug in the reporting layer")


def test_an_unexpected_error_before_the_migration_fails_the_run_and_frees_the_lock(
    team: Team,
) -> None:
    approve_and_tick(team, DEMO_PENDING.revision)
    broken = Applier(team.services.apply_parts, BrokenNotes(breaks_at="Applying"))
    doc_before = origin_doc(team.dev)

    run = broken.execute(broken.request(DEMO_PENDING.revision, APPLIER))

    assert run.state == "failed"
    assert "unexpected error" in (run.error or "") and "before anything was migrated" in (
        run.error or ""
    )
    assert production_versions(team.production) == {BASELINE}
    assert origin_doc(team.dev) == doc_before
    # Nothing half-done: the next apply takes the lock and runs.
    again = team.applier.execute(team.applier.request(DEMO_PENDING.revision, APPLIER))
    assert again.state == "succeeded", again.error


def test_an_unexpected_error_after_the_migration_still_updates_the_document(
    team: Team,
) -> None:
    approve_and_tick(team, DEMO_PENDING.revision)
    broken = Applier(team.services.apply_parts, BrokenNotes(breaks_at="Running upgrade"))

    run = broken.execute(broken.request(DEMO_PENDING.revision, APPLIER))

    assert run.state == "succeeded", run.error
    assert production_versions(team.production) == {DEMO_PENDING.revision}
    ticks = team.services.store.checklist_for(DEMO_PENDING.revision)
    assert ticks[BotCheck.APPLIED.value].ticked and ticks[BotCheck.VERIFIED.value].ticked
    with Repo(team.dev.origin) as origin:
        message = str(origin.commit("main").message)
    assert message.startswith(f"Mark {DEMO_PENDING.revision} applied")
