"""Force-pushed branches, during and between scans."""

from __future__ import annotations

import threading

from bot.core.doc_update import add_entry
from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY
from bot.running import Watcher
from tests.support.chaos import (
    status_of,
)
from tests.support.production_bot import (
    OTHER,
    OTHER_ENTRY,
    REVISION,
)
from tests.support.slackbot import (
    CHANNEL,
    REVIEWER,
    SlackBot,
)


def rewritten_histories(bot: SlackBot) -> tuple[str, str]:
    """Two local commits on main's tip, as two rewrites of it: one adds REVISION, the
    other OTHER (each with its document entry). Nothing is pushed."""
    tips = []
    for name, spec, entry in (
        ("rewrite-a", DEMO_PENDING, DEMO_PENDING_ENTRY),
        ("rewrite-b", OTHER, OTHER_ENTRY),
    ):
        bot.dev.switch("main")
        bot.dev.switch(name, create=True)
        bot.dev.add_migration(spec)
        doc = (bot.dev.root / "SCHEMA_CHANGES.md").read_text(encoding="utf-8")
        bot.dev.write("SCHEMA_CHANGES.md", add_entry(doc, entry), message="Document it")
        tips.append(bot.dev.repo.head.commit.hexsha)
    bot.dev.switch("main")
    return tips[0], tips[1]


def force_push(bot: SlackBot, commit: str) -> None:
    bot.dev.repo.git.push("--force", "origin", f"{commit}:refs/heads/main")


def test_a_force_pushed_main_closes_the_dropped_revision_and_reviews_the_new_one(
    slackbot: SlackBot,
) -> None:
    slackbot.scan()
    with_pending, with_other = rewritten_histories(slackbot)
    force_push(slackbot, with_pending)
    slackbot.scan()
    slackbot.click("approve", REVIEWER, REVISION)
    slackbot.wait_for(lambda: status_of(slackbot, REVISION) == "Approved 1/1")

    force_push(slackbot, with_other)
    report = slackbot.scan()

    assert report is not None
    assert [d.revision for d in report.removed] == [REVISION]
    assert [d.revision for d in report.new] == [OTHER.revision]
    assert status_of(slackbot, REVISION) == "Removed"
    assert status_of(slackbot, OTHER.revision) == "Awaiting review 0/1"
    assert len(slackbot.cards()) == 2


def test_force_pushes_during_scans_leave_one_card_per_revision_and_the_last_push_wins(
    slackbot: SlackBot,
) -> None:
    slackbot.scan()
    histories = rewritten_histories(slackbot)
    pushes = [histories[number % 2] for number in range(10)]
    rewriting = threading.Thread(target=lambda: [force_push(slackbot, c) for c in pushes])
    watcher = Watcher(slackbot.services)

    rewriting.start()
    while rewriting.is_alive():
        watcher.cycle()
    rewriting.join()
    watcher.cycle()

    # The last push left OTHER on main: its card is open, REVISION's is closed.
    assert status_of(slackbot, OTHER.revision) == "Awaiting review 0/1"
    assert status_of(slackbot, REVISION) == "Removed"
    assert len(slackbot.cards()) == 2
    assert slackbot.fake.orphans(CHANNEL) == []
