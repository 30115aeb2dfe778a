"""The Web API stand-in answers as Slack does: tokens, scopes, messages, users."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk import WebClient

from bot.standin.slack_api import FakeSlack
from bot.standin.workspace import APP_TOKEN, BOT_TOKEN, BOT_USER_ID
from tests.support.standin_kit import (
    ADA,
    BOB,
    REVIEW,
    error_of,
    review_card,
)

# -- tokens ---------------------------------------------------------------------------


def test_auth_test_answers_for_the_bot_with_its_scopes(client: WebClient) -> None:
    response = client.auth_test()

    assert response["user_id"] == BOT_USER_ID
    assert "chat:write" in response.headers["x-oauth-scopes"]


@pytest.mark.parametrize(
    ("token", "error"),
    [
        ("xoxb-1-2-wrong", "invalid_auth"),
        (None, "not_authed"),
        (APP_TOKEN, "not_allowed_token_type"),
    ],
)
def test_a_wrong_token_is_refused(fake: FakeSlack, token: str | None, error: str) -> None:
    client = WebClient(token=token, base_url=fake.base_url)

    assert error_of(client.auth_test)["error"] == error


def test_a_token_form_field_is_accepted(fake: FakeSlack) -> None:
    form = urlencode({"token": BOT_TOKEN, "channel": REVIEW, "text": "by form"}).encode()
    with urllib.request.urlopen(f"{fake.base_url}chat.postMessage", data=form) as response:
        assert json.load(response)["ok"] is True

    assert fake.messages(REVIEW)[0].text == "by form"


def test_an_unknown_method_is_refused(client: WebClient) -> None:
    assert error_of(lambda: client.api_call("chat.postMesage"))["error"] == "unknown_method"


def test_a_missing_scope_is_named() -> None:
    with FakeSlack(scopes=["chat:write"]) as narrow:
        client = WebClient(token=BOT_TOKEN, base_url=narrow.base_url)

        body = error_of(lambda: client.users_lookupByEmail(email="ada@example.com"))

    assert (body["error"], body["needed"]) == ("missing_scope", "users:read.email")


# -- messages -------------------------------------------------------------------------


def test_posted_messages_get_increasing_slack_timestamps(
    fake: FakeSlack, client: WebClient
) -> None:
    first = client.chat_postMessage(channel=REVIEW, text="one")["ts"]
    second = client.chat_postMessage(channel="#schema-review", text="two")["ts"]

    assert re.fullmatch(r"\d{10}\.\d{6}", first)
    assert float(second) > float(first)
    assert [m.text for m in fake.messages(REVIEW)] == ["one", "two"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"channel": "C0NOWHERE1", "text": "x"}, "channel_not_found"),
        ({"channel": REVIEW}, "no_text"),
        ({"channel": REVIEW, "text": "x" * 40_001}, "msg_too_long"),
        ({"channel": REVIEW, "blocks": "[not json"}, "invalid_blocks_format"),
    ],
)
def test_post_message_refusals(client: WebClient, args: dict[str, Any], error: str) -> None:
    assert error_of(lambda: client.api_call("chat.postMessage", json=args))["error"] == error


def test_a_missing_argument_is_named_like_slack(client: WebClient) -> None:
    body = error_of(lambda: client.api_call("chat.postMessage", json={"text": "x"}))

    assert body["error"] == "invalid_arguments"
    assert body["response_metadata"]["messages"] == ["[ERROR] missing required field: channel"]


def test_the_bot_must_be_in_the_channel(fake: FakeSlack, client: WebClient) -> None:
    fake.add_channel("C0ELSEWHR1", members=[ADA], bot_is_member=False)

    refusal = error_of(lambda: client.chat_postMessage(channel="C0ELSEWHR1", text="x"))

    assert refusal["error"] == "not_in_channel"


def test_replies_are_grouped_under_their_thread(fake: FakeSlack, client: WebClient) -> None:
    card = client.chat_postMessage(channel=REVIEW, text="card")["ts"]
    client.chat_postMessage(channel=REVIEW, text="applying", thread_ts=card)
    client.chat_postMessage(channel=REVIEW, text="applied", thread_ts=card)

    [message] = fake.messages(REVIEW)
    assert [r.text for r in message.replies] == ["applying", "applied"]
    thread = client.conversations_replies(channel=REVIEW, ts=card)["messages"]
    assert [m["text"] for m in thread] == ["card", "applying", "applied"]


def test_a_reply_to_no_message_is_accepted_and_lost_as_in_slack(
    fake: FakeSlack, client: WebClient
) -> None:
    client.chat_postMessage(channel=REVIEW, text="lost", thread_ts="1700000000.0001")

    assert fake.messages(REVIEW) == []
    assert [m.text for m in fake.orphans(REVIEW)] == ["lost"]


def test_update_replaces_what_is_given_and_keeps_the_rest(
    fake: FakeSlack, client: WebClient
) -> None:
    ts = client.chat_postMessage(channel=REVIEW, text="card", blocks=review_card())["ts"]

    client.chat_update(channel=REVIEW, ts=ts, text="card, approved")

    [message] = fake.messages(REVIEW)
    assert message.text == "card, approved"
    assert message.edited_ts is not None
    assert [b["type"] for b in message.blocks] == [b["type"] for b in review_card()]


def test_update_of_an_unknown_message_is_refused(client: WebClient) -> None:
    body = error_of(lambda: client.chat_update(channel=REVIEW, ts="1700000000.999999", text="x"))

    assert body["error"] == "message_not_found"


def test_ephemerals_reach_channel_members_only(fake: FakeSlack, client: WebClient) -> None:
    client.chat_postEphemeral(channel=REVIEW, user=ADA, text="only you")

    refusal = error_of(lambda: client.chat_postEphemeral(channel=REVIEW, user=BOB, text="x"))

    assert [e.text for e in fake.ephemerals(ADA)] == ["only you"]
    assert refusal["error"] == "user_not_in_channel"


def test_reactions_and_permalinks(fake: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel=REVIEW, text="card")["ts"]

    client.reactions_add(channel=REVIEW, timestamp=ts, name="white_check_mark")
    link = client.chat_getPermalink(channel=REVIEW, message_ts=ts)["permalink"]

    assert fake.messages(REVIEW)[0].reactions == ("white_check_mark",)
    assert link.endswith(f"/archives/{REVIEW}/p{ts.replace('.', '')}")
    body = error_of(
        lambda: client.reactions_add(channel=REVIEW, timestamp=ts, name="white_check_mark")
    )
    assert body["error"] == "already_reacted"


def test_users_are_found_by_email_and_id(client: WebClient) -> None:
    assert client.users_lookupByEmail(email="ADA@example.com")["user"]["id"] == ADA
    assert client.users_info(user=ADA)["user"]["real_name"] == "Ada Lovelace"
    assert client.conversations_members(channel=REVIEW)["members"] == [ADA, BOT_USER_ID]
    assert error_of(lambda: client.users_lookupByEmail(email="eve@example.com"))["error"] == (
        "users_not_found"
    )
