"""The review core: who may approve, what a verdict does, where a review stands.

Plain values in and out; knows nothing of Slack. Handlers call it with Slack user ids and
turn its results (or its `ReviewError`s) into cards and replies.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.core.records import ApplyRun, AuditEvent, ChecklistTick, RevisionRecord, VerdictRecord
from bot.errors import SchemabotError
from storage.store import Store


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

    @property
    def revision(self) -> str:
        return self.record.revision

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
    def status_line(self) -> str:
        status = self.status
        if status in {ReviewStatus.AWAITING, ReviewStatus.APPROVED}:
            return f"{status.value} {len(self.approvals)}/{self.required_approvals}"
        return status.value

    def ticked(self, key: str) -> bool:
        tick = self.ticks.get(key)
        return tick is not None and tick.ticked


class Reviews:
    """Records verdicts and checklist ticks, enforcing who may do what."""

    def __init__(self, store: Store, policy: ReviewPolicy) -> None:
        self.store = store
        self.policy = policy

    def resolve(self, ident: str) -> str:
        """The revision id that `ident` names: the id itself or a unique prefix of it."""
        ident = ident.strip()
        if not ident:
            raise ReviewError("Name a revision: its id, or the first characters of it.")
        ids = self.store.revision_ids_with_prefix(ident)
        if ident in ids:
            return ident
        if not ids:
            raise ReviewError(
                f"No revision starts with `{ident}`. `/schema list` shows the pending ones."
            )
        if len(ids) > 1:
            shown = ", ".join(f"`{rev}`" for rev in ids[:10])
            more = f" and {len(ids) - 10} more" if len(ids) > 10 else ""
            raise ReviewError(f"`{ident}` could be {shown}{more}: type more of the id.")
        return ids[0]

    def state(self, revision: str) -> ReviewState:
        record = self._record(revision)
        fresh: list[VerdictRecord] = []
        stale: list[VerdictRecord] = []
        requests: list[VerdictRecord] = []
        for verdict in self.store.current_verdicts(revision):
            if verdict.verdict == "request_changes":
                requests.append(verdict)
            elif verdict.blob_sha == record.blob_sha:
                fresh.append(verdict)
            else:
                stale.append(verdict)
        runs = self.store.runs_for(revision)
        overrides = [
            event
            for event in self.store.audit_for(revision)
            if event.action == LINT_OVERRIDE and event.detail.get("blob_sha") == record.blob_sha
        ]
        return ReviewState(
            record=record,
            approvals=tuple(fresh),
            stale_approvals=tuple(stale),
            change_requests=tuple(requests),
            ticks=self.store.checklist_for(revision),
            last_run=runs[-1] if runs else None,
            required_approvals=self.policy.required_approvals,
            lint_override=overrides[-1] if overrides else None,
        )

    def approve(self, revision: str, user: str, author: str | None) -> ReviewState:
        """`author` is the Slack id of the revision's author, when Slack knows them."""
        record = self._open_for_review(revision)
        if user == author:
            raise ReviewError(
                f"You wrote `{revision}`, so your approval can't count: ask a teammate."
            )
        if not self.policy.may_approve(user):
            raise ReviewError(
                f"Only the configured approvers can approve `{revision}` (SCHEMABOT_APPROVERS)."
            )
        self.store.record_verdict(revision, user, "approve", None, record.blob_sha)
        return self.state(revision)

    def request_changes(
        self, revision: str, user: str, author: str | None, reason: str
    ) -> ReviewState:
        record = self._open_for_review(revision)
        reason = reason.strip()
        if not reason:
            raise ReviewError("Say what should change: the reason is shown on the card.")
        if user != author and not self.policy.may_approve(user):
            raise ReviewError(f"Only the configured approvers can request changes on `{revision}`.")
        self.store.record_verdict(revision, user, "request_changes", reason, record.blob_sha)
        return self.state(revision)

    def override_lint(
        self, revision: str, user: str, author: str | None, reason: str
    ) -> ReviewState:
        """An approver accepts the lint errors of this version of the file, saying why."""
        record = self._open_for_review(revision)
        reason = reason.strip()
        if not reason:
            raise ReviewError("Say why the lint errors are acceptable: it goes in the audit log.")
        if user == author or not self.policy.may_approve(user):
            raise ReviewError(
                f"Only an approver other than the author can override the lint of `{revision}`."
            )
        self.store.audit(user, LINT_OVERRIDE, revision, reason=reason, blob_sha=record.blob_sha)
        return self.state(revision)

    def withdraw(self, revision: str, user: str) -> ReviewState:
        self._open_for_review(revision)
        if not any(v.user_id == user for v in self.store.current_verdicts(revision)):
            raise ReviewError(f"You have no approval or change request on `{revision}`.")
        self.store.withdraw_verdict(revision, user)
        return self.state(revision)

    def set_checklist(
        self, revision: str, user: str, shown: Collection[str], selected: Collection[str]
    ) -> ReviewState:
        """Apply a checkboxes element's new selection: `shown` are the keys it offers."""
        self._open_for_review(revision)
        current = self.store.checklist_for(revision)
        for key in shown:
            ticked = key in selected
            before = current.get(key)
            if (before is not None and before.ticked) != ticked:
                self.store.set_checklist(revision, key, ticked, user)
        return self.state(revision)

    def _record(self, revision: str) -> RevisionRecord:
        record = self.store.get_revision(revision)
        if record is None:
            raise ReviewError(f"No revision `{revision}` is under review.")
        return record

    def _open_for_review(self, revision: str) -> RevisionRecord:
        state = self.state(revision)
        if state.record.history:
            raise ReviewError(f"`{revision}` was already in production before schemabot.")
        if state.status in {ReviewStatus.APPLYING, ReviewStatus.APPLIED}:
            raise ReviewError(f"`{revision}` is {state.status.value.lower()}: reviews are closed.")
        if state.status is ReviewStatus.REMOVED:
            raise ReviewError(f"`{revision}` was removed from the repository.")
        return state.record
