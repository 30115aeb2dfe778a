"""Approve, Request changes and Withdraw, clicked as Slack sends them."""

from __future__ import annotations

import threading
from collections.abc import Callable

from bot.standin.signing import button_click
from tests.support.card_reading import (
    REVISION,
    actions,
    approvals,
    block,
    ephemeral_to,
    payload_of,
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
    texts,
)

# -- verdicts ---------------------------------------------------------------------------


def test_an_approval_updates_the_card_in_place(slackbot: SlackBot) -> None:
    posted = slackbot.review_pending()

    delivery = slackbot.click("approve", REVIEWER)

    assert delivery.status == 200
    card = slackbot.wait_for_card(lambda text: "Approved 1/1" in text)
    assert card.ts == posted.ts and len(slackbot.cards()) == 1
    [update] = slackbot.updates()
    assert (update.args["channel"], update.args["ts"], update.ok) == (CHANNEL, posted.ts, True)
    assert f":white_check_mark: Approved by <@{REVIEWER}>" in texts(block(card, "verdicts"))
    assert approvals(slackbot) == [(REVIEWER, "approve")]
    assert slackbot.fake.ephemerals() == []


def test_the_author_cannot_approve_their_own_revision(slackbot: SlackBot) -> None:
    posted = slackbot.review_pending()

    assert slackbot.click("approve", DEVELOPER).status == 200

    refusal = ephemeral_to(slackbot, DEVELOPER)
    assert REVISION in refusal and "You wrote" in refusal
    assert slackbot.fake.ephemerals(DEVELOPER)[0].channel == CHANNEL
    assert approvals(slackbot) == []
    assert slackbot.updates() == []
    assert slackbot.card().blocks == posted.blocks


def test_only_the_configured_approvers_may_approve(
    slackbot_factory: Callable[..., SlackBot],
) -> None:
    bot = slackbot_factory(approvers=frozenset({REVIEWER, SECOND_REVIEWER}))
    posted = bot.review_pending()

    bot.click("approve", OUTSIDER)

    refusal = ephemeral_to(bot, OUTSIDER)
    assert "SCHEMABOT_APPROVERS" in refusal and REVISION in refusal
    assert approvals(bot) == [] and bot.card().blocks == posted.blocks
    bot.click("approve", SECOND_REVIEWER)
    bot.wait_for_card(lambda text: "Approved 1/1" in text)
    assert approvals(bot) == [(SECOND_REVIEWER, "approve")]


def test_two_approvals_at_once_both_show(slackbot_factory: Callable[..., SlackBot]) -> None:
    bot = slackbot_factory(required_approvals=2)
    bot.review_pending()
    payloads = [
        button_click("approve", message=bot.card().as_slack(), channel_id=CHANNEL, user_id=user)
        for user in (REVIEWER, SECOND_REVIEWER)
    ]

    threads = [
        threading.Thread(target=bot.deliver, args=("interactive", payload)) for payload in payloads
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    card = bot.wait_for_card(lambda text: "Approved 2/2" in text)
    shown = texts(block(card, "verdicts"))[0]
    assert f"<@{REVIEWER}>" in shown and f"<@{SECOND_REVIEWER}>" in shown
    settled(bot, lambda: "Approved 2/2" in card_text(bot.card()))


def test_a_reviewer_withdraws_their_approval(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    slackbot.click("approve", REVIEWER)
    slackbot.wait_for_card(lambda text: "Approved 1/1" in text)

    slackbot.click("withdraw", REVIEWER)

    card = slackbot.wait_for_card(lambda text: "Awaiting review 0/1" in text)
    assert f"<@{REVIEWER}>" not in card_text(card)
    assert approvals(slackbot) == []
    assert actions(slackbot) == [(REVIEWER, "approve"), (REVIEWER, "withdraw")]
    # Nothing left to withdraw: told so, privately.
    slackbot.click("withdraw", REVIEWER)
    assert "no approval or change request" in ephemeral_to(slackbot, REVIEWER)


def test_request_changes_asks_for_a_reason_and_shows_it(slackbot: SlackBot) -> None:
    slackbot.review_pending()

    click = slackbot.click("request_changes", REVIEWER)

    [opened] = slackbot.wait_for(lambda: slackbot.fake.calls("views.open"))
    assert opened.ok and opened.args["trigger_id"] == payload_of(click.request)["trigger_id"]
    [modal] = slackbot.fake.views_opened
    assert (modal["callback_id"], modal["private_metadata"]) == ("request_changes", REVISION)
    assert slackbot.updates() == []

    submitted = slackbot.submit_request_changes("Create the index concurrently", REVIEWER)

    # An empty answer closes the modal.
    assert submitted.status == 200 and submitted.json is None
    card = slackbot.wait_for_card(lambda text: "Changes requested" in text)
    reason = f":raised_hand: <@{REVIEWER}> requested changes: Create the index concurrently"
    assert reason in texts(block(card, "verdicts"))
    assert ":raised_hand: *Changes requested*" in texts(block(card, "status"))[0]


def test_approving_after_requesting_changes_withdraws_the_request(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    slackbot.click("request_changes", REVIEWER)
    slackbot.wait_for(lambda: slackbot.fake.views_opened)
    slackbot.submit_request_changes("Backfill in batches", REVIEWER)
    slackbot.wait_for_card(lambda text: "Changes requested" in text)

    slackbot.click("approve", REVIEWER)

    card = slackbot.wait_for_card(lambda text: "Approved 1/1" in text)
    assert "Backfill in batches" not in card_text(card)
    assert "Changes requested" not in card_text(card)
    assert approvals(slackbot) == [(REVIEWER, "approve")]


def test_an_empty_reason_is_refused_inside_the_modal(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    slackbot.click("request_changes", REVIEWER)
    slackbot.wait_for(lambda: slackbot.fake.views_opened)

    refused = slackbot.submit_request_changes("   ", REVIEWER)

    assert refused.status == 200
    assert refused.json["response_action"] == "errors"
    assert set(refused.json["errors"]) == {"reason"}
    assert approvals(slackbot) == []
    # The person types a reason into the same modal and sends it again.
    accepted = slackbot.submit_request_changes("Say why posts need it", REVIEWER)
    assert accepted.status == 200 and accepted.json is None
    slackbot.wait_for_card(lambda text: "Say why posts need it" in text)
    assert approvals(slackbot) == [(REVIEWER, "request_changes")]
