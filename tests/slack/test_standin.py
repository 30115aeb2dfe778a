"""The test doubles behave as Slack does, seen through Slack's own client libraries."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from slack_bolt import Ack, App, BoltRequest, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
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
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.webhook import WebhookClient
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from bot.standin.signing import (
    PAYLOADS,
    app_home_opened,
    block_actions_body,
    button_click,
    checkboxes_change,
    event_callback,
    event_callback_body,
    new_trigger_id,
    sign,
    slash_command,
    slash_command_body,
    view_submission,
    view_submission_body,
)
from bot.standin.slack_api import FakeSlack
from bot.standin.workspace import APP_ID, APP_TOKEN, BOT_TOKEN, BOT_USER_ID
from tests.support.socket_mode_server import FakeSocketModeServer

ADA, BOB, REVIEW = "U0ADA00001", "U0BOB00002", "C0REVIEW01"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_user(ADA, "ada@example.com", "ada", "Ada Lovelace")
        fake.add_user(BOB, "bob@example.com", "bob")
        fake.add_channel(REVIEW, members=[ADA], name="schema-review")
        yield fake


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=fake.base_url)


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


# -- failures, waiting, response_url ---------------------------------------------------


def test_a_rate_limit_is_retried_by_slack_sdk(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=0)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))

    client.chat_postMessage(channel=REVIEW, text="eventually")

    assert [(c.status, c.error) for c in fake.calls("chat.postMessage")] == [
        (429, "ratelimited"),
        (200, None),
    ]
    assert [m.text for m in fake.messages(REVIEW)] == ["eventually"]


def test_a_rate_limit_without_retry_raises_with_retry_after(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.fail_next("chat.postMessage")

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel=REVIEW, text="x")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "1"


def test_a_server_error_is_retried_by_slack_sdk(fake: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel=REVIEW, text="card")["ts"]
    fake.fail_next("chat.update", status=500)
    client.retry_handlers.append(
        ServerErrorRetryHandler(1, interval_calculator=FixedValueRetryIntervalCalculator(0.01))
    )

    client.chat_update(channel=REVIEW, ts=ts, text="card, approved")

    assert [c.status for c in fake.calls("chat.update")] == [500, 200]


def test_wait_for_returns_once_background_work_lands(fake: FakeSlack, client: WebClient) -> None:
    threading.Thread(target=lambda: client.chat_postMessage(channel=REVIEW, text="later")).start()

    messages = fake.wait_for(lambda: fake.messages(REVIEW), timeout=2)

    assert messages[0].text == "later"
    with pytest.raises(TimeoutError):
        fake.wait_for(lambda: fake.ephemerals(ADA), timeout=0.1)


def test_response_urls_reply_ephemerally_or_replace_the_original(
    fake: FakeSlack, client: WebClient
) -> None:
    ts = client.chat_postMessage(channel=REVIEW, text="card")["ts"]

    WebhookClient(fake.response_url(REVIEW, ADA)).send(text="Unknown revision 9z")
    WebhookClient(fake.response_url(REVIEW, ADA, ts)).send(text="card v2", replace_original=True)

    assert [e.text for e in fake.ephemerals(ADA)] == ["Unknown revision 9z"]
    assert fake.messages(REVIEW)[0].text == "card v2"
    assert [c.ok for c in fake.calls("response_url")] == [True, True]


# -- what Slack sends ----------------------------------------------------------------


def test_our_signature_passes_slack_sdk_verification() -> None:
    body = slash_command_body(text="status")
    headers = sign(SECRET, body)
    verifier = SignatureVerifier(SECRET)

    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body + "&text=apply", headers)


def test_a_slash_command_body_is_the_recorded_one_filled_in() -> None:
    recorded = parse_qs((PAYLOADS / "payload_slash_command.urlencoded").read_text().strip())

    sent = parse_qs(slash_command_body(text="apply 3f2a9c", user_id=BOB), keep_blank_values=True)

    assert sent.keys() == recorded.keys()
    assert (sent["text"], sent["user_id"], sent["command"]) == (
        ["apply 3f2a9c"],
        [BOB],
        ["/schema"],
    )


def test_interaction_payloads_come_from_the_posted_card(fake: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel=REVIEW, text="card", blocks=review_card())
    card = fake.messages(REVIEW)[0].as_slack()

    click = button_click("approve", message=card, channel_id=REVIEW, user_id=BOB)
    ticked = checkboxes_change("checklist", ["backfill", "index"], message=card, channel_id=REVIEW)

    assert click["actions"][0] | {"action_ts": ""} == {
        "action_id": "approve",
        "block_id": "review",
        "text": {"type": "plain_text", "text": "Approve", "emoji": True},
        "value": "3f2a9c",
        "style": "primary",
        "type": "button",
        "action_ts": "",
    }
    assert click["state"]["values"]["checklist"]["checklist"]["selected_options"][0]["value"] == (
        "backfill"
    )
    assert click["container"]["message_ts"] == card["ts"]
    assert [o["value"] for o in ticked["actions"][0]["selected_options"]] == ["backfill", "index"]
    with pytest.raises(LookupError):
        button_click("merge", message=card, channel_id=REVIEW)


def test_a_bolt_app_takes_every_payload_as_slack_would_send_it(
    fake: FakeSlack, client: WebClient
) -> None:
    app = App(token=BOT_TOKEN, signing_secret=SECRET, client=client, process_before_response=True)
    seen: list[str] = []

    @app.command("/schema")
    def schema(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        seen.append(f"command {command['text']}")
        respond("noted")

    @app.action("approve")
    def approve(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        seen.append(f"approve by {body['user']['id']}")

    @app.view("request_changes")
    def request_changes(ack: Ack, view: dict[str, Any]) -> None:
        ack()
        seen.append(f"reason {view['state']['values']['reason']['reason']['value']}")

    @app.event("app_home_opened")
    def home(event: dict[str, Any]) -> None:
        seen.append(f"home of {event['user']}")

    client.chat_postMessage(channel=REVIEW, text="card", blocks=review_card())
    card = fake.messages(REVIEW)[0].as_slack()
    modal = client.views_open(trigger_id=new_trigger_id(), view=reason_modal())["view"]
    bodies = [
        slash_command_body(text="status", user_id=ADA, response_url=fake.response_url(REVIEW, ADA)),
        block_actions_body(button_click("approve", message=card, channel_id=REVIEW, user_id=BOB)),
        view_submission_body(modal, {"reason": "Backfill in batches"}),
        event_callback_body(app_home_opened(ADA)),
    ]
    for body in bodies:
        headers: dict[str, str | Sequence[str]] = {**sign(SECRET, body)}
        assert app.dispatch(BoltRequest(body=body, headers=headers)).status == 200

    assert seen == [
        "command status",
        f"approve by {BOB}",
        "reason Backfill in batches",
        f"home of {ADA}",
    ]
    assert [e.text for e in fake.ephemerals(ADA)] == ["noted"]


def test_view_submission_refuses_inputs_the_modal_lacks() -> None:
    with pytest.raises(LookupError):
        view_submission(reason_modal() | {"id": "V1"}, {"nonexistent": "x"})


# -- Socket Mode ----------------------------------------------------------------------


@dataclass(frozen=True)
class SocketMode:
    fake: FakeSlack
    server: FakeSocketModeServer
    client: SocketModeClient


@pytest.fixture(scope="module")
def socket_mode() -> Iterator[SocketMode]:
    """One connected client for these tests: slack_sdk's client takes a second to close."""
    with FakeSocketModeServer() as server, FakeSlack(socket_server=server) as fake:
        # A short ping interval: the client checks its connection, and reconnects, that often.
        web_client = WebClient(base_url=fake.base_url)
        client = SocketModeClient(app_token=APP_TOKEN, web_client=web_client, ping_interval=0.1)

        def ack_with_text(client: BaseSocketModeClient, request: SocketModeRequest) -> None:
            response = SocketModeResponse(envelope_id=request.envelope_id, payload={"text": "ok"})
            client.send_socket_mode_response(response)

        client.socket_mode_request_listeners.append(ack_with_text)
        client.connect()
        yield SocketMode(fake, server, client)
        client.close()


def test_socket_mode_envelopes_are_acked(socket_mode: SocketMode) -> None:
    server = socket_mode.server

    envelope_id = server.send_envelope("slash_commands", slash_command("status"))

    assert server.wait_for_ack(envelope_id) == {
        "envelope_id": envelope_id,
        "payload": {"text": "ok"},
    }
    assert socket_mode.fake.calls("apps.connections.open")[0].token == APP_TOKEN


def test_socket_mode_reconnects_after_disconnect(socket_mode: SocketMode) -> None:
    server = socket_mode.server
    before = server.connections_accepted

    server.send_disconnect()
    server.wait_for_connection(count=before + 1)
    envelope_id = server.send_envelope("events_api", event_callback(app_home_opened(ADA)))

    assert server.wait_for_ack(envelope_id)["envelope_id"] == envelope_id


def test_socket_mode_reconnects_after_the_network_drops(socket_mode: SocketMode) -> None:
    server = socket_mode.server
    before = server.connections_accepted

    server.drop_connections()
    server.wait_for_connection(count=before + 1)
    envelope_id = server.send_envelope("interactive", {"type": "block_actions"})

    assert server.wait_for_ack(envelope_id)["envelope_id"] == envelope_id


@pytest.fixture
def socket_server(fake: FakeSlack) -> Iterator[FakeSocketModeServer]:
    with FakeSocketModeServer() as server:
        fake.attach_socket_server(server)
        yield server


def test_socket_mode_needs_a_ticket_from_apps_connections_open(
    socket_server: FakeSocketModeServer, client: WebClient
) -> None:
    url = socket_server.new_url()
    with pytest.raises(InvalidStatus):
        connect(url.replace("ticket=", "ticket=forged"))

    with connect(url) as websocket:
        hello = json.loads(websocket.recv(timeout=2))

    assert hello["type"] == "hello"
    assert hello["connection_info"] == {"app_id": APP_ID}
    assert error_of(lambda: client.apps_connections_open(app_token=BOT_TOKEN))["error"] == (
        "not_allowed_token_type"
    )
