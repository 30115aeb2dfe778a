"""The card's lock part as Block Kit: the core's words (bot/core/lock_text.py), rendered."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.core.card import CardSnapshot
from bot.core.lock_text import lock_text
from bot.slack.limits import SECTION_TEXT_LIMIT
from bot.slack.markup import render


def lock_blocks(snap: CardSnapshot) -> list[Block]:
    """A section on what the revision locks, once its SQL is rendered (PostgreSQL)."""
    if snap.locks is None or snap.sql is None or snap.sql.sql is None:
        return []
    text = render(lock_text(snap.locks), SECTION_TEXT_LIMIT)
    return [SectionBlock(block_id="locks", text=MarkdownTextObject(text=text))]
