"""Everything a review card shows about one revision, and what the bot finds itself.

The card renderer takes a `CardSnapshot` and nothing else, so what a card says can be
tested without Slack; the findings are worked out here from plain values (the revision
file, its entry, the graph, the review), and bot/card_builder.py gathers those values.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

from bot.core.checklist import (
    SEED_REQUIRED_ITEMS,
    BotCheck,
    ChecklistEntry,
    EnvironmentTicks,
    classify,
    missing_required,
)
from bot.core.consistency import check
from bot.core.doc import DocEntry, SchemaDoc
from bot.core.lock_review import LockCard
from bot.core.operations import MigrationAnalysis
from bot.core.promotion import EnvironmentRow
from bot.core.records import BOT_ACTOR, GitIdentity, RevisionRecord, SqlReviewRecord
from bot.core.review import ReviewState
from bot.core.revision_file import Revision
from bot.core.revisions import RevisionGraph
from bot.core.text import Code, Text, User

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
    text: Text


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
    touchers: tuple[GitIdentity, ...] = ()
    """Every author and committer git names for the file, on any branch."""
    environments: tuple[EnvironmentRow, ...] = ()
    """A row per environment, when `[environments]` is configured."""
    locks: LockCard | None = None
    """What the revision locks in production (PostgreSQL), when its SQL is rendered."""

    @property
    def co_authors(self) -> tuple[str, ...]:
        """The names of the others who wrote or committed the file besides its author."""
        names = (i.name or i.email for i in self.touchers if i.email != self.record.author_email)
        return tuple(dict.fromkeys(names))

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


def card_title(parsed: Revision | None, entry: DocEntry | None, revision: str) -> str:
    """The entry's title, else the revision's message, else its file's slug (`<id>_<slug>.py`,
    as `alembic revision` names files), else "(no message)": never the id twice."""
    if entry is not None and entry.title:
        return entry.title
    if parsed is not None and parsed.message and parsed.message.strip():
        return parsed.message.strip().splitlines()[0]
    if parsed is not None:
        slug = PurePosixPath(parsed.path).stem.removeprefix(revision).strip("_- ")
        if slug:
            return slug.replace("_", " ")
    return "(no message)"


def disagreements(
    analysis: MigrationAnalysis | None, entry: DocEntry | None, parsed: Revision | None
) -> tuple[Finding, ...]:
    """Where the code and its entry disagree, read from the file's syntax tree."""
    if analysis is None or parsed is None:
        return ()
    return tuple(Finding(Level(d.level), d.text) for d in check(entry, analysis, parsed.is_merge))


def findings(
    record: RevisionRecord,
    parsed: Revision | None,
    doc: SchemaDoc | None,
    entry: DocEntry | None,
    branch: str,
    state: ReviewState,
    graph: RevisionGraph,
    doc_path: str,
    main_branch: str,
    database_backend: str | None,
    required_items: frozenset[str] = SEED_REQUIRED_ITEMS,
    doc_problem: Text | None = None,
    unread: tuple[Text, ...] = (),
) -> tuple[Finding, ...]:
    """What the bot found about the revision itself, for reviewers to weigh.

    `doc_problem`: why the document on the branch was not read; `unread`: files the bot
    would read that it did not (symbolic links), each said in full.
    """
    found: list[Finding] = [Finding(Level.ERROR, problem) for problem in unread]
    gone = missing_required(doc.checklist(), required_items) if doc is not None else ()
    if gone:
        found.append(
            Finding(
                Level.ERROR,
                Text(
                    "The checklist in ",
                    Code(doc_path),
                    " no longer has the required item(s) ",
                    Text.join(", ", (Code(key) for key in gone)),
                    ": no apply until it has them again (SCHEMABOT_REQUIRED_CHECKLIST).",
                ),
            )
        )
    if record.removed_at is not None:
        found.append(Finding(Level.ERROR, Text("The revision file was removed from the branch.")))
    elif parsed is None:
        found.append(
            Finding(Level.ERROR, Text(Code(record.path), " cannot be read on ", Code(branch), "."))
        )
    if doc is None:
        missing = Text(Code(doc_path), " is missing on ", Code(branch), ".")
        found.append(Finding(Level.ERROR, doc_problem or missing))
    elif entry is None:
        found.append(
            Finding(
                Level.ERROR,
                Text("No entry for this revision in ", Code(doc_path), " on ", Code(branch), "."),
            )
        )
    else:
        absent = entry.missing_fields(REQUIRED_FIELDS, doc.template)
        if absent:
            found.append(
                Finding(Level.WARNING, Text("Entry is missing: " + ", ".join(absent) + "."))
            )
        if len(doc.duplicate_entries(record.revision, record.path)) > 1:
            found.append(
                Finding(
                    Level.WARNING, Text("More than one entry in ", Code(doc_path), " claims it.")
                )
            )
    if len(graph.heads) > 1 and not graph.heads_by_design():
        heads = Text.join(", ", (Code(head) for head in graph.heads))
        merge = 'alembic merge -m "merge heads" ' + " ".join(graph.heads)
        found.append(
            Finding(
                Level.WARNING,
                Text(
                    Code(main_branch),
                    f" has {len(graph.heads)} heads (",
                    heads,
                    "): join them with ",
                    Code(merge),
                    ".",
                ),
            )
        )
    for problem in graph.problems:
        if problem.revision in {record.revision, None} or problem.path == record.path:
            found.append(Finding(Level.ERROR, Text(problem.detail)))
    if database_backend in NON_TRANSACTIONAL_DDL and record.removed_at is None:
        found.append(
            Finding(
                Level.WARNING,
                Text(
                    f"Production is {database_backend}, which can't roll back DDL: "
                    "a migration that fails half way leaves it half applied."
                ),
            )
        )
    if state.stale_approvals:
        names = Text.join(", ", (User(verdict.user_id) for verdict in state.stale_approvals))
        changed = sorted({path for v in state.stale_approvals for path in state.changed_since(v)})
        what = Text.join(", ", (Code(path) for path in changed[:8])) if changed else "the revision"
        more = f" and {len(changed) - 8} more" if len(changed) > 8 else ""
        found.append(
            Finding(
                Level.WARNING,
                Text(
                    "Changed after approval by ",
                    names,
                    ": ",
                    what,
                    more,
                    ". They must approve again.",
                ),
            )
        )
    if state.bundle is not None and not state.bundle.complete:
        found.append(
            Finding(
                Level.ERROR,
                Text(
                    "Its migration environment cannot be approved as it is: ",
                    state.bundle.incomplete(most=5),
                ),
            )
        )
    return tuple(found)


def checklist_lines(
    doc: SchemaDoc | None,
    entry: DocEntry | None,
    state: ReviewState,
    notified: bool,
    ticks: EnvironmentTicks = (),
) -> tuple[ChecklistLine, ...]:
    """The document's checklist with what is done: the bot's own checks and people's ticks.

    `notified`: the card is posted (or being posted), so the team was told; `ticks`: the
    items environments tick (only the bot's tick of them counts).
    """
    if doc is None:
        return ()
    lines: list[ChecklistLine] = []
    for item in classify(doc.checklist(), ticks):
        if item.environment is not None:
            tick = state.ticks.get(item.key)
            done = bool(tick and tick.ticked and tick.by == BOT_ACTOR)
            lines.append(ChecklistLine(item, done, BOT_ACTOR))
        elif item.bot_check is BotCheck.DOCUMENTED:
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
