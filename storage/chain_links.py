"""Writing the audit log's hash chain (see bot/core/audit_chain.py): one hash per event in
`audit_chain`, written in the same transaction as the event. Kept apart from the queries so
the schema step and the store's `audit()` can both use it."""

import json
from typing import Any

from sqlite_utils import Database

from bot.core.audit_chain import GENESIS, link
from bot.core.records import JsonValue


def event_fields(row: dict[str, Any]) -> dict[str, JsonValue]:
    """What an audit row's hash covers: every column, the detail as the JSON it holds."""
    return {
        "id": row["id"],
        "at": row["at"],
        "actor": row["actor"],
        "revision": row["revision"],
        "action": row["action"],
        "detail": json.loads(row["detail"]),
    }


def last_hash(db: Database) -> str:
    rows = list(db.query("SELECT hash FROM audit_chain ORDER BY event_id DESC LIMIT 1"))
    return str(rows[0]["hash"]) if rows else GENESIS


def append_link(db: Database, event_id: int) -> None:
    """Chain the event just written; the caller holds the transaction that wrote it."""
    row = next(db.query("SELECT * FROM audit_log WHERE id = ?", [event_id]))
    db.execute(
        "INSERT INTO audit_chain (event_id, hash) VALUES (?, ?)",
        [event_id, link(last_hash(db), event_fields(row))],
    )


def chain_existing(db: Database) -> None:
    """Chain every event of the log, in order (the schema step that adds the chain)."""
    previous = GENESIS
    for row in list(db.query("SELECT * FROM audit_log ORDER BY id")):
        previous = link(previous, event_fields(row))
        db.execute("INSERT INTO audit_chain (event_id, hash) VALUES (?, ?)", [row["id"], previous])
