"""A card that follows its revision file: changed, merged, removed."""

from __future__ import annotations

from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY
from bot.standin.signing import button_click
from tests.support.card_reading import (
    REVISION,
    approvals,
    block,
    ephemeral_to,
)
from tests.support.slackbot import (
    CHANNEL,
    REVIEWER,
    SlackBot,
    card_text,
    texts,
)

# -- the revision changes ---------------------------------------------------------------


def test_a_changed_file_makes_the_approval_stale(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    slackbot.click("approve", REVIEWER)
    slackbot.wait_for_card(lambda text: "Approved 1/1" in text)

    edited = DEMO_PENDING.source().replace('server_default="public"', 'server_default="private"')
    slackbot.dev.write(DEMO_PENDING.path, edited, message="Default to private")
    slackbot.dev.push()
    report = slackbot.scan()

    assert report is not None and [d.revision for d in report.changed] == [REVISION]
    card = slackbot.card()
    text = card_text(card)
    assert "Awaiting review 0/1" in texts(block(card, "status"))[0]
    assert f":recycle: <@{REVIEWER}> approved an earlier version: approval is stale" in text
    assert f"Changed after approval by <@{REVIEWER}>: `{DEMO_PENDING.path}`" in text
    assert len(slackbot.cards()) == 1
    # Approving again counts for the new version.
    slackbot.click("approve", REVIEWER)
    slackbot.wait_for_card(lambda text: "Approved 1/1" in text and "stale" not in text)


def test_a_branch_revision_keeps_its_card_when_merged(slackbot: SlackBot) -> None:
    slackbot.scan()
    slackbot.dev.switch("feature/visibility", create=True)
    slackbot.push_revision(DEMO_PENDING, DEMO_PENDING_ENTRY)
    slackbot.scan()
    posted = slackbot.card()
    assert "on branch `feature/visibility`, not on `main` yet" in texts(block(posted, "status"))[0]

    slackbot.dev.switch("main")
    slackbot.dev.repo.git.merge("--no-ff", "feature/visibility", "-m", "Merge visibility")
    slackbot.dev.push("main")
    slackbot.scan()

    [card] = slackbot.cards()
    assert card.ts == posted.ts
    assert "on `main`" in texts(block(card, "status"))[0]


def test_a_removed_revision_closes_its_card(slackbot: SlackBot) -> None:
    posted = slackbot.review_pending()

    slackbot.dev.remove(DEMO_PENDING.path)
    slackbot.dev.push()
    slackbot.scan()

    card = slackbot.card()
    assert card.ts == posted.ts
    assert ":wastebasket: *Removed*" in texts(block(card, "status"))[0]
    assert not [b for b in card.blocks if b.get("block_id") == f"review:{REVISION}"]
    # A click on the card as someone still saw it is refused to them.
    stale = posted.as_slack()
    payload = button_click(
        "approve",
        message=stale,
        channel_id=CHANNEL,
        user_id=REVIEWER,
        response_url=slackbot.fake.response_url(CHANNEL, REVIEWER, posted.ts),
    )
    slackbot.deliver("interactive", payload)
    assert "removed" in ephemeral_to(slackbot, REVIEWER)
    assert approvals(slackbot) == []
