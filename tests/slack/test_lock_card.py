"""Lock safety as Slack shows it: the card's lock part, the timeouts in its SQL, and a blocked
apply narrated in the thread with the blocker's query shown as written, literals masked."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.config import Config

from bot.demo.project import DEMO_PENDING
from bot.standin.mrkdwn import displayed
from tests.support.applyteam import BASELINE
from tests.support.lockteam import holding
from tests.support.slackbot import REVIEWER, SECOND_REVIEWER, SlackBot, card_text

APPLIER = SECOND_REVIEWER
REVISION = DEMO_PENDING.revision
HOSTILE = (
    "SELECT count(*) FROM posts WHERE body <> 'dana@example.com' "
    "/* <!channel> <https://evil.example|click> & co */"
)


def production(factory: Callable[..., SlackBot], pg_url: str, **options: object) -> SlackBot:
    bot = factory(database_url=pg_url, appliers=frozenset({APPLIER}), **options)
    config = Config(str(bot.dev.root / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", pg_url)
    command.upgrade(config, BASELINE)
    return bot


def test_the_card_says_what_the_revision_locks_and_its_sql_shows_the_timeouts(
    slackbot_factory: Callable[..., SlackBot], pg_url: str
) -> None:
    bot = production(slackbot_factory, pg_url, statement_timeout_seconds=30)
    bot.review_pending()
    bot.scan()

    card = bot.wait_for(
        lambda: bot.card(REVISION) if "Sizes from" in card_text(bot.card(REVISION)) else None
    )
    blocks = [block.get("block_id") for block in card.blocks]
    assert blocks.index("locks") == blocks.index("sql") + 1 + ("lint" in blocks)
    text = displayed(card_text(card))
    assert "Locks in production" in text
    assert "ACCESS EXCLUSIVE on `posts` (blocks reads and writes)" in text
    assert "Not traced yet" in text
    sql = displayed(next(b["text"]["text"] for b in card.blocks if b.get("block_id") == "sql"))
    assert "SET lock_timeout = '10s';" in sql and "SET statement_timeout = '30s';" in sql
    assert "stopped after 900 s" in sql
    # /schema status says the same about locks.
    status = displayed(bot.command("status b41f", REVIEWER).text)
    assert "Locks in production" in status
    assert "ACCESS EXCLUSIVE on `posts` (blocks reads and writes)" in status


def test_a_blocked_apply_names_its_blocker_in_the_thread_as_written(
    slackbot_factory: Callable[..., SlackBot], pg_url: str
) -> None:
    bot = production(slackbot_factory, pg_url, lock_timeout_seconds=3, lock_retries=0)
    bot.review_pending()
    bot.click("approve", REVIEWER)
    keys = [
        option["value"]
        for block in bot.card(REVISION).blocks
        if block.get("block_id") == f"checklist:{REVISION}"
        for element in block["elements"]
        for option in element["options"]
    ]
    bot.tick(keys, REVIEWER)
    bot.wait_for(lambda: "Approved 1/1" in bot.card(REVISION).text)

    with holding(pg_url, HOSTILE, "reports <!here>"):
        bot.command("apply b41f", APPLIER)
        bot.wait_for(lambda: "Failed" in bot.card(REVISION).text, timeout=60)

    thread = "\n".join(displayed(reply.text) for reply in bot.card(REVISION).replies)
    assert "The migration is waiting for a lock held by:" in thread
    assert "application `reports <!here>`" in thread
    assert (
        "`SELECT count(*) FROM posts WHERE body <> '…' "
        "/* <!channel> <https://evil.example|click> & co */`"
    ) in thread
    assert "dana@example.com" not in thread
    assert "gave up waiting for a lock 1 times" in thread
