"""Shapes Slack is known to send, answered 200 and acted on like any other."""

from __future__ import annotations

from bot.standin.signing import app_home_opened, button_click, event_callback, unfurled
from tests.support.card_reading import REVISION, approvals
from tests.support.slackbot import CHANNEL, REVIEWER, SlackBot


def test_app_home_opened_with_an_empty_list_of_state_values(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    before = len(slackbot.fake.calls("views.publish"))

    event = app_home_opened(REVIEWER, published=True)
    assert event["view"]["state"]["values"] == []
    delivery = slackbot.deliver("events_api", event_callback(event))

    assert delivery.status == 200
    slackbot.wait_for(lambda: len(slackbot.fake.calls("views.publish")) > before)
    assert REVISION in str(slackbot.fake.home_views[REVIEWER]["blocks"])


def test_a_click_on_a_card_with_an_unfurled_link(slackbot: SlackBot) -> None:
    card = slackbot.review_pending()

    message = unfurled(card.as_slack())
    assert message["attachments"][0]["id"] == 1
    click = button_click("approve", message=message, channel_id=CHANNEL, user_id=REVIEWER)
    delivery = slackbot.deliver("interactive", click)

    assert delivery.status == 200
    slackbot.wait_for(lambda: approvals(slackbot) == [(REVIEWER, "approve")])
