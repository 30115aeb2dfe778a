"""Applying to a real PostgreSQL production database from a real git origin."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from git import Repo
from sqlalchemy import create_engine, inspect, text

from bot.apply import Applier
from bot.checklist import manual_keys
from bot.config import Settings
from bot.doc_update import add_entry, mark_applied
from bot.gates import GateFailed
from bot.sandbox import DEMO_PENDING, DEMO_PENDING_ENTRY, MigrationSpec, seed_document
from bot.services import Services, build_services
from tests.gitrepos import Developer, make_origin

APPLIER = "U0APPLIER1"
REVIEWER = "U0REVIEW01"
TODAY = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
BASELINE = "merge_enum_fix_and_photo_urls"


@dataclass
class Notes:
    """What an apply told the card and its thread (the ApplyNotifier the Slack layer implements)."""

    lines: list[str] = field(default_factory=list)
    cards: list[str] = field(default_factory=list)

    def card_changed(self, revision: str) -> None:
        self.cards.append(revision)

    def progress(self, revision: str, text: str) -> None:
        self.lines.append(text)


@dataclass
class Team:
    dev: Developer
    services: Services
    applier: Applier
    notes: Notes
    production: str


def production_versions(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT version_num FROM alembic_version"))
        versions = {str(row[0]) for row in rows}
    engine.dispose()
    return versions


def columns(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        names = {column["name"] for column in inspect(connection).get_columns(table)}
    engine.dispose()
    return names


def origin_doc(dev: Developer) -> str:
    with Repo(dev.origin) as origin:
        return (origin.commit("main").tree / "SCHEMA_CHANGES.md").data_stream.read().decode()


def push_pending(dev: Developer, spec: MigrationSpec, entry: str | None) -> None:
    dev.pull()
    dev.add_migration(spec)
    if entry is not None:
        doc = (dev.root / "SCHEMA_CHANGES.md").read_text(encoding="utf-8")
        dev.write("SCHEMA_CHANGES.md", add_entry(doc, entry), message=f"Document {spec.revision}")
    dev.push()


@pytest.fixture
def team(tmp_path: Path, pg_url: str) -> Iterator[Team]:
    dev = make_origin(tmp_path)
    config = Config(str(dev.root / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", pg_url)
    command.upgrade(config, BASELINE)
    push_pending(dev, DEMO_PENDING, DEMO_PENDING_ENTRY)
    settings = Settings(
        repo_url=str(dev.origin),
        workdir=tmp_path / "bot",
        database_url=pg_url,
        appliers=frozenset({APPLIER}),
    )
    services = build_services(settings, clock=lambda: TODAY)
    services.scanner.run()
    notes = Notes()
    yield Team(dev, services, Applier(services.apply_parts, notes), notes, pg_url)
    services.store.close()


def approve_and_tick(team: Team, revision: str) -> None:
    services = team.services
    services.reviews.approve(revision, REVIEWER, author=None)
    doc = services.repository.doc("main")
    assert doc is not None
    keys = manual_keys(doc.checklist())
    services.reviews.set_checklist(revision, REVIEWER, shown=keys, selected=keys)


def test_apply_migrates_production_verifies_and_pushes_the_document(team: Team) -> None:
    approve_and_tick(team, DEMO_PENDING.revision)
    before = origin_doc(team.dev)

    run = team.applier.execute(team.applier.request("b41f", APPLIER))

    assert run.state == "succeeded", run.error
    assert production_versions(team.production) == {DEMO_PENDING.revision}
    assert "visibility" in columns(team.production, "posts")
    assert origin_doc(team.dev) == mark_applied(
        before, DEMO_PENDING.revision, DEMO_PENDING.path, TODAY.date()
    )
    with Repo(team.dev.origin) as origin:
        head = origin.commit("main")
        assert run.doc_commit == head.hexsha
        assert list(head.stats.files) == ["SCHEMA_CHANGES.md"]
        assert (head.author.name, head.author.email) == ("schemabot", "schemabot@localhost")
    assert "Applied to Prod**: Yes - 2026-11-25" in origin_doc(team.dev)
    state = team.services.reviews.state(DEMO_PENDING.revision)
    assert state.status_line == "Applied"
    assert {"applied", "verified", "status-updated"} <= {
        k for k, t in state.ticks.items() if t.ticked
    }
    assert any("Running upgrade" in line for line in team.notes.lines)


def test_every_unmet_gate_is_listed_and_nothing_runs(team: Team) -> None:
    with pytest.raises(GateFailed) as refused:
        team.applier.request(DEMO_PENDING.revision, REVIEWER)

    message = str(refused.value)
    assert "may not apply" in message
    assert "0 of the 1 approval" in message
    assert "checklist items not ticked" in message
    assert production_versions(team.production) == {BASELINE}
    assert team.services.store.get_lock("apply") is None


def test_a_revision_whose_parent_is_not_in_production_names_what_is_missing(team: Team) -> None:
    child = MigrationSpec(
        "d00d1e5f0a11",
        DEMO_PENDING.revision,
        "Add bio to users",
        "add_bio_to_users",
        upgrade='op.add_column("users", sa.Column("bio", sa.Text))',
        downgrade='op.drop_column("users", "bio")',
    )
    push_pending(team.dev, child, DEMO_PENDING_ENTRY.replace(DEMO_PENDING.revision, child.revision))
    team.services.scanner.run()
    approve_and_tick(team, child.revision)

    with pytest.raises(GateFailed, match=f"apply first, in order: `{DEMO_PENDING.revision}`"):
        team.applier.request(child.revision, APPLIER)


def test_a_migration_failing_half_way_leaves_production_and_the_document_as_they_were(
    team: Team,
) -> None:
    broken = MigrationSpec(
        "bad0c0ffee00",
        DEMO_PENDING.revision,
        "Add score, then fail",
        "add_score_then_fail",
        upgrade="""
        op.add_column("posts", sa.Column("score", sa.Integer))
        op.execute("UPDATE no_such_table SET x = 1")
        """,
        downgrade='op.drop_column("posts", "score")',
    )
    approve_and_tick(team, DEMO_PENDING.revision)
    team.applier.execute(team.applier.request(DEMO_PENDING.revision, APPLIER))
    push_pending(
        team.dev, broken, DEMO_PENDING_ENTRY.replace(DEMO_PENDING.revision, broken.revision)
    )
    team.services.scanner.run()
    approve_and_tick(team, broken.revision)
    before = origin_doc(team.dev)

    run = team.applier.execute(team.applier.request(broken.revision, APPLIER))

    assert run.state == "failed"
    assert "no_such_table" in (run.error or "")
    assert production_versions(team.production) == {DEMO_PENDING.revision}
    assert "score" not in columns(team.production, "posts")
    assert origin_doc(team.dev) == before
    assert (
        "Rollback Procedures" in team.notes.lines[-1]
        or "rollback procedure" in team.notes.lines[-1]
    )
    assert team.services.reviews.state(broken.revision).status_line == "Failed"
    assert team.services.store.get_lock("apply") is None


def test_a_teammate_push_during_the_apply_is_kept_and_the_edit_redone_on_top(team: Team) -> None:
    approve_and_tick(team, DEMO_PENDING.revision)
    doc = (team.dev.root / "SCHEMA_CHANGES.md").read_text(encoding="utf-8")
    teammate = doc.replace(
        "6. **Monitor after deployment**", "6. **Monitor dashboards after deployment**"
    )
    team.dev.switch("teammate", create=True)
    team.dev.write("SCHEMA_CHANGES.md", teammate, message="Clarify monitoring")
    team.dev.push("teammate")
    hook = team.dev.origin / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\n"
        'marker="$GIT_DIR/bounced"\n'
        '[ -e "$marker" ] && exit 0\n'
        'touch "$marker"\n'
        "env -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY -u GIT_ALTERNATE_OBJECT_DIRECTORIES "
        "git update-ref refs/heads/main refs/heads/teammate\n"
        'echo "a teammate pushed first" >&2\n'
        "exit 1\n"
    )
    hook.chmod(0o755)

    run = team.applier.execute(team.applier.request(DEMO_PENDING.revision, APPLIER))

    assert run.state == "succeeded", run.error
    final = origin_doc(team.dev)
    assert "Monitor dashboards after deployment" in final
    assert final == mark_applied(teammate, DEMO_PENDING.revision, DEMO_PENDING.path, TODAY.date())
    with Repo(team.dev.origin) as origin:
        head = origin.commit("main")
        assert head.parents[0].message.startswith("Clarify monitoring")
