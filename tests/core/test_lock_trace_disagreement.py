"""The trace against the offline SQL: what the trace saw and the offline SQL does not show is
weighed by what the trace saw, and where it is worse the risk is high whatever the sizes."""

from __future__ import annotations

from bot.core.lock_facts import LockTrace, TableSize, TableStats, TracedStatement
from bot.core.lock_modes import LockMode, TableLock
from bot.core.lock_reading import read_locks
from bot.core.lock_report import ONLINE_ONLY, LockReport, lock_report, locked_tables
from bot.core.lock_review import LockCard, RunSettings, lock_gate
from bot.core.lock_text import lock_text
from bot.core.text import plain

AE = LockMode.ACCESS_EXCLUSIVE
SUE = LockMode.SHARE_UPDATE_EXCLUSIVE
ROW_EXCLUSIVE = LockMode.ROW_EXCLUSIVE
SMALL = TableStats({"events": TableSize("events", 10, 8192)})
BOOKKEEPING = TracedStatement("UPDATE alembic_version SET version_num='b'", ())


def card_text(report: LockReport) -> str:
    return plain(lock_text(LockCard(report, None, RunSettings(10, 0, 900))))


def test_a_statement_only_the_trace_saw_is_its_own_line_and_high_risk_on_a_small_table() -> None:
    readings = read_locks("BEGIN; CREATE TABLE notes (id INTEGER); COMMIT;")
    trace = LockTrace(
        (
            TracedStatement("CREATE TABLE notes (id INTEGER)", ()),
            TracedStatement(
                "ALTER TABLE events ALTER COLUMN code TYPE NUMERIC",
                (TableLock("events", AE),),
                rewritten=("events",),
            ),
            BOOKKEEPING,
        )
    )

    report = lock_report(readings, SMALL, trace, large_table_rows=1_000_000)

    assert [v.agreement for v in report.statements] == ["confirmed", "unpredicted"]
    online = report.statements[1]
    assert online.worse and online.locks == (TableLock("events", AE),)
    assert online.work == "rewrite" and online.surprise_rewrites == ("events",)
    assert report.high
    assert [risk.level for risk in report.risks] == ["high", "medium"]
    unshown = plain(report.risks[0].text)
    assert unshown.startswith("The migration does something online that its offline SQL")
    assert "`ALTER TABLE events ALTER COLUMN code TYPE NUMERIC` (not in its offline SQL)" in unshown
    assert "take ACCESS EXCLUSIVE on `events` (10 rows, 8.0 kB) and rewrite `events`" in unshown
    assert unshown.endswith("rewrite `events`")
    assert not lock_gate(report, None, "abc").met
    text = card_text(report)
    assert "Online only: `ALTER TABLE events ALTER COLUMN code TYPE NUMERIC` — ACCESS" in text
    assert "not in its offline SQL: the trace saw it run" in text
    assert ONLINE_ONLY in text and "The SQL reviewed is not what runs" in text


def test_a_stronger_lock_than_the_offline_sql_shows_is_high_risk() -> None:
    readings = read_locks("BEGIN; ALTER TABLE events VALIDATE CONSTRAINT c; COMMIT;")
    trace = LockTrace(
        (TracedStatement("ALTER TABLE events VALIDATE CONSTRAINT c", (TableLock("events", AE),)),)
    )

    report = lock_report(readings, SMALL, trace)

    view = report.statements[0]
    assert view.agreement == "corrected" and view.stronger == (TableLock("events", AE),)
    assert report.high and "(in its offline SQL) take ACCESS EXCLUSIVE" in plain(
        report.risks[0].text
    )


def test_a_rewrite_the_offline_sql_does_not_predict_is_high_risk() -> None:
    readings = read_locks("BEGIN; ALTER TABLE events ADD COLUMN note TEXT; COMMIT;")
    trace = LockTrace(
        (
            TracedStatement(
                "ALTER TABLE events ADD COLUMN note TEXT",
                (TableLock("events", AE),),
                rewritten=("events",),
            ),
        )
    )

    report = lock_report(readings, SMALL, trace)

    view = report.statements[0]
    assert view.surprise_rewrites == ("events",) and view.stronger == ()
    assert report.high


def test_a_trace_that_sees_less_is_not_worse() -> None:
    readings = read_locks("BEGIN; ALTER TABLE events ALTER COLUMN kind TYPE VARCHAR; COMMIT;")
    trace = LockTrace(
        (
            TracedStatement(
                "ALTER TABLE events ALTER COLUMN kind TYPE VARCHAR", (TableLock("events", AE),)
            ),
        )
    )

    report = lock_report(readings, SMALL, trace)

    assert report.statements[0].agreement == "corrected"
    assert not report.statements[0].worse and not report.high
    assert ONLINE_ONLY not in card_text(report)


def test_what_only_the_trace_saw_on_a_new_table_or_without_blocking_is_shown_not_feared() -> None:
    readings = read_locks("BEGIN; CREATE TABLE notes (id INTEGER); COMMIT;")
    trace = LockTrace(
        (
            TracedStatement("CREATE TABLE notes (id INTEGER)", ()),
            # Parameters online, literals offline: another text, and a table made here.
            TracedStatement(
                "INSERT INTO notes (id) VALUES (%(id)s)", (TableLock("notes", ROW_EXCLUSIVE),)
            ),
            TracedStatement(
                "UPDATE events SET code = code WHERE id = %(id)s",
                (TableLock("notes", ROW_EXCLUSIVE), TableLock("events", ROW_EXCLUSIVE)),
            ),
            BOOKKEEPING,
        )
    )

    report = lock_report(readings, SMALL, trace)

    assert [v.agreement for v in report.statements] == ["confirmed", "unpredicted", "unpredicted"]
    assert not any(view.worse for view in report.statements) and not report.high
    assert "It also saw 2 statement(s) the offline SQL does not have" in card_text(report)


def test_the_sizes_wanted_include_tables_only_the_trace_saw() -> None:
    readings = read_locks("BEGIN; CREATE TABLE notes (id INTEGER); COMMIT;")
    trace = LockTrace(
        (
            TracedStatement("CREATE TABLE notes (id INTEGER)", (TableLock("notes", AE),)),
            TracedStatement(
                "ALTER TABLE events ADD COLUMN note TEXT",
                (TableLock("events", AE), TableLock("notes", AE)),
                rewritten=("audit",),
            ),
        )
    )

    assert locked_tables(readings) == ()
    assert locked_tables(readings, trace) == ("audit", "events")
    assert locked_tables(readings, LockTrace(error="no pg_dump")) == ()


def test_an_untraced_or_failed_trace_changes_nothing() -> None:
    readings = read_locks("BEGIN; ALTER TABLE events ADD COLUMN note TEXT; COMMIT;")
    for trace in (None, LockTrace(error="the traced run failed")):
        report = lock_report(readings, SMALL, trace)
        assert [v.agreement for v in report.statements] == ["untraced"]
        assert not report.high
