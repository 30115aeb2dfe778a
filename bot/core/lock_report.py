"""The card's lock impact: each statement's lock, what it blocks, for how long, on how big a
table; the trace's word on it; and the revision's risk, which gates an apply when high.

Locks taken inside a transaction are held until it ends, so a table locked by an early,
brief statement stays locked while a later statement of the same transaction rewrites or
scans something: the risk of a table is the slowest work done while it is held.

Where the trace saw worse than the offline SQL shows (bot/core/lock_compare.py), the risk is
high whatever the sizes: the review was of SQL the migration does not run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.lock_compare import StatementView, compare, traced_reading
from bot.core.lock_facts import LockTrace, TableSize, TableStats
from bot.core.lock_modes import LockMode
from bot.core.lock_reading import SLOW_WORK, StatementLocks, Work, slower
from bot.core.text import Code, Text

Level = Literal["high", "unknown", "medium"]
DEFAULT_LARGE_TABLE_ROWS = 1_000_000
WHILE: dict[Work, str] = {
    "rewrite": "rewrites",
    "scan": "scans every row of",
    "index": "builds an index on",
    "concurrent": "builds an index concurrently on",
    "rows": "changes rows of",
    "brief": "changes the catalog for",
    "none": "works on",
}


@dataclass(frozen=True)
class Risk:
    level: Level
    table: str
    text: Text


@dataclass(frozen=True)
class LockReport:
    statements: tuple[StatementView, ...]
    risks: tuple[Risk, ...]
    stats: TableStats
    trace: LockTrace | None
    large_table_rows: int

    @property
    def high(self) -> bool:
        """Whether an apply needs an approver to accept the risk (unknown sizes count)."""
        return any(risk.level in ("high", "unknown") for risk in self.risks)

    @property
    def tables(self) -> tuple[str, ...]:
        """The existing tables the revision locks, whose sizes matter."""
        return tuple(sorted({risk.table for risk in self.risks}))


def lock_report(
    readings: tuple[StatementLocks, ...],
    stats: TableStats,
    trace: LockTrace | None,
    large_table_rows: int = DEFAULT_LARGE_TABLE_ROWS,
) -> LockReport:
    views = compare(readings, trace)
    return LockReport(views, _risks(views, stats, large_table_rows), stats, trace, large_table_rows)


def locked_tables(
    readings: tuple[StatementLocks, ...], trace: LockTrace | None = None
) -> tuple[str, ...]:
    """The tables whose statistics the report needs: those locked or rewritten, by the
    offline SQL or in the trace, and not created here."""
    created = {r.on for r in readings if r.creates}
    named = {lock.table for r in readings for lock in r.locks} | {r.on for r in readings if r.on}
    if trace is not None and trace.error is None:
        for statement in trace.statements:
            named |= {lock.table for lock in statement.held} | set(statement.rewritten)
            reading = traced_reading(statement.statement)
            if reading is not None and reading.creates:
                created.add(reading.on)
    return tuple(sorted(t for t in named if t and t not in created))


def size_text(size: TableSize | None) -> str:
    """`1.2 M rows, 118 MB`; what is not known is said so."""
    if size is None:
        return "size unknown"
    rows = "rows unknown (never analyzed)" if size.rows is None else _count(size.rows) + " rows"
    return f"{rows}, {_bytes(size.bytes)}"


def _count(rows: int) -> str:
    for limit, unit in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if rows >= limit:
            return f"{rows / limit:.1f} {unit}".replace(".0 ", " ")
    return str(rows)


def _bytes(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def _large(size: TableSize | None, threshold: int) -> bool | None:
    """Whether a table is large (None: not known)."""
    if size is None or size.rows is None:
        return None
    return size.rows >= threshold


@dataclass(frozen=True)
class _Hold:
    """A lock on one table from one statement until its transaction ends."""

    table: str
    mode: LockMode
    first: int
    slowest: Work
    on: str | None
    by: int


def _holds(views: tuple[StatementView, ...]) -> list[_Hold]:
    created = {view.reading.on for view in views if view.reading.creates}
    holds: dict[str, _Hold] = {}
    found: list[_Hold] = []
    for index, view in enumerate(views):
        reading = view.reading
        if not reading.in_transaction or (index and not views[index - 1].reading.in_transaction):
            found.extend(holds.values())
            holds = {}
        for lock in view.locks:
            if lock.table in created or not (lock.mode.blocks_writes or lock.mode.blocks_reads):
                continue
            held = holds.get(lock.table)
            mode = max(lock.mode, held.mode) if held else lock.mode
            holds[lock.table] = _Hold(
                lock.table,
                mode,
                held.first if held else reading.number,
                held.slowest if held else "none",
                held.on if held else None,
                held.by if held else reading.number,
            )
        for table, held in list(holds.items()):
            if slower(view.work, held.slowest) and reading.on not in created:
                holds[table] = _Hold(
                    table, held.mode, held.first, view.work, reading.on, reading.number
                )
        if not reading.in_transaction:
            found.extend(holds.values())
            holds = {}
    found.extend(holds.values())
    return found


def _statement(number: int) -> str:
    return f"statement {number}" if number else "a statement its offline SQL does not have"


ONLINE_ONLY = "the migration does something online that its offline SQL does not show"
STATEMENT_CHARS = 90


def short(statement: str) -> str:
    """A statement cut to fit a card's line."""
    if len(statement) > STATEMENT_CHARS:
        return statement[: STATEMENT_CHARS - 1] + "…"
    return statement


def _unshown(view: StatementView, stats: TableStats) -> Risk:
    """A high risk whatever the sizes: the trace saw this statement do worse than the offline
    SQL reviewers read says it does."""
    sized: set[str] = set()

    def named(table: str) -> Text:
        """The table, with its size the first time it is named."""
        if table in sized:
            return Text(Code(table))
        sized.add(table)
        return Text(Code(table), f" ({size_text(stats.size(table))})")

    did = [Text(lock.mode.label, " on ", named(lock.table)) for lock in view.stronger]
    did += [Text("rewrite ", named(table)) for table in view.surprise_rewrites]
    what = "not in its offline SQL" if view.agreement == "unpredicted" else "in its offline SQL"
    text = Text(
        ONLINE_ONLY[0].upper() + ONLINE_ONLY[1:],
        ": the trace saw ",
        Code(short(view.reading.statement)),
        f" ({what}) take ",
        Text.join(" and ", did),
    )
    table = view.stronger[0].table if view.stronger else view.surprise_rewrites[0]
    return Risk("high", table, text)


def _risks(views: tuple[StatementView, ...], stats: TableStats, threshold: int) -> tuple[Risk, ...]:
    # What the offline SQL hides comes first: it is what the review did not see.
    risks = [_unshown(view, stats) for view in views if view.worse]
    for hold in _holds(views):
        worked_on = hold.on or hold.table
        size = stats.size(worked_on)
        large = _large(size, threshold)
        slow = hold.slowest in SLOW_WORK
        level: Level = "medium"
        if slow and large is None:
            level = "unknown"
        elif slow and large:
            level = "high"
        text = Text(
            hold.mode.blocks.capitalize(),
            " on ",
            Code(hold.table),
            f" ({size_text(stats.size(hold.table))})",
        )
        if not slow:
            text += " briefly, once it has the lock"
        else:
            text += Text(" while it ", WHILE[hold.slowest], " ", Code(worked_on))
            if worked_on != hold.table:
                text += f" ({size_text(size)})"
            if hold.by != hold.first:
                text += f": taken at {_statement(hold.first)}, held until its transaction ends"
        risks.append(Risk(level, hold.table, text))
    order = {"high": 0, "unknown": 1, "medium": 2}
    return tuple(sorted(risks, key=lambda risk: order[risk.level]))
