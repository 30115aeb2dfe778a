"""Unsigned, forged and malformed requests: no 5xx, no change."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.dialogs import REASON_BLOCK
from bot.slack.http_door import MAX_BODY
from bot.standin.signing import (
    app_home_opened,
    button_click,
    checkboxes_change,
    event_callback,
    slash_command,
    view_submission,
)
from tests.support.card_reading import settled
from tests.support.chaos import (
    raw_post,
    state_rows,
)
from tests.support.production_bot import (
    REVISION,
)
from tests.support.slackbot import (
    CHANNEL,
    REVIEWER,
    SECOND_REVIEWER,
    SECRET,
    SlackBot,
    card_text,
)

# -- junk at the door ---------------------------------------------------------------------

SECRET_BYTES = SECRET.encode()
SLACK_KEYS = (
    *("type", "token", "team", "user", "channel", "view", "event", "actions", "state"),
    *("trigger_id", "event_id", "command", "text", "payload", "user_id", "enterprise"),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(SLACK_KEYS) | st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=10,
)
HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
CONTENT_TYPES = st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "text/plain", "", "multipart/x"]
)
FORGERIES = (
    "unsigned",
    "wrong secret",
    "stale",
    "from the future",
    "body changed after signing",
    "timestamp not a number",
    "garbage headers",
)
JUNK_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return "v0=" + digest.hexdigest()


def signed_headers(body: bytes, timestamp: int | str | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(SECRET_BYTES, stamp, body),
    }


@st.composite
def forged_requests(draw: st.DrawFn, real: list[bytes]) -> tuple[bytes, dict[str, str]]:
    """A body (junk, or a request Slack really sent) with headers that do not sign it."""
    body = draw(
        st.one_of(
            st.binary(max_size=300),
            st.text(max_size=300).map(str.encode),
            JSON_VALUES.map(lambda value: json.dumps(value).encode()),
            st.sampled_from(real),
        )
    )
    forgery = draw(st.sampled_from(FORGERIES))
    now = int(time.time())
    headers: dict[str, str] = {}
    if forgery == "wrong secret":
        headers = signed_headers(body) | {
            "X-Slack-Signature": signature(b"not-the-secret", str(now), body)
        }
    elif forgery == "stale":
        headers = signed_headers(body, now - draw(st.integers(301, 10**9)))
    elif forgery == "from the future":
        headers = signed_headers(body, now + draw(st.integers(301, 10**9)))
    elif forgery == "body changed after signing":
        headers = signed_headers(body + draw(st.binary(min_size=1, max_size=5)))
    elif forgery == "timestamp not a number":
        stamp = draw(HEADER_TEXT.filter(lambda text: not text.strip().lstrip("+-").isdigit()))
        headers = signed_headers(body, stamp)
    elif forgery == "garbage headers":
        headers = {
            "X-Slack-Request-Timestamp": draw(HEADER_TEXT),
            "X-Slack-Signature": draw(HEADER_TEXT),
        }
    headers["Content-Type"] = draw(CONTENT_TYPES)
    if draw(st.booleans()):
        headers["X-Slack-Retry-Num"] = draw(HEADER_TEXT)
    return body, headers


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into a JSON value, but the response_url (the bot would post to it)."""
    found = []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        if key != "response_url":
            found.append((*prefix, key))
            found.extend(paths(value, (*prefix, key)))
    return found


@st.composite
def mutated(draw: st.DrawFn, kind: str, payload: dict[str, Any]) -> bytes:
    """A request Slack really sent with one value replaced by junk, or removed."""
    payload = copy.deepcopy(payload)
    path = draw(st.sampled_from(paths(payload)))
    parent = payload
    for key in path[:-1]:
        parent = parent[key]
    if draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(JSON_VALUES)
    if kind == "interactive":
        return urlencode({"payload": json.dumps(payload)}).encode()
    if kind == "command":
        return urlencode({key: str(value) for key, value in payload.items()}).encode()
    return json.dumps(payload).encode()


@st.composite
def signed_junk(
    draw: st.DrawFn, real: list[tuple[str, dict[str, Any]]]
) -> tuple[bytes, dict[str, str]]:
    """A correctly signed body that is not quite, or not at all, what Slack sends."""
    kind, payload = draw(st.sampled_from(real))
    body = draw(
        st.one_of(
            mutated(kind, payload),
            st.binary(max_size=200),
            JSON_VALUES.map(lambda value: json.dumps(value).encode()),
            JSON_VALUES.map(lambda value: urlencode({"payload": json.dumps(value)}).encode()),
            st.text(max_size=100).map(lambda text: ("payload=" + text).encode()),
            st.dictionaries(st.sampled_from(SLACK_KEYS), st.text(max_size=12), max_size=5).map(
                lambda fields: urlencode(fields).encode()
            ),
        )
    )
    kinds = {"events": "application/json"}
    content_type = kinds.get(kind, "application/x-www-form-urlencoded")
    return body, signed_headers(body) | {
        "Content-Type": draw(st.just(content_type) | CONTENT_TYPES)
    }


def real_requests(bot: SlackBot) -> list[tuple[str, dict[str, Any]]]:
    """Requests as Slack sends them to the bot now: a click, a tick, a command, an event,
    a modal submitted."""
    bot.click("request_changes", REVIEWER, REVISION)
    modal = bot.wait_for(lambda: bot.fake.views_opened)[-1]
    card = bot.card(REVISION)
    url = bot.fake.response_url(CHANNEL, REVIEWER, card.ts)
    checklist = next(b for b in card.blocks if b.get("block_id") == f"checklist:{REVISION}")
    element = checklist["elements"][0]
    common = {"message": card.as_slack(), "channel_id": CHANNEL, "user_id": REVIEWER}
    return [
        ("interactive", button_click("approve", response_url=url, **common)),
        (
            "interactive",
            checkboxes_change(
                element["action_id"], [element["options"][0]["value"]], response_url=url, **common
            ),
        ),
        (
            "command",
            slash_command(
                f"status {REVISION[:4]}",
                user_id=REVIEWER,
                channel_id=CHANNEL,
                response_url=bot.fake.response_url(CHANNEL, REVIEWER),
            ),
        ),
        ("events", event_callback(app_home_opened(REVIEWER))),
        ("interactive", view_submission(modal, {REASON_BLOCK: "Split it"}, user_id=REVIEWER)),
    ]


def encoded(kind: str, payload: dict[str, Any]) -> bytes:
    if kind == "interactive":
        return urlencode({"payload": json.dumps(payload)}).encode()
    if kind == "command":
        return urlencode(payload).encode()
    return json.dumps(payload).encode()


def test_unsigned_and_forged_junk_gets_no_5xx_and_changes_nothing(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    state = slackbot.settings.state_db_path
    real = [encoded(kind, payload) for kind, payload in real_requests(slackbot)]
    rows, calls = state_rows(state), len(slackbot.fake.calls())

    @settings(JUNK_SETTINGS, max_examples=600)
    @given(forged_requests(real))
    def knock(request: tuple[bytes, dict[str, str]]) -> None:
        body, headers = request
        assert raw_post(slackbot.port, body, headers) == 401

    knock()
    # Nor is a body too big to be Slack's read at all.
    assert raw_post(slackbot.port, b"{" * (MAX_BODY + 1), signed_headers(b"{")) == 413

    assert len(slackbot.fake.calls()) == calls
    assert state_rows(state) == rows
    assert slackbot.errors() == []


def test_signed_malformed_payloads_get_no_5xx(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    real = real_requests(slackbot)

    @settings(JUNK_SETTINGS, max_examples=400)
    @given(signed_junk(real))
    def knock(request: tuple[bytes, dict[str, str]]) -> None:
        body, headers = request
        assert raw_post(slackbot.port, body, headers) < 500

    knock()

    # The bot still works: a real click is taken.
    slackbot.click("approve", SECOND_REVIEWER, REVISION)
    slackbot.wait_for(lambda: f"<@{SECOND_REVIEWER}>" in card_text(slackbot.card(REVISION)))
    # Handlers that got a signed payload missing what they need logged it; that is all.
    slackbot.forget_errors()


def test_a_signed_click_of_the_wrong_shape_is_acked_then_dropped(
    slackbot: SlackBot, caplog: pytest.LogCaptureFixture
) -> None:
    slackbot.review_pending()
    card = slackbot.card(REVISION)
    click = button_click(
        "approve",
        message=card.as_slack(),
        channel_id=CHANNEL,
        user_id=REVIEWER,
        response_url=slackbot.fake.response_url(CHANNEL, REVIEWER, card.ts),
    )
    # Slack sends a list of actions; Bolt would fail on an object.
    click["actions"] = {"action_id": "approve"}
    updates = len(slackbot.fake.calls("chat.update"))

    # Signed, so Slack's: acknowledged at once, its shape checked after the ack.
    acked = slackbot.post(encoded("interactive", click).decode())

    assert (acked.status, acked.body) == (200, b"")
    settled(slackbot, lambda: len(slackbot.fake.calls("chat.update")) == updates)
    assert slackbot.services.store.current_verdicts(REVISION) == []
    assert "dropped a signed request acknowledged at arrival" in caplog.text
    assert slackbot.fake.calls("response_url") == []


def test_a_signed_submission_of_the_wrong_shape_is_refused_before_bolt(
    slackbot: SlackBot,
) -> None:
    slackbot.review_pending()
    slackbot.click("request_changes", REVIEWER, REVISION)
    modal = slackbot.wait_for(lambda: slackbot.fake.views_opened)[-1]
    submission = view_submission(modal, {REASON_BLOCK: "Split it"}, user_id=REVIEWER)
    # Its ack may carry errors, so it is read before Bolt runs, and answered 400.
    submission["view"]["state"] = "values"

    refused = slackbot.post(encoded("interactive", submission).decode())

    assert refused.status == 400
    assert slackbot.services.store.current_verdicts(REVISION) == []
