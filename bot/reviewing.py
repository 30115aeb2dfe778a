"""Review use cases: load a revision's state from the store, let the core decide, store it.

The decisions themselves (who may approve, what a verdict does) are bot/core/review.py's;
this layer only reads and writes, so every rule can be tested without a database.

Each state read is also kept in memory, the latest per revision: a modal's submission is
answered before anything reads git or the store, and is checked against that (see
`Services.change_request_refusal`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection

from bot.core import review
from bot.core.bundle import Bundle
from bot.core.records import RevisionRecord
from bot.core.review import ReviewError, ReviewPolicy, ReviewState
from storage.store import Store


class Reviews:
    """Records verdicts and checklist ticks as the review core allows them."""

    def __init__(
        self,
        store: Store,
        policy: ReviewPolicy,
        bundle_of: Callable[[RevisionRecord], Bundle | None] = lambda record: None,
    ) -> None:
        """`bundle_of`: the revision file and its migration environment as they are now on
        the revision's branch (None where they cannot be read, as in a command-line status)."""
        self.store = store
        self.policy = policy
        self.bundle_of = bundle_of
        self._last_read: dict[str, ReviewState] = {}
        # Held for a dict's get or set, never across any work: read before an ack.
        self._memory = threading.Lock()

    def resolve(self, ident: str) -> str:
        """The revision id that `ident` names: the id itself or a unique prefix of it."""
        return review.resolve(ident, self.store.revision_ids_with_prefix(ident.strip()))

    def state(self, revision: str) -> ReviewState:
        store = self.store
        record = self._record(revision)
        state = review.review_state(
            record,
            store.current_verdicts(revision),
            store.checklist_for(revision),
            store.runs_for(revision),
            store.audit_for(revision),
            self.policy,
            self.bundle_of(record),
        )
        with self._memory:
            self._last_read[revision] = state
        return state

    def last_read(self, revision: str) -> ReviewState | None:
        """The revision's state as this process last read it (every card render reads it),
        from memory alone: None when nothing read it since the start."""
        with self._memory:
            return self._last_read.get(revision)

    def remembered(self) -> frozenset[str]:
        """The revisions `last_read` knows."""
        with self._memory:
            return frozenset(self._last_read)

    def may_request_changes(self, revision: str, user: str, authors: Collection[str]) -> None:
        """Raises ReviewError when `user` may not request changes on the revision now."""
        review.may_request_changes(self.state(revision), self.policy, user, authors)

    def approve(self, revision: str, user: str, authors: Collection[str]) -> ReviewState:
        """`authors`: the Slack ids of everyone who wrote or committed the file."""
        self._record_verdict(review.approve(self.state(revision), self.policy, user, authors))
        return self.state(revision)

    def request_changes(
        self, revision: str, user: str, authors: Collection[str], reason: str
    ) -> ReviewState:
        state = self.state(revision)
        self._record_verdict(review.request_changes(state, self.policy, user, authors, reason))
        return self.state(revision)

    def override_lint(
        self, revision: str, user: str, authors: Collection[str], reason: str
    ) -> ReviewState:
        """An approver accepts the lint errors of this version of the file, saying why."""
        state = self.state(revision)
        done = review.override_lint(state, self.policy, user, authors, reason)
        self.store.audit(
            done.user,
            review.LINT_OVERRIDE,
            done.revision,
            reason=done.reason,
            blob_sha=done.blob_sha,
            version=done.version,
        )
        return self.state(revision)

    def withdraw(self, revision: str, user: str) -> ReviewState:
        standing = {v.user_id for v in self.store.current_verdicts(revision)}
        self.store.withdraw_verdict(revision, review.withdraw(self.state(revision), user, standing))
        return self.state(revision)

    def set_checklist(
        self,
        revision: str,
        user: str,
        authors: Collection[str],
        shown: Collection[str],
        selected: Collection[str],
    ) -> ReviewState:
        """Apply a checkboxes element's new selection: `shown` are the keys it offers."""
        state = self.state(revision)
        changes = review.checklist_changes(state, self.policy, user, authors, shown, selected)
        for tick in changes:
            self.store.set_checklist(revision, tick.item_key, tick.ticked, tick.user)
        return self.state(revision)

    def _record_verdict(self, verdict: review.NewVerdict) -> None:
        self.store.record_verdict(
            verdict.revision,
            verdict.user,
            verdict.verdict,
            verdict.reason,
            verdict.blob_sha,
            verdict.bundle,
        )

    def _record(self, revision: str) -> RevisionRecord:
        record = self.store.get_revision(revision)
        if record is None:
            raise ReviewError(f"No revision `{revision}` is under review.")
        return record
