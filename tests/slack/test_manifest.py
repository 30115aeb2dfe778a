"""manifest.yml and the app agree: every command, event and interaction it declares has a
listener, every listener is declared, and its scopes are exactly what the bot's calls need.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from re import Pattern
from typing import Any

import pytest
import yaml
from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.diagnosis import slack_checks
from bot.standin.signing import event_callback, slash_command
from bot.standin.web_methods import SCOPES
from handlers import register
from handlers.commands import HELP
from tests.support.card_reading import settled
from tests.support.paths import REPO_ROOT
from tests.support.slackbot import (
    CHANNEL,
    DEVELOPER,
    OUTSIDER,
    REVIEWER,
    SECRET,
    SlackBot,
    card_text,
)

MANIFEST = REPO_ROOT / "manifest.yml"
PLACEHOLDER_URL = "https://schemabot.example.com/slack/events"
# Slack grants some scopes only together with another (users:read.email needs users:read).
PREREQUISITES = {"users:read.email": "users:read"}

Constraint = str | Pattern[str] | dict[str, Any]


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return loaded


def bot_scopes(manifest: dict[str, Any]) -> list[str]:
    scopes: list[str] = manifest["oauth_config"]["scopes"]["bot"]
    return scopes


def commands(manifest: dict[str, Any]) -> list[str]:
    return [command["command"] for command in manifest["features"]["slash_commands"]]


@dataclass
class Listeners:
    """What `handlers.register` asks of Bolt, kind by kind."""

    commands: list[Constraint] = field(default_factory=list)
    actions: list[Constraint] = field(default_factory=list)
    views: list[Constraint] = field(default_factory=list)
    events: list[Constraint] = field(default_factory=list)

    def handles(self, constraints: Sequence[Constraint], value: str) -> bool:
        return any(_matches(constraint, value) for constraint in constraints)


def _matches(constraint: Constraint, value: str) -> bool:
    if isinstance(constraint, str):
        return constraint == value
    if isinstance(constraint, Pattern):
        return constraint.search(value) is not None
    return any(_matches(v, value) for k, v in constraint.items() if k in {"action_id", "type"})


class RecordingApp(App):
    """A Bolt app that notes each listener's constraint before registering it as usual."""

    def __init__(self, client: WebClient) -> None:
        super().__init__(client=client, signing_secret=SECRET, token_verification_enabled=False)
        self.seen = Listeners()

    def command(self, command: Any, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        self.seen.commands.append(command)
        return super().command(command, *args, **kwargs)  # type: ignore[no-any-return]

    def action(self, constraints: Any, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        self.seen.actions.append(constraints)
        return super().action(constraints, *args, **kwargs)  # type: ignore[no-any-return]

    def view(self, constraints: Any, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        self.seen.views.append(constraints)
        return super().view(constraints, *args, **kwargs)  # type: ignore[no-any-return]

    def event(self, event: Any, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        self.seen.events.append(event)
        return super().event(event, *args, **kwargs)  # type: ignore[no-any-return]


@pytest.fixture
def listeners(slackbot: SlackBot) -> Listeners:
    """Every listener the production registration (`handlers.register`) sets up."""
    app = RecordingApp(slackbot.app.client)
    register(app, slackbot.services)
    return app.seen


# -- the file ---------------------------------------------------------------------------


def test_the_manifest_describes_the_app(manifest: dict[str, Any]) -> None:
    display = manifest["display_information"]
    assert display["name"] == "schemabot"
    assert 0 < len(display["description"]) <= 140
    assert 175 <= len(display["long_description"]) <= 4000
    features = manifest["features"]
    assert features["bot_user"]["display_name"]
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["app_home"]["messages_tab_enabled"] is True
    [schema] = features["slash_commands"]
    assert schema["command"] == "/schema"
    assert schema["description"] and "status" in schema["usage_hint"]
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    urls = [
        schema["url"],
        settings["interactivity"]["request_url"],
        settings["event_subscriptions"]["request_url"],
    ]
    assert urls == [PLACEHOLDER_URL] * 3


def test_the_usage_hint_lists_every_subcommand(manifest: dict[str, Any]) -> None:
    [schema] = manifest["features"]["slash_commands"]
    hint = schema["usage_hint"]
    listed = {words.split()[0] for words in hint.split("|")}

    # Slack's manifest reference: a usage hint holds at most 1,000 characters.
    assert len(hint) <= 1000
    assert listed == set(re.findall(r"`/schema ([\w-]+)", HELP))


# -- the manifest and the listeners -----------------------------------------------------


def test_every_listener_is_declared_in_the_manifest(
    manifest: dict[str, Any], listeners: Listeners
) -> None:
    declared = commands(manifest)
    assert listeners.commands and all(c in declared for c in listeners.commands)
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert listeners.events and all(e in events for e in listeners.events)
    if listeners.actions or listeners.views:
        assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_everything_declared_has_a_listener(manifest: dict[str, Any], listeners: Listeners) -> None:
    assert all(listeners.handles(listeners.commands, c) for c in commands(manifest))
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert all(listeners.handles(listeners.events, e) for e in events)


def test_the_running_app_takes_each_declared_command_and_event(
    manifest: dict[str, Any], slackbot: SlackBot
) -> None:
    slackbot.scan()
    for command in commands(manifest):
        fields = slash_command(
            "help",
            command=command,
            user_id=REVIEWER,
            channel_id=CHANNEL,
            response_url=slackbot.fake.response_url(CHANNEL, REVIEWER),
        )
        assert slackbot.deliver("slash_commands", fields).status == 200
    for event in manifest["settings"]["event_subscriptions"]["bot_events"]:
        payload = event_callback({"type": event, "user": REVIEWER, "tab": "home"})
        assert slackbot.deliver("events_api", payload).status == 200
    declared = len(commands(manifest))
    slackbot.wait_for(lambda: len(slackbot.fake.calls("response_url")) == declared)
    slackbot.wait_for(lambda: slackbot.fake.home_views.get(REVIEWER))
    # A command no listener takes is acknowledged at arrival too, and answered by nothing:
    # the checks above can fail.
    undeclared = slash_command(
        "help",
        command="/nope",
        user_id=REVIEWER,
        channel_id=CHANNEL,
        response_url=slackbot.fake.response_url(CHANNEL, REVIEWER),
    )
    assert slackbot.deliver("slash_commands", undeclared).status == 200
    settled(slackbot, lambda: len(slackbot.fake.calls("response_url")) == declared)
    slackbot.forget_errors()


def test_every_control_on_the_card_and_modal_has_a_listener(
    slackbot: SlackBot, listeners: Listeners
) -> None:
    card = slackbot.review_pending()
    slackbot.click("request_changes", REVIEWER)
    [modal] = slackbot.wait_for(lambda: slackbot.fake.views_opened)

    action_ids = [
        element["action_id"]
        for block in card.blocks
        for element in block.get("elements", [])
        if "action_id" in element
    ]

    assert {"approve", "request_changes", "withdraw", "checklist_0"} <= set(action_ids)
    assert all(listeners.handles(listeners.actions, a) for a in action_ids), action_ids
    assert listeners.handles(listeners.views, modal["callback_id"])


# -- scopes -----------------------------------------------------------------------------


def test_a_whole_review_works_with_the_manifest_scopes_alone(
    manifest: dict[str, Any], slackbot_factory: Callable[..., SlackBot]
) -> None:
    scopes = bot_scopes(manifest)
    bot = slackbot_factory(scopes=scopes)

    card = bot.review_pending()
    bot.click("approve", DEVELOPER)  # refused: an ephemeral
    bot.wait_for(lambda: bot.fake.ephemerals(DEVELOPER))
    bot.click("request_changes", REVIEWER)
    bot.wait_for(lambda: bot.fake.views_opened)
    bot.submit_request_changes("Index it concurrently", REVIEWER)
    bot.wait_for_card(lambda text: "Changes requested" in text)
    bot.tick(["code-review-completed"], OUTSIDER)
    bot.click("approve", OUTSIDER)
    bot.wait_for_card(lambda text: f"Approved by <@{OUTSIDER}>" in text)
    bot.command("list", REVIEWER)
    bot.home(REVIEWER)
    bot.wait_for(lambda: bot.fake.home_views.get(REVIEWER))
    # `schemabot doctor` asks Slack about the channel with the same token.
    assert all(check.ok for check in slack_checks(bot.settings))

    calls = bot.fake.calls()
    assert [c.method for c in calls if c.error == "missing_scope"] == []
    assert all(c.ok for c in calls), [(c.method, c.error) for c in calls if not c.ok]
    assert f"<@{DEVELOPER}>" in card_text(card)
    # Exactly the scopes those calls need, and nothing more.
    needed = {SCOPES[c.method] for c in calls if c.method in SCOPES} | {"commands"}
    needed |= {PREREQUISITES[s] for s in needed if s in PREREQUISITES}
    assert sorted(scopes) == sorted(needed)


def test_without_users_read_email_the_author_is_not_found(
    manifest: dict[str, Any], slackbot_factory: Callable[..., SlackBot]
) -> None:
    scopes = [s for s in bot_scopes(manifest) if s != "users:read.email"]
    bot = slackbot_factory(scopes=scopes)

    card = bot.review_pending()

    [lookup] = bot.fake.calls("users.lookupByEmail")
    assert (lookup.error, lookup.response["needed"]) == ("missing_scope", "users:read.email")
    text = card_text(card)
    assert "by Dana Developer" in text and f"<@{DEVELOPER}>" not in text


def test_scopes_are_listed_once_and_look_like_scopes(manifest: dict[str, Any]) -> None:
    scopes = bot_scopes(manifest)

    assert len(scopes) == len(set(scopes))
    assert all(re.fullmatch(r"[a-z]+(:[a-z.]+)?", scope) for scope in scopes)
