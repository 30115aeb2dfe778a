"""The state file: created, versioned by sqlite-utils Migrations, refused when it is not ours."""

import os
import sqlite3
import time
from pathlib import Path

import pytest

from storage.db import STEPS, card_permalinks, open_db
from storage.errors import StateStoreError
from storage.store import Store
from tests.conftest import FixedClock
from tests.support.stored import (
    RELEASED,
    REV,
    add,
    add_revision_notes,
    migration_names,
)

# The schema and its versions


def test_open_creates_the_folder_the_schema_and_records_the_step(
    store: Store, state_path: Path
) -> None:
    conn = sqlite3.connect(state_path)
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    assert {"revisions", "cards", "verdicts", "audit_log", "apply_runs", "locks"} <= tables
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
    assert migration_names(state_path) == RELEASED


def test_the_connection_settings(tmp_path: Path) -> None:
    db = open_db(tmp_path / "work" / "state.db", busy_timeout=1.5)
    assert db.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert db.execute("PRAGMA busy_timeout").fetchone() == (1500,)
    assert db.journal_mode == "wal"
    db.close()


def test_reopening_changes_nothing(store: Store, state_path: Path, clock: FixedClock) -> None:
    add(store)
    store.close()
    with Store.open(state_path, clock) as reopened:
        assert reopened.get_revision(REV) is not None
    assert migration_names(state_path) == RELEASED


def test_a_later_step_applies_on_reopen_and_keeps_the_data(store: Store, state_path: Path) -> None:
    add(store)
    store.close()
    db = open_db(state_path, steps=(*STEPS, add_revision_notes))
    assert list(db.query("SELECT revision, notes FROM revisions")) == [
        {"revision": REV, "notes": None}
    ]
    db.close()
    assert migration_names(state_path) == [*RELEASED, "add_revision_notes"]


def test_a_file_from_a_newer_schemabot_is_refused(store: Store, state_path: Path) -> None:
    store.close()
    open_db(state_path, steps=(*STEPS, add_revision_notes)).close()
    with pytest.raises(StateStoreError, match=r"newer schemabot.*add_revision_notes") as raised:
        open_db(state_path)
    assert str(state_path) in str(raised.value)


def test_another_programs_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "production.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StateStoreError, match=r"not schemabot's state.*users"):
        open_db(path)
    assert path.read_bytes() == before


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(os.urandom(4096))
    before = path.read_bytes()
    with pytest.raises(StateStoreError, match="not a SQLite database") as raised:
        open_db(path)
    assert str(path) in str(raised.value)
    assert path.read_bytes() == before


def test_a_file_locked_by_another_process_is_refused_after_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE held (x)")
    holder.execute("BEGIN EXCLUSIVE")
    before = path.read_bytes()
    started = time.monotonic()
    with pytest.raises(StateStoreError, match=r"locked for more than 0\.2s") as raised:
        open_db(path, busy_timeout=0.2)
    assert 0.2 <= time.monotonic() - started < 3
    assert str(path) in str(raised.value)
    assert path.read_bytes() == before
    holder.execute("ROLLBACK")
    holder.close()


def test_a_write_blocked_past_the_timeout_raises_state_store_error(state_path: Path) -> None:
    with Store.open(state_path, busy_timeout=0.1) as store:
        writer = sqlite3.connect(state_path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        with pytest.raises(StateStoreError, match="locked"):
            store.set_meta("first_scan_done", "yes")
        writer.execute("ROLLBACK")
        writer.close()
        store.set_meta("first_scan_done", "yes")
        assert store.get_meta("first_scan_done") == "yes"


def test_cards_of_the_release_before_permalinks_keep_their_message(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    before = Store(open_db(path, steps=STEPS[: STEPS.index(card_permalinks)]))
    add(before)
    before.set_card(REV, "C1", "1700000000.000100")
    before.close()

    with Store.open(path) as upgraded:
        card = upgraded.get_card(REV)
        assert card is not None and (card.channel, card.ts) == ("C1", "1700000000.000100")
        assert upgraded.card_permalink(REV) is None
        upgraded.set_card_permalink(REV, "https://example.slack.com/archives/C1/p1")
        assert upgraded.card_permalink(REV) == "https://example.slack.com/archives/C1/p1"
    assert "card_permalinks" in migration_names(path)
