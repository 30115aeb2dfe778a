"""The bot killed mid-apply: the card, production and the document afterwards."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from tests.support.applyteam import BASELINE, columns, production_versions
from tests.support.chaos import (
    approve_in_slack,
    doc_commits,
    migrations_waiting,
    other_sessions,
    start_crash_apply,
    status_of,
    tables_locked,
    thread_of,
    wait_until,
)
from tests.support.production_bot import (
    APPLIER,
    REVISION,
    production_bot,
)
from tests.support.slackbot import (
    SlackBot,
    origin_doc,
)

# -- killed mid-apply ---------------------------------------------------------------------


def test_killed_during_the_migration_the_card_says_failed_and_production_is_unchanged(
    slackbot_factory: Callable[..., SlackBot], pg_url: str, tmp_path: Path
) -> None:
    bot = production_bot(slackbot_factory, pg_url)
    bot.review_pending()
    approve_in_slack(bot, REVISION)

    with tables_locked(pg_url, "posts"):
        crashing = start_crash_apply(bot.settings, REVISION, APPLIER, tmp_path)
        wait_until(lambda: migrations_waiting(pg_url) == 1)
        bot.wait_for_card(lambda shown: "*Applying*" in shown, REVISION)
        crashing.send_signal(signal.SIGKILL)
        crashing.wait()
    # The killed bot's session finishes its statement, finds no client and rolls back.
    wait_until(lambda: other_sessions(pg_url) == 0)
    assert production_versions(pg_url) == {BASELINE}
    assert "visibility" not in columns(pg_url, "posts")

    bot.restart()
    assert bot.services.applier is not None
    bot.services.applier.recover()

    assert status_of(bot, REVISION) == "Failed"
    assert "Production was not changed; run `/schema apply` again." in thread_of(bot, REVISION)
    assert [run.state for run in bot.services.store.runs_for(REVISION)] == ["interrupted"]
    assert bot.services.store.get_lock("apply") is None

    bot.command(f"apply {REVISION}", APPLIER)
    bot.wait_for(lambda: status_of(bot, REVISION) == "Applied", timeout=60)
    assert production_versions(pg_url) == {REVISION}
    assert doc_commits(bot, REVISION) == 1
    states = [run.state for run in bot.services.store.runs_for(REVISION)]
    assert states == ["interrupted", "succeeded"]


def test_killed_between_the_migration_and_the_push_the_card_says_applied_after_restart(
    slackbot_factory: Callable[..., SlackBot], pg_url: str, tmp_path: Path
) -> None:
    bot = production_bot(slackbot_factory, pg_url)
    bot.review_pending()
    approve_in_slack(bot, REVISION)
    before = origin_doc(bot)
    # The origin stalls the bot's push until the test lets it fail.
    hook = bot.dev.origin / "hooks" / "pre-receive"
    pushing, release = tmp_path / "pushing", tmp_path / "release"
    hook.write_text(
        f"#!/bin/sh\ntouch {pushing}\nwhile [ ! -e {release} ]; do sleep 0.05; done\nexit 1\n"
    )
    hook.chmod(0o755)

    crashing = start_crash_apply(bot.settings, REVISION, APPLIER, tmp_path)
    wait_until(pushing.exists)
    crashing.send_signal(signal.SIGKILL)
    crashing.wait()
    release.touch()
    hook.unlink()
    assert status_of(bot, REVISION) == "Applying"
    assert production_versions(pg_url) == {REVISION}
    assert origin_doc(bot) == before

    bot.restart()
    assert bot.services.applier is not None
    bot.services.applier.recover()
    bot.services.applier.recover()

    assert status_of(bot, REVISION) == "Applied"
    assert ":rocket:" in thread_of(bot, REVISION)
    assert [run.state for run in bot.services.store.runs_for(REVISION)] == ["succeeded"]
    assert production_versions(pg_url) == {REVISION}
    assert doc_commits(bot, REVISION) == 1
    assert "- **Applied to Prod**: Yes - " in origin_doc(bot)
