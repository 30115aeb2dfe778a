"""dev, staging and production run from Slack: the card's rows, the promotion, drift."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from alembic import command
from alembic.config import Config

from bot.demo.project import DEMO_PENDING
from bot.standin.mrkdwn import displayed
from tests.support.applyteam import BASELINE, production_versions
from tests.support.environments import environments, three_databases
from tests.support.slackbot import REVIEWER, SECOND_REVIEWER, SlackBot, card_text, origin_doc

APPLIER = SECOND_REVIEWER
REVISION = DEMO_PENDING.revision


@pytest.fixture
def urls(pg_template: None) -> Iterator[dict[str, str]]:
    yield from three_databases()


def upgrade(bot: SlackBot, url: str, target: str) -> None:
    config = Config(str(bot.dev.root / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, target)


def said(bot: SlackBot, after: int) -> str:
    return "\n".join(str(c.args.get("text")) for c in bot.fake.calls("response_url")[after:])


def test_a_revision_goes_from_dev_to_staging_to_production_from_slack(
    slackbot_factory: Callable[..., SlackBot], urls: dict[str, str]
) -> None:
    stages = tuple(
        replace(e, soak_minutes=0) if e.name == "production" else e for e in environments(urls)
    )
    bot = slackbot_factory(
        database_url=urls["production"], appliers=frozenset({APPLIER}), environments=stages
    )
    for url in urls.values():
        upgrade(bot, url, BASELINE)
    card = bot.review_pending()
    bot.click("approve", REVIEWER)
    boxes = [
        option["value"]
        for block in card.blocks
        if block.get("block_id") == f"checklist:{REVISION}"
        for element in block["elements"]
        for option in element["options"]
    ]
    assert "migration-created-and-tested-in-dev-environment" not in boxes
    bot.tick(boxes, REVIEWER)
    text = card_text(bot.wait_for_card(lambda t: "Approved 1/1" in t))
    assert "*dev (read-only)*: not yet" in text

    upgrade(bot, urls["dev"], REVISION)
    bot.scan()
    text = card_text(bot.wait_for_card(lambda t: "found there" in t))
    assert ":white_check_mark: Migration created and tested in dev environment" in text

    before = len(bot.fake.calls("response_url"))
    bot.command(f"apply {REVISION}", APPLIER)
    bot.wait_for(lambda: "requires it in `staging` first" in said(bot, before), timeout=30)
    assert production_versions(urls["production"]) == {BASELINE}

    bot.command("apply b41f staging", APPLIER)
    bot.wait_for_card(lambda t: "*staging*: since" in t, timeout=60)
    assert production_versions(urls["staging"]) == {REVISION}
    assert "Applied to Prod**: Yes - " not in origin_doc(bot)

    bot.command("apply b41f", APPLIER)
    bot.wait_for(lambda: "Applied" in bot.card(REVISION).text, timeout=60)
    assert production_versions(urls["production"]) == {REVISION}
    thread = "\n".join(displayed(reply.text) for reply in bot.card(REVISION).replies)
    assert "is applied and verified in staging" in thread
    assert "Applying `b41f7a2c9e15` in production" in thread

    before = len(bot.fake.calls("response_url"))
    bot.command("drift production", APPLIER)
    bot.wait_for(lambda: "no drift" in said(bot, before), timeout=60)
