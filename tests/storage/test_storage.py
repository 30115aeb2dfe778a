import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
from sqlite_utils import Database

from bot.core.records import RevisionRecord
from storage.db import STEPS, open_db
from storage.errors import RecordNotFound, StateStoreError
from storage.store import Store
from tests.conftest import FixedClock

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


# Watcher state


def test_branch_tips(store: Store) -> None:
    store.set_branch_tip("main", "aaa")
    store.set_branch_tip("feature/x", "bbb")
    store.set_branch_tip("main", "ccc")
    assert store.get_branch_tips() == {"feature/x": "bbb", "main": "ccc"}
    store.forget_branch("feature/x")
    assert store.get_branch_tips() == {"main": "ccc"}


def test_meta(store: Store) -> None:
    assert store.get_meta("first_scan_done") is None
    store.set_meta("first_scan_done", "1")
    store.set_meta("first_scan_done", "2")
    assert store.get_meta("first_scan_done") == "2"


def test_recording_a_revision_twice_returns_the_first_record(
    store: Store, clock: FixedClock
) -> None:
    first = add(store, history=True)
    clock.advance(minutes=5)
    again = add(store, branch="main", commit="other", blob_sha="blob-2")
    assert again == first == store.get_revision(REV)
    assert first.branch == "feature/orders"
    assert first.seen_at == datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
    assert first.history and not first.on_main and first.removed_at is None
    assert actions(store) == ["revision_seen"]
    assert store.audit_for(REV)[0].detail["history"] is True


def test_unknown_revisions(store: Store) -> None:
    assert store.get_revision("nope") is None
    with pytest.raises(RecordNotFound, match="nope"):
        store.mark_revision_removed("nope")
    with pytest.raises(RecordNotFound):
        store.claim_card("nope")
    with pytest.raises(RecordNotFound):
        store.record_verdict("nope", "U1", "approve", None, "blob-1")


def test_pending_revisions_leave_out_history_removed_and_applied(store: Store) -> None:
    add(store, "a00001", history=True)
    add(store, "b00002")
    add(store, "c00003")
    add(store, "d00004")
    add(store, "e00005")
    store.mark_revision_removed("c00003")
    applied = store.create_run("d00004", "apply", "U1")
    store.advance_run(applied.id, "succeeded")
    store.advance_run(store.create_run("e00005", "apply", "U1").id, "succeeded")
    store.advance_run(store.create_run("e00005", "rollback", "U1").id, "succeeded")
    pending = [record.revision for record in store.list_revisions(pending_only=True)]
    assert pending == ["b00002", "e00005"]
    assert len(store.list_revisions()) == 5


def test_revision_ids_with_prefix(store: Store) -> None:
    for revision in ("abc123", "abd456", "abc789", "x_ab%"):
        add(store, revision)
    assert store.revision_ids_with_prefix("abc") == ["abc123", "abc789"]
    assert store.revision_ids_with_prefix("ab") == ["abc123", "abc789", "abd456"]
    assert store.revision_ids_with_prefix("x_ab%") == ["x_ab%"]
    assert store.revision_ids_with_prefix("zz") == []


def test_a_changed_file_keeps_the_new_blob_and_commit(store: Store, clock: FixedClock) -> None:
    add(store)
    clock.advance(hours=1)
    changed = store.mark_revision_changed(REV, "blob-2", "beef")
    assert (changed.blob_sha, changed.changed_commit) == ("blob-2", "beef")
    assert changed.changed_at == clock.now
    assert changed.commit == "c0ffee"
    assert store.mark_revision_changed(REV, "blob-2", "later") == changed
    assert actions(store) == ["revision_seen", "revision_changed"]
    assert store.audit_for(REV)[1].detail == {
        "blob_sha": "blob-2",
        "commit": "beef",
        "old_blob_sha": "blob-1",
    }


def test_removed_and_restored(store: Store, clock: FixedClock) -> None:
    add(store)
    removed = store.mark_revision_removed(REV)
    assert removed.removed_at == clock.now
    assert store.mark_revision_removed(REV) == removed
    restored = store.mark_revision_restored(REV, "blob-2", "beef")
    assert restored.removed_at is None and restored.blob_sha == "blob-2"
    assert actions(store) == [
        "revision_seen",
        "revision_removed",
        "revision_restored",
        "revision_changed",
    ]


def test_on_main(store: Store) -> None:
    add(store)
    assert store.set_on_main(REV, True).on_main
    store.set_on_main(REV, True)
    assert not store.set_on_main(REV, False).on_main
    assert actions(store) == ["revision_seen", "on_main", "off_main"]


# Reviews


def test_a_card_is_claimed_once_and_keeps_its_first_post_time(
    store: Store, clock: FixedClock
) -> None:
    add(store)
    assert store.get_card(REV) is None
    assert store.claim_card(REV)
    assert not store.claim_card(REV)
    assert store.get_card(REV) is None
    posted = store.set_card(REV, "C1", "111.222")
    clock.advance(minutes=3)
    updated = store.set_card(REV, "C1", "111.222")
    assert updated.posted_at == posted.posted_at
    assert updated.updated_at == clock.now
    assert store.get_card(REV) == updated
    store.release_card_claim(REV)
    assert store.get_card(REV) == updated
    assert not store.claim_card(REV)
    assert actions(store) == ["revision_seen", "card_posted"]


def test_a_failed_post_releases_its_claim(store: Store) -> None:
    add(store)
    assert store.claim_card(REV)
    store.release_card_claim(REV)
    assert store.claim_card(REV)


def test_a_reviewers_latest_verdict_stands(store: Store) -> None:
    add(store)
    store.record_verdict(REV, "U1", "request_changes", "needs an index", "blob-1")
    store.record_verdict(REV, "U2", "approve", None, "blob-1")
    store.record_verdict(REV, "U1", "approve", None, "blob-1")
    current = store.current_verdicts(REV)
    assert [(v.user_id, v.verdict) for v in current] == [("U2", "approve"), ("U1", "approve")]
    assert actions(store)[1:] == ["request_changes", "approve", "approve"]
    assert store.audit_for(REV)[1].detail == {"blob_sha": "blob-1", "reason": "needs an index"}
    assert store.audit_for(REV)[1].actor == "U1"


def test_withdrawing_leaves_no_verdict_rather_than_the_previous_one(store: Store) -> None:
    add(store)
    store.record_verdict(REV, "U1", "request_changes", "why?", "blob-1")
    store.record_verdict(REV, "U1", "approve", None, "blob-1")
    assert store.withdraw_verdict(REV, "U1")
    assert store.current_verdicts(REV) == []
    assert not store.withdraw_verdict(REV, "U1")
    assert not store.withdraw_verdict(REV, "U9")
    assert actions(store)[-1] == "withdraw"
    assert store.audit_for(REV)[-1].detail == {"verdict": "approve"}


def test_verdicts_keep_the_blob_they_were_given_on(store: Store) -> None:
    add(store)
    store.record_verdict(REV, "U1", "approve", None, "blob-1")
    revision = store.mark_revision_changed(REV, "blob-2", "beef")
    (verdict,) = store.current_verdicts(REV)
    assert verdict.blob_sha == "blob-1" != revision.blob_sha


def test_checklist_ticks_are_audited_when_they_change(store: Store, clock: FixedClock) -> None:
    add(store)
    store.set_checklist(REV, "backfill", True, "U1")
    store.set_checklist(REV, "backfill", True, "U2")
    store.set_checklist(REV, "lock_timeout", False, "U1")
    store.set_checklist(REV, "revision_file", True, "schemabot")
    clock.advance(minutes=1)
    store.set_checklist(REV, "backfill", False, "U2")
    ticks = store.checklist_for(REV)
    assert sorted(ticks) == ["backfill", "lock_timeout", "revision_file"]
    assert (ticks["backfill"].ticked, ticks["backfill"].by) == (False, "U2")
    assert ticks["backfill"].at == clock.now
    assert (ticks["revision_file"].ticked, ticks["revision_file"].by) == (True, "schemabot")
    events = store.audit_for(REV)[1:]
    assert [(e.actor, e.action, e.detail["item"]) for e in events] == [
        ("U1", "tick", "backfill"),
        ("schemabot", "tick", "revision_file"),
        ("U2", "untick", "backfill"),
    ]


# The audit log


def test_the_audit_log_is_append_only(store: Store, state_path: Path) -> None:
    event = store.audit("U1", "apply_requested", REV, note="by hand", tries=[1, 2])
    assert store.audit_for(REV) == [event]
    assert event.detail == {"note": "by hand", "tries": [1, 2]}
    conn = sqlite3.connect(state_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit_log SET actor = 'U2'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit_log")
    conn.close()
    assert store.audit_for(REV) == [event]


def test_events_without_a_revision(store: Store) -> None:
    event = store.audit("schemabot", "started")
    assert event.revision is None and event.detail == {}


def test_times_must_be_aware(state_path: Path) -> None:
    with Store.open(state_path, datetime.now) as naive, pytest.raises(ValueError, match="naive"):
        naive.audit("U1", "started")


# Apply runs, locks, retries


def test_an_apply_run_moves_through_its_states(store: Store, clock: FixedClock) -> None:
    add(store)
    run = store.create_run(REV, "apply", "U1", channel="C1", thread_ts="111.222")
    assert (run.state, run.finished, run.requested_by) == ("requested", False, "U1")
    for state in ("locked", "backing_up", "migrating", "verifying", "committing"):
        clock.advance(seconds=1)
        store.advance_run(run.id, state)
    store.advance_run(run.id, "applied_doc_pending")
    assert store.unfinished_runs() == [store.get_run(run.id)]
    clock.advance(seconds=1)
    done = store.advance_run(run.id, "succeeded", doc_commit="d0c")
    assert (done.state, done.doc_commit, done.error) == ("succeeded", "d0c", None)
    assert done.finished_at == done.updated_at == clock.now
    assert done.started_at == run.started_at
    assert store.unfinished_runs() == []
    assert store.runs_for(REV) == [done]
    assert actions(store) == [
        "revision_seen",
        "apply_requested",
        "apply_applied_doc_pending",
        "apply_succeeded",
    ]


def test_a_failed_rollback_keeps_its_error(store: Store) -> None:
    add(store)
    run = store.create_run(REV, "rollback", "U1")
    failed = store.advance_run(run.id, "failed", error="relation does not exist")
    assert (failed.error, failed.channel, failed.thread_ts) == (
        "relation does not exist",
        None,
        None,
    )
    assert actions(store)[-1] == "rollback_failed"
    assert store.audit_for(REV)[-1].detail["error"] == "relation does not exist"


def test_runs_that_do_not_exist(store: Store) -> None:
    assert store.get_run(42) is None
    with pytest.raises(RecordNotFound, match="#42"):
        store.advance_run(42, "failed")
    add(store)
    run = store.create_run(REV, "apply", "U1")
    with pytest.raises(ValueError, match="unknown run state"):
        store.advance_run(run.id, "exploded")  # type: ignore[arg-type]


def test_locks(store: Store) -> None:
    assert store.try_acquire_lock("apply", "run-1")
    assert not store.try_acquire_lock("apply", "run-2")
    assert not store.try_acquire_lock("apply", "run-1")
    assert not store.release_lock("apply", "run-2")
    lock = store.get_lock("apply")
    assert lock is not None and lock.holder == "run-1"
    assert store.list_locks() == [lock]
    assert store.release_lock("apply", "run-1")
    assert store.get_lock("apply") is None
    assert store.try_acquire_lock("apply", "run-2")
    broken = store.break_lock("apply", "U1")
    assert broken is not None and broken.holder == "run-2"
    assert store.get_lock("apply") is None
    assert store.break_lock("apply", "U1") is None
    (event,) = store.recent_audit(limit=1)
    assert (event.actor, event.action, event.detail) == (
        "U1",
        "lock_broken",
        {"holder": "run-2", "lock": "apply"},
    )


def test_a_repeated_delivery_is_seen_once_and_forgotten_after_a_day(
    store: Store, clock: FixedClock
) -> None:
    assert store.first_delivery("T1:evt-1")
    assert not store.first_delivery("T1:evt-1")
    clock.advance(hours=23)
    assert not store.first_delivery("T1:evt-1")
    clock.advance(hours=2)
    assert store.first_delivery("T1:evt-1")


# Threads


StoreFor = Callable[[], Store]
T = TypeVar("T")


@pytest.fixture(params=["shared connection", "connection per thread"])
def store_for(request: pytest.FixtureRequest, store: Store, state_path: Path) -> Iterator[StoreFor]:
    """Each thread's store: the one shared store, or its own connection like another process."""
    if request.param == "shared connection":
        yield lambda: store
        return
    opened: list[Store] = []

    def open_own() -> Store:
        own = Store.open(state_path)
        opened.append(own)
        return own

    yield open_own
    for own in opened:
        own.close()


def hammer(store_for: StoreFor, work: Callable[[Store, int], T]) -> list[T]:
    """Run `work` in 8 threads released together; return what each returned."""
    barrier = threading.Barrier(8)
    results: dict[int, T] = {}
    errors: list[BaseException] = []

    def run(index: int) -> None:
        store = store_for()
        barrier.wait()
        try:
            results[index] = work(store, index)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return [results[index] for index in range(8)]


def test_racing_threads_record_each_revision_once(store: Store, store_for: StoreFor) -> None:
    revisions = [f"rev{n}" for n in range(5)]

    def record_all(thread_store: Store, index: int) -> list[str]:
        return [add(thread_store, rev, branch=f"b{index}").branch for rev in revisions]

    branches = hammer(store_for, record_all)
    assert len({tuple(b) for b in branches}) == 1
    for rev in revisions:
        assert actions(store, rev) == ["revision_seen"]


def test_racing_threads_have_one_winner_each(store: Store, store_for: StoreFor) -> None:
    add(store)

    def race(thread_store: Store, index: int) -> tuple[bool, bool, bool]:
        return (
            thread_store.claim_card(REV),
            thread_store.try_acquire_lock("apply", f"run-{index}"),
            thread_store.first_delivery("T1:evt-1"),
        )

    results = hammer(store_for, race)
    for column in range(3):
        assert sum(result[column] for result in results) == 1


def test_racing_requests_record_one_locked_run(store: Store, store_for: StoreFor) -> None:
    add(store)

    def request(thread_store: Store, index: int) -> bool:
        run = thread_store.create_locked_run(
            REV, "apply", f"U{index}", "apply", lambda run: f"run {run.id}"
        )
        return run is not None

    assert sum(hammer(store_for, request)) == 1
    [run] = store.runs_for(REV)
    lock = store.get_lock("apply")
    assert lock is not None and lock.holder == f"run {run.id}"
    assert actions(store) == ["revision_seen", "apply_requested"]


def test_claims_left_without_a_card_are_released_at_start(store: Store) -> None:
    for revision in ("a1", "b2"):
        store.record_revision(
            revision,
            path=f"{revision}.py",
            blob_sha="x",
            branch="main",
            commit="c",
            author_name="Dana",
            author_email="dana@example.com",
        )
    assert store.claim_card("a1") and store.claim_card("b2")
    store.set_card("b2", "C0REVIEW01", "1700000000.000100")

    assert store.release_unposted_claims() == ["a1"]
    assert store.claim_card("a1")
    assert store.get_card("b2") is not None and not store.claim_card("b2")
