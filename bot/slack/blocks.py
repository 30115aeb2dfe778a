"""The two blocks every view is made of: a section and a context, their text rendered as
mrkdwn within Slack's limit."""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.core.text import Text
from bot.slack.limits import SECTION_TEXT_LIMIT
from bot.slack.markup import render


def section(block_id: str | None, text: Text | str, pointer: Text | str = "") -> SectionBlock:
    """A section showing `text` as mrkdwn, within Slack's limit (`pointer` says where the
    rest is when it is cut)."""
    shown = MarkdownTextObject(text=render(text, SECTION_TEXT_LIMIT, pointer))
    return SectionBlock(block_id=block_id, text=shown)


def context(block_id: str | None, text: Text | str) -> ContextBlock:
    shown = MarkdownTextObject(text=render(text, SECTION_TEXT_LIMIT))
    return ContextBlock(block_id=block_id, elements=[shown])
