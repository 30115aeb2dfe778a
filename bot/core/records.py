"""The values the store hands out: frozen, typed, and free of SQL."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias, get_args

from bot.core.bundle import Bundle

JsonValue: TypeAlias = (
    str | int | float | bool | Sequence["JsonValue"] | Mapping[str, "JsonValue"] | None
)

Verdict = Literal["approve", "request_changes"]
RunKind = Literal["apply", "rollback"]
RunState = Literal[
    "requested",
    "locked",
    "backing_up",
    "migrating",
    "verifying",
    "committing",
    "applied_doc_pending",
    "succeeded",
    "failed",
    "interrupted",
]
RUN_STATES: frozenset[RunState] = frozenset(get_args(RunState))
FINISHED_RUN_STATES: frozenset[RunState] = frozenset({"succeeded", "failed", "interrupted"})

BOT_ACTOR = "schemabot"
"""The actor named in audit rows and checklist ticks for what the bot did or verified itself."""

PRODUCTION = "production"
"""The environment an apply goes to when none is named, and the only one whose apply
commits the document's status update."""


@dataclass(frozen=True)
class GitIdentity:
    """A name and email as git records them: a claim anyone can write, not a proof."""

    name: str
    email: str


@dataclass(frozen=True)
class RevisionRecord:
    """An Alembic revision the bot has seen on some branch.

    `history` revisions were taken as already applied at the first scan and get no card;
    `blob_sha` is the file's current content, so verdicts given on another blob are stale.
    """

    revision: str
    path: str
    blob_sha: str
    branch: str
    commit: str
    author_name: str
    author_email: str
    seen_at: datetime
    history: bool
    on_main: bool
    changed_at: datetime | None
    changed_commit: str | None
    removed_at: datetime | None


@dataclass(frozen=True)
class CardRecord:
    """The Slack message holding a revision's review card."""

    revision: str
    channel: str
    ts: str
    posted_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class VerdictRecord:
    """One verdict as given; `blob_sha` is the revision file it was given on."""

    id: int
    revision: str
    user_id: str
    verdict: Verdict
    reason: str | None
    blob_sha: str
    at: datetime
    withdrawn_at: datetime | None
    bundle: Bundle | None = None
    """The revision file and its migration environment as they were when it was given."""


@dataclass(frozen=True)
class ChecklistTick:
    """The state of one checklist item; `by` is a Slack user id or `BOT_ACTOR`."""

    item_key: str
    ticked: bool
    by: str
    at: datetime


@dataclass(frozen=True)
class AuditEvent:
    """One row of the append-only audit log."""

    id: int
    at: datetime
    actor: str
    revision: str | None
    action: str
    detail: Mapping[str, JsonValue]


@dataclass(frozen=True)
class ApplyRun:
    """One apply or rollback of a revision, as far as it got."""

    id: int
    revision: str
    kind: RunKind
    state: RunState
    requested_by: str
    channel: str | None
    thread_ts: str | None
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    error: str | None
    doc_commit: str | None
    bundle: Bundle | None = None
    """The bytes the run was allowed to run: the approved bundle (a rollback: the applied one)."""
    environment: str = PRODUCTION
    """The environment it migrates."""

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


@dataclass(frozen=True)
class LockRecord:
    """A named lock and who holds it, so users can see (and break) it."""

    name: str
    holder: str
    acquired_at: datetime


@dataclass(frozen=True)
class LintFinding:
    """One finding of the Postgres migration linter on a revision's SQL."""

    rule: str
    level: str
    message: str
    help: str
    line: int
    statement: str


@dataclass(frozen=True)
class SqlReviewRecord:
    """The offline SQL of one version of a revision file, and what the linter said of it.

    `error` says why there is no SQL (the file could not be rendered offline, say).
    """

    revision: str
    blob_sha: str
    dialect: str
    sql: str | None
    findings: tuple[LintFinding, ...]
    error: str | None
    at: datetime


@dataclass(frozen=True)
class Presence:
    """An environment has a revision: since when, and whether a run of schemabot put it
    there (`run_id`, `applied_by`) or it was found there."""

    environment: str
    revision: str
    since: datetime
    run_id: int | None = None
    applied_by: str | None = None
