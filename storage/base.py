"""What every group of queries shares: the database, the clock, time as text, the audit log."""

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, cast

from bot.core.records import AuditEvent, JsonValue
from storage.chain_links import append_link
from storage.db import StateDatabase
from storage.errors import RecordNotFound

Clock = Callable[[], datetime]
Row = dict[str, Any]
Params = Sequence[object]


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_text(moment: datetime) -> str:
    """A moment as stored: UTC ISO-8601 at a fixed precision, so text order is time order."""
    if moment.tzinfo is None:
        raise ValueError(f"the store keeps aware UTC times, got a naive {moment!r}")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


def maybe_from_text(text: str | None) -> datetime | None:
    return None if text is None else from_text(text)


def unknown_revision(revision: str) -> RecordNotFound:
    return RecordNotFound(f"No revision `{revision}` is known to schemabot.")


def inserted_id(cursor: sqlite3.Cursor) -> int:
    # lastrowid is only None before any INSERT; after one it is the new row's id.
    return cast(int, cursor.lastrowid)


def _event(row: Row) -> AuditEvent:
    return AuditEvent(
        id=row["id"],
        at=from_text(row["at"]),
        actor=row["actor"],
        revision=row["revision"],
        action=row["action"],
        detail=MappingProxyType(json.loads(row["detail"])),
    )


class StoreBase:
    """The database and clock a `Store` is built on; query groups extend it."""

    def __init__(self, db: StateDatabase, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock
        self._has_chain: bool | None = None

    def close(self) -> None:
        self._db.close()

    def _chained(self) -> bool:
        """Whether the file has the audit chain (a store opened on older schema steps, as
        tests of upgrades do, has not)."""
        if self._has_chain is None:
            self._has_chain = self._db.table("audit_chain").exists()
        return self._has_chain

    def _now(self) -> str:
        return to_text(self._clock())

    def _rows(self, sql: str, params: Params = ()) -> list[Row]:
        with self._db.locked():
            return list(self._db.query(sql, params))

    def _row(self, sql: str, params: Params = ()) -> Row | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        """Run a write; the caller holds `self._db.atomic()`."""
        return self._db.execute(sql, params)

    def _require_revision(self, revision: str) -> None:
        if self._row("SELECT 1 FROM revisions WHERE revision = ?", [revision]) is None:
            raise unknown_revision(revision)

    def audit(
        self, actor: str, action: str, revision: str | None = None, **detail: JsonValue
    ) -> AuditEvent:
        """Append an event to the audit log; `actor` is a Slack user id or `BOT_ACTOR`."""
        at = self._now()
        text = json.dumps(detail, sort_keys=True)
        with self._db.atomic():
            cursor = self._execute(
                "INSERT INTO audit_log (at, actor, revision, action, detail) "
                "VALUES (?, ?, ?, ?, ?)",
                [at, actor, revision, action, text],
            )
            if self._chained():
                append_link(self._db, inserted_id(cursor))
        return AuditEvent(
            id=inserted_id(cursor),
            at=from_text(at),
            actor=actor,
            revision=revision,
            action=action,
            detail=MappingProxyType(json.loads(text)),
        )

    def audit_for(self, revision: str) -> list[AuditEvent]:
        """The revision's events, oldest first."""
        rows = self._rows("SELECT * FROM audit_log WHERE revision = ? ORDER BY id", [revision])
        return [_event(row) for row in rows]

    def recent_audit(self, limit: int = 50) -> list[AuditEvent]:
        """The latest `limit` events of any revision or none, oldest first."""
        rows = self._rows("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", [limit])
        return [_event(row) for row in reversed(rows)]
