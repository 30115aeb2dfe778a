"""Who may approve and tick, when git identities are what a pusher says they are."""

from __future__ import annotations

from collections.abc import Callable

from git import Actor

from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY
from tests.support.card_reading import REVIEWED, REVISION, TESTED, approvals, block, ephemeral_to
from tests.support.gitrepos import DANA
from tests.support.slackbot import (
    DEVELOPER,
    OUTSIDER,
    REVIEWER,
    SECOND_REVIEWER,
    SlackBot,
    card_text,
    texts,
)

RITA = Actor("Rita Reviewer", "rita@example.com")


def test_whoever_committed_or_rewrote_the_file_cannot_approve_it(slackbot: SlackBot) -> None:
    slackbot.scan()
    # Rita's migration, committed by Dana: author and committer are both on record.
    slackbot.push_revision(DEMO_PENDING, DEMO_PENDING_ENTRY, author=RITA, committer=DANA)
    slackbot.scan()
    assert (
        "Also written or committed by Dana Developer" in texts(block(slackbot.card(), "status"))[0]
    )

    slackbot.click("approve", DEVELOPER)
    slackbot.click("approve", REVIEWER)

    assert "You wrote or committed part of" in ephemeral_to(slackbot, DEVELOPER)
    assert "You wrote or committed part of" in ephemeral_to(slackbot, REVIEWER)
    assert approvals(slackbot) == []


def test_rewriting_a_colleagues_approved_migration_does_not_let_you_approve_it(
    slackbot: SlackBot,
) -> None:
    slackbot.scan()
    slackbot.push_revision(DEMO_PENDING, DEMO_PENDING_ENTRY, author=RITA)
    slackbot.scan()
    slackbot.click("approve", DEVELOPER)
    slackbot.wait_for_card(lambda text: "Approved 1/1" in text)

    edited = DEMO_PENDING.source().replace('server_default="public"', 'server_default="x"')
    slackbot.dev.write(DEMO_PENDING.path, edited, author=DANA, message="Tweak Rita's migration")
    slackbot.dev.push()
    slackbot.scan()
    slackbot.click("approve", DEVELOPER)

    assert "You wrote or committed part of" in ephemeral_to(slackbot, DEVELOPER)
    assert "Approved" not in texts(block(slackbot.card(), "status"))[0]


def test_only_approvers_and_appliers_tick_the_checklist_and_never_the_author(
    slackbot_factory: Callable[..., SlackBot],
) -> None:
    bot = slackbot_factory(approvers=frozenset({REVIEWER}), appliers=frozenset({SECOND_REVIEWER}))
    bot.review_pending()

    bot.tick([REVIEWED], OUTSIDER)
    bot.tick([REVIEWED], DEVELOPER)
    assert "can tick its checklist" in ephemeral_to(bot, OUTSIDER)
    assert "can tick its checklist" in ephemeral_to(bot, DEVELOPER)
    assert bot.services.store.checklist_for(REVISION) == {}

    bot.tick([TESTED], SECOND_REVIEWER)
    bot.wait_for(lambda: bot.services.store.checklist_for(REVISION))
    bot.tick([TESTED, REVIEWED], REVIEWER)
    bot.wait_for(lambda: len(bot.services.store.checklist_for(REVISION)) == 2)


def test_a_checklist_edited_on_main_cannot_drop_a_required_item(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    doc = (slackbot.dev.root / "SCHEMA_CHANGES.md").read_text(encoding="utf-8")
    slackbot.dev.write(
        "SCHEMA_CHANGES.md", doc.replace("- [ ] Code review completed\n", ""), message="Trim"
    )
    slackbot.dev.push()
    slackbot.scan()

    card = card_text(slackbot.card())
    assert "no longer has the required item(s) `code-review-completed`" in card
