"""Applying beside live traffic on real PostgreSQL: a table of a million rows, a session that
holds a lock on it, the narration in the thread, retries, and INVALID indexes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.lock_review import ALLOW_INDEX_DROP
from bot.demo.project import MigrationSpec
from bot.lock_impact import record_decision
from tests.support.applyteam import APPLIER, BASELINE, REVIEWER, Team, columns, production_versions
from tests.support.chaos import wait_until
from tests.support.lockteam import (
    apply_in_background,
    holding,
    make_lock_team,
    plain_url,
    push_reviewed,
)

ADD_NOTE = MigrationSpec(
    "a7d0c1e2b3f4",
    BASELINE,
    "Add note to events",
    "add_note_to_events",
    upgrade='op.add_column("events", sa.Column("note", sa.Text))',
    downgrade='op.drop_column("events", "note")',
)
UNIQUE_CODE = MigrationSpec(
    "b8e1d2f3a4c5",
    BASELINE,
    "Unique event codes",
    "unique_event_codes",
    upgrade="""
with op.get_context().autocommit_block():
    op.create_index("ix_events_code", "events", ["code"], unique=True,
                    postgresql_concurrently=True)
""",
    downgrade='op.drop_index("ix_events_code", table_name="events")',
)
READER = "SELECT count(*) FROM events WHERE id < 10 -- the nightly report\n-- second line"


@pytest.fixture
def lock_team(tmp_path: Path, pg_url: str) -> Iterator[Team]:
    yield from make_lock_team(
        tmp_path, pg_url, lock_timeout_seconds=3, lock_retries=2, lock_retry_seconds=0.2
    )


def said(team: Team) -> str:
    return "\n".join(team.notes.lines)


def test_a_blocked_apply_names_its_blocker_retries_and_fails_cleanly(lock_team: Team) -> None:
    team = lock_team
    push_reviewed(team, ADD_NOTE, "Add Note to Events")

    with holding(team.production, READER, "nightly-report") as blocker:
        pid = blocker.info.backend_pid
        run = team.applier.execute(team.applier.request(ADD_NOTE.revision, APPLIER))

    assert run.state == "failed"
    thread = said(team)
    assert ":lock: The migration is waiting for a lock held by:" in thread
    assert f"• pid {pid} · application `nightly-report` · idle in transaction" in thread
    assert "query started 20" in thread
    assert "`SELECT count(*) FROM events WHERE id < ? -- the nightly report`" in thread
    assert "second line" not in thread
    assert "It waits in: `ALTER TABLE events ADD COLUMN note TEXT`" in thread
    assert "Attempt 1 of 3 gave up waiting for a lock after 3 s" in thread
    assert "attempt 2 starts in 0.2 s" in thread and "attempt 3 starts in 0.4 s" in thread
    assert "it gave up waiting for a lock 3 times" in thread
    assert "The team's rollback procedure" in thread
    assert production_versions(team.production) == {BASELINE}
    assert "note" not in columns(team.production, "events")
    assert team.services.store.get_lock("apply") is None


def test_a_blocked_apply_goes_through_once_the_blocker_ends(lock_team: Team) -> None:
    team = lock_team
    push_reviewed(team, ADD_NOTE, "Add Note to Events")

    with holding(team.production, READER, "nightly-report"):
        worker, done = apply_in_background(team, ADD_NOTE.revision)
        wait_until(lambda: "nightly-report" in said(team), timeout=20)
    worker.join(timeout=60)

    assert done and done[0].state == "succeeded", done[0].error if done else "still running"
    assert "note" in columns(team.production, "events")
    assert production_versions(team.production) == {ADD_NOTE.revision}


def test_a_failed_concurrent_build_names_its_invalid_index_and_a_retry_drops_it_when_allowed(
    lock_team: Team,
) -> None:
    team = lock_team
    with holding(team.production, "SELECT 1", "setup") as connection:
        connection.execute("UPDATE events SET code = 1 WHERE id = 2")
        connection.commit()
    push_reviewed(team, UNIQUE_CODE, "Unique Event Codes")

    first = team.applier.execute(team.applier.request(UNIQUE_CODE.revision, APPLIER))

    assert first.state == "failed"
    thread = said(team)
    assert "left INVALID indexes" in thread
    assert (
        "`ix_events_code` on `events`: drop it with `DROP INDEX CONCURRENTLY ix_events_code;`"
        in (thread)
    )
    assert f"/schema allow-index-drop {UNIQUE_CODE.revision} <why>" in thread
    assert invalid(team) == ["ix_events_code"]

    # Not allowed: the retry does not touch it, and fails on it.
    with holding(team.production, "SELECT 1", "fix") as connection:
        connection.execute("UPDATE events SET code = 2 WHERE id = 2")
        connection.commit()
    second = team.applier.execute(team.applier.request(UNIQUE_CODE.revision, APPLIER))
    assert second.state == "failed" and "already exists" in (second.error or "")
    assert "Dropped the INVALID index" not in said(team)

    record_decision(
        team.services.store,
        team.services.reviews,
        ALLOW_INDEX_DROP,
        UNIQUE_CODE.revision,
        REVIEWER,
        frozenset(),
        "the build failed on bad data, fixed since",
    )
    third = team.applier.execute(team.applier.request(UNIQUE_CODE.revision, APPLIER))

    assert third.state == "succeeded", third.error
    assert ":broom: Dropped the INVALID index `ix_events_code`" in said(team)
    assert invalid(team) == []


def invalid(team: Team) -> list[str]:
    import psycopg

    with psycopg.connect(plain_url(team.production)) as connection:
        rows = connection.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE NOT i.indisvalid"
        ).fetchall()
    return sorted(str(row[0]) for row in rows)


SLOW = MigrationSpec(
    "d1e2f3a4b5c6",
    BASELINE,
    "Slow statement",
    "slow_statement",
    upgrade='op.execute("SELECT pg_sleep(5)")\nop.add_column("events", sa.Column("x", sa.Text))',
)


def test_statement_timeout_stops_one_statement_and_the_card_shows_both_timeouts(
    tmp_path: Path, pg_url: str
) -> None:
    made = make_lock_team(tmp_path, pg_url, statement_timeout_seconds=1, lock_retries=0)
    team = next(made)
    push_reviewed(team, SLOW, "Slow Statement")

    run = team.applier.execute(team.applier.request(SLOW.revision, APPLIER))

    assert run.state == "failed" and "statement timeout" in (run.error or "")
    assert "Attempt 1" not in said(team)
    assert production_versions(team.production) == {BASELINE}
    snap = team.services.snapshot(SLOW.revision)
    assert snap.locks is not None
    assert snap.locks.run_settings.sql_lines() == (
        "SET lock_timeout = '10s';",
        "SET statement_timeout = '1s';",
        "-- the whole migration is stopped after 900 s (SCHEMABOT_MIGRATION_TIMEOUT)",
    )
    made.close()
