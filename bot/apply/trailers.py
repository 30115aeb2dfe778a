"""The trailers of a run's status commit, gathered from the store and Slack."""

from __future__ import annotations

from typing import Protocol

from bot.core.records import ApplyRun
from bot.core.trailers import StatusCommit, Trailer, person, status_trailers
from storage.store import Store


class Directory(Protocol):
    """Who people are and where cards are, as Slack knows them."""

    def user_name(self, user: str) -> str | None: ...

    def permalink(self, revision: str) -> str | None: ...


def run_trailers(store: Store, run: ApplyRun, directory: Directory | None) -> tuple[Trailer, ...]:
    """Approved-by (the approvals the run was allowed on), Applied-by, Environment,
    Reviewed-at (the card) and Schemabot-Run."""
    requested = next(
        (
            event
            for event in store.audit_for(run.revision)
            if event.action == f"{run.kind}_requested" and event.detail.get("run_id") == run.id
        ),
        None,
    )
    approved = requested.detail.get("approved_by", []) if requested is not None else []
    approvers = [str(user) for user in approved] if isinstance(approved, list | tuple) else []

    def named(user: str) -> str:
        return person(user, directory.user_name(user) if directory else None)

    permalink = (
        directory.permalink(run.revision) if directory else store.card_permalink(run.revision)
    )
    return status_trailers(
        StatusCommit(
            kind=run.kind,
            approvers=tuple(named(user) for user in approvers),
            applier=named(run.requested_by),
            environment=run.environment,
            run_id=run.id,
            permalink=permalink,
        )
    )
