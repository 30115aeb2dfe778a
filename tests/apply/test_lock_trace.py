"""The card's lock lines for the common schema changes, beside what a traced run of the
approved bytes on a schema-only copy of production saw; the risk gate and its override."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.bundle import version_key
from bot.core.gates import GateFailed
from bot.core.lock_modes import LockMode
from bot.core.lock_review import LOCK_OVERRIDE
from bot.core.lock_text import lock_text
from bot.core.records import BOT_ACTOR
from bot.core.text import plain
from bot.demo.project import MigrationSpec
from bot.lock_impact import record_decision
from tests.support.applyteam import APPLIER, BASELINE, REVIEWER, Team, push_pending
from tests.support.lockteam import entry_for, make_lock_team, push_reviewed

EVERY_KIND = MigrationSpec(
    "c9f2e3a4b5d6",
    BASELINE,
    "Reshape events",
    "reshape_events",
    upgrade="""
op.add_column("events", sa.Column("note", sa.Text))
op.add_column("events", sa.Column("score", sa.Integer, server_default="0", nullable=False))
op.alter_column("events", "kind", existing_type=sa.Text, nullable=True)
op.alter_column("events", "kind", existing_type=sa.Text, nullable=False)
op.add_column("events", sa.Column("user_id", sa.Integer))
op.create_foreign_key("fk_events_user", "events", "users", ["user_id"], ["id"])
op.create_index("ix_events_kind", "events", ["kind"])
op.alter_column("events", "note", new_column_name="remark")
op.drop_column("events", "score")
op.alter_column("events", "code", type_=sa.Numeric)
op.alter_column("events", "kind", existing_type=sa.Text, type_=sa.String())
with op.get_context().autocommit_block():
    op.create_index("ix_events_code", "events", ["code"], postgresql_concurrently=True)
""",
)


AE, SRE = LockMode.ACCESS_EXCLUSIVE, LockMode.SHARE_ROW_EXCLUSIVE
# Each statement: what the card reads (locks, and what it does meanwhile), and what the
# trace on the schema-only copy said of it.
EXPECTED = [
    ("ALTER TABLE events ADD COLUMN note TEXT", {("events", AE)}, "brief", "confirmed"),
    (
        "ALTER TABLE events ADD COLUMN score INTEGER DEFAULT '0' NOT NULL",
        {("events", AE)},
        "brief",
        "confirmed",
    ),
    ("ALTER TABLE events ALTER COLUMN kind DROP NOT NULL", {("events", AE)}, "brief", "confirmed"),
    ("ALTER TABLE events ALTER COLUMN kind SET NOT NULL", {("events", AE)}, "scan", "confirmed"),
    ("ALTER TABLE events ADD COLUMN user_id INTEGER", {("events", AE)}, "brief", "confirmed"),
    (
        "ALTER TABLE events ADD CONSTRAINT fk_events_user FOREIGN KEY(user_id) "
        "REFERENCES users (id)",
        {("events", SRE), ("users", SRE)},
        "scan",
        "confirmed",
    ),
    (
        "CREATE INDEX ix_events_kind ON events (kind)",
        {("events", LockMode.SHARE)},
        "index",
        "confirmed",
    ),
    ("ALTER TABLE events RENAME note TO remark", {("events", AE)}, "brief", "confirmed"),
    ("ALTER TABLE events DROP COLUMN score", {("events", AE)}, "brief", "confirmed"),
    ("ALTER TABLE events ALTER COLUMN code TYPE NUMERIC", {("events", AE)}, "rewrite", "confirmed"),
    # text to varchar is binary coercible: the reading expects a rewrite, the trace saw none.
    ("ALTER TABLE events ALTER COLUMN kind TYPE VARCHAR", {("events", AE)}, "brief", "corrected"),
    (
        "CREATE INDEX CONCURRENTLY ix_events_code ON events (code)",
        {("events", LockMode.SHARE_UPDATE_EXCLUSIVE)},
        "concurrent",
        "untraced",
    ),
]


@pytest.fixture
def lock_team(tmp_path: Path, pg_url: str) -> Iterator[Team]:
    yield from make_lock_team(tmp_path, pg_url)


def traced_card(team: Team) -> None:
    push_reviewed(team, EVERY_KIND, "Reshape Events")
    assert team.services.locks is not None
    assert EVERY_KIND.revision in team.services.locks.cycle([EVERY_KIND.revision])


def test_the_cards_lock_lines_beside_what_the_trace_saw(lock_team: Team) -> None:
    team = lock_team
    traced_card(team)

    snap = team.services.snapshot(EVERY_KIND.revision)
    assert snap.locks is not None and snap.locks.report is not None
    report = snap.locks.report
    seen = [
        (
            view.reading.statement,
            {(lock.table, lock.mode) for lock in view.locks},
            view.work,
            view.agreement,
        )
        for view in report.statements
    ]
    assert seen == EXPECTED
    # Online, each of these does what its offline SQL says: nothing worse, nothing hidden.
    assert not any(view.worse for view in report.statements)
    text = plain(lock_text(snap.locks))
    assert "does something online that its offline SQL does not show" not in text
    assert "1. `ALTER TABLE events ADD COLUMN note TEXT` — ACCESS EXCLUSIVE on `events` " in text
    assert "(blocks reads and writes) · a catalog change · `events`: 1 M rows" in text
    assert "· the trace confirms it" in text
    assert ":rotating_light: High risk: Blocks reads and writes on `events` (1 M rows, " in text
    assert "while it rewrites `events`: taken at statement 1, held until its transaction" in text
    assert "Traced on a schema-only copy of production" in text and "corrected 1 statement" in text
    assert "Sizes from production's statistics" in text


def test_high_lock_risk_is_a_gate_an_approver_can_accept_with_a_reason(lock_team: Team) -> None:
    team = lock_team
    traced_card(team)

    with pytest.raises(GateFailed) as refused:
        team.applier.request(EVERY_KIND.revision, APPLIER)
    assert "its locks put production at risk" in str(refused.value)
    assert f"/schema override-locks {EVERY_KIND.revision} <why it is safe>" in str(refused.value)

    record_decision(
        team.services.store,
        team.services.reviews,
        LOCK_OVERRIDE,
        EVERY_KIND.revision,
        REVIEWER,
        frozenset(),
        "run at 3am, traffic is off",
    )
    run = team.applier.execute(team.applier.request(EVERY_KIND.revision, APPLIER))

    assert run.state == "succeeded", run.error
    events = team.services.store.audit_for(EVERY_KIND.revision)
    assert any(e.action == LOCK_OVERRIDE and e.actor == REVIEWER for e in events)
    snap = team.services.snapshot(EVERY_KIND.revision)
    assert snap.locks is not None
    assert f"@{REVIEWER} accepted the lock risk: run at 3am, traffic is off" in plain(
        lock_text(snap.locks)
    )


PRODUCTION_LIKE = "migration-tested-on-production-like-data-if-possible"
SMALL = MigrationSpec(
    "e5f6a7b8c9d0",
    BASELINE,
    "Add note to events",
    "add_note_to_events",
    upgrade='op.add_column("events", sa.Column("note", sa.Text))',
)


def approved_only(team: Team, spec: MigrationSpec) -> None:
    push_pending(team.dev, spec, entry_for(spec, "Add Note to Events"))
    team.services.scanner.run()
    team.services.review_sql([spec.revision])
    team.services.reviews.approve(spec.revision, REVIEWER, authors=())


def test_a_trace_ticks_production_like_data_only_when_the_team_says_so(
    tmp_path: Path, pg_url: str
) -> None:
    made = make_lock_team(tmp_path, pg_url, lock_trace_ticks=frozenset({"production-like data"}))
    team = next(made)
    assert team.services.locks is not None
    approved_only(team, SMALL)

    team.services.locks.cycle([SMALL.revision])

    tick = team.services.reviews.state(SMALL.revision).ticks[PRODUCTION_LIKE]
    assert tick.ticked and tick.by == BOT_ACTOR
    made.close()


def test_without_ticks_the_trace_is_a_finding_only(lock_team: Team) -> None:
    team = lock_team
    approved_only(team, SMALL)
    assert team.services.locks is not None

    team.services.locks.cycle([SMALL.revision])

    assert PRODUCTION_LIKE not in team.services.reviews.state(SMALL.revision).ticks
    snap = team.services.snapshot(SMALL.revision)
    assert snap.locks is not None
    assert "it confirms the reading" in plain(lock_text(snap.locks))


def test_unapproved_bytes_are_never_traced(lock_team: Team) -> None:
    team = lock_team
    push_pending(team.dev, SMALL, entry_for(SMALL, "Add Note to Events"))
    team.services.scanner.run()
    team.services.review_sql([SMALL.revision])
    assert team.services.locks is not None

    team.services.locks.cycle([SMALL.revision])

    snap = team.services.snapshot(SMALL.revision)
    assert snap.locks is not None and snap.locks.report is not None
    assert snap.locks.report.trace is None
    assert "Not traced yet: the trace runs the approved bytes" in plain(lock_text(snap.locks))


def test_the_copy_is_made_on_the_drift_server_when_there_is_one(
    tmp_path: Path, pg_url: str
) -> None:
    # A server that does not answer: the trace says it could not make its copy there, so
    # the copy is never made on production's own server behind the team's back.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    elsewhere = f"postgresql+psycopg://scratch@127.0.0.1:{port}/postgres"
    made = make_lock_team(tmp_path, pg_url, drift_url=elsewhere)
    team = next(made)
    assert team.services.locks is not None and team.services.locks.tracer is not None
    approved_only(team, SMALL)

    team.services.locks.cycle([SMALL.revision])

    record = team.services.store.get_revision(SMALL.revision)
    bundle = team.services.reviews.state(SMALL.revision).bundle
    assert record is not None and bundle is not None
    trace = team.services.store.lock_trace(SMALL.revision, version_key(record.blob_sha, bundle))
    assert trace is not None and trace.error is not None
    assert f"cannot create a scratch database on 127.0.0.1:{port}" in trace.error
    made.close()
