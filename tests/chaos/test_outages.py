"""Production down, Slack slow to answer, the origin unreachable."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from bot.running import Watcher
from tests.support import pg
from tests.support.applyteam import production_versions
from tests.support.chaos import (
    approve_in_slack,
    doc_commits,
    status_of,
    wait_until,
)
from tests.support.production_bot import (
    APPLIER,
    OTHER,
    OTHER_ENTRY,
    REVISION,
    answered,
    production_bot,
)
from tests.support.slackbot import (
    OUTSIDER,
    REVIEWER,
    SECOND_REVIEWER,
    SlackBot,
    origin_doc,
)

# -- production down ----------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("outage", ["port closed", "database dropped"])
def test_production_down_at_apply_time_is_a_clear_refusal_and_records_nothing(
    slackbot_factory: Callable[..., SlackBot], pg_url: str, outage: str
) -> None:
    bot = production_bot(slackbot_factory, pg_url)
    bot.review_pending()
    approve_in_slack(bot, REVISION)
    card_before, doc_before = bot.card(REVISION), origin_doc(bot)
    if outage == "port closed":
        bot.restart(database_url=f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/prod")
    else:
        pg.drop_database(pg_url.rsplit("/", 1)[1])

    bot.command(f"apply {REVISION}", APPLIER)
    refusal = answered(bot, APPLIER)

    assert refusal.startswith(f"Can't apply `{REVISION}` yet:")
    assert "the production database" in refusal and "did not answer" in refusal
    reason = "Connection refused" if outage == "port closed" else "does not exist"
    assert reason in refusal
    assert bot.services.store.runs_for(REVISION) == []
    assert [e.action for e in bot.services.store.audit_for(REVISION)][-1] == "apply_refused"
    assert bot.card(REVISION) == card_before
    assert origin_doc(bot) == doc_before
    assert doc_commits(bot, REVISION) == 0


# -- Slack slow to answer -----------------------------------------------------------------


def test_a_rate_limited_slack_does_not_hold_up_the_acks(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    # Slack rate-limits the card's update for a second; every card update waits behind it.
    slackbot.fake.fail_next("chat.update", status=429, retry_after=1)

    deliveries = [
        slackbot.click("approve", user) for user in (REVIEWER, SECOND_REVIEWER, OUTSIDER) * 3
    ]

    assert [d.status for d in deliveries] == [200] * 9
    assert max(d.seconds for d in deliveries) < 0.5
    slackbot.wait_for(lambda: status_of(slackbot, REVISION) == "Approved 3/1")


def test_slack_out_of_reach_during_an_apply_the_apply_ends_and_the_card_catches_up(
    slackbot_factory: Callable[..., SlackBot], pg_url: str
) -> None:
    bot = production_bot(slackbot_factory, pg_url)
    bot.review_pending()
    approve_in_slack(bot, REVISION)
    replies_before = len(bot.card(REVISION).replies)

    with bot.fake.out_of_reach():
        # The command reaches the bot; nothing the bot says reaches Slack.
        bot.command(f"apply {REVISION}", APPLIER, wait=False)
        wait_until(lambda: [r.state for r in bot.services.store.runs_for(REVISION)] != [])
        wait_until(lambda: bot.services.store.runs_for(REVISION)[-1].state == "succeeded")

    assert REVISION in production_versions(pg_url)
    assert doc_commits(bot, REVISION) == 1
    assert status_of(bot, REVISION) == "Approved 1/1"  # what Slack last took
    assert len(bot.card(REVISION).replies) == replies_before

    bot.scan()  # the watcher's next cycle, Slack back

    assert status_of(bot, REVISION) == "Applied"
    assert bot.errors() == []


# -- the origin unreachable or rewritten --------------------------------------------------


def test_the_origin_unreachable_the_bot_serves_on_says_so_once_and_recovers(
    slackbot: SlackBot, caplog: pytest.LogCaptureFixture
) -> None:
    slackbot.review_pending()
    watcher = Watcher(slackbot.services)  # one watcher for every cycle, as `serve` has
    away = slackbot.tmp_path / "moved-away.git"
    slackbot.dev.origin.rename(away)

    reports = [watcher.cycle() for _ in range(3)]

    assert reports == [None, None, None]
    failures = [e for e in slackbot.errors() if e.startswith("scan failed")]
    assert len(failures) == 1 and "cannot fetch" in failures[0]
    # Slack is still served: a click, a command and the health check.
    slackbot.click("approve", REVIEWER)
    slackbot.wait_for_card(lambda shown: "Approved 1/1" in shown)
    assert REVISION in slackbot.command("list", REVIEWER).text
    assert slackbot.request("GET", "/healthz").status == 200

    away.rename(slackbot.dev.origin)
    slackbot.push_revision(OTHER, OTHER_ENTRY)
    with caplog.at_level("INFO", logger="bot.running"):
        report = watcher.cycle()

    assert report is not None and [d.revision for d in report.new] == [OTHER.revision]
    assert "the repository answers again" in caplog.text
    assert status_of(slackbot, OTHER.revision) == "Awaiting review 0/1"
    assert len([e for e in slackbot.errors() if e.startswith("scan failed")]) == 1
    slackbot.forget_errors()
