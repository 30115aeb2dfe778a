"""The card's migration checklist: checkboxes while the review is open, text once it closed.

Checkboxes tell the truth only while a tick can still count: once the review is closed
(applying, applied, removed: `ReviewState.accepts_verdicts`), the checklist is shown as
text, so nobody ticks a box the server will refuse.

A box that was refused stays ticked in the clicker's Slack: Slack keeps what a person chose
in an element for as long as its block keeps its id (docs.slack.dev, block_id: "use a new
block_id" when a message is updated). So the checkboxes' block id carries an `iteration`,
and the publisher gives a new one when it sends the card again to undo a refused tick.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    CheckboxesElement,
    Option,
    PlainTextObject,
    SectionBlock,
)

from bot.core.card import CardSnapshot, ChecklistLine
from bot.core.text import Bold, Code, Text, User
from bot.slack.blocks import context, section
from bot.slack.limits import (
    CHECKBOX_OPTIONS_LIMIT,
    OPTION_TEXT_LIMIT,
    revision_ref,
)
from bot.slack.markup import clip

CHECKLIST = "checklist"
# Five checkbox groups of ten: a document with hundreds of items still makes a card.
CHECKLIST_ITEMS_SHOWN = 50


def checklist_action_id(index: int) -> str:
    return f"{CHECKLIST}_{index}"


def checklist_block_id(revision: str, iteration: str = "") -> str:
    """`checklist:<ref>`, and `:<iteration>` after it once the card was sent again to undo
    a refused tick (a revision's ref never holds a colon)."""
    block_id = f"{CHECKLIST}:{revision_ref(revision)}"
    return f"{block_id}:{iteration}" if iteration else block_id


def checklist_ref(block_id: str) -> str:
    """The revision ref that a checklist block id names."""
    return block_id.removeprefix(f"{CHECKLIST}:").split(":", 1)[0]


def checklist_blocks(snap: CardSnapshot, iteration: str = "") -> list[Block]:
    """The items a person ticks (boxes or text) and those schemabot ticks itself."""
    blocks: list[Block] = []
    manual = snap.manual_items
    if manual:
        shown = manual[:CHECKLIST_ITEMS_SHOWN]
        if snap.state.accepts_verdicts:
            blocks.append(section("checklist_title", Text(Bold("Migration checklist"))))
            blocks.append(_checkboxes(snap.revision, shown, iteration))
        else:
            blocks.append(_as_text(snap, shown))
        if len(manual) > len(shown):
            more = Text(
                f"…and {len(manual) - len(shown)} more items in the checklist of ",
                Code(snap.doc_path),
                ", not shown here.",
            )
            blocks.append(context("checklist_more", more))
    if snap.bot_items:
        marks = [Text(f"{_box(line.done)} {line.entry.text}") for line in snap.bot_items]
        blocks.append(
            context("bot_checks", Text("Checked by schemabot:  ", Text.join("  ·  ", marks)))
        )
    return blocks


def _checkboxes(revision: str, shown: tuple[ChecklistLine, ...], iteration: str) -> ActionsBlock:
    elements = []
    for index in range(0, len(shown), CHECKBOX_OPTIONS_LIMIT):
        chunk = shown[index : index + CHECKBOX_OPTIONS_LIMIT]
        options = [_option(line) for line in chunk]
        initial = [option for option, line in zip(options, chunk, strict=True) if line.done]
        elements.append(
            CheckboxesElement(
                action_id=checklist_action_id(index // CHECKBOX_OPTIONS_LIMIT),
                options=options,
                initial_options=initial or None,
            )
        )
    return ActionsBlock(block_id=checklist_block_id(revision, iteration), elements=elements)


def _as_text(snap: CardSnapshot, shown: tuple[ChecklistLine, ...]) -> SectionBlock:
    """The checklist of a closed review: each item as it was left, and who ticked it."""
    closed = snap.state.status.value.lower()
    lines = [Text(Bold("Migration checklist"), f" (the review is {closed}: no more ticks)")]
    for line in shown:
        who = Text(" (", User(line.by), ")") if line.done and line.by else Text()
        lines.append(Text(f"{_box(line.done)} ", line.entry.text.strip() or line.entry.key, who))
    pointer = Text("(see ", Code(snap.doc_path), ")")
    return section("checklist", Text.lines(lines), pointer)


def _box(done: bool) -> str:
    return ":white_check_mark:" if done else ":white_large_square:"


def _option(line: ChecklistLine) -> Option:
    shown = clip(line.entry.text.strip() or line.entry.key, OPTION_TEXT_LIMIT)
    return Option(value=line.entry.key, text=PlainTextObject(text=shown))
