"""What the bot knows about the tables a revision locks: production's statistics and the
locks a run on a schema-only copy really took. Plain values the adapters fill in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.lock_modes import TableLock


@dataclass(frozen=True)
class TableSize:
    """A table's size from production's statistics: `rows` is `pg_class.reltuples` (None
    while the table was never analyzed), `bytes` `pg_total_relation_size` (with indexes)."""

    table: str
    rows: int | None
    bytes: int


@dataclass(frozen=True)
class TableStats:
    """The sizes read from production for the tables a revision names, when they were read,
    or why they could not be (an outage, a timeout)."""

    sizes: Mapping[str, TableSize] = field(default_factory=dict)
    read_at: datetime | None = None
    error: str | None = None

    def size(self, table: str) -> TableSize | None:
        return self.sizes.get(table)

    @property
    def known(self) -> bool:
        return self.read_at is not None and self.error is None


@dataclass(frozen=True)
class TracedStatement:
    """One statement the traced run executed, and the table locks its backend held right
    after it (everything the transaction took so far: locks are kept until it ends)."""

    statement: str
    held: tuple[TableLock, ...]
    in_transaction: bool = True
    rewritten: tuple[str, ...] = ()
    """Tables whose storage the statement replaced (their `relfilenode` changed)."""


@dataclass(frozen=True)
class LockTrace:
    """The locks a run of the revision's upgrade took on a schema-only copy of production,
    statement by statement; or why there is no trace (`error`)."""

    statements: tuple[TracedStatement, ...] = ()
    error: str | None = None
    at: datetime | None = None

    def held_at(self, index: int) -> frozenset[TableLock]:
        if 0 <= index < len(self.statements):
            return frozenset(self.statements[index].held)
        return frozenset()

    def new_at(self, index: int) -> tuple[TableLock, ...]:
        """The locks statement `index` took that the transaction did not hold before it."""
        statement = self.statements[index]
        before = self.held_at(index - 1) if index > 0 and statement.in_transaction else frozenset()
        return tuple(sorted(set(statement.held) - before))
