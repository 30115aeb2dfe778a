"""The review's records: the card, verdicts, checklist ticks."""

from storage.store import Store
from tests.conftest import FixedClock
from tests.support.stored import (
    REV,
    actions,
    add,
)

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
