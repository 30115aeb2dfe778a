"""Revisions recorded in a test store, and what its audit log and schema steps say."""

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from bot.core.records import RevisionRecord
from storage.db import STEPS
from storage.store import Store

RELEASED = [step.__name__ for step in STEPS]
REV = "1a2b3c4d5e6f"


def add(
    store: Store,
    revision: str = REV,
    *,
    blob_sha: str = "blob-1",
    branch: str = "feature/orders",
    commit: str = "c0ffee",
    history: bool = False,
) -> RevisionRecord:
    return store.record_revision(
        revision,
        path=f"migrations/versions/{revision}_add_orders.py",
        blob_sha=blob_sha,
        branch=branch,
        commit=commit,
        author_name="Ada Lovelace",
        author_email="ada@example.com",
        history=history,
    )


def actions(store: Store, revision: str = REV) -> list[str]:
    return [event.action for event in store.audit_for(revision)]


def migration_names(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = 'schemabot' ORDER BY id"
    ).fetchall()
    conn.close()
    return [name for (name,) in rows]


def add_revision_notes(db: Database) -> None:
    """A later release's schema step."""
    db.execute("ALTER TABLE revisions ADD COLUMN notes TEXT")
