"""The review core's decisions, on plain values: no store, no Slack."""

from datetime import UTC, datetime

import pytest

from bot.core import review
from bot.core.records import ApplyRun, RevisionRecord, VerdictRecord
from bot.core.review import ReviewError, ReviewPolicy, ReviewState, ReviewStatus

AT = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
REV = "b41f7a2c9e15"
POLICY = ReviewPolicy(frozenset(), frozenset({"U0APPLIER"}), required_approvals=1)


def record(**changes: object) -> RevisionRecord:
    values: dict[str, object] = {
        "revision": REV,
        "path": f"versions/{REV}_add.py",
        "blob_sha": "blob-2",
        "branch": "main",
        "commit": "c" * 40,
        "author_name": "Dana",
        "author_email": "dana@example.com",
        "seen_at": AT,
        "history": False,
        "on_main": True,
        "changed_at": None,
        "changed_commit": None,
        "removed_at": None,
    }
    values.update(changes)
    return RevisionRecord(**values)  # type: ignore[arg-type]


def verdict(user: str, kind: str = "approve", blob: str = "blob-2") -> VerdictRecord:
    reason = "split it" if kind == "request_changes" else None
    return VerdictRecord(1, REV, user, kind, reason, blob, AT, None)  # type: ignore[arg-type]


def run(state: str, kind: str = "apply") -> ApplyRun:
    return ApplyRun(1, REV, kind, state, "U0APPLIER", None, None, AT, AT, None, None, None)  # type: ignore[arg-type]


def state_of(
    *verdicts: VerdictRecord, runs: tuple[ApplyRun, ...] = (), **rec: object
) -> ReviewState:
    return review.review_state(record(**rec), verdicts, {}, runs, (), POLICY)


def test_approvals_on_another_version_of_the_file_are_stale() -> None:
    state = state_of(verdict("U1", blob="blob-1"), verdict("U2"))
    assert [v.user_id for v in state.approvals] == ["U2"]
    assert [v.user_id for v in state.stale_approvals] == ["U1"]
    assert state.status is ReviewStatus.APPROVED


def test_a_change_request_outweighs_approvals() -> None:
    state = state_of(verdict("U2"), verdict("U3", "request_changes"))
    assert state.status is ReviewStatus.CHANGES_REQUESTED


def test_an_approval_is_a_verdict_to_record_on_the_current_file() -> None:
    decided = review.approve(state_of(), POLICY, "U2", authors={"U1"})
    assert decided == review.NewVerdict(REV, "U2", "approve", None, "blob-2")


def test_the_author_cannot_approve() -> None:
    with pytest.raises(ReviewError, match="You wrote or committed"):
        review.approve(state_of(), POLICY, "U1", authors={"U0", "U1"})


def test_only_configured_approvers_approve_when_there_are_some() -> None:
    policy = ReviewPolicy(frozenset({"U9"}), frozenset(), 1)
    with pytest.raises(ReviewError, match="SCHEMABOT_APPROVERS"):
        review.approve(state_of(), policy, "U2", authors=())


@pytest.mark.parametrize(
    ("changes", "runs", "why"),
    [
        ({"history": True}, (), "already in production"),
        ({}, (run("migrating"),), "applying"),
        ({}, (run("succeeded"),), "applied"),
        ({"removed_at": AT}, (), "removed"),
    ],
)
def test_closed_reviews_take_no_verdict(
    changes: dict[str, object], runs: tuple[ApplyRun, ...], why: str
) -> None:
    with pytest.raises(ReviewError, match=why):
        review.approve(state_of(runs=runs, **changes), POLICY, "U2", authors=())


def test_a_change_request_needs_a_reason() -> None:
    with pytest.raises(ReviewError, match="Say what should change"):
        review.request_changes(state_of(), POLICY, "U2", (), "  ")


def test_who_may_request_changes_is_decided_before_the_reason() -> None:
    approvers = ReviewPolicy(frozenset({"U2"}), frozenset(), required_approvals=1)

    assert review.may_request_changes(state_of(), approvers, "U2", ()).revision == REV
    # An author may hold their own revision back; anyone else must be an approver.
    assert review.may_request_changes(state_of(), approvers, "U9", {"U9"}).revision == REV
    with pytest.raises(ReviewError, match="Only the configured approvers"):
        review.may_request_changes(state_of(), approvers, "U9", ())
    with pytest.raises(ReviewError, match="Only the configured approvers"):
        review.request_changes(state_of(), approvers, "U9", (), "  ")
    with pytest.raises(ReviewError, match="removed"):
        review.may_request_changes(state_of(removed_at=AT), approvers, "U2", ())


def test_a_withdrawal_needs_a_standing_verdict() -> None:
    with pytest.raises(ReviewError, match="no approval"):
        review.withdraw(state_of(), "U2", standing=set())
    assert review.withdraw(state_of(verdict("U2")), "U2", standing={"U2"}) == "U2"


def test_checklist_changes_are_only_the_boxes_that_moved() -> None:
    ticks = review.checklist_changes(state_of(), POLICY, "U2", (), ["a", "b"], selected=["b"])
    assert ticks == (review.Tick("b", True, "U2"),)


def test_authors_and_outsiders_cannot_tick_but_appliers_can() -> None:
    approvers = ReviewPolicy(frozenset({"U2"}), frozenset({"U0APPLIER"}), 1)
    for user, authors in (("U1", {"U1"}), ("U7", set()), ("U2", {"U2"})):
        with pytest.raises(ReviewError, match="tick its checklist"):
            review.checklist_changes(state_of(), approvers, user, authors, ["a"], ["a"])
    ticked = review.checklist_changes(
        state_of(), approvers, "U0APPLIER", {"U0APPLIER"}, ["a"], ["a"]
    )
    assert ticked == (review.Tick("a", True, "U0APPLIER"),)


@pytest.mark.parametrize(
    ("ident", "known", "expected"),
    [("b41f", [REV], REV), (REV, [REV, REV + "0"], REV)],
)
def test_a_revision_is_named_by_its_id_or_a_unique_start(
    ident: str, known: list[str], expected: str
) -> None:
    assert review.resolve(ident, known) == expected


@pytest.mark.parametrize(
    ("ident", "known", "why"),
    [
        ("", [], "Name a revision"),
        ("zz", [], "No revision starts"),
        ("b", ["b1", "b2"], "could be"),
    ],
)
def test_an_unknown_or_ambiguous_name_is_refused(ident: str, known: list[str], why: str) -> None:
    with pytest.raises(ReviewError, match=why):
        review.resolve(ident, known)
