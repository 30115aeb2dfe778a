"""The card's lock impact: each statement's lock, what it blocks, for how long, on how big a
table; the trace's word on it; and the revision's risk, which gates an apply when high.

Locks taken inside a transaction are held until it ends, so a table locked by an early,
brief statement stays locked while a later statement of the same transaction rewrites or
scans something: the risk of a table is the slowest work done while it is held.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.lock_facts import LockTrace, TableSize, TableStats
from bot.core.lock_modes import LockMode, TableLock
from bot.core.lock_reading import SLOW_WORK, StatementLocks, Work
from bot.core.sql_statements import normalized
from bot.core.text import Code, Text

Agreement = Literal["confirmed", "corrected", "completed", "untraced"]
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
class StatementView:
    """One statement as the card shows it: the static reading, and what the trace saw."""

    reading: StatementLocks
    agreement: Agreement
    traced: tuple[TableLock, ...] = ()
    """The locks the traced run took at this statement (new ones, or those it already held)."""
    rewrote: bool | None = None
    """Whether the traced run gave its table new storage (None: not traced)."""

    @property
    def work(self) -> Work:
        """What the statement does while it holds its locks: a rewrite the trace saw (or
        did not see) wins over the reading's."""
        if self.rewrote is True:
            return "rewrite"
        if self.rewrote is False and self.reading.work == "rewrite":
            return "brief"
        return self.reading.work

    @property
    def locks(self) -> tuple[TableLock, ...]:
        """What the statement locks: the trace's word where it corrected the reading."""
        if self.agreement in ("corrected", "completed"):
            return self.traced
        return self.reading.locks


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


def locked_tables(readings: tuple[StatementLocks, ...]) -> tuple[str, ...]:
    """The tables whose statistics the report needs: those locked and not created here."""
    created = {r.on for r in readings if r.creates}
    named = {lock.table for r in readings for lock in r.locks} | {r.on for r in readings if r.on}
    return tuple(sorted(t for t in named if t and t not in created))


def compare(
    readings: tuple[StatementLocks, ...], trace: LockTrace | None
) -> tuple[StatementView, ...]:
    """Each statement beside the traced run's: matched by their text, in order."""
    if trace is None or trace.error is not None:
        return tuple(StatementView(reading, "untraced") for reading in readings)
    texts = [normalized(statement.statement) for statement in trace.statements]
    views = []
    start = 0
    for reading in readings:
        key = normalized(reading.statement)
        at = next((i for i in range(start, len(texts)) if texts[i] == key), None)
        if at is None:
            views.append(StatementView(reading, "untraced"))
            continue
        start = at + 1
        if not trace.statements[at].in_transaction:
            # Outside a transaction its locks end with it: the trace cannot see them.
            views.append(StatementView(reading, "untraced"))
            continue
        held = trace.held_at(at)
        new = trace.new_at(at)
        rewrote = bool(trace.statements[at].rewritten)
        shown = new or tuple(sorted(lock for lock in held if lock in set(reading.locks)))
        if not reading.locks:
            views.append(
                StatementView(reading, "completed" if new else "confirmed", shown, rewrote)
            )
            continue
        agrees = all(lock in held for lock in reading.locks)
        agrees = agrees and rewrote == (reading.work == "rewrite")
        views.append(StatementView(reading, "confirmed" if agrees else "corrected", shown, rewrote))
    return tuple(views)


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
            if _slower(view.work, held.slowest) and reading.on not in created:
                holds[table] = _Hold(
                    table, held.mode, held.first, view.work, reading.on, reading.number
                )
        if not reading.in_transaction:
            found.extend(holds.values())
            holds = {}
    found.extend(holds.values())
    return found


def _slower(work: Work, than: Work) -> bool:
    order: tuple[Work, ...] = ("none", "brief", "rows", "concurrent", "scan", "index", "rewrite")
    return order.index(work) > order.index(than)


def _risks(views: tuple[StatementView, ...], stats: TableStats, threshold: int) -> tuple[Risk, ...]:
    risks: list[Risk] = []
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
                text += f": taken at statement {hold.first}, held until its transaction ends"
        risks.append(Risk(level, hold.table, text))
    order = {"high": 0, "unknown": 1, "medium": 2}
    return tuple(sorted(risks, key=lambda risk: order[risk.level]))
