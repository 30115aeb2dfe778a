"""The lock trace runs bytes with production's credentials, so it runs only what an apply
would accept as reviewed: approved, merged, documented, signed where signatures are required.

The attack these tests replay: push a revision on a branch under a colleague's git identity,
approve it yourself (anyone may approve while SCHEMABOT_APPROVERS is empty), and wait for the
watcher's next cycle. Its `upgrade()` hides from the offline preview and, online, writes down
the secret it finds in its environment and adds a column.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.bundle import version_key
from bot.core.doc_update import add_entry
from bot.core.lock_facts import LockTrace
from bot.demo.project import MigrationSpec
from tests.support.applyteam import BASELINE, REVIEWER, Team, columns, push_pending
from tests.support.gitrepos import OMAR
from tests.support.lockteam import entry_for, make_lock_team

SECRET = "prod-secret-7f3a"
PLACEHOLDER = "placeholder-for-previews"


def payload(marker: Path) -> MigrationSpec:
    """A revision whose offline SQL is one harmless column and whose online run is not."""
    return MigrationSpec(
        "d4e5f6a7b8c9",
        BASELINE,
        "Add note to events",
        "add_note_to_events",
        upgrade=f"""
from alembic import context
import os, pathlib
op.add_column("events", sa.Column("note", sa.Text))
if not context.is_offline_mode():
    pathlib.Path({str(marker)!r}).write_text(os.environ.get("APP_SECRET", "none"))
""",
    )


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "payload-ran"


def team_with(tmp_path: Path, pg_url: str, **settings: object) -> Iterator[Team]:
    """A team whose env file holds a secret the team's app reads, and whose preview env file
    holds a placeholder for it."""
    (tmp_path / "prod.env").write_text(f"APP_SECRET={SECRET}\n")
    (tmp_path / "preview.env").write_text(f"APP_SECRET={PLACEHOLDER}\n")
    return make_lock_team(
        tmp_path,
        pg_url,
        rows=10,
        migration_env_file=tmp_path / "prod.env",
        preview_env_file=tmp_path / "preview.env",
        **settings,
    )


@pytest.fixture
def team(tmp_path: Path, pg_url: str) -> Iterator[Team]:
    yield from team_with(tmp_path, pg_url)


@pytest.fixture
def signing_team(tmp_path: Path, pg_url: str) -> Iterator[Team]:
    yield from team_with(tmp_path, pg_url, require_signed_commits=True)


def push_on_branch(team: Team, spec: MigrationSpec, branch: str) -> None:
    """The revision and its entry on `branch`, committed as a colleague (Omar)."""
    dev = team.dev
    dev.switch(branch, create=True)
    dev.add_migration(spec, author=OMAR, committer=OMAR)
    doc = (dev.root / "SCHEMA_CHANGES.md").read_text(encoding="utf-8")
    dev.write("SCHEMA_CHANGES.md", add_entry(doc, entry_for(spec, "Add Note to Events")), OMAR)
    dev.push(branch)
    dev.switch("main")


def approve_and_watch(team: Team, revision: str) -> None:
    """Scan, render the card's SQL, approve it (as anyone may), then one watcher cycle."""
    services = team.services
    services.scanner.run()
    if not services.reviews.state(revision).approvals:
        services.reviews.approve(revision, REVIEWER, authors=())
    watch(team, revision)


def watch(team: Team, revision: str) -> None:
    """Scan, render the card's SQL, then one watcher cycle."""
    services = team.services
    services.scanner.run()
    services.review_sql([revision])
    assert services.locks is not None
    services.locks.cycle([revision])


def kept_trace(team: Team, revision: str) -> LockTrace | None:
    state = team.services.reviews.state(revision)
    key = version_key(state.record.blob_sha, state.bundle)
    return team.services.store.lock_trace(revision, key)


def unmet_for_trace(team: Team, revision: str) -> list[str]:
    locks = team.services.locks
    assert locks is not None and locks.tracer is not None
    report, _ = locks.tracer.gates(revision)
    return [gate.name for gate in report.unmet]


def nothing_ran(team: Team, revision: str, marker: Path) -> None:
    """No trace kept, no checkout written, no child started (its payload wrote nothing),
    production untouched."""
    assert kept_trace(team, revision) is None
    assert not (team.services.settings.workdir / "traces" / revision).exists()
    assert not marker.exists()
    assert "note" not in columns(team.production, "events")


def test_an_approved_revision_on_a_branch_is_not_traced_until_merged(
    team: Team, marker: Path
) -> None:
    spec = payload(marker)
    push_on_branch(team, spec, "evil")

    approve_and_watch(team, spec.revision)

    # Main's document has no entry for it and main's graph no such revision, either.
    assert unmet_for_trace(team, spec.revision) == ["on main", "documented", "in graph"]
    nothing_ran(team, spec.revision, marker)

    team.dev.repo.git.merge("evil")
    team.dev.push()
    approve_and_watch(team, spec.revision)

    trace = kept_trace(team, spec.revision)
    assert trace is not None and trace.error is None
    # It ran on the copy, with the preview's placeholders, never the team's env file.
    assert marker.read_text() == PLACEHOLDER
    assert "note" not in columns(team.production, "events")


def test_an_approved_revision_without_its_entry_is_not_traced(team: Team, marker: Path) -> None:
    spec = payload(marker)
    push_pending(team.dev, spec, None)

    approve_and_watch(team, spec.revision)

    assert unmet_for_trace(team, spec.revision) == ["documented"]
    nothing_ran(team, spec.revision, marker)


def test_an_unsigned_revision_is_not_traced_when_signatures_are_required(
    signing_team: Team, marker: Path
) -> None:
    team = signing_team
    spec = payload(marker)
    push_pending(team.dev, spec, entry_for(spec, "Add Note to Events"))

    approve_and_watch(team, spec.revision)

    assert unmet_for_trace(team, spec.revision) == ["signed"]
    nothing_ran(team, spec.revision, marker)


def test_a_change_request_stops_the_trace_of_an_approved_revision(team: Team, marker: Path) -> None:
    spec = payload(marker)
    push_pending(team.dev, spec, entry_for(spec, "Add Note to Events"))
    team.services.scanner.run()
    team.services.reviews.request_changes(spec.revision, "U0OTHER001", (), "not like this")

    approve_and_watch(team, spec.revision)

    assert unmet_for_trace(team, spec.revision) == ["no change requests"]
    nothing_ran(team, spec.revision, marker)


def test_approvals_gone_stale_with_a_change_to_env_py_stop_the_trace(
    team: Team, marker: Path
) -> None:
    spec = payload(marker)
    push_pending(team.dev, spec, entry_for(spec, "Add Note to Events"))
    team.services.scanner.run()
    team.services.reviews.approve(spec.revision, REVIEWER, authors=())
    env_py = (team.dev.root / "migrations" / "env.py").read_text(encoding="utf-8")
    team.dev.write("migrations/env.py", env_py + "\n# run anything here\n", OMAR)
    team.dev.push()

    watch(team, spec.revision)

    assert team.services.reviews.state(spec.revision).stale_approvals
    assert unmet_for_trace(team, spec.revision) == ["approvals"]
    nothing_ran(team, spec.revision, marker)
