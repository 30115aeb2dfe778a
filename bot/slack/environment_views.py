"""The environments on a review card: a row each (has it, since when, by whose apply)."""

from __future__ import annotations

from slack_sdk.models.blocks import SectionBlock

from bot.core.card import CardSnapshot
from bot.core.promotion import environment_lines
from bot.core.text import Bold, Text
from bot.slack.blocks import section


def environments_section(snap: CardSnapshot) -> SectionBlock | None:
    """The rows, when environments are configured (without them, production is the card's
    own status)."""
    if not snap.environments:
        return None
    return section(
        "environments",
        Text(Bold("Environments"), "\n", Text.lines(environment_lines(snap.environments))),
    )
