"""Request changes: refused before the modal opens, and refused inside it, never losing the
reason someone wrote."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest

from bot.demo.project import DEMO_PENDING
from tests.support.card_reading import REVISION, approvals, ephemeral_to, settled
from tests.support.slackbot import (
    DEVELOPER,
    OUTSIDER,
    REVIEWER,
    SECOND_REVIEWER,
    SlackBot,
    card_text,
)


def test_who_may_not_request_changes_is_told_before_any_modal_opens(
    slackbot_factory: Callable[..., SlackBot],
) -> None:
    bot = slackbot_factory(approvers=frozenset({REVIEWER}))
    bot.review_pending()

    bot.click("request_changes", OUTSIDER)

    refusal = ephemeral_to(bot, OUTSIDER)
    assert "Only the configured approvers can request changes" in refusal
    [answer] = bot.fake.calls("response_url")
    assert answer.ok and answer.args["response_type"] == "ephemeral"
    # The author may hold their own revision back: the modal opens for them.
    bot.click("request_changes", DEVELOPER)
    [modal] = bot.wait_for(lambda: bot.fake.views_opened)
    assert modal["private_metadata"] == REVISION
    assert len(bot.fake.calls("views.open")) == 1


@pytest.mark.parametrize("socket_mode", [False, True], ids=["http", "socket-mode"])
def test_a_reason_refused_on_submission_stays_in_the_modal(
    slackbot_factory: Callable[..., SlackBot], socket_mode: bool
) -> None:
    bot = slackbot_factory(socket_mode=socket_mode)
    bot.review_pending()
    bot.click("request_changes", REVIEWER)
    bot.wait_for(lambda: bot.fake.views_opened)
    # While the modal is open, the revision leaves the repository: its review closes.
    bot.dev.remove(DEMO_PENDING.path)
    bot.dev.push()
    bot.scan()
    bot.wait_for_card(lambda text: "Removed" in text)
    updates = len(bot.fake.calls("chat.update"))
    # The answer comes from memory: another process holding the state file, and the bot's
    # own writes waiting behind it, do not hold it up.
    writer = sqlite3.connect(bot.settings.state_db_path)
    writer.execute("BEGIN IMMEDIATE")
    try:
        bot.home(DEVELOPER)
        refused = bot.submit_request_changes("Create the index concurrently", REVIEWER)
    finally:
        writer.rollback()
        writer.close()

    assert refused.status == 200 and refused.json["response_action"] == "errors"
    assert list(refused.json["errors"]) == ["reason"]
    assert "was removed from the repository" in refused.json["errors"]["reason"]
    [answered] = bot.fake.calls("view_submission")[-1:]
    assert answered.ok
    settled(bot, lambda: approvals(bot) == [])
    assert len(bot.fake.calls("chat.update")) == updates


def test_a_reason_refused_after_the_ack_comes_back_to_its_writer(
    slackbot_factory: Callable[..., SlackBot],
) -> None:
    bot = slackbot_factory(approvers=frozenset({REVIEWER}))
    bot.review_pending()
    bot.click("request_changes", REVIEWER)
    bot.wait_for(lambda: bot.fake.views_opened)
    # A restart with other approvers while the modal is open: the new process has not read
    # this review yet, so the submission is taken and checked in full after its ack.
    bot.restart(approvers=frozenset({SECOND_REVIEWER}))

    taken = bot.submit_request_changes("Backfill <b>in batches</b>", REVIEWER)

    assert taken.status == 200 and taken.json is None
    refusal = ephemeral_to(bot, REVIEWER)
    assert "Only the configured approvers can request changes" in refusal
    assert "Your reason, not recorded:" in refusal
    assert "Backfill &lt;b&gt;in batches&lt;/b&gt;" in refusal
    assert approvals(bot) == []
    assert "Changes requested" not in card_text(bot.card())


def test_an_empty_reason_is_refused_in_the_modal_before_anything_was_read(
    slackbot: SlackBot,
) -> None:
    slackbot.review_pending()
    slackbot.click("request_changes", REVIEWER)
    slackbot.wait_for(lambda: slackbot.fake.views_opened)
    slackbot.restart()

    refused = slackbot.submit_request_changes("  ", REVIEWER)

    assert refused.json == {
        "response_action": "errors",
        "errors": {"reason": "Say what should change: the reason is shown on the card."},
    }
