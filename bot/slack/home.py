"""The App Home tab: the pending reviews at a glance, what each lacks, links to the cards."""

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
from bot.core.text import Code, Text
from bot.slack.cards import STATUS_EMOJI, context
from bot.slack.limits import VIEW_BYTES_BUDGET, serialized_size
from bot.slack.markup import clip, fit, link, render


@dataclass(frozen=True)
class HomeItem:
    snapshot: CardSnapshot
    needs: tuple[str, ...]
    link: str | None


HOME_ITEMS_LIMIT = 30
ITEM_TEXT_LIMIT = 1500
WARNINGS_LIMIT = 1000
REVISION_SHOWN = 100


def home_view(items: list[HomeItem]) -> View:
    """The App Home tab: pending reviews at a glance, what each lacks, links to the cards."""
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text="Schema changes awaiting review")),
    ]
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
    return View(type="home", blocks=blocks)


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
