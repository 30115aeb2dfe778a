"""The bot over HTTP, as a team sees it: a pushed revision, its card, the clicks and commands.

Each test runs the production app (waitress, Bolt, the handlers, the store, a real git
origin) against FakeSlack, sends signed requests as Slack does, and looks at what reached
Slack and at the state store. See tests/slackbot.py.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY, MigrationSpec
from bot.standin.signing import app_home_opened, button_click, event_callback
from bot.standin.workspace import Message
from tests.support.slackbot import (
    CHANNEL,
    DEVELOPER,
    OUTSIDER,
    REVIEWER,
    SECOND_REVIEWER,
    SlackBot,
    card_text,
    texts,
)

REVISION = DEMO_PENDING.revision
DOC = "SCHEMA_CHANGES.md"


def block(card: Message, block_id: str) -> dict[str, Any]:
    found = [b for b in card.blocks if b.get("block_id") == block_id]
    assert len(found) == 1, f"{len(found)} blocks {block_id!r} on the card"
    return found[0]


def checkboxes(card: Message) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = block(card, f"checklist:{REVISION}")["elements"]
    return elements


def ticked(card: Message) -> list[str]:
    """The values of the checklist items the card shows ticked."""
    return [o["value"] for e in checkboxes(card) for o in e.get("initial_options", [])]


def payload_of(delivery_request: str) -> dict[str, Any]:
    """The interaction payload inside a form body `payload=<json>`."""
    payload: dict[str, Any] = json.loads(parse_qs(delivery_request)["payload"][0])
    return payload


def ephemeral_to(bot: SlackBot, user: str) -> str:
    """The first ephemeral message `user` got, once it arrives."""
    return bot.wait_for(lambda: bot.fake.ephemerals(user))[0].text


def approvals(bot: SlackBot) -> list[tuple[str, str]]:
    return [(v.user_id, v.verdict) for v in bot.services.store.current_verdicts(REVISION)]


def actions(bot: SlackBot) -> list[tuple[str, str]]:
    """(actor, action) of the revision's audit log, leaving out the bot's own rows."""
    return [
        (event.actor, event.action)
        for event in bot.services.store.audit_for(REVISION)
        if event.actor != "schemabot"
    ]


def settled(bot: SlackBot, check: Callable[[], object]) -> None:
    """Wait until a Home tab request sent now is answered, so earlier work is done too.

    Listeners run in Bolt's thread pool after the ack; one that was going to run has run
    by the time a later request's effect shows. Then `check()` must hold.
    """
    before = len(bot.fake.calls("views.publish"))
    bot.home(OUTSIDER)
    bot.wait_for(lambda: len(bot.fake.calls("views.publish")) > before)
    assert check()


# -- the card ---------------------------------------------------------------------------


def test_the_first_scan_takes_the_seed_as_history_and_posts_nothing(slackbot: SlackBot) -> None:
    report = slackbot.scan()

    assert report is not None and report.first_scan
    assert report.history == 6 and report.new == ()
    assert slackbot.cards() == []
    assert slackbot.fake.calls("chat.postMessage") == []


def test_a_pushed_revision_gets_exactly_one_card(slackbot: SlackBot) -> None:
    slackbot.review_pending()

    for _ in range(2):
        slackbot.scan()
    slackbot.restart()
    slackbot.scan()

    [card] = slackbot.cards()
    assert len(slackbot.fake.calls("chat.postMessage")) == 1
    assert slackbot.fake.calls("chat.update") == []
    assert card.text.startswith(f"Schema review: {REVISION}")


def test_a_card_slack_refused_is_posted_at_the_next_scan(slackbot: SlackBot) -> None:
    slackbot.scan()
    slackbot.push_revision(DEMO_PENDING, DEMO_PENDING_ENTRY)
    # Say the bot was not invited to the channel yet, or Slack was down.
    slackbot.fake.fail_next("chat.postMessage", error="not_in_channel")
    slackbot.scan()
    assert slackbot.cards() == []
    assert any(REVISION in line for line in slackbot.errors())
    slackbot.forget_errors()

    slackbot.scan()

    [card] = slackbot.cards()
    assert card.text.startswith(f"Schema review: {REVISION}")
    slackbot.scan()
    assert len(slackbot.cards()) == 1


def test_the_card_shows_the_revision_its_author_and_its_checklist(slackbot: SlackBot) -> None:
    card = slackbot.review_pending()

    assert texts(block(card, "title")) == [f"{REVISION} - Add Visibility to Posts"]
    status = texts(block(card, "status"))[0]
    assert "Awaiting review 0/1" in status
    # The git author, found in Slack by email, is mentioned.
    assert f"by <@{DEVELOPER}>" in status
    lookups = slackbot.fake.calls("users.lookupByEmail")
    assert [c.args["email"] for c in lookups] == ["dana@example.com"]
    facts = texts(block(card, "facts"))
    assert "*Type*\nADD COLUMN" in facts
    assert "*Tables Affected*\n`posts`" in facts
    assert "*Breaking Changes*\nNo" in facts
    assert f"*File*\n`{DEMO_PENDING.path}`" in facts
    assert "visibility" in texts(block(card, "description"))[0]
    # Only what a person ticks is a checkbox; what the bot verifies is context.
    [element] = checkboxes(card)
    assert element["type"] == "checkboxes"
    assert [o["text"]["text"] for o in element["options"]] == [
        "Migration created and tested in dev environment",
        "Code review completed",
        "Breaking changes identified and documented",
        "Rollback plan documented",
        "Migration tested on production-like data (if possible)",
    ]
    assert "initial_options" not in element
    bot_checks = block(card, "bot_checks")
    assert bot_checks["type"] == "context"
    bot_text = texts(bot_checks)[0]
    assert ":white_check_mark: Migration documented in this file" in bot_text
    assert ":white_check_mark: Team notified of schema change" in bot_text
    assert ":white_large_square: Database backup created (for prod)" in bot_text
    buttons = block(card, f"review:{REVISION}")["elements"]
    assert [(b["action_id"], b["text"]["text"]) for b in buttons] == [
        ("approve", "Approve"),
        ("request_changes", "Request changes"),
        ("withdraw", "Withdraw my verdict"),
    ]
    assert {b["value"] for b in buttons} == {REVISION}


def test_a_revision_without_an_entry_says_so_on_its_card(slackbot: SlackBot) -> None:
    slackbot.scan()
    slackbot.push_revision(DEMO_PENDING, entry=None)
    slackbot.scan()

    text = card_text(slackbot.card())

    assert f"{REVISION} - Add visibility to posts" in text
    assert f"No entry for this revision in `{DOC}` on `main`." in text


# -- verdicts ---------------------------------------------------------------------------


def test_an_approval_updates_the_card_in_place(slackbot: SlackBot) -> None:
    posted = slackbot.review_pending()

    delivery = slackbot.click("approve", REVIEWER)

    assert delivery.status == 200
    card = slackbot.wait_for_card(lambda text: "Approved 1/1" in text)
    assert card.ts == posted.ts and len(slackbot.cards()) == 1
    [update] = slackbot.fake.calls("chat.update")
    assert (update.args["channel"], update.args["ts"], update.ok) == (CHANNEL, posted.ts, True)
    assert f":white_check_mark: Approved by <@{REVIEWER}>" in texts(block(card, "verdicts"))
    assert approvals(slackbot) == [(REVIEWER, "approve")]
    assert slackbot.fake.ephemerals() == []


def test_the_author_cannot_approve_their_own_revision(slackbot: SlackBot) -> None:
    posted = slackbot.review_pending()

    assert slackbot.click("approve", DEVELOPER).status == 200

    refusal = ephemeral_to(slackbot, DEVELOPER)
    assert REVISION in refusal and "You wrote" in refusal
    assert slackbot.fake.ephemerals(DEVELOPER)[0].channel == CHANNEL
    assert approvals(slackbot) == []
    assert slackbot.fake.calls("chat.update") == []
    assert slackbot.card().blocks == posted.blocks


def test_only_the_configured_approvers_may_approve(
    slackbot_factory: Callable[..., SlackBot],
) -> None:
    bot = slackbot_factory(approvers=frozenset({REVIEWER, SECOND_REVIEWER}))
    posted = bot.review_pending()

    bot.click("approve", OUTSIDER)

    refusal = ephemeral_to(bot, OUTSIDER)
    assert "SCHEMABOT_APPROVERS" in refusal and REVISION in refusal
    assert approvals(bot) == [] and bot.card().blocks == posted.blocks
    bot.click("approve", SECOND_REVIEWER)
    bot.wait_for_card(lambda text: "Approved 1/1" in text)
    assert approvals(bot) == [(SECOND_REVIEWER, "approve")]


def test_two_approvals_at_once_both_show(slackbot_factory: Callable[..., SlackBot]) -> None:
    bot = slackbot_factory(required_approvals=2)
    bot.review_pending()
    payloads = [
        button_click("approve", message=bot.card().as_slack(), channel_id=CHANNEL, user_id=user)
        for user in (REVIEWER, SECOND_REVIEWER)
    ]

    threads = [
        threading.Thread(target=bot.deliver, args=("interactive", payload)) for payload in payloads
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    card = bot.wait_for_card(lambda text: "Approved 2/2" in text)
    shown = texts(block(card, "verdicts"))[0]
    assert f"<@{REVIEWER}>" in shown and f"<@{SECOND_REVIEWER}>" in shown
    settled(bot, lambda: "Approved 2/2" in card_text(bot.card()))


def test_a_reviewer_withdraws_their_approval(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    slackbot.click("approve", REVIEWER)
    slackbot.wait_for_card(lambda text: "Approved 1/1" in text)

    slackbot.click("withdraw", REVIEWER)

    card = slackbot.wait_for_card(lambda text: "Awaiting review 0/1" in text)
    assert f"<@{REVIEWER}>" not in card_text(card)
    assert approvals(slackbot) == []
    assert actions(slackbot) == [(REVIEWER, "approve"), (REVIEWER, "withdraw")]
    # Nothing left to withdraw: told so, privately.
    slackbot.click("withdraw", REVIEWER)
    assert "no approval or change request" in ephemeral_to(slackbot, REVIEWER)


def test_request_changes_asks_for_a_reason_and_shows_it(slackbot: SlackBot) -> None:
    slackbot.review_pending()

    click = slackbot.click("request_changes", REVIEWER)

    [opened] = slackbot.wait_for(lambda: slackbot.fake.calls("views.open"))
    assert opened.ok and opened.args["trigger_id"] == payload_of(click.request)["trigger_id"]
    [modal] = slackbot.fake.views_opened
    assert (modal["callback_id"], modal["private_metadata"]) == ("request_changes", REVISION)
    assert slackbot.fake.calls("chat.update") == []

    submitted = slackbot.submit_request_changes("Create the index concurrently", REVIEWER)

    # An empty answer closes the modal.
    assert submitted.status == 200 and submitted.json is None
    card = slackbot.wait_for_card(lambda text: "Changes requested" in text)
    reason = f":raised_hand: <@{REVIEWER}> requested changes: Create the index concurrently"
    assert reason in texts(block(card, "verdicts"))
    assert ":raised_hand: *Changes requested*" in texts(block(card, "status"))[0]


def test_approving_after_requesting_changes_withdraws_the_request(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    slackbot.click("request_changes", REVIEWER)
    slackbot.wait_for(lambda: slackbot.fake.views_opened)
    slackbot.submit_request_changes("Backfill in batches", REVIEWER)
    slackbot.wait_for_card(lambda text: "Changes requested" in text)

    slackbot.click("approve", REVIEWER)

    card = slackbot.wait_for_card(lambda text: "Approved 1/1" in text)
    assert "Backfill in batches" not in card_text(card)
    assert "Changes requested" not in card_text(card)
    assert approvals(slackbot) == [(REVIEWER, "approve")]


def test_an_empty_reason_is_refused_inside_the_modal(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    slackbot.click("request_changes", REVIEWER)
    slackbot.wait_for(lambda: slackbot.fake.views_opened)

    refused = slackbot.submit_request_changes("   ", REVIEWER)

    assert refused.status == 200
    assert refused.json["response_action"] == "errors"
    assert set(refused.json["errors"]) == {"reason"}
    assert approvals(slackbot) == []
    # The person types a reason into the same modal and sends it again.
    accepted = slackbot.submit_request_changes("Say why posts need it", REVIEWER)
    assert accepted.status == 200 and accepted.json is None
    slackbot.wait_for_card(lambda text: "Say why posts need it" in text)
    assert approvals(slackbot) == [(REVIEWER, "request_changes")]


# -- the checklist ----------------------------------------------------------------------

TESTED = "migration-created-and-tested-in-dev-environment"
REVIEWED = "code-review-completed"


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
    assert f"The file changed after approval by <@{REVIEWER}>" in text
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
    payload = button_click("approve", message=stale, channel_id=CHANNEL, user_id=REVIEWER)
    slackbot.deliver("interactive", payload)
    assert "removed" in ephemeral_to(slackbot, REVIEWER)
    assert approvals(slackbot) == []


# -- /schema ----------------------------------------------------------------------------


def test_schema_help(slackbot: SlackBot) -> None:
    for text in ("help", ""):
        answer = slackbot.command(text, REVIEWER)

        assert answer.delivery.status == 200
        assert answer.response_type == "ephemeral"
        for sub in ("list", "status", "apply", "rollback", "help"):
            assert f"/schema {sub}" in answer.text


def test_schema_list_and_status(slackbot: SlackBot) -> None:
    slackbot.scan()
    assert "No schema changes are waiting" in slackbot.command("list", REVIEWER).text
    slackbot.push_revision(DEMO_PENDING, DEMO_PENDING_ENTRY)
    slackbot.scan()
    slackbot.click("approve", REVIEWER)
    slackbot.wait_for_card(lambda text: "Approved 1/1" in text)

    listed = slackbot.command("list", OUTSIDER)
    status = slackbot.command("status b41f", OUTSIDER)

    assert f"`{REVISION}` Add Visibility to Posts: Approved 1/1" in listed.text
    assert "needs 5 checklist item(s) ticked" in listed.text
    assert status.text.startswith(f"*{REVISION}* - Add Visibility to Posts")
    assert "Status: Approved 1/1" in status.text
    assert f"Approved by <@{REVIEWER}>" in status.text
    assert f"<@{REVIEWER}> approve" in status.text
    assert {listed.response_type, status.response_type} == {"ephemeral"}
    # Only the person who asked sees the answers.
    assert [e.user for e in slackbot.fake.ephemerals()] == [REVIEWER, OUTSIDER, OUTSIDER]
    assert len(slackbot.cards()) == 1


def test_schema_status_of_an_unknown_or_ambiguous_prefix(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    twin = MigrationSpec("b41f00c0ffee", REVISION, "Add pinned to posts", "add_pinned_to_posts")
    slackbot.push_revision(twin, entry=None)
    slackbot.scan()

    unknown = slackbot.command("status 9z9z", REVIEWER)
    ambiguous = slackbot.command("status b41f", REVIEWER)
    unique = slackbot.command("status b41f0", REVIEWER)

    assert "No revision starts with `9z9z`" in unknown.text
    assert REVISION in ambiguous.text and twin.revision in ambiguous.text
    assert "type more" in ambiguous.text
    assert unique.text.startswith(f"*{twin.revision}*")
    assert len(slackbot.cards()) == 2


def test_schema_status_of_a_revision_already_in_production(slackbot: SlackBot) -> None:
    slackbot.review_pending()

    status = slackbot.command("status ae8f", REVIEWER)

    assert status.text.startswith("*ae8fcb7881c7* - Replace Follows with Connections")
    assert "Status: In production before schemabot" in status.text
    assert "Awaiting review" not in status.text and "Still needs" not in status.text


def test_schema_apply_answers_the_person_who_asked(slackbot: SlackBot) -> None:
    posted = slackbot.review_pending()

    answer = slackbot.command("apply b41f", REVIEWER)

    assert answer.delivery.status == 200
    assert answer.response_type == "ephemeral" and REVISION in answer.text
    # Not approved, no database: nothing is applied.
    assert all(run.state != "succeeded" for run in slackbot.services.store.runs_for(REVISION))
    assert "Applied" not in texts(block(slackbot.card(), "status"))[0]
    assert slackbot.card().ts == posted.ts


def test_an_unknown_subcommand_gets_the_help(slackbot: SlackBot) -> None:
    answer = slackbot.command("frobnicate b41f", REVIEWER)

    assert "`/schema frobnicate`" in answer.text
    assert "/schema list" in answer.text


# -- App Home ---------------------------------------------------------------------------


def test_the_home_tab_lists_pending_reviews_with_links(slackbot: SlackBot) -> None:
    card = slackbot.review_pending()

    assert slackbot.home(REVIEWER).status == 200

    home = slackbot.wait_for(lambda: slackbot.fake.home_views.get(REVIEWER))
    [publish] = slackbot.fake.calls("views.publish")
    assert publish.ok and publish.args["user_id"] == REVIEWER
    [link] = [c.response["permalink"] for c in slackbot.fake.calls("chat.getPermalink")]
    assert link.endswith(f"/archives/{CHANNEL}/p{card.ts.replace('.', '')}")
    text = "\n".join(texts(home["blocks"]))
    assert "Schema changes awaiting review" in text
    assert f"*<{link}|{REVISION}>* - Add Visibility to Posts" in text
    assert "Awaiting review 0/1" in text and "needs 1 more approval" in text


def test_the_home_tab_when_nothing_is_pending(slackbot: SlackBot) -> None:
    slackbot.scan()

    slackbot.home(DEVELOPER)

    home = slackbot.wait_for(lambda: slackbot.fake.home_views.get(DEVELOPER))
    assert "Nothing is pending." in "\n".join(texts(home["blocks"]))


def test_opening_the_messages_tab_publishes_nothing(slackbot: SlackBot) -> None:
    slackbot.scan()

    slackbot.deliver("events_api", event_callback(app_home_opened(REVIEWER, tab="messages")))

    settled(slackbot, lambda: REVIEWER not in slackbot.fake.home_views)


# -- acks, signatures, retries ----------------------------------------------------------


def test_the_ack_does_not_wait_for_the_card_update(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    # Slack rate-limits the update: the bot waits a second (Retry-After) and tries again.
    slackbot.fake.fail_next("chat.update", status=429, retry_after=1)

    delivery = slackbot.click("approve", REVIEWER)
    shown_at_ack = card_text(slackbot.card())

    # Had the ack waited for the card, it would have taken the whole Retry-After second.
    assert delivery.status == 200 and delivery.seconds < 1.0
    assert "Approved 1/1" not in shown_at_ack
    slackbot.wait_for_card(lambda text: "Approved 1/1" in text)
    assert [c.status for c in slackbot.fake.calls("chat.update")] == [429, 200]


def test_every_request_in_a_review_is_acked_within_three_seconds(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    slackbot.command("status b41f", REVIEWER)
    slackbot.click("request_changes", REVIEWER)
    slackbot.wait_for(lambda: slackbot.fake.views_opened)
    slackbot.submit_request_changes("Split it in two", REVIEWER)
    slackbot.tick([TESTED], SECOND_REVIEWER)
    slackbot.click("approve", SECOND_REVIEWER)
    slackbot.home(DEVELOPER)
    slackbot.wait_for_card(lambda text: "Changes requested" in text and "Approved by" in text)

    deliveries = slackbot.deliveries
    assert len(deliveries) == 6
    assert all(d.status == 200 and d.seconds < 3.0 for d in deliveries)


def test_a_forged_or_stale_request_is_refused_and_changes_nothing(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    approve = slackbot.click("approve", REVIEWER)
    slackbot.wait_for_card(lambda text: "Approved 1/1" in text)
    slackbot.click("withdraw", REVIEWER)
    slackbot.wait_for_card(lambda text: "Awaiting review 0/1" in text)
    updates = len(slackbot.fake.calls("chat.update"))
    # A click nobody has sent yet, replayed by someone without the signing secret...
    replay = approve.request.replace(REVIEWER, OUTSIDER)

    forged = slackbot.post(replay, secret="not-the-signing-secret")
    stale = slackbot.post(replay, timestamp=int(time.time()) - 6 * 60)
    unsigned = slackbot.request("POST", "/slack/events", replay, {"Content-Type": "text/plain"})

    assert (forged.status, stale.status, unsigned.status) == (401, 401, 401)
    settled(slackbot, lambda: len(slackbot.fake.calls("chat.update")) == updates)
    assert approvals(slackbot) == []
    assert (OUTSIDER, "approve") not in actions(slackbot)
    # The same request, signed by Slack, is then taken: the refusals left no trace.
    assert slackbot.post(replay).status == 200
    slackbot.wait_for_card(lambda text: f"Approved by <@{OUTSIDER}>" in text)


def test_health_check_and_unknown_paths(slackbot: SlackBot) -> None:
    health = slackbot.request("GET", "/healthz")
    unknown = slackbot.request("GET", "/admin")
    wrong_method = slackbot.request("GET", "/slack/events")

    assert (health.status, health.json) == (200, {"ok": True})
    assert unknown.status == 404 and wrong_method.status == 404


def test_a_retried_event_is_handled_once(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    body = json.dumps(event_callback(app_home_opened(REVIEWER)))

    first = slackbot.post(body)
    slackbot.wait_for(lambda: slackbot.fake.home_views.get(REVIEWER))
    retry = slackbot.post(body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "x"})
    # The bot remembers deliveries in its state: a retry that arrives after a restart too.
    slackbot.restart()
    late = slackbot.post(body, headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "x"})

    assert (first.status, retry.status, late.status) == (200, 200, 200)
    settled(
        slackbot,
        lambda: (
            [c.args["user_id"] for c in slackbot.fake.calls("views.publish")]
            == [REVIEWER, OUTSIDER]
        ),
    )


def test_a_repeated_click_is_counted_once(slackbot: SlackBot) -> None:
    slackbot.review_pending()

    click = slackbot.click("approve", REVIEWER)
    again = slackbot.post(click.request)

    assert (click.status, again.status) == (200, 200)
    slackbot.wait_for_card(lambda text: "Approved 1/1" in text)
    settled(slackbot, lambda: len(slackbot.fake.calls("chat.update")) == 1)
    assert actions(slackbot) == [(REVIEWER, "approve")]
