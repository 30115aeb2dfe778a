"""From a pushed revision to production and the status commit, all through Slack requests."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.config import Config

from bot.demo.project import DEMO_PENDING
from bot.slack.dialogs import ROLLBACK_CONFIRM
from bot.standin.mrkdwn import displayed
from bot.standin.signing import button_click
from tests.support.applyteam import BASELINE, columns, production_versions
from tests.support.slackbot import (
    CHANNEL,
    OUTSIDER,
    REVIEWER,
    SECOND_REVIEWER,
    SlackBot,
    card_text,
    origin_doc,
)

APPLIER = SECOND_REVIEWER
REVISION = DEMO_PENDING.revision


def with_production(factory: Callable[..., SlackBot], pg_url: str) -> SlackBot:
    bot = factory(database_url=pg_url, appliers=frozenset({APPLIER}))
    config = Config(str(bot.dev.root / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", pg_url)
    command.upgrade(config, BASELINE)
    return bot


def approved(bot: SlackBot) -> None:
    card = bot.review_pending()
    bot.click("approve", REVIEWER)
    keys = [
        option["value"]
        for block in card.blocks
        if block.get("block_id") == f"checklist:{REVISION}"
        for element in block["elements"]
        for option in element["options"]
    ]
    bot.tick(keys, REVIEWER)
    bot.wait_for(lambda: "Approved 1/1" in bot.card(REVISION).text)


def test_apply_through_slack_migrates_and_pushes_the_status(
    slackbot_factory: Callable[..., SlackBot], pg_url: str
) -> None:
    bot = with_production(slackbot_factory, pg_url)
    approved(bot)

    answer = bot.command("apply b41f", APPLIER)

    assert answer.response_type == "ephemeral" and REVISION in answer.text
    bot.wait_for(lambda: "Applied" in bot.card(REVISION).text, timeout=60)
    assert production_versions(pg_url) == {REVISION}
    assert "visibility" in columns(pg_url, "posts")
    assert "- **Applied to Prod**: Yes - " in origin_doc(bot)
    thread = "\n".join(displayed(reply.text) for reply in bot.card(REVISION).replies)
    assert "Applying `b41f7a2c9e15` in production" in thread
    assert "Running upgrade merge_enum_fix_and_photo_urls -> b41f7a2c9e15" in thread
    assert ":rocket:" in thread
    text = card_text(bot.card(REVISION))
    assert ":rocket: *Applied*" in text
    assert "Approve" not in [b.get("block_id") for b in bot.card(REVISION).blocks]
    # The review is closed: its checklist is text, as it was left, no longer boxes.
    blocks = bot.card(REVISION).blocks
    assert not [b for b in blocks if str(b.get("block_id")).startswith("checklist:")]
    [checklist] = [b["text"]["text"] for b in blocks if b.get("block_id") == "checklist"]
    assert "(the review is applied: no more ticks)" in checklist
    assert f":white_check_mark: Code review completed (<@{REVIEWER}>)" in checklist


def test_an_apply_with_unmet_gates_lists_them_all_to_the_asker_only(
    slackbot_factory: Callable[..., SlackBot], pg_url: str
) -> None:
    bot = with_production(slackbot_factory, pg_url)
    bot.review_pending()
    before = bot.card(REVISION).text

    bot.command("apply b41f", OUTSIDER)

    refusal = bot.wait_for(
        lambda: [
            c for c in bot.fake.calls("response_url") if "Can't apply" in str(c.args.get("text"))
        ]
    )[0]
    text = str(refusal.args["text"])
    assert "may not apply" in text and "0 of the 1 approval" in text
    assert "checklist items not ticked" in text
    assert refusal.args.get("response_type") == "ephemeral"
    assert production_versions(pg_url) == {BASELINE}
    assert bot.card(REVISION).text == before
    assert bot.card(REVISION).replies == ()


def test_rollback_asks_for_confirmation_then_downgrades(
    slackbot_factory: Callable[..., SlackBot], pg_url: str
) -> None:
    bot = with_production(slackbot_factory, pg_url)
    approved(bot)
    bot.command("apply b41f", APPLIER)
    bot.wait_for(lambda: "Applied" in bot.card(REVISION).text, timeout=60)

    question = bot.command("rollback b41f", APPLIER)

    assert "Roll back `b41f7a2c9e15` in production?" in question.text
    assert production_versions(pg_url) == {REVISION}
    asked = [e for e in bot.fake.ephemerals(APPLIER) if e.blocks][-1]
    ephemeral = {"type": "message", "text": asked.text, "ts": asked.ts, "blocks": asked.blocks}
    payload = button_click(
        ROLLBACK_CONFIRM,
        message=ephemeral,
        channel_id=CHANNEL,
        user_id=APPLIER,
        response_url=bot.fake.response_url(CHANNEL, APPLIER),
    )
    bot.deliver("interactive", payload)
    bot.wait_for(lambda: "Rolled back" in bot.card(REVISION).text, timeout=60)
    assert production_versions(pg_url) == {BASELINE}
    assert "visibility" not in columns(pg_url, "posts")
    assert "Rolled back on" in origin_doc(bot)


def test_a_stuck_apply_lock_is_shown_and_an_applier_can_release_it(
    slackbot_factory: Callable[..., SlackBot], pg_url: str
) -> None:
    bot = with_production(slackbot_factory, pg_url)
    bot.review_pending()
    assert bot.services.store.try_acquire_lock("apply", "run 99 (apply b41f7a2c9e15)")

    listed = bot.command("list", REVIEWER)
    refused = bot.command("unlock", REVIEWER)
    released = bot.command("unlock", APPLIER)

    assert "Held: the apply lock, by run 99 (apply b41f7a2c9e15)" in listed.text
    assert "Only the configured appliers" in refused.text
    assert "Released the apply lock held by run 99" in released.text
    assert bot.services.store.get_lock("apply") is None
    [event] = [e for e in bot.services.store.recent_audit() if e.action == "lock_broken"]
    assert event.actor == APPLIER
