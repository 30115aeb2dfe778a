"""Block Kit views of a revision's SQL review: the card's excerpt, its tools, the full modal."""

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
from bot.core.records import LintFinding, SqlReviewRecord

SHOW_SQL = "show_sql"
DRAFT_ENTRY = "draft_entry"
SQL_VIEW = "sql_view"
EXCERPT_LINES = 12
FINDINGS_ON_CARD = 5
MODAL_BLOCKS_LIMIT = 100
CHUNK = 2900
FENCE = "```"
LEVEL_MARK = {"error": ":red_circle:", "warning": ":warning:"}


def _fenced(text: str) -> str:
    # A fence inside the SQL would end the code block early; Slack has no escape for it.
    return f"{FENCE}{text.replace(FENCE, '` ` `')}{FENCE}"


def _excerpt(sql: str) -> str:
    lines = [line for line in sql.splitlines() if line.strip()]
    shown = "\n".join(lines[:EXCERPT_LINES])
    more = len(lines) - EXCERPT_LINES
    return _fenced(shown[:2500]) + (f"\n…{more} more lines: *Show SQL*" if more > 0 else "")


def finding_text(finding: LintFinding, limit: int = 400) -> str:
    statement = " ".join(finding.statement.split())[:limit]
    return f"{LEVEL_MARK.get(finding.level, ':warning:')} `{finding.rule}` {finding.message}" + (
        f"\n>`{statement}`" if statement else ""
    )


def sql_blocks(snap: CardSnapshot) -> list[Block]:
    """The card's SQL part: its first lines and the lint findings, errors first."""
    review = snap.sql
    if review is None:
        note = "The SQL this revision runs is being rendered…"
        return [ContextBlock(block_id="sql", elements=[MarkdownTextObject(text=note)])]
    if review.sql is None:
        note = f"No SQL to show: {review.error or 'Alembic rendered nothing'}"
        return [ContextBlock(block_id="sql", elements=[MarkdownTextObject(text=note[:2900])])]
    blocks: list[Block] = [
        SectionBlock(
            block_id="sql",
            text=MarkdownTextObject(
                text=f"*SQL it runs* ({review.dialect}, offline)\n{_excerpt(review.sql)}"
            ),
        )
    ]
    if review.findings:
        shown = review.findings[:FINDINGS_ON_CARD]
        lines = [finding_text(f, 200) for f in shown]
        more = len(review.findings) - len(shown)
        if more > 0:
            lines.append(f"…and {more} more: *Show SQL*")
        text = "*Lint (squawk)*\n" + "\n".join(lines)
        blocks.append(SectionBlock(block_id="lint", text=MarkdownTextObject(text=text[:3000])))
    elif review.dialect == "postgresql":
        clean = ":white_check_mark: squawk found nothing to flag in this SQL."
        blocks.append(ContextBlock(block_id="lint", elements=[MarkdownTextObject(text=clean)]))
    return blocks


def tool_buttons(snap: CardSnapshot) -> ActionsBlock | None:
    """`Show SQL` once it is rendered, `Draft entry` while the revision has no entry."""
    elements = []
    if snap.sql is not None and snap.sql.sql is not None:
        elements.append(ButtonElement(text="Show SQL", action_id=SHOW_SQL, value=snap.revision))
    if snap.entry is None and snap.record.removed_at is None:
        elements.append(
            ButtonElement(text="Draft entry", action_id=DRAFT_ENTRY, value=snap.revision)
        )
    return ActionsBlock(block_id=f"tools:{snap.revision}", elements=elements) if elements else None


def sql_modal(review: SqlReviewRecord) -> View:
    """All of the SQL and every finding, split into sections within Slack's limits."""
    blocks: list[Block] = [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"`{review.revision}` · {review.dialect} · rendered offline by Alembic"
                )
            ]
        )
    ]
    for finding in review.findings:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=finding_text(finding)[:3000])))
    chunks = _chunks(review.sql or "")
    room = MODAL_BLOCKS_LIMIT - len(blocks) - 1
    for chunk in chunks[:room]:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_fenced(chunk))))
    if len(chunks) > room:
        note = (
            f"The SQL is longer than a Slack view holds; {len(chunks) - room} more parts: "
            f"`alembic upgrade <down>:{review.revision} --sql` prints all of it."
        )
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    return View(
        type="modal",
        callback_id=SQL_VIEW,
        title=PlainTextObject(text="Migration SQL"),
        close=PlainTextObject(text="Close"),
        blocks=blocks[:MODAL_BLOCKS_LIMIT],
    )


def _chunks(sql: str) -> list[str]:
    """The SQL in pieces that fit one section each, split between lines where possible."""
    chunks: list[str] = []
    current = ""
    for line in sql.splitlines(keepends=True):
        while len(line) > CHUNK:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:CHUNK])
            line = line[CHUNK:]
        if len(current) + len(line) > CHUNK:
            chunks.append(current)
            current = ""
        current += line
    if current.strip():
        chunks.append(current)
    return chunks
