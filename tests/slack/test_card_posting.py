"""Cards posted from the watcher: once per revision, with what the revision and its entry say."""

from __future__ import annotations

import json

from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY
from tests.support.card_reading import (
    DOC,
    REVISION,
    block,
    checkboxes,
)
from tests.support.slackbot import (
    DEVELOPER,
    REVIEWER,
    SlackBot,
    card_text,
    texts,
)

# -- the card ---------------------------------------------------------------------------


def test_the_first_scan_takes_the_seed_as_history_and_posts_nothing(slackbot: SlackBot) -> None:
    report = slackbot.scan()

    assert report is not None and report.first_scan
    assert report.history == 6 and report.new == ()
    assert slackbot.cards() == []
    assert slackbot.fake.calls("chat.postMessage") == []


def test_a_pushed_revision_gets_exactly_one_card(slackbot: SlackBot) -> None:
    slackbot.review_pending()

    for _ in range(2):
        slackbot.scan()
    slackbot.restart()
    slackbot.scan()

    [card] = slackbot.cards()
    assert len(slackbot.fake.calls("chat.postMessage")) == 1
    # The card is posted at once, and filled in with its SQL when rendered: nothing more.
    [sql_filled_in] = slackbot.fake.calls("chat.update")
    assert "SQL it runs" in json.dumps(sql_filled_in.args["blocks"])
    assert card.text.startswith(f"Schema review: {REVISION}")


def test_a_card_slack_refused_is_posted_at_the_next_scan(slackbot: SlackBot) -> None:
    slackbot.scan()
    slackbot.push_revision(DEMO_PENDING, DEMO_PENDING_ENTRY)
    # Say the bot was not invited to the channel yet, or Slack was down.
    slackbot.fake.fail_next("chat.postMessage", error="not_in_channel")
    slackbot.scan()
    assert slackbot.cards() == []
    assert any(REVISION in line for line in slackbot.errors())
    slackbot.forget_errors()

    slackbot.scan()

    [card] = slackbot.cards()
    assert card.text.startswith(f"Schema review: {REVISION}")
    slackbot.scan()
    assert len(slackbot.cards()) == 1


def test_a_card_post_that_meets_a_server_error_is_not_sent_twice(slackbot: SlackBot) -> None:
    slackbot.scan()
    slackbot.push_revision(DEMO_PENDING, DEMO_PENDING_ENTRY)
    # A 5xx may come after Slack posted the message: posting again at once could show
    # the card twice. The next scan posts it, once.
    slackbot.fake.fail_next("chat.postMessage", status=500)
    slackbot.scan()
    assert [call.status for call in slackbot.fake.calls("chat.postMessage")] == [500]
    slackbot.forget_errors()

    slackbot.scan()

    assert [call.status for call in slackbot.fake.calls("chat.postMessage")] == [500, 200]
    assert len(slackbot.cards()) == 1


def test_a_card_update_that_meets_a_server_error_is_tried_again(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    slackbot.fake.fail_next("chat.update", status=503)

    slackbot.click("approve", REVIEWER)

    slackbot.wait_for_card(lambda text: "Approved 1/1" in text)
    assert [call.status for call in slackbot.updates()] == [503, 200]


def test_the_card_shows_the_revision_its_author_and_its_checklist(slackbot: SlackBot) -> None:
    card = slackbot.review_pending()

    assert texts(block(card, "title")) == [f"{REVISION} - Add Visibility to Posts"]
    status = texts(block(card, "status"))[0]
    assert "Awaiting review 0/1" in status
    # The git author, found in Slack by email, is mentioned.
    assert f"by <@{DEVELOPER}>" in status
    lookups = slackbot.fake.calls("users.lookupByEmail")
    assert [c.args["email"] for c in lookups] == ["dana@example.com"]
    facts = texts(block(card, "facts"))
    assert "*Type*\nADD COLUMN" in facts
    assert "*Tables Affected*\n`posts`" in facts
    assert "*Breaking Changes*\nNo" in facts
    assert f"*File*\n`{DEMO_PENDING.path}`" in facts
    assert "visibility" in texts(block(card, "description"))[0]
    # Only what a person ticks is a checkbox; what the bot verifies is context.
    [element] = checkboxes(card)
    assert element["type"] == "checkboxes"
    assert [o["text"]["text"] for o in element["options"]] == [
        "Migration created and tested in dev environment",
        "Code review completed",
        "Breaking changes identified and documented",
        "Rollback plan documented",
        "Migration tested on production-like data (if possible)",
    ]
    assert "initial_options" not in element
    bot_checks = block(card, "bot_checks")
    assert bot_checks["type"] == "context"
    bot_text = texts(bot_checks)[0]
    assert ":white_check_mark: Migration documented in this file" in bot_text
    assert ":white_check_mark: Team notified of schema change" in bot_text
    assert ":white_large_square: Database backup created (for prod)" in bot_text
    buttons = block(card, f"review:{REVISION}")["elements"]
    assert [(b["action_id"], b["text"]["text"]) for b in buttons] == [
        ("approve", "Approve"),
        ("request_changes", "Request changes"),
        ("withdraw", "Withdraw my verdict"),
    ]
    assert {b["value"] for b in buttons} == {REVISION}


def test_a_revision_without_an_entry_says_so_on_its_card(slackbot: SlackBot) -> None:
    slackbot.scan()
    slackbot.push_revision(DEMO_PENDING, entry=None)
    slackbot.scan()

    text = card_text(slackbot.card())

    assert f"{REVISION} - Add visibility to posts" in text
    assert f"No entry for this revision in `{DOC}` on `main`." in text
