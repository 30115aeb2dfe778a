"""The review core: who may approve, what a verdict does, where a review stands.

Plain values in and out; knows nothing of Slack or of the store. Each decision takes the
review's current state and returns what to record (a verdict, a withdrawal, ticks), or
raises `ReviewError` saying why not; the caller (bot/reviewing.py) stores the result.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.core.bundle import Bundle, version_key
from bot.core.records import (
    PRODUCTION,
    ApplyRun,
    AuditEvent,
    ChecklistTick,
    RevisionRecord,
    Verdict,
    VerdictRecord,
)
from bot.core.text import Code, Text
from bot.errors import SchemabotError


class ReviewError(SchemabotError):
    """A review action that is not allowed; the message says why, to the person who tried."""


class ReviewStatus(StrEnum):
    AWAITING = "Awaiting review"
    CHANGES_REQUESTED = "Changes requested"
    APPROVED = "Approved"
    APPLYING = "Applying"
    APPLIED = "Applied"
    FAILED = "Failed"
    ROLLED_BACK = "Rolled back"
    REMOVED = "Removed"


LINT_OVERRIDE = "lint_override"
ACTIVE_RUN_STATES = frozenset(
    {"requested", "locked", "backing_up", "migrating", "verifying", "committing"}
)


@dataclass(frozen=True)
class ReviewPolicy:
    """Who may approve and apply, and how many approvals an apply needs."""

    approvers: frozenset[str]
    appliers: frozenset[str]
    required_approvals: int

    def may_approve(self, user: str) -> bool:
        return not self.approvers or user in self.approvers


@dataclass(frozen=True)
class ReviewState:
    """Where one revision's review stands, derived from the stored verdicts and runs."""

    record: RevisionRecord
    approvals: tuple[VerdictRecord, ...]
    stale_approvals: tuple[VerdictRecord, ...]
    change_requests: tuple[VerdictRecord, ...]
    ticks: Mapping[str, ChecklistTick]
    last_run: ApplyRun | None
    required_approvals: int
    lint_override: AuditEvent | None = None
    bundle: Bundle | None = None
    """The revision file and its migration environment as they are now, when known."""
    applied: Bundle | None = None
    """The bytes schemabot applied to production, while production has them."""

    @property
    def revision(self) -> str:
        return self.record.revision

    def changed_since(self, verdict: VerdictRecord) -> tuple[str, ...]:
        """The files whose bytes changed since `verdict` was given."""
        if self.bundle is None:
            return (self.record.path,) if verdict.blob_sha != self.record.blob_sha else ()
        if verdict.bundle is None:
            return self.bundle.changed_since(None)
        return self.bundle.changed_since(verdict.bundle)

    @property
    def status(self) -> ReviewStatus:
        run = self.last_run
        if run is not None and run.state in ACTIVE_RUN_STATES:
            return ReviewStatus.APPLYING
        if run is not None and run.kind == "rollback" and run.state == "succeeded":
            return ReviewStatus.ROLLED_BACK
        if run is not None and run.state in {"succeeded", "applied_doc_pending"}:
            return ReviewStatus.APPLIED
        if self.record.removed_at is not None:
            return ReviewStatus.REMOVED
        if run is not None and run.state in {"failed", "interrupted"}:
            return ReviewStatus.FAILED
        if self.change_requests:
            return ReviewStatus.CHANGES_REQUESTED
        if len(self.approvals) >= self.required_approvals:
            return ReviewStatus.APPROVED
        return ReviewStatus.AWAITING

    @property
    def changed_since_applied(self) -> bool:
        """Applied, and its file changed since: the new version may be reviewed (a rollback
        runs a changed `downgrade()` only once it is approved)."""
        return (
            self.applied is not None
            and self.bundle is not None
            and self.bundle.files.get(self.bundle.revision) != self.applied.revision_blob
        )

    @property
    def accepts_verdicts(self) -> bool:
        """Whether approvals, change requests and ticks can still be given."""
        status = self.status
        if self.record.history or status in {ReviewStatus.APPLYING, ReviewStatus.REMOVED}:
            return False
        return status is not ReviewStatus.APPLIED or self.changed_since_applied

    @property
    def status_line(self) -> str:
        status = self.status
        if status in {ReviewStatus.AWAITING, ReviewStatus.APPROVED}:
            return f"{status.value} {len(self.approvals)}/{self.required_approvals}"
        return status.value

    def ticked(self, key: str) -> bool:
        tick = self.ticks.get(key)
        return tick is not None and tick.ticked


def review_state(
    record: RevisionRecord,
    verdicts: Sequence[VerdictRecord],
    ticks: Mapping[str, ChecklistTick],
    runs: Sequence[ApplyRun],
    events: Sequence[AuditEvent],
    policy: ReviewPolicy,
    bundle: Bundle | None = None,
) -> ReviewState:
    """Where the review stands, from each reviewer's standing verdict, the ticks, the runs
    (oldest first; the status follows production's, the other environments' are on the
    card's rows) and the revision's audit events (oldest first).

    An approval counts while the bytes it was given on are the bytes now: the revision file
    and, when `bundle` is known, every file of its migration environment.
    """
    fresh: list[VerdictRecord] = []
    stale: list[VerdictRecord] = []
    requests: list[VerdictRecord] = []
    for verdict in verdicts:
        if verdict.verdict == "request_changes":
            requests.append(verdict)
        elif verdict.blob_sha == record.blob_sha and _same_bytes(verdict.bundle, bundle):
            fresh.append(verdict)
        else:
            stale.append(verdict)
    lint_override = latest(events, LINT_OVERRIDE, version_key(record.blob_sha, bundle))
    runs = [run for run in runs if run.environment == PRODUCTION]
    return ReviewState(
        record=record,
        approvals=tuple(fresh),
        stale_approvals=tuple(stale),
        change_requests=tuple(requests),
        ticks=ticks,
        last_run=runs[-1] if runs else None,
        required_approvals=policy.required_approvals,
        lint_override=lint_override,
        bundle=bundle,
        applied=applied_bundle(runs),
    )


def applied_bundle(runs: Sequence[ApplyRun]) -> Bundle | None:
    """The bundle of the apply that put the revision in production, unless rolled back."""
    for run in reversed(runs):
        if run.state not in {"succeeded", "applied_doc_pending", "committing"}:
            continue
        return run.bundle if run.kind == "apply" else None
    return None


def _same_bytes(given_on: Bundle | None, now: Bundle | None) -> bool:
    if now is None:
        return True
    return given_on is not None and dict(given_on.files) == dict(now.files)


def resolve(ident: str, known: Sequence[str]) -> str:
    """The revision id that `ident` names, among `known` ids starting with it (sorted)."""
    ident = ident.strip()
    if not ident:
        raise ReviewError("Name a revision: its id, or the first characters of it.")
    if ident in known:
        return ident
    if not known:
        raise ReviewError(
            Text(
                "No revision starts with ",
                Code(ident),
                ". ",
                Code("/schema list"),
                " shows the pending ones.",
            )
        )
    if len(known) > 1:
        shown = Text.join(", ", (Code(rev) for rev in known[:10]))
        more = f" and {len(known) - 10} more" if len(known) > 10 else ""
        raise ReviewError(Text(Code(ident), " could be ", shown, more, ": type more of the id."))
    return known[0]


@dataclass(frozen=True)
class NewVerdict:
    """A verdict to record, on the file as `blob_sha`; it replaces the reviewer's earlier one."""

    revision: str
    user: str
    verdict: Verdict
    reason: str | None
    blob_sha: str
    bundle: Bundle | None = None


@dataclass(frozen=True)
class Decision:
    """An approver's audited decision about one version of a revision (accepting its lint
    errors or its lock risk, say), with their reason. `version` is the revision's bytes as
    `version_key` names them, migration environment included: the decision holds for
    those bytes only."""

    revision: str
    user: str
    reason: str
    blob_sha: str
    version: str


@dataclass(frozen=True)
class Tick:
    """A checklist item ticked or unticked by `user`."""

    item_key: str
    ticked: bool
    user: str


def approve(
    state: ReviewState, policy: ReviewPolicy, user: str, authors: Collection[str]
) -> NewVerdict:
    """`authors`: the Slack ids of everyone git names as having written or committed the file."""
    record = _open_for_review(state)
    revision = record.revision
    if user in authors:
        raise ReviewError(
            Text(
                "You wrote or committed part of ",
                Code(revision),
                ", so your approval can't count: ask a teammate.",
            )
        )
    if not policy.may_approve(user):
        raise ReviewError(
            Text(
                "Only the configured approvers can approve ",
                Code(revision),
                " (SCHEMABOT_APPROVERS).",
            )
        )
    return NewVerdict(revision, user, "approve", None, record.blob_sha, state.bundle)


def may_request_changes(
    state: ReviewState, policy: ReviewPolicy, user: str, authors: Collection[str]
) -> RevisionRecord:
    """Raises ReviewError unless `user` may request changes: the review is open, and they are
    an approver or one of the authors. Asked when the modal opens and again with the reason."""
    record = _open_for_review(state)
    if user not in authors and not policy.may_approve(user):
        raise ReviewError(
            Text(
                "Only the configured approvers can request changes on ", Code(record.revision), "."
            )
        )
    return record


def request_changes(
    state: ReviewState, policy: ReviewPolicy, user: str, authors: Collection[str], reason: str
) -> NewVerdict:
    record = may_request_changes(state, policy, user, authors)
    return NewVerdict(
        record.revision,
        user,
        "request_changes",
        change_request_reason(reason),
        record.blob_sha,
        state.bundle,
    )


def change_request_reason(reason: str) -> str:
    """The reason of a change request, as recorded; refused when there is none."""
    if not reason.strip():
        raise ReviewError("Say what should change: the reason is shown on the card.")
    return reason.strip()


def override_lint(
    state: ReviewState, policy: ReviewPolicy, user: str, authors: Collection[str], reason: str
) -> Decision:
    _open_for_review(state)
    return decide(
        state,
        policy,
        user,
        authors,
        reason,
        why="the lint errors are acceptable",
        what="override the lint of",
    )


def decide(
    state: ReviewState,
    policy: ReviewPolicy,
    user: str,
    authors: Collection[str],
    reason: str,
    why: str,
    what: str = "decide that for",
) -> Decision:
    """An approver other than the file's authors decides about the revision's current
    bytes, saying `why` (for the audit log); `what` names the decision in a refusal."""
    reason = reason.strip()
    if not reason:
        raise ReviewError(f"Say why {why}: it goes in the audit log.")
    if user in authors or not policy.may_approve(user):
        raise ReviewError(
            Text(f"Only an approver other than the author can {what} ", Code(state.revision), ".")
        )
    blob_sha = state.record.blob_sha
    return Decision(state.revision, user, reason, blob_sha, version_key(blob_sha, state.bundle))


def latest(
    events: Sequence[AuditEvent], action: str, version: str | None = None
) -> AuditEvent | None:
    """The newest event of `action`; with `version`, the newest about those bytes (see
    `Decision`)."""
    found = [
        event
        for event in events
        if event.action == action and (version is None or event.detail.get("version") == version)
    ]
    return found[-1] if found else None


def withdraw(state: ReviewState, user: str, standing: Collection[str]) -> str:
    """`standing`: the users with a verdict that counts now. Returns whose verdict goes."""
    record = _open_for_review(state)
    if user not in standing:
        raise ReviewError(
            Text("You have no approval or change request on ", Code(record.revision), ".")
        )
    return user


def checklist_changes(
    state: ReviewState,
    policy: ReviewPolicy,
    user: str,
    authors: Collection[str],
    shown: Collection[str],
    selected: Collection[str],
) -> tuple[Tick, ...]:
    """A checkboxes element's new selection as ticks: `shown` are the keys it offers.

    The checklist gates the apply, so it counts only from those who may approve (other than
    the authors) and from the appliers.
    """
    record = _open_for_review(state)
    if user not in policy.appliers and (user in authors or not policy.may_approve(user)):
        raise ReviewError(
            Text(
                "Only reviewers who may approve ",
                Code(record.revision),
                " (not its authors) and the appliers can tick its checklist.",
            )
        )
    return tuple(
        Tick(key, key in selected, user) for key in shown if state.ticked(key) != (key in selected)
    )


def _open_for_review(state: ReviewState) -> RevisionRecord:
    revision = state.revision
    if state.record.history:
        raise ReviewError(Text(Code(revision), " was already in production before schemabot."))
    if state.status is ReviewStatus.REMOVED:
        raise ReviewError(Text(Code(revision), " was removed from the repository."))
    if not state.accepts_verdicts:
        raise ReviewError(
            Text(Code(revision), f" is {state.status.value.lower()}: reviews are closed.")
        )
    return state.record
