"""Block Kit views of core objects, built with slack_sdk.models; nothing else.

Every string that comes from the repository is cut to Slack's limits here, with a pointer
to the file, so a long description can never make Slack reject a card.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
)

from bot.core.card import SHOWN_FIELDS, CardSnapshot, ChecklistLine, Finding, Level
from bot.core.review import ReviewState, ReviewStatus
from bot.slack.sql_views import sql_blocks, tool_buttons

SECTION_TEXT_LIMIT = 3000
FIELD_TEXT_LIMIT = 2000
HEADER_LIMIT = 150
OPTION_TEXT_LIMIT = 75
CHECKBOX_OPTIONS_LIMIT = 10

APPROVE = "approve"
REQUEST_CHANGES = "request_changes"
WITHDRAW = "withdraw"
CHECKLIST = "checklist"

STATUS_EMOJI = {
    ReviewStatus.AWAITING: ":hourglass_flowing_sand:",
    ReviewStatus.CHANGES_REQUESTED: ":raised_hand:",
    ReviewStatus.APPROVED: ":white_check_mark:",
    ReviewStatus.APPLYING: ":gear:",
    ReviewStatus.APPLIED: ":rocket:",
    ReviewStatus.FAILED: ":x:",
    ReviewStatus.ROLLED_BACK: ":rewind:",
    ReviewStatus.REMOVED: ":wastebasket:",
}
LEVEL_EMOJI = {
    Level.ERROR: ":red_circle:",
    Level.WARNING: ":warning:",
    Level.INFO: ":information_source:",
}


@dataclass(frozen=True)
class Message:
    """A message's fallback text (notifications, screen readers) and its blocks."""

    text: str
    blocks: list[Block]


def cut(text: str, limit: int, pointer: str = "") -> str:
    """`text` within `limit` characters, ending with `pointer` when it had to be cut."""
    if len(text) <= limit:
        return text
    tail = f"… {pointer}" if pointer else "…"
    return text[: max(0, limit - len(tail))].rstrip() + tail


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user: str) -> str:
    return f"<@{user}>"


def review_card(snap: CardSnapshot) -> Message:
    """The review card of one revision: what it is, what the bot found, where it stands."""
    pointer = f"(see `{snap.doc_path}`)"
    blocks: list[Block] = [
        HeaderBlock(
            block_id="title",
            text=PlainTextObject(text=cut(f"{snap.revision} - {snap.title}", HEADER_LIMIT)),
        ),
        SectionBlock(block_id="status", text=MarkdownTextObject(text=_status_text(snap))),
        SectionBlock(block_id="facts", fields=_facts(snap)),
    ]
    for name, block_id in (("Description", "description"), ("Rollback Plan", "rollback")):
        value = snap.field(name)
        if value:
            body = cut(f"*{name}*\n{escape(value)}", SECTION_TEXT_LIMIT, pointer)
            blocks.append(SectionBlock(block_id=block_id, text=MarkdownTextObject(text=body)))
    if snap.breaking:
        breaking = cut(
            f":rotating_light: *Breaking change:* {escape(snap.field('Breaking Changes') or '')}",
            SECTION_TEXT_LIMIT,
            pointer,
        )
        blocks.append(SectionBlock(block_id="breaking", text=MarkdownTextObject(text=breaking)))
    if snap.findings:
        blocks.append(
            SectionBlock(
                block_id="findings", text=MarkdownTextObject(text=_findings(snap.findings))
            )
        )
    verdicts = _verdicts(snap.state)
    if verdicts:
        blocks.append(SectionBlock(block_id="verdicts", text=MarkdownTextObject(text=verdicts)))
    blocks.extend(sql_blocks(snap))
    blocks.append(DividerBlock())
    blocks.extend(_checklist_blocks(snap))
    if snap.state.accepts_verdicts:
        blocks.append(_buttons(snap.revision))
    tools = tool_buttons(snap)
    if tools is not None:
        blocks.append(tools)
    text = f"Schema review: {snap.revision} - {snap.title} ({snap.state.status_line})"
    return Message(cut(text, 3000), blocks)


def _status_text(snap: CardSnapshot) -> str:
    state = snap.state
    author = mention(snap.author_user) if snap.author_user else escape(snap.author)
    where = (
        f"on `{snap.main_branch}`"
        if snap.record.on_main
        else f"on branch `{escape(snap.record.branch)}`, not on `{snap.main_branch}` yet"
    )
    line = f"{STATUS_EMOJI[state.status]} *{state.status_line}*  ·  by {author}  ·  {where}"
    if snap.co_authors:
        line += "\nAlso written or committed by " + escape(", ".join(snap.co_authors))
    return cut(line, SECTION_TEXT_LIMIT)


def _facts(snap: CardSnapshot) -> list[MarkdownTextObject]:
    facts: list[tuple[str, str]] = []
    for name in SHOWN_FIELDS:
        value = snap.field(name)
        if value:
            shown = (
                f":rotating_light: *{escape(value)}*"
                if name == "Breaking Changes" and snap.breaking
                else escape(value)
            )
            facts.append((name, shown))
    facts.append(("File", f"`{escape(snap.record.path)}`"))
    down = snap.parsed.down_revisions if snap.parsed else ()
    facts.append(("Revises", ", ".join(f"`{rev}`" for rev in down) or "nothing (a base)"))
    facts.append(("Commit", f"`{snap.record.commit[:12]}`"))
    return [
        MarkdownTextObject(text=cut(f"*{name}*\n{value}", FIELD_TEXT_LIMIT))
        for name, value in facts[:10]
    ]


def _findings(findings: tuple[Finding, ...]) -> str:
    ordered = sorted(findings, key=lambda f: list(Level).index(f.level))
    lines = [f"{LEVEL_EMOJI[f.level]} {f.text}" for f in ordered]
    return cut("*What schemabot found*\n" + "\n".join(lines), SECTION_TEXT_LIMIT)


def _verdicts(state: ReviewState) -> str:
    lines = [f":white_check_mark: Approved by {mention(v.user_id)}" for v in state.approvals]
    lines += [
        f":recycle: {mention(v.user_id)} approved an earlier version: approval is stale"
        for v in state.stale_approvals
    ]
    lines += [
        f":raised_hand: {mention(v.user_id)} requested changes: {escape(v.reason or '')}"
        for v in state.change_requests
    ]
    if state.lint_override is not None:
        reason = escape(str(state.lint_override.detail.get("reason", "")))
        lines.append(f":shield: {mention(state.lint_override.actor)} accepted the lint: {reason}")
    return cut("\n".join(lines), SECTION_TEXT_LIMIT)


def checklist_action_id(index: int) -> str:
    return f"{CHECKLIST}_{index}"


def _checklist_blocks(snap: CardSnapshot) -> list[Block]:
    blocks: list[Block] = []
    manual = snap.manual_items
    if manual:
        blocks.append(
            SectionBlock(
                block_id="checklist_title", text=MarkdownTextObject(text="*Migration checklist*")
            )
        )
        elements = []
        for index in range(0, len(manual), CHECKBOX_OPTIONS_LIMIT):
            chunk = manual[index : index + CHECKBOX_OPTIONS_LIMIT]
            options = [_option(line) for line in chunk]
            initial = [option for option, line in zip(options, chunk, strict=True) if line.done]
            element = CheckboxesElement(
                action_id=checklist_action_id(index // CHECKBOX_OPTIONS_LIMIT),
                options=options,
                initial_options=initial or None,
            )
            elements.append(element)
        blocks.append(ActionsBlock(block_id=f"checklist:{snap.revision}", elements=elements))
    if snap.bot_items:
        marks = [f"{_box(line.done)} {escape(line.entry.text)}" for line in snap.bot_items]
        text = cut("Checked by schemabot:  " + "  ·  ".join(marks), SECTION_TEXT_LIMIT)
        blocks.append(ContextBlock(block_id="bot_checks", elements=[MarkdownTextObject(text=text)]))
    return blocks


def _box(done: bool) -> str:
    return ":white_check_mark:" if done else ":white_large_square:"


def _option(line: ChecklistLine) -> Option:
    return Option(
        value=line.entry.key, text=PlainTextObject(text=cut(line.entry.text, OPTION_TEXT_LIMIT))
    )


def _buttons(revision: str) -> ActionsBlock:
    return ActionsBlock(
        block_id=f"review:{revision}",
        elements=[
            ButtonElement(text="Approve", action_id=APPROVE, value=revision, style="primary"),
            ButtonElement(
                text="Request changes", action_id=REQUEST_CHANGES, value=revision, style="danger"
            ),
            ButtonElement(
                text="Withdraw my verdict",
                action_id=WITHDRAW,
                value=revision,
                confirm=ConfirmObject(
                    title="Withdraw your verdict?",
                    text=f"Your approval or change request on {revision} will no longer count.",
                    confirm="Withdraw",
                    deny="Keep it",
                ),
            ),
        ],
    )
