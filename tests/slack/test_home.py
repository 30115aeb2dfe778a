"""The App Home tab."""

from __future__ import annotations

from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY
from bot.standin.signing import app_home_opened, event_callback
from tests.support.card_reading import (
    REVISION,
    settled,
)
from tests.support.slackbot import (
    CHANNEL,
    DEVELOPER,
    OUTSIDER,
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


def test_the_card_link_is_asked_for_once_when_the_card_is_posted(slackbot: SlackBot) -> None:
    card = slackbot.review_pending()
    [asked] = slackbot.fake.calls("chat.getPermalink")

    for user in (REVIEWER, DEVELOPER, OUTSIDER):
        slackbot.home(user)
    homes = slackbot.wait_for(
        lambda: len(slackbot.fake.home_views) == 3 and slackbot.fake.home_views
    )

    assert asked.args["message_ts"] == card.ts
    assert len(slackbot.fake.calls("chat.getPermalink")) == 1
    link = asked.response["permalink"]
    assert all(f"<{link}|{REVISION}>" in "\n".join(texts(h["blocks"])) for h in homes.values())


def test_a_link_slack_did_not_give_at_posting_is_asked_for_once_later(slackbot: SlackBot) -> None:
    slackbot.scan()
    # Slack fails the first ask and both retries: the card is posted without its link.
    slackbot.fake.fail_next("chat.getPermalink", status=500, times=3)
    slackbot.push_revision(DEMO_PENDING, DEMO_PENDING_ENTRY)
    slackbot.scan()

    slackbot.home(REVIEWER)
    slackbot.wait_for(lambda: slackbot.fake.home_views.get(REVIEWER))
    slackbot.home(DEVELOPER)
    home = slackbot.wait_for(lambda: slackbot.fake.home_views.get(DEVELOPER))

    asked = slackbot.fake.calls("chat.getPermalink")
    assert [call.status for call in asked] == [500, 500, 500, 200]
    assert f"<{asked[-1].response['permalink']}|{REVISION}>" in "\n".join(texts(home["blocks"]))
