"""The bot in Socket Mode (SLACK_APP_TOKEN set): the same requests arrive as envelopes.

The app is the production one, connected by its SocketModeFront (Bolt's handler over
websocket-client) to a FakeSocketModeServer that FakeSlack hands out on
apps.connections.open.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from bot.demo.project import DEMO_PENDING
from bot.standin.signing import app_home_opened, button_click, event_callback
from bot.standin.workspace import APP_TOKEN
from tests.support.slackbot import (
    CHANNEL,
    DEVELOPER,
    REVIEWER,
    SECOND_REVIEWER,
    SlackBot,
    texts,
)

REVISION = DEMO_PENDING.revision


@pytest.fixture
def socket_bot(slackbot_factory: Callable[..., SlackBot]) -> SlackBot:
    return slackbot_factory(socket_mode=True)


def test_a_slash_command_envelope_is_acked_and_answered(socket_bot: SlackBot) -> None:
    socket_bot.review_pending()

    answer = socket_bot.command("status b41f", REVIEWER)

    opened = socket_bot.fake.calls("apps.connections.open")
    assert opened and all(call.ok and call.token == APP_TOKEN for call in opened)
    assert socket_bot.socket_server is not None
    assert socket_bot.socket_server.connections_accepted == 1
    envelope_id = answer.delivery.envelope_id
    assert envelope_id is not None
    assert socket_bot.socket_server.wait_for_ack(envelope_id)["envelope_id"] == envelope_id
    assert answer.response_type == "ephemeral"
    assert answer.text.startswith(f"*{REVISION}* - Add Visibility to Posts")


def test_an_approve_click_envelope_is_acked_and_recorded(socket_bot: SlackBot) -> None:
    posted = socket_bot.review_pending()

    delivery = socket_bot.click("approve", REVIEWER)

    assert socket_bot.socket_server is not None and delivery.envelope_id is not None
    ack = socket_bot.socket_server.wait_for_ack(delivery.envelope_id)
    assert ack["envelope_id"] == delivery.envelope_id
    card = socket_bot.wait_for_card(lambda text: "Approved 1/1" in text)
    assert card.ts == posted.ts
    assert f":white_check_mark: Approved by <@{REVIEWER}>" in "\n".join(texts(card.blocks))
    verdicts = socket_bot.services.store.current_verdicts(REVISION)
    assert [(v.user_id, v.verdict) for v in verdicts] == [(REVIEWER, "approve")]
    # The author's own click is refused to them alone, as over HTTP.
    socket_bot.click("approve", DEVELOPER)
    [refusal] = socket_bot.wait_for(lambda: socket_bot.fake.ephemerals(DEVELOPER))
    assert REVISION in refusal.text
    assert len(socket_bot.services.store.current_verdicts(REVISION)) == 1


def test_a_modal_refusal_travels_in_the_ack_and_home_opens(socket_bot: SlackBot) -> None:
    socket_bot.review_pending()
    socket_bot.click("request_changes", REVIEWER)
    socket_bot.wait_for(lambda: socket_bot.fake.views_opened)

    refused = socket_bot.submit_request_changes("", REVIEWER)
    accepted = socket_bot.submit_request_changes("Name the index", REVIEWER)

    assert refused.json["response_action"] == "errors"
    assert set(refused.json["errors"]) == {"reason"}
    assert accepted.json is None
    socket_bot.wait_for_card(lambda text: "Changes requested" in text and "Name the index" in text)
    opened = event_callback(app_home_opened(REVIEWER))
    socket_bot.deliver("events_api", opened)
    home = socket_bot.wait_for(lambda: socket_bot.fake.home_views.get(REVIEWER))
    assert any(REVISION in text for text in texts(home["blocks"]))
    # Slack sends the same event again (retry_attempt 1): it has no second effect.
    assert socket_bot.socket_server is not None
    again = socket_bot.socket_server.send_envelope("events_api", opened, retry_attempt=1)
    socket_bot.socket_server.wait_for_ack(again)
    socket_bot.home(SECOND_REVIEWER)
    socket_bot.wait_for(lambda: socket_bot.fake.home_views.get(SECOND_REVIEWER))
    published = [c.args["user_id"] for c in socket_bot.fake.calls("views.publish")]
    assert published == [REVIEWER, SECOND_REVIEWER]


def test_state_survives_a_reconnecting_restart(socket_bot: SlackBot) -> None:
    socket_bot.review_pending()
    socket_bot.click("approve", REVIEWER)
    socket_bot.wait_for_card(lambda text: "Approved 1/1" in text)

    socket_bot.restart()
    socket_bot.scan()

    assert socket_bot.socket_server is not None
    assert socket_bot.socket_server.connections_accepted == 2
    assert len(socket_bot.cards()) == 1
    assert "Approved 1/1" in socket_bot.command("list", REVIEWER).text


def test_a_burst_of_large_clicks_is_acked_on_one_connection(socket_bot: SlackBot) -> None:
    card = socket_bot.review_pending().as_slack()
    # A card full of SQL: Slack sends the whole message with every click on it.
    sql = "ALTER TABLE posts ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public';\n" * 330
    card["blocks"] = [*card["blocks"], {"type": "section", "text": {"type": "mrkdwn", "text": sql}}]
    reviewers = [f"U0BURST{number:03d}" for number in range(50)]
    clicks = [
        button_click(
            "approve",
            message=card,
            channel_id=CHANNEL,
            user_id=user,
            response_url=socket_bot.fake.response_url(CHANNEL, user, str(card["ts"])),
        )
        for user in reviewers
    ]
    assert all(len(json.dumps(click)) > 24 * 1024 for click in clicks)
    server = socket_bot.socket_server
    assert server is not None

    envelope_ids = server.send_burst([("interactive", click) for click in clicks])

    acks = [server.wait_for_ack(envelope_id) for envelope_id in envelope_ids]
    assert [ack["envelope_id"] for ack in acks] == envelope_ids
    assert server.connections_accepted == 1
    socket_bot.wait_for(
        lambda: len(socket_bot.services.store.current_verdicts(REVISION)) == len(reviewers)
    )
    card_now = socket_bot.wait_for_card(lambda text: all(user in text for user in reviewers))
    assert card_now.ts == card["ts"]
