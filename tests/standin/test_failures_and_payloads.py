"""Rate limits, server errors, response_url, and the payloads Slack sends."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt import Ack, App, BoltRequest, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.standin.signing import (
    PAYLOADS,
    app_home_opened,
    block_actions_body,
    button_click,
    checkboxes_change,
    event_callback_body,
    new_trigger_id,
    sign,
    slash_command_body,
    view_submission,
    view_submission_body,
)
from bot.standin.slack_api import FakeSlack
from bot.standin.workspace import BOT_TOKEN
from tests.support.standin_kit import (
    ADA,
    BOB,
    REVIEW,
    SECRET,
    reason_modal,
    review_card,
)

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


def test_a_response_url_reaches_who_acted_even_outside_the_channel(
    fake: FakeSlack, client: WebClient
) -> None:
    # Bob reads the channel without being a member: chat.postEphemeral cannot reach him,
    # the response_url of his click does.
    answer = WebhookClient(fake.response_url(REVIEW, BOB)).send(text="Only approvers may")

    assert answer.status_code == 200
    assert [e.text for e in fake.ephemerals(BOB)] == ["Only approvers may"]


def test_a_response_url_takes_five_answers_and_expires(fake: FakeSlack) -> None:
    used, later = fake.response_url(REVIEW, ADA), fake.response_url(REVIEW, ADA)

    answers = [WebhookClient(used).send(text=f"answer {n}") for n in range(6)]
    fake.expire_response_urls()
    expired = WebhookClient(later).send(text="too late")

    assert [a.status_code for a in answers] == [200] * 5 + [404]
    assert answers[-1].body and "used_url" in answers[-1].body
    assert expired.status_code == 404 and "expired_url" in expired.body
    assert [e.text for e in fake.ephemerals(ADA)] == [f"answer {n}" for n in range(5)]


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


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (None, None),
        ({}, None),
        ({"response_action": "clear"}, None),
        ({"response_action": "errors", "errors": {"reason": "Say why"}}, None),
        ({"response_action": "update", "view": reason_modal("Thanks")}, None),
        ({"response_action": "errors", "errors": {"reason_input": "x"}}, "not an input block"),
        ({"response_action": "errors", "errors": {"reason": ""}}, "not a message"),
        ({"response_action": "errors", "errors": {}}, "at least one input block"),
        ({"response_action": "close"}, "unknown response_action"),
        ({"response_action": "push", "view": reason_modal("x" * 25)}, "25"),
        (["errors"], "not a JSON object"),
    ],
)
def test_an_answer_to_a_submission_is_read_as_slack_reads_it(
    fake: FakeSlack, client: WebClient, answer: object, problem: str | None
) -> None:
    modal = client.views_open(trigger_id=new_trigger_id(), view=reason_modal())["view"]

    answered = fake.view_submission_answered(modal, answer)

    assert fake.calls("view_submission") == [answered]
    if problem is None:
        assert answered.ok
    else:
        assert answered.error == "invalid_response"
        assert problem in " ".join(answered.response["problems"])


def test_view_submission_refuses_inputs_the_modal_lacks() -> None:
    with pytest.raises(LookupError):
        view_submission(reason_modal() | {"id": "V1"}, {"nonexistent": "x"})
