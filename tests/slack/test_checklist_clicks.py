"""The checklist's checkboxes, ticked through Slack."""

from __future__ import annotations

from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY
from bot.standin.signing import checkboxes_change
from tests.support.card_reading import (
    DOC,
    REVIEWED,
    REVISION,
    TESTED,
    block,
    checkboxes,
    checklist_block,
    ephemeral_to,
    ticked,
)
from tests.support.slackbot import (
    CHANNEL,
    DEVELOPER,
    REVIEWER,
    SECOND_REVIEWER,
    SlackBot,
    texts,
)

# -- the checklist ----------------------------------------------------------------------


def test_checklist_ticks_persist_across_a_restart(slackbot: SlackBot) -> None:
    slackbot.review_pending()

    slackbot.tick([TESTED, REVIEWED], REVIEWER)
    slackbot.wait_for(lambda: ticked(slackbot.card()) == [TESTED, REVIEWED])
    slackbot.tick([TESTED], SECOND_REVIEWER)
    slackbot.wait_for(lambda: ticked(slackbot.card()) == [TESTED])
    slackbot.restart()
    slackbot.click("approve", REVIEWER)

    card = slackbot.wait_for_card(lambda text: "Approved 1/1" in text)
    assert ticked(card) == [TESTED]
    ticks = slackbot.services.store.checklist_for(REVISION)
    assert {key: (t.ticked, t.by) for key, t in ticks.items()} == {
        TESTED: (True, REVIEWER),
        REVIEWED: (False, SECOND_REVIEWER),
    }
    log = [
        (e.actor, e.action, e.detail.get("item"))
        for e in slackbot.services.store.audit_for(REVISION)
        if e.actor != "schemabot"
    ]
    # One click ticked two items: their rows may come in either order.
    assert sorted(log[:2]) == [(REVIEWER, "tick", REVIEWED), (REVIEWER, "tick", TESTED)]
    assert log[2:] == [(SECOND_REVIEWER, "untick", REVIEWED), (REVIEWER, "approve", None)]


def test_ticks_in_the_second_checkbox_group_leave_the_first_alone(slackbot: SlackBot) -> None:
    slackbot.scan()
    doc = (slackbot.dev.root / DOC).read_text(encoding="utf-8")
    anchor = "- [ ] Updated status in this document\n"
    extra = "".join(f"- [ ] Dashboard {i} still loads\n" for i in range(12))
    slackbot.dev.write(DOC, doc.replace(anchor, anchor + extra), message="More checks")
    slackbot.push_revision(DEMO_PENDING, DEMO_PENDING_ENTRY)
    slackbot.scan()
    slackbot.tick([TESTED], REVIEWER, action_id="checklist_0")
    slackbot.wait_for(lambda: ticked(slackbot.card()) == [TESTED])

    slackbot.tick(["dashboard-11-still-loads"], SECOND_REVIEWER, action_id="checklist_1")

    slackbot.wait_for(lambda: len(ticked(slackbot.card())) == 2)
    card = slackbot.card()
    first, second = checkboxes(card)
    assert [o["value"] for o in first["initial_options"]] == [TESTED]
    assert [o["value"] for o in second["initial_options"]] == ["dashboard-11-still-loads"]
    assert (len(first["options"]), len(second["options"])) == (10, 7)


def test_a_refused_tick_is_undone_where_it_was_made(slackbot: SlackBot) -> None:
    posted = slackbot.review_pending()
    before = checklist_block(posted)

    # The author ticks: their Slack shows the box ticked until the card is sent again.
    slackbot.tick([TESTED], DEVELOPER)

    assert "can tick its checklist" in ephemeral_to(slackbot, DEVELOPER)
    [update] = slackbot.wait_for(slackbot.updates)
    card = slackbot.card()
    assert update.ok and card.ts == posted.ts
    # Sent again whole, as the server has it, the boxes under a new block id: Slack keeps
    # what someone chose in a block for as long as its id stays the same.
    assert ticked(card) == []
    assert checklist_block(card)["block_id"] != before["block_id"]
    assert checklist_block(card)["elements"] == before["elements"]
    assert slackbot.services.store.checklist_for(REVISION) == {}
    # The card keeps working under its new block id.
    slackbot.tick([TESTED], REVIEWER)
    slackbot.wait_for(lambda: ticked(slackbot.card()) == [TESTED])


def test_a_closed_review_shows_its_checklist_as_text(slackbot: SlackBot) -> None:
    posted = slackbot.review_pending()
    slackbot.tick([TESTED], REVIEWER)
    slackbot.wait_for(lambda: ticked(slackbot.card()) == [TESTED])

    slackbot.dev.remove(DEMO_PENDING.path)
    slackbot.dev.push()
    slackbot.scan()

    card = slackbot.wait_for_card(lambda text: "Removed" in text)
    assert [b for b in card.blocks if str(b.get("block_id")).startswith("checklist:")] == []
    [shown] = texts(block(card, "checklist"))
    assert "*Migration checklist* (the review is removed: no more ticks)" in shown
    assert (
        f":white_check_mark: Migration created and tested in dev environment (<@{REVIEWER}>)"
        in shown
    )
    assert ":white_large_square: Code review completed" in shown
    # A tick on the card as someone still had it open is refused, and their Slack is sent
    # the card as it is now.
    updates = len(slackbot.fake.calls("chat.update"))
    slackbot.deliver(
        "interactive",
        checkboxes_change(
            "checklist_0",
            [TESTED, REVIEWED],
            message=posted.as_slack(),
            channel_id=CHANNEL,
            user_id=SECOND_REVIEWER,
            response_url=slackbot.fake.response_url(CHANNEL, SECOND_REVIEWER, posted.ts),
        ),
    )
    assert "removed" in ephemeral_to(slackbot, SECOND_REVIEWER)
    slackbot.wait_for(lambda: len(slackbot.fake.calls("chat.update")) > updates)
    ticks = slackbot.services.store.checklist_for(REVISION)
    assert {key: tick.ticked for key, tick in ticks.items()} == {TESTED: True}
