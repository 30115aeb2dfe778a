"""Users, a channel and the cards the stand-in's own tests send it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

ADA, BOB, REVIEW = "U0ADA00001", "U0BOB00002", "C0REVIEW01"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def error_of(call: Callable[[], object]) -> dict[str, Any]:
    """The body of the Slack error a WebClient call raises."""
    with pytest.raises(SlackApiError) as raised:
        call()
    body: dict[str, Any] = raised.value.response.data
    return body


def review_card() -> list[dict[str, Any]]:
    """A card shaped like schemabot's, built with slack_sdk's models."""
    checklist = [
        Option(value="backfill", text=MarkdownTextObject(text="Backfill planned")),
        Option(value="index", text=MarkdownTextObject(text="Index created concurrently")),
    ]
    blocks = [
        HeaderBlock(text="3f2a9c add orders.shipped_at"),
        SectionBlock(text="*Author* <@U0ADA00001>", fields=["*Branch*\nmain", "*Doc*\nyes"]),
        SectionBlock(
            block_id="checklist",
            text="*Checklist*",
            accessory=CheckboxesElement(
                action_id="checklist", options=checklist, initial_options=checklist[:1]
            ),
        ),
        DividerBlock(),
        ActionsBlock(
            block_id="review",
            elements=[
                ButtonElement(text="Approve", action_id="approve", value="3f2a9c", style="primary"),
                ButtonElement(
                    text="Request changes",
                    action_id="request_changes",
                    value="3f2a9c",
                    style="danger",
                    confirm=ConfirmObject(title="Sure?", text="Ask for changes?"),
                ),
            ],
        ),
        ContextBlock(elements=[MarkdownTextObject(text="posted by schemabot")]),
    ]
    return [block.to_dict() for block in blocks]


def reason_modal(title: str = "Request changes") -> dict[str, Any]:
    """The modal asking for a reason; its title is set by hand, past slack_sdk's checks."""
    element = PlainTextInputElement(action_id="reason", multiline=True, max_length=3000)
    view = View(
        type="modal",
        callback_id="request_changes",
        private_metadata="3f2a9c",
        title="Request changes",
        submit="Send",
        close="Cancel",
        blocks=[InputBlock(block_id="reason", label="What needs to change?", element=element)],
    )
    return view.to_dict() | {"title": {"type": "plain_text", "text": title}}
