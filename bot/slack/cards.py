"""Block Kit views of core objects, built with slack_sdk.models; nothing else.

Views take raw values (the snapshot as the core made it) and render them through
`bot/slack/markup.py`, which escapes every string and cuts it to Slack's limits (with a
pointer to the file where the rest is), so no text from the repository can become markup
and no long description can make Slack reject a card.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.core.card import SHOWN_FIELDS, CardSnapshot, Finding, Level
from bot.core.review import ReviewState, ReviewStatus
from bot.core.status_report import needs
from bot.core.text import Bold, Code, Text, User
from bot.slack.blocks import section
from bot.slack.checklist_view import checklist_blocks
from bot.slack.environment_views import environments_section
from bot.slack.limits import (
    CONFIRM_TEXT_LIMIT,
    FIELD_TEXT_LIMIT,
    HEADER_LIMIT,
    MESSAGE_TEXT_LIMIT,
    SECTION_TEXT_LIMIT,
    revision_ref,
)
from bot.slack.lock_views import lock_blocks
from bot.slack.markup import clip, render
from bot.slack.sql_views import sql_blocks, tool_buttons

APPROVE = "approve"
REQUEST_CHANGES = "request_changes"
WITHDRAW = "withdraw"

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


def review_card(snap: CardSnapshot, checklist_iteration: str = "") -> Message:
    """The review card of one revision: what it is, what the bot found, where it stands.

    `checklist_iteration`: a new one when the card is sent again to undo a refused tick
    (see bot/slack/checklist_view.py)."""
    pointer = Text("(see ", Code(snap.doc_path), ")")
    blocks: list[Block] = [
        HeaderBlock(
            block_id="title",
            text=PlainTextObject(text=clip(f"{snap.revision} - {snap.title}", HEADER_LIMIT)),
        ),
        section("status", _status_text(snap)),
        SectionBlock(block_id="facts", fields=_facts(snap)),
    ]
    rows = environments_section(snap)
    if rows is not None:
        blocks.append(rows)
    for name, block_id in (("Description", "description"), ("Rollback Plan", "rollback")):
        value = snap.field(name)
        if value:
            blocks.append(section(block_id, Text(Bold(name), "\n", value), pointer))
    if snap.breaking:
        breaking = Text(
            ":rotating_light: ", Bold("Breaking change:"), " ", snap.field("Breaking Changes") or ""
        )
        blocks.append(section("breaking", breaking, pointer))
    if snap.findings:
        blocks.append(section("findings", _findings(snap.findings)))
    verdicts = _verdicts(snap.state)
    if verdicts:
        blocks.append(section("verdicts", verdicts))
    blocks.extend(sql_blocks(snap))
    blocks.extend(lock_blocks(snap))
    blocks.append(DividerBlock())
    blocks.extend(checklist_blocks(snap, checklist_iteration))
    if snap.state.accepts_verdicts:
        blocks.append(_buttons(snap.revision))
    tools = tool_buttons(snap)
    if tools is not None:
        blocks.append(tools)
    return Message(render(card_summary(snap), MESSAGE_TEXT_LIMIT), blocks)


def card_summary(snap: CardSnapshot) -> Text:
    """The card's top-level text, all that notifications and screen readers read of it:
    the revision, where its review stands, its author, whether it breaks anything, and
    what it still needs."""
    state = snap.state
    author = Text(User(snap.author_user)) if snap.author_user else Text(snap.author)
    if snap.entry is None or not snap.field("Breaking Changes"):
        breaking = "breaking changes not stated"
    else:
        breaking = "a breaking change" if snap.breaking else "not breaking"
    missing = needs(snap)
    if missing:
        still = " Needs " + ", ".join(missing) + "."
    elif state.accepts_verdicts and state.status is ReviewStatus.APPROVED:
        still = " Ready to apply."
    else:
        still = ""
    return Text(
        f"Schema review: {snap.revision} - {snap.title}. {state.status_line}, by ",
        author,
        f", {breaking}.{still}",
    )


def degraded_card(revision: str, path: str | None, problem: Text | str) -> Message:
    """The card of a revision whose full card could not be built: what failed, and where.

    It has no buttons: the review waits until the card can be built again.
    """
    where = Text(" (", Code(path), ")") if path else Text()
    body = Text(
        ":warning: ",
        Bold("schemabot could not build this card"),
        " for ",
        Code(revision),
        where,
        ": ",
        problem,
        "\nOnce this is fixed, the full card replaces this one at its next update.",
    )
    blocks: list[Block] = [
        HeaderBlock(block_id="title", text=PlainTextObject(text=clip(revision, HEADER_LIMIT))),
        section("degraded", body),
    ]
    text = Text(f"Schema review: {revision} (the card could not be built)")
    return Message(render(text, SECTION_TEXT_LIMIT), blocks)


def _status_text(snap: CardSnapshot) -> Text:
    state = snap.state
    author = Text(User(snap.author_user)) if snap.author_user else Text(snap.author)
    where = (
        Text("on ", Code(snap.main_branch))
        if snap.record.on_main
        else Text(
            "on branch ",
            Code(snap.record.branch),
            ", not on ",
            Code(snap.main_branch),
            " yet",
        )
    )
    line = Text(
        f"{STATUS_EMOJI[state.status]} ",
        Bold(state.status_line),
        "  ·  by ",
        author,
        "  ·  ",
        where,
    )
    if not snap.co_authors:
        return line
    return Text.lines([line, Text("Also written or committed by ", ", ".join(snap.co_authors))])


def _facts(snap: CardSnapshot) -> list[MarkdownTextObject]:
    facts: list[tuple[str, Text]] = []
    for name in SHOWN_FIELDS:
        value = snap.field(name)
        if value:
            shown = (
                Text(":rotating_light: ", Bold(value))
                if name == "Breaking Changes" and snap.breaking
                else Text(value)
            )
            facts.append((name, shown))
    facts.append(("File", Text(Code(snap.record.path))))
    down = snap.parsed.down_revisions if snap.parsed else ()
    revises = Text.join(", ", (Code(rev) for rev in down)) or Text("nothing (a base)")
    facts.append(("Revises", revises))
    facts.append(("Commit", Text(Code(snap.record.commit[:12]))))
    return [
        MarkdownTextObject(text=render(Text(Bold(name), "\n", value), FIELD_TEXT_LIMIT))
        for name, value in facts[:10]
    ]


def _findings(findings: tuple[Finding, ...]) -> Text:
    ordered = sorted(findings, key=lambda f: list(Level).index(f.level))
    lines = [Text(f"{LEVEL_EMOJI[f.level]} ", f.text) for f in ordered]
    return Text(Bold("What schemabot found"), "\n", Text.lines(lines))


def _verdicts(state: ReviewState) -> Text:
    lines = [Text(":white_check_mark: Approved by ", User(v.user_id)) for v in state.approvals]
    lines += [
        Text(":recycle: ", User(v.user_id), " approved an earlier version: approval is stale")
        for v in state.stale_approvals
    ]
    lines += [
        Text(":raised_hand: ", User(v.user_id), f" requested changes: {v.reason or ''}")
        for v in state.change_requests
    ]
    if state.lint_override is not None:
        reason = str(state.lint_override.detail.get("reason", ""))
        lines.append(
            Text(":shield: ", User(state.lint_override.actor), f" accepted the lint: {reason}")
        )
    return Text.lines(lines)


def _buttons(revision: str) -> ActionsBlock:
    ref = revision_ref(revision)
    confirm = clip(
        f"Your approval or change request on {revision} will no longer count.", CONFIRM_TEXT_LIMIT
    )
    return ActionsBlock(
        block_id=f"review:{ref}",
        elements=[
            ButtonElement(text="Approve", action_id=APPROVE, value=ref, style="primary"),
            # The default style: `danger` is for what destroys, and this only asks.
            ButtonElement(text="Request changes", action_id=REQUEST_CHANGES, value=ref),
            ButtonElement(
                text="Withdraw my verdict",
                action_id=WITHDRAW,
                value=ref,
                confirm=ConfirmObject(
                    title="Withdraw your verdict?",
                    text=PlainTextObject(text=confirm),
                    confirm="Withdraw",
                    deny="Keep it",
                ),
            ),
        ],
    )
