"""A card that cannot be built, or that Slack refuses, still appears; long ids still work."""

from __future__ import annotations

from collections.abc import Callable

from bot.demo.project import DEMO_PENDING
from bot.slack.cards import APPROVE, REQUEST_CHANGES
from bot.slack.limits import revision_ref
from bot.standin.mrkdwn import displayed
from tests.support.card_reading import REVISION, TESTED
from tests.support.slackbot import REVIEWER, SlackBot, card_text

LONG_ID = "r" * 300


def test_a_card_slack_refuses_is_posted_degraded_then_in_full(
    slackbot_factory: Callable[..., SlackBot],
) -> None:
    # No preview: its SQL would update the card in the same cycle, in full.
    slackbot = slackbot_factory(sql_preview="off")
    slackbot.scan()
    slackbot.push_revision(DEMO_PENDING, None)
    slackbot.fake.fail_next("chat.postMessage", error="invalid_blocks")

    slackbot.scan()

    card = slackbot.card(REVISION)
    shown = displayed(card_text(card))
    assert "schemabot could not build this card" in shown
    assert "Slack refused it (invalid_blocks)" in shown and DEMO_PENDING.path in shown
    assert slackbot.services.publisher is not None
    assert slackbot.services.publisher.degraded == {REVISION}
    assert any("invalid_blocks" in line for line in slackbot.errors())
    slackbot.forget_errors()

    slackbot.services.refresh_card(REVISION)

    assert "What schemabot found" in card_text(slackbot.card(REVISION))
    assert slackbot.services.publisher.degraded == frozenset()
    assert len(slackbot.cards()) == 1


def test_a_card_that_cannot_be_built_says_why(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    ini = (slackbot.dev.root / "alembic.ini").read_text()
    broken = ini.replace("script_location = %(here)s/migrations", "script_location = nowhere")
    assert broken != ini
    slackbot.dev.write("alembic.ini", broken, message="Move the migrations")
    slackbot.dev.push()
    slackbot.scan()
    slackbot.forget_errors()

    slackbot.click(APPROVE, REVIEWER, REVISION)

    card = slackbot.wait_for_card(lambda text: "could not build" in text, REVISION)
    assert "The script folder `nowhere`" in displayed(card_text(card))
    assert slackbot.errors() == []


def test_a_revision_with_a_long_id_gets_a_card_that_works(slackbot: SlackBot) -> None:
    slackbot.scan()
    store = slackbot.services.store
    store.record_revision(
        LONG_ID,
        path="migrations/versions/long.py",
        blob_sha="0" * 40,
        branch="main",
        commit="0" * 40,
        author_name="Dana Developer",
        author_email="dana@example.com",
        on_main=True,
    )

    slackbot.services.refresh_card(LONG_ID)

    [card] = slackbot.cards()
    block_ids = [str(block.get("block_id")) for block in card.blocks]
    assert f"review:{revision_ref(LONG_ID)}" in block_ids
    assert all(len(block_id) <= 255 for block_id in block_ids)
    # The card's header shows the start of the id: it is the only card.
    slackbot.click(APPROVE, REVIEWER)
    slackbot.tick([TESTED], REVIEWER)
    slackbot.click(REQUEST_CHANGES, REVIEWER)
    slackbot.wait_for(lambda: slackbot.fake.views_opened)
    slackbot.submit_request_changes("Name it shorter", REVIEWER)

    slackbot.wait_for_card(lambda text: "Name it shorter" in text)
    slackbot.wait_for(lambda: TESTED in store.checklist_for(LONG_ID))
    assert store.checklist_for(LONG_ID)[TESTED].ticked
    assert [v.verdict for v in store.current_verdicts(LONG_ID)] == ["request_changes"]
