"""Queries for what the lock impact of a revision is read from: production's table sizes
(the last read, and why the last attempt failed) and the lock traces of approved versions."""

import json

from bot.core.lock_facts import LockTrace, TableSize, TableStats, TracedStatement
from bot.core.lock_modes import LockMode, TableLock
from storage.base import StoreBase, from_text, maybe_from_text, to_text


class LockImpactQueries(StoreBase):
    def save_table_stats(self, database: str, stats: TableStats) -> None:
        """Keep what a read found (sizes replace older ones), or that it failed and why:
        sizes read earlier stay, and the card says how old they are."""
        now = self._now()
        with self._db.atomic():
            for size in stats.sizes.values():
                self._execute(
                    "INSERT OR REPLACE INTO table_statistics "
                    "(database, table_name, rows, bytes, read_at) VALUES (?, ?, ?, ?, ?)",
                    [
                        database,
                        size.table,
                        size.rows,
                        size.bytes,
                        to_text(stats.read_at) if stats.read_at else now,
                    ],
                )
            self._execute(
                "INSERT OR REPLACE INTO statistics_reads (database, read_at, error) "
                "VALUES (?, ?, ?)",
                [database, now, stats.error],
            )

    def table_stats(self, database: str, tables: tuple[str, ...]) -> TableStats:
        """The sizes kept for `tables`, the time of the oldest of them, and the last read's
        error if it failed; a table never read is absent."""
        marks = ", ".join("?" for _ in tables)
        rows = (
            self._rows(
                f"SELECT * FROM table_statistics WHERE database = ? AND table_name IN ({marks})",
                [database, *tables],
            )
            if tables
            else []
        )
        last = self._row("SELECT * FROM statistics_reads WHERE database = ?", [database])
        sizes = {
            row["table_name"]: TableSize(row["table_name"], row["rows"], row["bytes"])
            for row in rows
        }
        read_at = min((from_text(row["read_at"]) for row in rows), default=None)
        if read_at is None and last is not None and last["error"] is None:
            read_at = from_text(last["read_at"])
        error = last["error"] if last is not None else "production's statistics not read yet"
        return TableStats(sizes, read_at, error)

    def statistics_read_at(self, database: str) -> tuple[str | None, bool]:
        """When the last read of `database`'s sizes was tried, and whether it failed."""
        row = self._row("SELECT * FROM statistics_reads WHERE database = ?", [database])
        return (row["read_at"], row["error"] is not None) if row else (None, False)

    def save_lock_trace(self, revision: str, version_key: str, trace: LockTrace) -> None:
        statements = [
            {
                "statement": s.statement,
                "held": [[lock.table, lock.mode.label] for lock in s.held],
                "in_transaction": s.in_transaction,
                "rewritten": list(s.rewritten),
            }
            for s in trace.statements
        ]
        with self._db.atomic():
            self._execute(
                "INSERT OR REPLACE INTO lock_traces (revision, version_key, trace, error, at) "
                "VALUES (?, ?, ?, ?, ?)",
                [revision, version_key, json.dumps(statements), trace.error, self._now()],
            )

    def lock_trace(self, revision: str, version_key: str) -> LockTrace | None:
        row = self._row(
            "SELECT * FROM lock_traces WHERE revision = ? AND version_key = ?",
            [revision, version_key],
        )
        if row is None:
            return None
        statements = tuple(
            TracedStatement(
                item["statement"],
                tuple(
                    TableLock(table, mode)
                    for table, label in item["held"]
                    if (mode := LockMode.from_label(label)) is not None
                ),
                bool(item["in_transaction"]),
                tuple(item["rewritten"]),
            )
            for item in json.loads(row["trace"])
        )
        return LockTrace(statements, row["error"], maybe_from_text(row["at"]))
