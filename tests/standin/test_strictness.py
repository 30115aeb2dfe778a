"""The stand-in catches what Slack would do with careless text, sizes and reuse."""

from __future__ import annotations

import json

from slack_sdk import WebClient
from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, PlainTextObject, SectionBlock
from slack_sdk.models.views import View
from slack_sdk.webhook import WebhookClient

from bot.standin.mrkdwn import displayed, live_tokens, repository_fragments
from bot.standin.signing import app_home_opened, button_click, unfurled
from bot.standin.slack_api import RESPONSE_URL_USES, FakeSlack
from tests.support.standin_kit import ADA, REVIEW, error_of

BRANCH = "feat/<!channel>"
TITLE = "<https://evil.example|click here>"


def test_repository_text_that_reaches_slack_unescaped_is_flagged(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.from_repository(BRANCH, TITLE)

    client.chat_postMessage(channel=REVIEW, text="on `feat/&lt;!channel&gt;`")
    assert fake.live_markup() == []

    client.chat_postMessage(
        channel=REVIEW,
        text="A card",
        blocks=[SectionBlock(text=MarkdownTextObject(text=f"*Title* {TITLE}")).to_dict()],
    )
    client.chat_postMessage(channel=REVIEW, text=f"on branch `{BRANCH}`")

    flagged = fake.live_markup()
    assert [f.method for f in flagged] == ["chat.postMessage", "chat.postMessage"]
    assert TITLE.startswith(flagged[0].fragment) and TITLE in flagged[0].text
    assert flagged[1].fragment == "<!channel>"


def test_plain_text_is_shown_as_written_so_it_is_not_flagged(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.from_repository(TITLE)
    client.chat_postMessage(
        channel=REVIEW,
        text="A card",
        blocks=[{"type": "header", "text": PlainTextObject(text=TITLE).to_dict()}],
    )
    assert fake.live_markup() == []


def test_views_and_response_urls_are_read_too(fake: FakeSlack, client: WebClient) -> None:
    fake.from_repository("a <@U0EVIL0001> b")
    client.views_publish(
        user_id=ADA,
        view=View(
            type="home",
            blocks=[ContextBlock(elements=[MarkdownTextObject(text="by <@U0EVIL0001>")])],
        ),
    )
    url = fake.response_url(REVIEW, ADA)
    WebhookClient(url).send(text="cc <@U0EVIL0001>")

    assert [f.method for f in fake.live_markup()] == ["views.publish", "response_url"]


def test_what_slack_makes_live_and_what_people_read() -> None:
    assert live_tokens("<!here> <@U1> <#C1> <https://x|y> &lt;!channel&gt;") == [
        "<!here>",
        "<@U1>",
        "<#C1>",
        "<https://x|y>",
    ]
    assert displayed("a &lt;&gt; b &amp;") == "a <> b &"
    assert repository_fragments("x <!here> y <") == ["<!here>"]


def test_a_view_over_250_kb_is_refused(fake: FakeSlack, client: WebClient) -> None:
    sections = [SectionBlock(text=MarkdownTextObject(text="é" * 2900)) for _ in range(20)]
    view = View(type="home", blocks=sections)
    assert len(json.dumps(view.to_dict())) > 250_000

    assert error_of(lambda: client.views_publish(user_id=ADA, view=view))["error"] == (
        "view_too_large"
    )


def test_a_response_url_takes_five_posts(fake: FakeSlack) -> None:
    hook = WebhookClient(fake.response_url(REVIEW, ADA))

    answers = [hook.send(text=f"reply {n}") for n in range(RESPONSE_URL_USES + 1)]

    assert [a.status_code for a in answers] == [200] * RESPONSE_URL_USES + [404]
    assert json.loads(answers[-1].body)["error"] == "used_url"
    assert len(fake.ephemerals(ADA)) == RESPONSE_URL_USES


def test_the_payload_variants_slack_sends() -> None:
    event = app_home_opened(ADA, published=True)
    assert event["view"]["type"] == "home"
    assert event["view"]["state"]["values"] == []

    message = {"ts": "1.2", "type": "message", "text": "card", "blocks": []}
    with_unfurl = unfurled(message)
    assert with_unfurl["attachments"][0]["id"] == 1
    assert "attachments" not in message
    card = {
        **with_unfurl,
        "blocks": [
            {
                "type": "actions",
                "block_id": "review",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "approve",
                        "text": {"type": "plain_text", "text": "Approve"},
                        "value": "r1",
                    }
                ],
            }
        ],
    }
    click = button_click("approve", message=card, channel_id=REVIEW, user_id=ADA)
    assert click["message"]["attachments"][0]["id"] == 1
