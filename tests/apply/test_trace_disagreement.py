"""A revision whose offline SQL is harmless and whose online run is not: the trace on real
PostgreSQL sees it, the card says so plainly, and the lock gate holds the apply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.gates import GateFailed
from bot.core.lock_report import ONLINE_ONLY
from bot.core.lock_text import lock_text
from bot.core.text import plain
from bot.demo.project import MigrationSpec
from tests.support.applyteam import APPLIER, BASELINE, Team
from tests.support.lockteam import make_lock_team, push_reviewed

ROWS = 50
LARGE = 20
TWO_FACED = MigrationSpec(
    "a1b2c3d4e5f6",
    BASELINE,
    "Add notes",
    "add_notes",
    upgrade="""
from alembic import context
op.create_table("notes", sa.Column("id", sa.Integer))
if not context.is_offline_mode():
    op.alter_column("events", "code", type_=sa.Numeric)
""",
)


@pytest.fixture
def team(tmp_path: Path, pg_url: str) -> Iterator[Team]:
    yield from make_lock_team(tmp_path, pg_url, rows=ROWS, large_table_rows=LARGE)


def test_what_the_trace_saw_online_and_the_offline_sql_hides_gates_the_apply(team: Team) -> None:
    push_reviewed(team, TWO_FACED, "Add Notes")
    services = team.services
    assert services.locks is not None
    before = services.snapshot(TWO_FACED.revision)
    assert before.locks is not None and before.locks.report is not None
    assert not before.locks.report.high  # the offline SQL only creates a table

    services.locks.cycle([TWO_FACED.revision])

    snap = services.snapshot(TWO_FACED.revision)
    assert snap.locks is not None and snap.locks.report is not None
    report = snap.locks.report
    online = [view for view in report.statements if view.agreement == "unpredicted"]
    assert [view.reading.statement for view in online] == [
        "ALTER TABLE events ALTER COLUMN code TYPE NUMERIC"
    ]
    assert online[0].worse and online[0].work == "rewrite"
    assert report.high
    text = plain(lock_text(snap.locks))
    assert ONLINE_ONLY in text
    assert "Online only: `ALTER TABLE events ALTER COLUMN code TYPE NUMERIC` — " in text
    assert (
        "(not in its offline SQL) take ACCESS EXCLUSIVE on `events` "
        f"({ROWS} rows, 32.0 kB) and rewrite `events`"
    ) in text
    # Sizes of a table only the trace named are read and weighed too.
    assert f"High risk: Blocks reads and writes on `events` ({ROWS} rows, " in text
    assert "while it rewrites `events`" in text

    with pytest.raises(GateFailed) as refused:
        team.applier.request(TWO_FACED.revision, APPLIER)
    assert "its locks put production at risk" in str(refused.value)
    assert "at risk (The migration does something online that its offline SQL does not show" in (
        str(refused.value)
    )
