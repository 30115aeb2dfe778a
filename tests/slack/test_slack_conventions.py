"""Slack's conventions: what a card's text says, its buttons' styles, refusals that reach
whoever clicked, a Home tab that introduces itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY
from tests.support.card_reading import REVISION, block, checkboxes
from tests.support.slackbot import (
    CHANNEL,
    DEVELOPER,
    REVIEWER,
    SlackBot,
    texts,
)

NEWCOMER = "U0NINA0005"


def test_the_cards_text_says_what_notifications_and_screen_readers_read(
    slackbot: SlackBot,
) -> None:
    card = slackbot.review_pending()

    assert card.text == (
        f"Schema review: {REVISION} - Add Visibility to Posts. Awaiting review 0/1, by"
        f" <@{DEVELOPER}>, not breaking. Needs 1 more approval, 5 checklist item(s) ticked."
    )
    slackbot.click("approve", REVIEWER)
    slackbot.tick([o["value"] for e in checkboxes(card) for o in e["options"]], REVIEWER)
    card = slackbot.wait_for_card(lambda _: "Ready to apply." in slackbot.card().text)
    assert card.text.endswith("Approved 1/1, by <@U0DANA0001>, not breaking. Ready to apply.")


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        (
            DEMO_PENDING_ENTRY.replace(
                "**Breaking Changes**: No", "**Breaking Changes**: Yes - <!channel> must redeploy"
            ),
            "a breaking change. Needs 1 more approval",
        ),
        (None, "breaking changes not stated. Needs an entry in SCHEMA_CHANGES.md, 1 more"),
    ],
    ids=["breaking", "no entry"],
)
def test_the_cards_text_says_whether_it_breaks_anything(
    slackbot: SlackBot, entry: str | None, said: str
) -> None:
    slackbot.scan()
    slackbot.fake.from_repository("<!channel>")

    slackbot.push_revision(DEMO_PENDING, entry)
    slackbot.scan()

    assert said in slackbot.card().text
    assert slackbot.fake.live_markup() == []


def test_request_changes_is_a_default_button(slackbot: SlackBot) -> None:
    card = slackbot.review_pending()

    buttons = {e["action_id"]: e for e in block(card, f"review:{REVISION}")["elements"]}

    assert buttons["approve"]["style"] == "primary"
    assert "style" not in buttons["request_changes"]


def test_a_refusal_reaches_a_clicker_who_is_not_in_the_channel(
    slackbot_factory: Callable[..., SlackBot],
) -> None:
    bot = slackbot_factory(approvers=frozenset({REVIEWER}))
    bot.fake.add_user(NEWCOMER, "nina@example.com", "nina", "Nina Newcomer")
    bot.review_pending()

    # Nina reads the channel without having joined it, and clicks Approve.
    bot.click("approve", NEWCOMER)

    [refusal] = bot.wait_for(lambda: bot.fake.ephemerals(NEWCOMER))
    assert "SCHEMABOT_APPROVERS" in refusal.text and refusal.channel == CHANNEL
    assert bot.fake.calls("chat.postEphemeral") == []
    assert bot.fake.calls("chat.postMessage")[1:] == []


def test_the_home_tab_introduces_itself_on_first_open(slackbot: SlackBot) -> None:
    slackbot.review_pending()

    slackbot.home(REVIEWER)
    first = slackbot.wait_for(lambda: slackbot.fake.home_views.get(REVIEWER))
    slackbot.home(REVIEWER)
    slackbot.wait_for(lambda: len(slackbot.fake.calls("views.publish")) == 2)
    later = slackbot.fake.home_views[REVIEWER]

    shown = "\n".join(texts(first["blocks"]))
    assert shown.startswith("Welcome to schemabot\n*schemabot* reviews the team's Alembic")
    assert f"gets a review card in <#{CHANNEL}>" in shown
    assert "*Approve* or *Request changes*" in shown
    assert (
        "`/schema help` in any channel lists every command"
        f" · review cards are posted in <#{CHANNEL}>" in shown
    )
    again = "\n".join(texts(later["blocks"]))
    assert "Welcome" not in again and REVISION in again
    assert "`/schema help` in any channel lists every command" in again
