"""The modals and confirmations a review asks for: a reason, a second thought."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.slack.cards import Message

REQUEST_CHANGES_VIEW = "request_changes"
REASON_BLOCK = "reason"
REASON_INPUT = "reason_input"


def request_changes_modal(revision: str) -> View:
    return View(
        type="modal",
        callback_id=REQUEST_CHANGES_VIEW,
        private_metadata=revision,
        title=PlainTextObject(text="Request changes"),
        submit=PlainTextObject(text="Send"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"What should change in `{revision}` before it can be approved?"
                )
            ),
            InputBlock(
                block_id=REASON_BLOCK,
                label=PlainTextObject(text="Reason (shown on the card)"),
                element=PlainTextInputElement(
                    action_id=REASON_INPUT, multiline=True, max_length=2000
                ),
            ),
        ],
    )


ROLLBACK_CONFIRM = "rollback_confirm"


def rollback_confirmation(revision: str, down: str) -> Message:
    """An ephemeral question with a button that asks once more before a downgrade runs."""
    question = (
        f"Roll back `{revision}` in production? Its `downgrade()` runs and production goes "
        f"back to `{down}`. The document records the rollback."
    )
    return Message(
        question,
        [
            SectionBlock(text=MarkdownTextObject(text=question)),
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Roll back",
                        action_id=ROLLBACK_CONFIRM,
                        value=revision,
                        style="danger",
                        confirm=ConfirmObject(
                            title="Roll back production?",
                            text=f"This runs the downgrade of {revision} against production now.",
                            confirm="Roll back",
                            deny="Cancel",
                        ),
                    )
                ]
            ),
        ],
    )
