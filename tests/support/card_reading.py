"""Reading the card, the ephemerals and the audit log the way a test of the Slack front needs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from bot.demo.project import DEMO_PENDING
from bot.standin.workspace import Message
from tests.support.slackbot import (
    OUTSIDER,
    SlackBot,
)

REVISION = DEMO_PENDING.revision
DOC = "SCHEMA_CHANGES.md"
TESTED = "migration-created-and-tested-in-dev-environment"
REVIEWED = "code-review-completed"


def block(card: Message, block_id: str) -> dict[str, Any]:
    found = [b for b in card.blocks if b.get("block_id") == block_id]
    assert len(found) == 1, f"{len(found)} blocks {block_id!r} on the card"
    return found[0]


def checklist_block(card: Message) -> dict[str, Any]:
    """The checkboxes' block: `checklist:<revision>`, with an iteration after a refused tick."""
    found = [
        b
        for b in card.blocks
        if b.get("type") == "actions" and str(b.get("block_id")).startswith(f"checklist:{REVISION}")
    ]
    assert len(found) == 1, f"{len(found)} checklist blocks on the card"
    return found[0]


def checkboxes(card: Message) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = checklist_block(card)["elements"]
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
