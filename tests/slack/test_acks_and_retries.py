"""Acks within Slack's three seconds, signatures, and retries handled once."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.slack.dialogs import REASON_BLOCK
from bot.standin.signing import app_home_opened, button_click, event_callback, view_submission
from tests.support.card_reading import (
    TESTED,
    actions,
    approvals,
    settled,
)
from tests.support.slackbot import (
    CHANNEL,
    DEVELOPER,
    OUTSIDER,
    REVIEWER,
    SECOND_REVIEWER,
    SlackBot,
    card_text,
)

# -- acks, signatures, retries ----------------------------------------------------------


def test_the_ack_does_not_wait_for_the_card_update(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    # Slack rate-limits the update: the bot waits a second (Retry-After) and tries again.
    slackbot.fake.fail_next("chat.update", status=429, retry_after=1)

    delivery = slackbot.click("approve", REVIEWER)
    shown_at_ack = card_text(slackbot.card())

    # Had the ack waited for the card, it would have taken the whole Retry-After second.
    assert delivery.status == 200 and delivery.seconds < 1.0
    assert "Approved 1/1" not in shown_at_ack
    slackbot.wait_for_card(lambda text: "Approved 1/1" in text)
    assert [c.status for c in slackbot.updates()] == [429, 200]


def test_every_request_in_a_review_is_acked_within_three_seconds(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    slackbot.command("status b41f", REVIEWER)
    slackbot.click("request_changes", REVIEWER)
    slackbot.wait_for(lambda: slackbot.fake.views_opened)
    slackbot.submit_request_changes("Split it in two", REVIEWER)
    slackbot.tick([TESTED], SECOND_REVIEWER)
    slackbot.click("approve", SECOND_REVIEWER)
    slackbot.home(DEVELOPER)
    slackbot.wait_for_card(lambda text: "Changes requested" in text and "Approved by" in text)

    deliveries = slackbot.deliveries
    assert len(deliveries) == 6
    assert all(d.status == 200 and d.seconds < 3.0 for d in deliveries)


def test_a_forged_or_stale_request_is_refused_and_changes_nothing(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    approve = slackbot.click("approve", REVIEWER)
    slackbot.wait_for_card(lambda text: "Approved 1/1" in text)
    slackbot.click("withdraw", REVIEWER)
    slackbot.wait_for_card(lambda text: "Awaiting review 0/1" in text)
    updates = len(slackbot.fake.calls("chat.update"))
    # A click nobody has sent yet, replayed by someone without the signing secret...
    replay = approve.request.replace(REVIEWER, OUTSIDER)

    forged = slackbot.post(replay, secret="not-the-signing-secret")
    stale = slackbot.post(replay, timestamp=int(time.time()) - 6 * 60)
    unsigned = slackbot.request("POST", "/slack/events", replay, {"Content-Type": "text/plain"})

    assert (forged.status, stale.status, unsigned.status) == (401, 401, 401)
    settled(slackbot, lambda: len(slackbot.fake.calls("chat.update")) == updates)
    assert approvals(slackbot) == []
    assert (OUTSIDER, "approve") not in actions(slackbot)
    # The same request, signed by Slack, is then taken: the refusals left no trace.
    assert slackbot.post(replay).status == 200
    slackbot.wait_for_card(lambda text: f"Approved by <@{OUTSIDER}>" in text)


def test_health_check_and_unknown_paths(slackbot: SlackBot) -> None:
    health = slackbot.request("GET", "/healthz")
    unknown = slackbot.request("GET", "/admin")
    wrong_method = slackbot.request("GET", "/slack/events")

    assert (health.status, health.json) == (200, {"ok": True})
    assert unknown.status == 404 and wrong_method.status == 404


def test_a_retried_event_is_handled_once(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    body = json.dumps(event_callback(app_home_opened(REVIEWER)))

    first = slackbot.post(body)
    slackbot.wait_for(lambda: slackbot.fake.home_views.get(REVIEWER))
    retry = slackbot.post(body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "x"})
    # The bot remembers deliveries in its state: a retry that arrives after a restart too.
    slackbot.restart()
    late = slackbot.post(body, headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "x"})

    assert (first.status, retry.status, late.status) == (200, 200, 200)
    settled(
        slackbot,
        lambda: (
            [c.args["user_id"] for c in slackbot.fake.calls("views.publish")]
            == [REVIEWER, OUTSIDER]
        ),
    )


def test_a_repeated_click_is_counted_once(slackbot: SlackBot) -> None:
    slackbot.review_pending()

    click = slackbot.click("approve", REVIEWER)
    again = slackbot.post(click.request)

    assert (click.status, again.status) == (200, 200)
    slackbot.wait_for_card(lambda text: "Approved 1/1" in text)
    settled(slackbot, lambda: len(slackbot.updates()) == 1)
    assert actions(slackbot) == [(REVIEWER, "approve")]


@pytest.mark.parametrize("socket_mode", [False, True], ids=["http", "socket-mode"])
def test_acks_do_not_wait_for_the_state_file(
    slackbot_factory: Callable[..., SlackBot], socket_mode: bool
) -> None:
    bot = slackbot_factory(socket_mode=socket_mode)
    bot.review_pending()
    bot.click("request_changes", REVIEWER)
    bot.wait_for(lambda: bot.fake.views_opened)
    # Another process writing to the state file (a `schemabot scan`, a long transaction):
    # every write of the bot waits for it, and so does every thread behind such a writer.
    writer = sqlite3.connect(bot.settings.state_db_path)
    writer.execute("BEGIN IMMEDIATE")
    try:
        # Each delivery fails the test if its ack comes after Slack's three seconds.
        deliveries = [
            bot.click("approve", SECOND_REVIEWER),
            bot.command("status b41f", REVIEWER, wait=False).delivery,
            bot.home(DEVELOPER),
            bot.submit_request_changes("", REVIEWER),
            bot.submit_request_changes("Name the index", REVIEWER),
        ]
    finally:
        writer.rollback()
        writer.close()

    assert [d.status for d in deliveries] == [200] * 5
    assert set(deliveries[3].json["errors"]) == {"reason"}
    bot.wait_for_card(lambda text: "Name the index" in text and SECOND_REVIEWER in text)
    bot.wait_for(lambda: bot.fake.home_views.get(DEVELOPER))
    bot.wait_for(lambda: bot.fake.calls("response_url"))


def test_interactions_are_taken_whatever_the_order_of_their_fields(slackbot: SlackBot) -> None:
    card = slackbot.review_pending()
    click = button_click(
        "request_changes",
        message=card.as_slack(),
        channel_id=CHANNEL,
        user_id=REVIEWER,
        response_url=slackbot.fake.response_url(CHANNEL, REVIEWER, card.ts),
    )

    def type_last(payload: dict[str, Any]) -> str:
        fields = {key: value for key, value in payload.items() if key != "type"}
        return urlencode({"payload": json.dumps(fields | {"type": payload["type"]})})

    assert slackbot.post(type_last(click)).status == 200
    [modal] = slackbot.wait_for(lambda: slackbot.fake.views_opened)
    refused = slackbot.post(type_last(view_submission(modal, {REASON_BLOCK: ""}, user_id=REVIEWER)))

    assert refused.status == 200 and set(refused.json["errors"]) == {REASON_BLOCK}
