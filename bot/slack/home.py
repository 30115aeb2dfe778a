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
from bot.slack.cards import SECTION_TEXT_LIMIT, STATUS_EMOJI, cut, escape


@dataclass(frozen=True)
class HomeItem:
    snapshot: CardSnapshot
    needs: tuple[str, ...]
    link: str | None


HOME_ITEMS_LIMIT = 30


def home_view(items: list[HomeItem]) -> View:
    """The App Home tab: pending reviews at a glance, what each lacks, links to the cards."""
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text="Schema changes awaiting review")),
    ]
    if not items:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="Nothing is pending. :tada:")))
    for item in items[:HOME_ITEMS_LIMIT]:
        snap = item.snapshot
        title = f"*{escape(snap.revision)}* - {escape(snap.title)}"
        if item.link:
            title = f"*<{item.link}|{escape(snap.revision)}>* - {escape(snap.title)}"
        lacks = "needs " + ", ".join(item.needs) if item.needs else "ready to apply"
        text = f"{title}\n{STATUS_EMOJI[snap.state.status]} {snap.state.status_line} · {lacks}"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=cut(text, SECTION_TEXT_LIMIT))))
        warnings = [f.text for f in snap.findings if f.level is not Level.INFO]
        if warnings:
            context = cut(" · ".join(warnings), SECTION_TEXT_LIMIT)
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=context)]))
    if len(items) > HOME_ITEMS_LIMIT:
        more = f"…and {len(items) - HOME_ITEMS_LIMIT} more: `/schema list` shows them all."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    return View(type="home", blocks=blocks)
