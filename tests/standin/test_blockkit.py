"""The stand-in checks Block Kit and views as Slack does."""

from __future__ import annotations

import time
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.standin.signing import (
    new_trigger_id,
)
from bot.standin.slack_api import FakeSlack
from tests.support.standin_kit import (
    ADA,
    REVIEW,
    error_of,
    reason_modal,
    review_card,
)

# -- Block Kit ------------------------------------------------------------------------


def test_a_card_built_with_slack_sdk_models_is_accepted(fake: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel=REVIEW, text="card", blocks=review_card())

    blocks = fake.messages(REVIEW)[0].blocks
    assert all(block["block_id"] for block in blocks), "Slack fills in missing block_ids"


def section(text: str, **more: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **more}


def button(action_id: str, **more: Any) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": "Go"},
    } | more


def checkboxes(initial: list[dict[str, Any]]) -> dict[str, Any]:
    option = {"text": {"type": "plain_text", "text": "Backfill"}, "value": "backfill"}
    return {"type": "checkboxes", "action_id": "c", "options": [option], "initial_options": initial}


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        ([section("x")] * 51, "no more than 50 items allowed [json-pointer:/blocks]"),
        (
            [section("ok"), section("ok"), section("ok"), section("x" * 3001)],
            "must be less than 3001 characters [json-pointer:/blocks/3/text/text]",
        ),
        (
            [{"type": "actions", "elements": [button("approve"), button("approve")]}],
            "duplicate action_id: approve [json-pointer:/blocks/0/elements/1/action_id]",
        ),
        (
            [section("x", block_id="a"), section("y", block_id="a")],
            "duplicate block_id: a [json-pointer:/blocks/1/block_id]",
        ),
        (
            [
                section(
                    "x",
                    accessory=checkboxes(
                        [{"text": {"type": "plain_text", "text": "No"}, "value": "no"}]
                    ),
                )
            ],
            "must match one of the provided options"
            " [json-pointer:/blocks/0/accessory/initial_options/0]",
        ),
        (
            [{"type": "header", "text": {"type": "mrkdwn", "text": "*big*"}}],
            "must be a valid enum value [json-pointer:/blocks/0/text/type]",
        ),
        (
            [{"type": "actions", "elements": [button("a", style="secondary")]}],
            "must be a valid enum value [json-pointer:/blocks/0/elements/0/style]",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [button("a", text={"type": "plain_text", "text": "x" * 76})],
                }
            ],
            "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
        ),
        (
            [{"type": "section", "txt": "typo"}],
            "invalid additional property: txt [json-pointer:/blocks/0]",
        ),
        ([{"type": "carousel"}], "must be a valid enum value [json-pointer:/blocks/0/type]"),
    ],
)
def test_blocks_slack_rejects_are_rejected(
    client: WebClient, blocks: list[dict[str, Any]], message: str
) -> None:
    body = error_of(lambda: client.chat_postMessage(channel=REVIEW, text="card", blocks=blocks))

    assert body["error"] == "invalid_blocks"
    assert f"[ERROR] {message}" in body["response_metadata"]["messages"]


def test_a_modal_opens_and_is_recorded(fake: FakeSlack, client: WebClient) -> None:
    trigger_id = new_trigger_id()

    view = client.views_open(trigger_id=trigger_id, view=reason_modal())["view"]

    assert fake.views_opened == [view]
    assert view["callback_id"] == "request_changes"
    assert view["id"].startswith("V")


def test_a_modal_title_over_24_characters_is_rejected(client: WebClient) -> None:
    trigger_id = new_trigger_id()

    body = error_of(lambda: client.views_open(trigger_id=trigger_id, view=reason_modal("x" * 25)))

    # Slack reports view problems as invalid_arguments, not invalid_blocks.
    assert body["error"] == "invalid_arguments"
    messages = body["response_metadata"]["messages"]
    assert "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]" in messages


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"blocks": [section("x")] * 101},
            "no more than 100 items allowed [json-pointer:/view/blocks]",
        ),
        (
            {"submit": None},
            "must provide submit when the view has an input block [json-pointer:/view]",
        ),
        (
            {"blocks": [{"type": "input", "element": {"type": "plain_text_input"}}]},
            "missing required field: label [json-pointer:/view/blocks/0]",
        ),
        (
            {"private_metadata": "x" * 3001},
            "must be less than 3001 characters [json-pointer:/view/private_metadata]",
        ),
    ],
)
def test_modals_slack_rejects_are_rejected(
    client: WebClient, change: dict[str, Any], message: str
) -> None:
    view = reason_modal() | change

    body = error_of(lambda: client.views_open(trigger_id=new_trigger_id(), view=view))

    assert f"[ERROR] {message}" in body["response_metadata"]["messages"]


@pytest.mark.parametrize(
    ("trigger_id", "error"),
    [
        ("not-a-trigger", "invalid_arguments"),
        (f"{int(time.time() * 1000) - 4000}.1.{'a' * 32}", "expired_trigger_id"),
    ],
)
def test_bad_or_stale_triggers_are_refused(client: WebClient, trigger_id: str, error: str) -> None:
    refusal = error_of(lambda: client.views_open(trigger_id=trigger_id, view=reason_modal()))

    assert refusal["error"] == error


def test_a_view_is_updated_in_place_and_the_home_tab_published(
    fake: FakeSlack, client: WebClient
) -> None:
    opened = client.views_open(trigger_id=new_trigger_id(), view=reason_modal())["view"]

    client.views_update(view_id=opened["id"], hash=opened["hash"], view=reason_modal("Changes"))
    client.views_publish(user_id=ADA, view={"type": "home", "blocks": [section("3 pending")]})

    assert fake.view(opened["id"])["title"]["text"] == "Changes"
    assert fake.home_views[ADA]["blocks"][0]["text"]["text"] == "3 pending"
    stale = error_of(
        lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=reason_modal())
    )
    assert stale["error"] == "hash_conflict"
