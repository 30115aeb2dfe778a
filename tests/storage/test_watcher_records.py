"""What the watcher records: branch tips, meta, revisions as they change, move and go."""

from datetime import UTC, datetime

import pytest

from storage.errors import RecordNotFound
from storage.store import Store
from tests.conftest import FixedClock
from tests.support.stored import (
    REV,
    actions,
    add,
)

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
