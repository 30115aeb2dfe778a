"""PostgreSQL's table-level lock modes and which of them conflict, as its documentation
lists them ("Explicit Locking", Table-Level Locks and their conflict table).

Every mode is a table-level lock whatever its name says; two transactions cannot hold
conflicting modes on one table at once, so a mode "blocks reads" when it conflicts with
ACCESS SHARE (what SELECT takes) and "blocks writes" when it conflicts with ROW EXCLUSIVE
(what INSERT, UPDATE and DELETE take).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class LockMode(IntEnum):
    """The eight modes, weakest first (the order PostgreSQL numbers them in)."""

    ACCESS_SHARE = 1
    ROW_SHARE = 2
    ROW_EXCLUSIVE = 3
    SHARE_UPDATE_EXCLUSIVE = 4
    SHARE = 5
    SHARE_ROW_EXCLUSIVE = 6
    EXCLUSIVE = 7
    ACCESS_EXCLUSIVE = 8

    @property
    def label(self) -> str:
        """As the documentation and `LOCK ... IN <mode> MODE` spell it."""
        return self.name.replace("_", " ")

    @classmethod
    def from_pg_locks(cls, mode: str) -> LockMode | None:
        """The mode `pg_locks.mode` names (`AccessExclusiveLock`), if it is a table mode."""
        return _BY_PG_NAME.get(mode)

    @classmethod
    def from_label(cls, label: str) -> LockMode | None:
        return _BY_LABEL.get(" ".join(label.upper().split()))

    def conflicts_with(self, other: LockMode) -> bool:
        return other in _CONFLICTS[self]

    @property
    def blocks_reads(self) -> bool:
        return self.conflicts_with(LockMode.ACCESS_SHARE)

    @property
    def blocks_writes(self) -> bool:
        return self.conflicts_with(LockMode.ROW_EXCLUSIVE)

    @property
    def blocks(self) -> str:
        """What the mode keeps other sessions from doing on the table, in words."""
        if self.blocks_reads:
            return "blocks reads and writes"
        if self.blocks_writes:
            return "blocks writes"
        if self >= LockMode.SHARE_UPDATE_EXCLUSIVE:
            return "blocks other schema changes, not reads or writes"
        return "blocks neither reads nor writes"


_M = LockMode
_CONFLICTS: dict[LockMode, frozenset[LockMode]] = {
    _M.ACCESS_SHARE: frozenset({_M.ACCESS_EXCLUSIVE}),
    _M.ROW_SHARE: frozenset({_M.EXCLUSIVE, _M.ACCESS_EXCLUSIVE}),
    _M.ROW_EXCLUSIVE: frozenset(
        {_M.SHARE, _M.SHARE_ROW_EXCLUSIVE, _M.EXCLUSIVE, _M.ACCESS_EXCLUSIVE}
    ),
    _M.SHARE_UPDATE_EXCLUSIVE: frozenset(
        {
            _M.SHARE_UPDATE_EXCLUSIVE,
            _M.SHARE,
            _M.SHARE_ROW_EXCLUSIVE,
            _M.EXCLUSIVE,
            _M.ACCESS_EXCLUSIVE,
        }
    ),
    _M.SHARE: frozenset(
        {
            _M.ROW_EXCLUSIVE,
            _M.SHARE_UPDATE_EXCLUSIVE,
            _M.SHARE_ROW_EXCLUSIVE,
            _M.EXCLUSIVE,
            _M.ACCESS_EXCLUSIVE,
        }
    ),
    _M.SHARE_ROW_EXCLUSIVE: frozenset(set(_M) - {_M.ACCESS_SHARE, _M.ROW_SHARE}),
    _M.EXCLUSIVE: frozenset(set(_M) - {_M.ACCESS_SHARE}),
    _M.ACCESS_EXCLUSIVE: frozenset(_M),
}
_BY_PG_NAME = {
    "".join(word.capitalize() for word in mode.name.split("_")) + "Lock": mode for mode in _M
}
_BY_LABEL = {mode.label: mode for mode in _M}


@dataclass(frozen=True, order=True)
class TableLock:
    """A lock mode on one table, named as the migration names it (`posts`, `audit.events`)."""

    table: str
    mode: LockMode
