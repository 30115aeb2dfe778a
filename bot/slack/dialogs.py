"""The modals and confirmations a review asks for: a reason, a second thought."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
)
from slack_sdk.models.views import View

from bot.core.text import Code, Text, plain
from bot.slack.blocks import section
from bot.slack.cards import Message
from bot.slack.limits import CONFIRM_TEXT_LIMIT, SECTION_TEXT_LIMIT, revision_ref
from bot.slack.markup import clip, render

REQUEST_CHANGES_VIEW = "request_changes"
REASON_BLOCK = "reason"
REASON_INPUT = "reason_input"
# Slack shows a submission's errors as plain text under the field, and documents no bound:
# kept to what a confirm dialog holds, so it shows whole.
FIELD_ERROR_LIMIT = CONFIRM_TEXT_LIMIT


def request_changes_modal(revision: str) -> View:
    return View(
        type="modal",
        callback_id=REQUEST_CHANGES_VIEW,
        private_metadata=revision_ref(revision),
        title=PlainTextObject(text="Request changes"),
        submit=PlainTextObject(text="Send"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            section(
                None,
                Text("What should change in ", Code(revision), " before it can be approved?"),
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


def field_errors(block_id: str, error: Text | str) -> dict[str, str]:
    """A submission's `errors`, shown under the input block `block_id` of the modal."""
    return {block_id: clip(plain(error), FIELD_ERROR_LIMIT)}


ROLLBACK_CONFIRM = "rollback_confirm"


def rollback_confirmation(revision: str, down: str, environment: str = "production") -> Message:
    """An ephemeral question with a button that asks once more before a downgrade runs."""
    recorded = " The document records the rollback." if environment == "production" else ""
    question = Text(
        "Roll back ",
        Code(revision),
        f" in {environment}? Its ",
        Code("downgrade()"),
        f" runs and {environment} goes back to ",
        Code(down),
        "." + recorded,
    )
    confirm = clip(
        f"This runs the downgrade of {revision} against {environment} now.", CONFIRM_TEXT_LIMIT
    )
    where = "" if environment == "production" else f"@{environment}"
    return Message(
        render(question, SECTION_TEXT_LIMIT),
        [
            section(None, question),
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Roll back",
                        action_id=ROLLBACK_CONFIRM,
                        value=revision_ref(revision) + where,
                        style="danger",
                        confirm=ConfirmObject(
                            title=f"Roll back {environment}?",
                            text=PlainTextObject(text=confirm),
                            confirm="Roll back",
                            deny="Cancel",
                        ),
                    )
                ]
            ),
        ],
    )
