"""The App Home tab."""

from __future__ import annotations

from bot.standin.signing import app_home_opened, event_callback
from tests.support.card_reading import (
    REVISION,
    settled,
)
from tests.support.slackbot import (
    CHANNEL,
    DEVELOPER,
    REVIEWER,
    SlackBot,
    texts,
)

# -- App Home ---------------------------------------------------------------------------


def test_the_home_tab_lists_pending_reviews_with_links(slackbot: SlackBot) -> None:
    card = slackbot.review_pending()

    assert slackbot.home(REVIEWER).status == 200

    home = slackbot.wait_for(lambda: slackbot.fake.home_views.get(REVIEWER))
    [publish] = slackbot.fake.calls("views.publish")
    assert publish.ok and publish.args["user_id"] == REVIEWER
    [link] = [c.response["permalink"] for c in slackbot.fake.calls("chat.getPermalink")]
    assert link.endswith(f"/archives/{CHANNEL}/p{card.ts.replace('.', '')}")
    text = "\n".join(texts(home["blocks"]))
    assert "Schema changes awaiting review" in text
    assert f"*<{link}|{REVISION}>* - Add Visibility to Posts" in text
    assert "Awaiting review 0/1" in text and "needs 1 more approval" in text


def test_the_home_tab_when_nothing_is_pending(slackbot: SlackBot) -> None:
    slackbot.scan()

    slackbot.home(DEVELOPER)

    home = slackbot.wait_for(lambda: slackbot.fake.home_views.get(DEVELOPER))
    assert "Nothing is pending." in "\n".join(texts(home["blocks"]))


def test_opening_the_messages_tab_publishes_nothing(slackbot: SlackBot) -> None:
    slackbot.scan()

    slackbot.deliver("events_api", event_callback(app_home_opened(REVIEWER, tab="messages")))

    settled(slackbot, lambda: REVIEWER not in slackbot.fake.home_views)
