"""The offline SQL's reading beside the trace: each statement the card reads, and what the
traced run on a schema-only copy of production saw it do.

The offline SQL is what the migration says it will do; the trace is what it did. A statement
the trace saw and the offline SQL does not have is a statement of its own here, judged by
what the trace saw. Where the trace saw worse than the offline SQL shows (a stronger lock on
an existing table, a rewrite nobody predicted, such a statement locking or rewriting an
existing table), the view says so: the report makes that a high risk.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from bot.core.lock_facts import LockTrace
from bot.core.lock_modes import LockMode, TableLock
from bot.core.lock_reading import StatementLocks, Work, reading_of
from bot.core.sql_statements import normalized, statements

Agreement = Literal["confirmed", "corrected", "completed", "untraced", "unpredicted"]
"""`unpredicted`: a statement the trace saw that the offline SQL does not have."""


@dataclass(frozen=True)
class StatementView:
    """One statement as the card shows it: the static reading, and what the trace saw."""

    reading: StatementLocks
    agreement: Agreement
    traced: tuple[TableLock, ...] = ()
    """The locks the traced run took at this statement (new ones, or those it already held)."""
    rewrote: bool | None = None
    """Whether the traced run gave its table new storage (None: not traced)."""
    rewritten: tuple[str, ...] = ()
    """The tables the traced run gave new storage at this statement."""
    stronger: tuple[TableLock, ...] = ()
    """Locks the trace saw that block reads or writes of an existing table more than the
    offline SQL shows (every such lock of an `unpredicted` statement)."""
    surprise_rewrites: tuple[str, ...] = ()
    """Existing tables the trace saw rewritten where the offline SQL predicts no rewrite."""

    @property
    def worse(self) -> bool:
        """Whether the trace saw this statement do more harm than the offline SQL shows."""
        return bool(self.stronger or self.surprise_rewrites)

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
        if self.agreement in ("corrected", "completed", "unpredicted"):
            return self.traced
        return self.reading.locks


def compare(
    readings: tuple[StatementLocks, ...], trace: LockTrace | None
) -> tuple[StatementView, ...]:
    """Each statement beside the traced run's, matched by their text, in order; the traced
    statements the offline SQL does not have come in where the trace ran them."""
    if trace is None or trace.error is not None:
        return tuple(StatementView(reading, "untraced") for reading in readings)
    texts = [normalized(statement.statement) for statement in trace.statements]
    views: list[StatementView] = []
    start = 0
    for reading in readings:
        key = normalized(reading.statement)
        at = next((i for i in range(start, len(texts)) if texts[i] == key), None)
        if at is None:
            views.append(StatementView(reading, "untraced"))
            continue
        views.extend(_unpredicted(trace, range(start, at)))
        start = at + 1
        views.append(_traced(reading, trace, at))
    views.extend(_unpredicted(trace, range(start, len(texts))))
    return _judged(tuple(views))


def traced_reading(statement: str) -> StatementLocks | None:
    """The static reading of a statement as the trace saw it (raw, unnumbered)."""
    found = statements(statement)
    return reading_of(found[0]) if found else None


def _unpredicted(trace: LockTrace, indexes: range) -> list[StatementView]:
    """The traced statements at `indexes`, which the offline SQL does not have."""
    views = []
    for at in indexes:
        traced = trace.statements[at]
        reading = traced_reading(traced.statement)
        if reading is None:
            continue
        reading = replace(reading, in_transaction=traced.in_transaction)
        if not traced.in_transaction:
            # Its locks ended with it: what the statement's text says it takes is all there is.
            views.append(StatementView(reading, "unpredicted", reading.locks))
            continue
        views.append(replace(_traced(reading, trace, at), agreement="unpredicted"))
    return views


def _traced(reading: StatementLocks, trace: LockTrace, at: int) -> StatementView:
    """A statement of the offline SQL beside what the trace saw it do at `at`."""
    if not trace.statements[at].in_transaction:
        # Outside a transaction its locks end with it: the trace cannot see them.
        return StatementView(reading, "untraced")
    held = trace.held_at(at)
    new = trace.new_at(at)
    rewritten = trace.statements[at].rewritten
    rewrote = bool(rewritten)
    shown = new or tuple(sorted(lock for lock in held if lock in set(reading.locks)))
    agreement: Agreement = "completed" if new else "confirmed"
    if reading.locks:
        agrees = all(lock in held for lock in reading.locks)
        agrees = agrees and rewrote == (reading.work == "rewrite")
        agreement = "confirmed" if agrees else "corrected"
    return StatementView(reading, agreement, shown, rewrote, rewritten)


def _judged(views: tuple[StatementView, ...]) -> tuple[StatementView, ...]:
    """Each view with what the trace saw beyond its offline SQL, on tables that exist (one
    the migration creates has nobody waiting on it)."""
    created = {view.reading.on for view in views if view.reading.creates}
    judged = []
    for view in views:
        if view.agreement not in ("corrected", "confirmed", "unpredicted"):
            judged.append(view)
            continue
        read = {lock.table: lock.mode for lock in view.reading.locks}
        if view.agreement == "unpredicted":
            read = {}
        strongest: dict[str, LockMode] = {}
        for lock in view.traced:
            if lock.table not in created and (lock.mode.blocks_reads or lock.mode.blocks_writes):
                strongest[lock.table] = max(lock.mode, strongest.get(lock.table, lock.mode))
        stronger = tuple(
            TableLock(table, mode)
            for table, mode in sorted(strongest.items())
            if table not in read or mode > read[table]
        )
        rewrites: tuple[str, ...] = ()
        if view.rewrote and (view.reading.work != "rewrite" or view.agreement == "unpredicted"):
            rewrites = tuple(t for t in view.rewritten if t not in created)
        judged.append(replace(view, stronger=stronger, surprise_rewrites=rewrites))
    return tuple(judged)
