"""The checklist's checkboxes, ticked through Slack."""

from __future__ import annotations

from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY
from tests.support.card_reading import (
    DOC,
    REVIEWED,
    REVISION,
    TESTED,
    checkboxes,
    ticked,
)
from tests.support.slackbot import (
    REVIEWER,
    SECOND_REVIEWER,
    SlackBot,
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
