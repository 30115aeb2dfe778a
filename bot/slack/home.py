"""The App Home tab: the pending reviews at a glance, what each lacks, links to the cards.

The first time someone opens it, it says what schemabot is and how a review goes; every
time, it points to `/schema help` and the review channel.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.card import CardSnapshot, Level
from bot.core.text import Bold, Code, Text
from bot.slack.blocks import context
from bot.slack.cards import STATUS_EMOJI
from bot.slack.limits import VIEW_BYTES_BUDGET, serialized_size
from bot.slack.markup import channel_link, clip, fit, link, render


@dataclass(frozen=True)
class HomeItem:
    snapshot: CardSnapshot
    needs: tuple[str, ...]
    link: str | None


HOME_ITEMS_LIMIT = 30
ITEM_TEXT_LIMIT = 1500
WARNINGS_LIMIT = 1000
REVISION_SHOWN = 100


def home_view(items: list[HomeItem], channel: str | None, *, first_open: bool = False) -> View:
    """The App Home tab: pending reviews at a glance, what each lacks, links to the cards.

    `channel`: where the cards are; `first_open`: the person has never seen this tab
    (Slack sends no view of it with the event), so it introduces schemabot first."""
    blocks: list[Block] = []
    if first_open:
        blocks += _welcome(channel)
    blocks.append(HeaderBlock(text=PlainTextObject(text="Schema changes awaiting review")))
    if not items:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="Nothing is pending. :tada:")))
    room = VIEW_BYTES_BUDGET - serialized_size(blocks)
    shown = 0
    for item in items[:HOME_ITEMS_LIMIT]:
        item_blocks = _item(item)
        size = serialized_size(item_blocks)
        if size > room:
            break
        blocks.extend(item_blocks)
        room -= size
        shown += 1
    if len(items) > shown:
        more = Text(f"…and {len(items) - shown} more: ", Code("/schema list"), " shows them all.")
        blocks.append(context(None, more))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_pointers(channel))]))
    return View(type="home", blocks=blocks)


def _welcome(channel: str | None) -> list[Block]:
    what = Text(
        Bold("schemabot"),
        " reviews the team's Alembic migrations before they reach production. Every new "
        "revision gets a review card",
    )
    how = Text(
        ", built from its entry in the schema-changes document and from what schemabot found "
        "in the migration. Read it, then ",
        Bold("Approve"),
        " or ",
        Bold("Request changes"),
        ", and tick the migration checklist as its steps are done. Once every gate is met, "
        "an applier runs ",
        Code("/schema apply <rev>"),
        ": the progress and the outcome follow in the card's thread, and the document's "
        "status is committed to git.",
    )
    where = f" in {channel_link(channel)}" if channel else ""
    return [
        HeaderBlock(text=PlainTextObject(text="Welcome to schemabot")),
        SectionBlock(text=MarkdownTextObject(text=render(what) + where + render(how))),
    ]


def _pointers(channel: str | None) -> str:
    where = f" · review cards are posted in {channel_link(channel)}" if channel else ""
    help_line = render(Text(Code("/schema help"), " in any channel lists every command"))
    return help_line + where


def _item(item: HomeItem) -> list[Block]:
    snap = item.snapshot
    name = clip(snap.revision, REVISION_SHOWN)
    title = f"*{link(item.link, name)}*" if item.link else f"*{fit(name, 4 * REVISION_SHOWN)}*"
    lacks = "needs " + ", ".join(item.needs) if item.needs else "ready to apply"
    rest = Text(
        f" - {snap.title}\n{STATUS_EMOJI[snap.state.status]} {snap.state.status_line} · {lacks}"
    )
    text = title + render(rest, ITEM_TEXT_LIMIT - len(title))
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text))]
    warnings = [f.text for f in snap.findings if f.level is not Level.INFO]
    if warnings:
        shown = MarkdownTextObject(text=render(Text.join(" · ", warnings), WARNINGS_LIMIT))
        blocks.append(ContextBlock(elements=[shown]))
    return blocks
