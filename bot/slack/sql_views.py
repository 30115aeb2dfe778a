"""Block Kit views of a revision's SQL review: the card's excerpt, its tools, the full modal.

The SQL is whatever the migration renders, so it is escaped like any repository text
(`a <> b` must show as written) and split into code blocks that nothing in it can close.
The modal is budgeted by its size as sent: past it, a note says where the rest is.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.card import CardSnapshot
from bot.core.lock_review import RunSettings
from bot.core.records import LintFinding, SqlReviewRecord
from bot.core.text import Bold, Code, Text
from bot.slack.limits import (
    SECTION_TEXT_LIMIT,
    VIEW_BLOCKS_LIMIT,
    VIEW_BYTES_BUDGET,
    revision_ref,
    serialized_size,
)
from bot.slack.markup import code, fence, fenced_chunks, render

SHOW_SQL = "show_sql"
DRAFT_ENTRY = "draft_entry"
SQL_VIEW = "sql_view"
EXCERPT_LINES = 12
EXCERPT_CHARS = 2500
FINDINGS_ON_CARD = 5
FINDING_ON_CARD_LIMIT = 450
LEVEL_MARK = {"error": ":red_circle:", "warning": ":warning:"}


def _excerpt(sql: str) -> str:
    lines = [line for line in sql.splitlines() if line.strip()]
    shown = fence("\n".join(lines[:EXCERPT_LINES]), EXCERPT_CHARS)
    more = len(lines) - EXCERPT_LINES
    return shown + (f"\n…{more} more lines: *Show SQL*" if more > 0 else "")


def finding_text(finding: LintFinding, limit: int = SECTION_TEXT_LIMIT) -> str:
    """One squawk finding: its rule, its message, and the statement it is about."""
    head = render(
        Text(f"{LEVEL_MARK.get(finding.level, ':warning:')} ", Code(finding.rule), " ")
        + finding.message,
        limit // 2,
    )
    statement = " ".join(finding.statement.split())
    if not statement:
        return head
    return f"{head}\n>{code(statement, limit - len(head) - 2)}"


def sql_blocks(snap: CardSnapshot) -> list[Block]:
    """The card's SQL part: its first lines and the lint findings, errors first."""
    review = snap.sql
    if review is None:
        note = "The SQL this revision runs is being rendered…"
        return [ContextBlock(block_id="sql", elements=[MarkdownTextObject(text=note)])]
    if review.sql is None:
        note = render(Text("No SQL to show: ", review.error or "Alembic rendered nothing"), 2900)
        return [ContextBlock(block_id="sql", elements=[MarkdownTextObject(text=note)])]
    title = render(Text(Bold("SQL it runs"), f" ({review.dialect}, offline)"), 200) + "\n"
    runs = review.sql
    if snap.locks is not None:
        # The timeouts schemabot sets on each connection are part of what runs.
        runs = "\n".join(snap.locks.run_settings.sql_lines()) + "\n" + runs
    blocks: list[Block] = [
        SectionBlock(block_id="sql", text=MarkdownTextObject(text=title + _excerpt(runs)))
    ]
    if review.findings:
        shown = review.findings[:FINDINGS_ON_CARD]
        lines = [finding_text(f, FINDING_ON_CARD_LIMIT) for f in shown]
        more = len(review.findings) - len(shown)
        if more > 0:
            lines.append(f"…and {more} more: *Show SQL*")
        text = "*Lint (squawk)*\n" + "\n".join(lines)
        blocks.append(SectionBlock(block_id="lint", text=MarkdownTextObject(text=text)))
    elif review.dialect == "postgresql":
        clean = ":white_check_mark: squawk found nothing to flag in this SQL."
        blocks.append(ContextBlock(block_id="lint", elements=[MarkdownTextObject(text=clean)]))
    return blocks


def tool_buttons(snap: CardSnapshot) -> ActionsBlock | None:
    """`Show SQL` once it is rendered, `Draft entry` while the revision has no entry."""
    ref = revision_ref(snap.revision)
    elements = []
    if snap.sql is not None and snap.sql.sql is not None:
        elements.append(ButtonElement(text="Show SQL", action_id=SHOW_SQL, value=ref))
    if snap.entry is None and snap.record.removed_at is None:
        elements.append(ButtonElement(text="Draft entry", action_id=DRAFT_ENTRY, value=ref))
    return ActionsBlock(block_id=f"tools:{ref}", elements=elements) if elements else None


def sql_modal(review: SqlReviewRecord, path: str, run_settings: RunSettings | None = None) -> View:
    """All of the SQL and every finding, in sections within Slack's limits, as much as a
    view holds; past that, a note says how to print the rest from `path`. `run_settings`:
    the timeouts an apply sets, shown first, as on the card."""
    head = render(
        Text(Code(review.revision), f" · {review.dialect} · rendered offline by Alembic"),
        SECTION_TEXT_LIMIT,
    )
    blocks: list[Block] = [ContextBlock(elements=[MarkdownTextObject(text=head)])]
    parts = [finding_text(finding) for finding in review.findings]
    runs = review.sql or ""
    if run_settings is not None:
        runs = "\n".join(run_settings.sql_lines()) + "\n" + runs
    parts += fenced_chunks(runs, SECTION_TEXT_LIMIT)
    # Room for the note, in blocks and in bytes.
    blocks_left = VIEW_BLOCKS_LIMIT - len(blocks) - 1
    bytes_left = VIEW_BYTES_BUDGET - serialized_size(blocks) - 2 * SECTION_TEXT_LIMIT
    shown = 0
    for part in parts:
        block = SectionBlock(text=MarkdownTextObject(text=part))
        size = serialized_size([block])
        if shown == blocks_left or size > bytes_left:
            break
        blocks.append(block)
        bytes_left -= size
        shown += 1
    if shown < len(parts):
        note = Text(
            f"The SQL is longer than a Slack view holds; {len(parts) - shown} more parts. ",
            Code(f"alembic upgrade <down>:{review.revision} --sql"),
            " prints all of it, from ",
            Code(path),
            ".",
        )
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=render(note))]))
    return View(
        type="modal",
        callback_id=SQL_VIEW,
        title=PlainTextObject(text="Migration SQL"),
        close=PlainTextObject(text="Close"),
        blocks=blocks,
    )
