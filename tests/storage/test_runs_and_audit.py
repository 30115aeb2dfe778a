"""The audit log, apply runs, locks and Slack delivery keys."""

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from storage.errors import RecordNotFound
from storage.store import Store
from tests.conftest import FixedClock
from tests.support.stored import (
    REV,
    actions,
    add,
)

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


def test_a_delivery_is_remembered_once_and_forgotten_after_a_day(
    store: Store, clock: FixedClock
) -> None:
    start = clock.now
    assert store.record_deliveries(["event:Ev1", "event:Ev2"]) == ["event:Ev1", "event:Ev2"]
    assert store.record_deliveries(["event:Ev1", "event:Ev3"]) == ["event:Ev3"]
    clock.advance(hours=23)
    assert store.record_deliveries(["event:Ev1"]) == []
    assert store.deliveries_since(start) == ["event:Ev1", "event:Ev2", "event:Ev3"]
    clock.advance(hours=2)
    assert store.record_deliveries(["event:Ev1"]) == ["event:Ev1"]
    assert store.deliveries_since(start) == ["event:Ev1"]
