"""Everything a review card shows about one revision, gathered from git, the doc and the store.

The card renderer takes this value and nothing else, so what a card says can be tested
without Slack, and the Slack layer never reads git or the store itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.core.checklist import BotCheck, ChecklistEntry, classify
from bot.core.consistency import check
from bot.core.doc import DocEntry, SchemaDoc
from bot.core.operations import analyze
from bot.core.records import BOT_ACTOR, RevisionRecord, SqlReviewRecord
from bot.core.review import Reviews, ReviewState
from bot.core.revision_file import Revision
from bot.git.repository import RepositoryView
from bot.git.scan import MAIN_BRANCH
from storage.store import Store

REQUIRED_FIELDS = (
    "Type",
    "Description",
    "Tables Affected",
    "Breaking Changes",
    "Rollback Plan",
    "Tested in Dev",
)
NON_TRANSACTIONAL_DDL = frozenset({"sqlite", "mysql", "mariadb"})
SHOWN_FIELDS = ("Type", "Tables Affected", "Breaking Changes", "Tested in Dev")


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """Something the bot found itself, for reviewers to weigh."""

    level: Level
    text: str


@dataclass(frozen=True)
class ChecklistLine:
    entry: ChecklistEntry
    done: bool
    by: str | None


@dataclass(frozen=True)
class CardSnapshot:
    revision: str
    title: str
    record: RevisionRecord
    parsed: Revision | None
    entry: DocEntry | None
    doc_path: str
    main_branch: str
    author_user: str | None
    findings: tuple[Finding, ...]
    checklist: tuple[ChecklistLine, ...]
    state: ReviewState
    sql: SqlReviewRecord | None = None

    @property
    def author(self) -> str:
        return self.author_user or self.record.author_name or self.record.author_email

    def field(self, name: str) -> str | None:
        return None if self.entry is None else self.entry.field(name)

    @property
    def breaking(self) -> bool:
        value = (self.field("Breaking Changes") or "").strip().casefold()
        return value.startswith("yes")

    @property
    def manual_items(self) -> tuple[ChecklistLine, ...]:
        return tuple(line for line in self.checklist if line.entry.manual)

    @property
    def bot_items(self) -> tuple[ChecklistLine, ...]:
        return tuple(line for line in self.checklist if not line.entry.manual)


def _title(parsed: Revision | None, entry: DocEntry | None, revision: str) -> str:
    if entry is not None and entry.title:
        return entry.title
    if parsed is not None and parsed.message:
        return parsed.message.strip().splitlines()[0]
    return revision


class SnapshotBuilder:
    """Builds card snapshots; the caller passes the author's Slack id when it knows it."""

    def __init__(
        self,
        store: Store,
        reviews: Reviews,
        repository: RepositoryView,
        main_branch: str,
        database_backend: str | None = None,
    ) -> None:
        """`database_backend`: production's SQLAlchemy backend name, when one is configured."""
        self.store = store
        self.reviews = reviews
        self.repository = repository
        self.configured_main = main_branch
        self.database_backend = database_backend

    @property
    def main_branch(self) -> str:
        """The main branch as the watcher found it (the remote's default, or the setting)."""
        return self.store.get_meta(MAIN_BRANCH) or self.configured_main

    def build(self, revision: str, author_user: str | None, notified: bool = False) -> CardSnapshot:
        """`notified`: the card is being posted, so the team is being told right now."""
        state = self.reviews.state(revision)
        record = state.record
        branch = self.main_branch if record.on_main else record.branch
        parsed = self.repository.revision(branch, record.path)
        doc = self.repository.doc(branch)
        entry = doc.entry_for(revision, record.path) if doc is not None else None
        findings = self._findings(record, parsed, doc, entry, branch, state)
        findings += self._disagreements(branch, record.path, entry, parsed)
        checklist = self._checklist(doc, entry, revision, state, notified)
        return CardSnapshot(
            revision=revision,
            title=_title(parsed, entry, revision),
            record=record,
            parsed=parsed,
            entry=entry,
            doc_path=self.repository.doc_path,
            main_branch=self.main_branch,
            author_user=author_user,
            findings=findings,
            checklist=checklist,
            state=state,
            sql=self.store.sql_review(revision, record.blob_sha),
        )

    def _disagreements(
        self, branch: str, path: str, entry: DocEntry | None, parsed: Revision | None
    ) -> tuple[Finding, ...]:
        """Where the code and its entry disagree, read from the file's syntax tree."""
        source = self.repository.read(branch, path)
        if source is None or parsed is None:
            return ()
        analysis = analyze(source, path)
        return tuple(
            Finding(Level(d.level), d.text) for d in check(entry, analysis, parsed.is_merge)
        )

    def _findings(
        self,
        record: RevisionRecord,
        parsed: Revision | None,
        doc: SchemaDoc | None,
        entry: DocEntry | None,
        branch: str,
        state: ReviewState,
    ) -> tuple[Finding, ...]:
        doc_path = self.repository.doc_path
        found: list[Finding] = []
        if record.removed_at is not None:
            found.append(Finding(Level.ERROR, "The revision file was removed from the branch."))
        elif parsed is None:
            found.append(Finding(Level.ERROR, f"`{record.path}` cannot be read on `{branch}`."))
        if doc is None:
            found.append(Finding(Level.ERROR, f"`{doc_path}` is missing on `{branch}`."))
        elif entry is None:
            found.append(
                Finding(Level.ERROR, f"No entry for this revision in `{doc_path}` on `{branch}`.")
            )
        else:
            missing = entry.missing_fields(REQUIRED_FIELDS, doc.template)
            if missing:
                found.append(
                    Finding(Level.WARNING, "Entry is missing: " + ", ".join(missing) + ".")
                )
            if len(doc.duplicate_entries(record.revision, record.path)) > 1:
                found.append(
                    Finding(Level.WARNING, f"More than one entry in `{doc_path}` claims it.")
                )
        graph = self.repository.graph(self.main_branch)
        if len(graph.heads) > 1:
            heads = ", ".join(f"`{head}`" for head in graph.heads)
            found.append(
                Finding(
                    Level.WARNING,
                    f"`{self.main_branch}` has {len(graph.heads)} heads ({heads}): "
                    f'join them with `alembic merge -m "merge heads" {" ".join(graph.heads)}`.',
                )
            )
        for problem in graph.problems:
            if problem.revision in {record.revision, None} or problem.path == record.path:
                found.append(Finding(Level.ERROR, problem.detail))
        if self.database_backend in NON_TRANSACTIONAL_DDL and record.removed_at is None:
            found.append(
                Finding(
                    Level.WARNING,
                    f"Production is {self.database_backend}, which can't roll back DDL: "
                    "a migration that fails half way leaves it half applied.",
                )
            )
        if state.stale_approvals:
            names = ", ".join(f"<@{verdict.user_id}>" for verdict in state.stale_approvals)
            found.append(
                Finding(
                    Level.WARNING,
                    f"The file changed after approval by {names}: they must approve again.",
                )
            )
        return tuple(found)

    def _checklist(
        self,
        doc: SchemaDoc | None,
        entry: DocEntry | None,
        revision: str,
        state: ReviewState,
        notified: bool,
    ) -> tuple[ChecklistLine, ...]:
        if doc is None:
            return ()
        notified = notified or self.store.get_card(revision) is not None
        lines: list[ChecklistLine] = []
        for item in classify(doc.checklist()):
            if item.bot_check is BotCheck.DOCUMENTED:
                lines.append(ChecklistLine(item, entry is not None, BOT_ACTOR))
            elif item.bot_check is BotCheck.NOTIFIED:
                lines.append(ChecklistLine(item, notified, BOT_ACTOR))
            elif item.bot_check is not None:
                tick = state.ticks.get(item.bot_check.value)
                lines.append(ChecklistLine(item, bool(tick and tick.ticked), BOT_ACTOR))
            else:
                tick = state.ticks.get(item.key)
                done = bool(tick and tick.ticked)
                lines.append(ChecklistLine(item, done, tick.by if tick and done else None))
        return tuple(lines)
