"""/schema and its subcommands, answered to the person who asked."""

from __future__ import annotations

from slack_sdk.webhook import WebhookClient

from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY, MigrationSpec
from bot.standin.signing import slash_command
from tests.support.card_reading import (
    REVISION,
    block,
)
from tests.support.slackbot import (
    CHANNEL,
    OUTSIDER,
    REVIEWER,
    SlackBot,
    texts,
)

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


# -- answers when the response_url is no more -------------------------------------------


def test_an_answer_whose_response_url_expired_comes_as_an_ephemeral(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    fields = slash_command(
        "status b41f",
        user_id=REVIEWER,
        channel_id=CHANNEL,
        response_url=slackbot.fake.response_url(CHANNEL, REVIEWER),
    )
    # Slack's response_urls expire thirty minutes after the command.
    slackbot.fake.expire_response_urls()

    assert slackbot.deliver("slash_commands", fields).status == 200

    [sent] = slackbot.wait_for(lambda: slackbot.fake.calls("chat.postEphemeral"))
    assert (sent.args["channel"], sent.args["user"]) == (CHANNEL, REVIEWER)
    assert str(sent.args["text"]).startswith(f"*{REVISION}* - Add Visibility to Posts")
    assert [call.status for call in slackbot.fake.calls("response_url")] == [404]


def test_the_answer_after_a_used_up_response_url_comes_as_an_ephemeral(slackbot: SlackBot) -> None:
    slackbot.review_pending()
    url = slackbot.fake.response_url(CHANNEL, REVIEWER)
    # Slack takes five answers on one response_url; four are gone already.
    for number in range(4):
        assert WebhookClient(url).send(text=f"answer {number}").status_code == 200
    fields = slash_command("apply b41f", user_id=REVIEWER, channel_id=CHANNEL, response_url=url)

    slackbot.deliver("slash_commands", fields)

    [sent] = slackbot.wait_for(lambda: slackbot.fake.calls("chat.postEphemeral"))
    hooks = slackbot.fake.calls("response_url")
    assert [call.status for call in hooks] == [200] * 5 + [404]
    assert "Checking every gate" in str(hooks[4].args["text"])
    assert sent.args["user"] == REVIEWER and sent.args["text"] == hooks[5].args["text"]
