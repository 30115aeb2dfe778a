"""Two applies at once, and a retried apply command."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from tests.support.applyteam import production_versions
from tests.support.chaos import (
    approve_in_slack,
    doc_commits,
    gate_checks_waiting,
    migrations_waiting,
    said_to,
    status_of,
    tables_locked,
    wait_until,
)
from tests.support.production_bot import (
    APPLIER,
    OTHER,
    OTHER_APPLIER,
    OTHER_ENTRY,
    REVISION,
    answered,
    production_bot,
)
from tests.support.slackbot import (
    SlackBot,
)

# -- two applies at once ------------------------------------------------------------------


def apply_both(bot: SlackBot, first: str, second: str) -> None:
    """APPLIER types `/schema apply first` and OTHER_APPLIER `/schema apply second` at the
    same moment."""
    threads = [
        threading.Thread(
            target=bot.command, args=(f"apply {first}", APPLIER), kwargs={"wait": False}
        ),
        threading.Thread(
            target=bot.command, args=(f"apply {second}", OTHER_APPLIER), kwargs={"wait": False}
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.parametrize("second", [REVISION, OTHER.revision], ids=["same", "different"])
def test_two_applies_at_once_run_one_migration_and_refuse_the_other(
    slackbot_factory: Callable[..., SlackBot], pg_url: str, second: str
) -> None:
    bot = production_bot(slackbot_factory, pg_url)
    bot.review_pending()
    bot.push_revision(OTHER, OTHER_ENTRY)
    bot.scan()
    approve_in_slack(bot, REVISION)
    approve_in_slack(bot, OTHER.revision)

    with tables_locked(pg_url, "posts", "users"):
        # Production is slow to answer (a long transaction holds `alembic_version`), so both
        # gate checks wait there and pass at the same moment.
        with tables_locked(pg_url, "alembic_version"):
            sent = threading.Thread(target=apply_both, args=(bot, REVISION, second))
            sent.start()
            wait_until(lambda: gate_checks_waiting(pg_url) == 2)
        sent.join()
        answers = answered(bot, APPLIER), answered(bot, OTHER_APPLIER)
        # Whichever came first is migrating (held by the locks); the other was refused.
        wait_until(lambda: migrations_waiting(pg_url) == 1)
        started = [a for a in answers if "follow it in the card's thread" in a]
        refused = [a for a in answers if "another apply is running" in a.lower()]
        assert (len(started), len(refused)) == (1, 1), answers
        winner = REVISION if answers[0] in started else second
        loser = second if winner == REVISION else REVISION
        lock = bot.services.store.get_lock("apply")
        assert lock is not None and winner in lock.holder
        assert migrations_waiting(pg_url) == 1

    bot.wait_for(lambda: status_of(bot, winner) == "Applied", timeout=60)
    assert production_versions(pg_url) == {winner}
    assert [run.state for run in bot.services.store.runs_for(winner)] == ["succeeded"]
    assert doc_commits(bot, winner) == 1
    # The refusal left no trace on the other revision: no run, its card as it was.
    if loser != winner:
        assert bot.services.store.runs_for(loser) == []
        assert status_of(bot, loser) == "Approved 1/1"
        bot.command(f"apply {loser}", APPLIER)
        bot.wait_for(lambda: status_of(bot, loser) == "Applied", timeout=60)
        assert production_versions(pg_url) == {REVISION, OTHER.revision}
        assert doc_commits(bot, loser) == 1


# -- Slack retries ------------------------------------------------------------------------


def test_a_retried_apply_command_applies_once(
    slackbot_factory: Callable[..., SlackBot], pg_url: str
) -> None:
    bot = production_bot(slackbot_factory, pg_url)
    bot.review_pending()
    approve_in_slack(bot, REVISION)

    with tables_locked(pg_url, "posts"):
        first = bot.command(f"apply {REVISION}", APPLIER)
        wait_until(lambda: migrations_waiting(pg_url) == 1)
        # Slack did not see the ack in time and sends the same request again, twice.
        for attempt in ("1", "2"):
            retry = bot.post(
                first.delivery.request,
                headers={"X-Slack-Retry-Num": attempt, "X-Slack-Retry-Reason": "http_timeout"},
            )
            assert (retry.status, retry.body) == (200, b"")
    bot.wait_for(lambda: status_of(bot, REVISION) == "Applied", timeout=60)

    assert [run.state for run in bot.services.store.runs_for(REVISION)] == ["succeeded"]
    assert said_to(bot, APPLIER) == [
        first.text,
        f"Applying `{REVISION}`: follow it in the card's thread.",
    ]
    assert production_versions(pg_url) == {REVISION}
    assert doc_commits(bot, REVISION) == 1
