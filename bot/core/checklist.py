"""The document's migration checklist: which items a person ticks, which the bot verifies.

The bot can check some items itself (the entry exists, the team saw the card, the backup,
apply, verification and status commit it ran), so those are shown as its findings rather
than as boxes anyone can tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.core.doc import ChecklistItem


class BotCheck(StrEnum):
    DOCUMENTED = "documented"
    NOTIFIED = "notified"
    BACKUP = "backup"
    APPLIED = "applied"
    VERIFIED = "verified"
    STATUS_UPDATED = "status-updated"


# Lower-case phrases of the seed document's checklist, and what the bot checks for each.
_BOT_PHRASES: tuple[tuple[str, BotCheck], ...] = (
    ("documented in this file", BotCheck.DOCUMENTED),
    ("team notified", BotCheck.NOTIFIED),
    ("backup", BotCheck.BACKUP),
    ("applied to production", BotCheck.APPLIED),
    ("verified in production", BotCheck.VERIFIED),
    ("updated status", BotCheck.STATUS_UPDATED),
)


@dataclass(frozen=True)
class ChecklistEntry:
    """One item of the checklist as the card shows it."""

    item: ChecklistItem
    bot_check: BotCheck | None
    environment: str | None = None
    """The environment whose having the revision ticks it (its `ticks`), if any."""

    @property
    def key(self) -> str:
        return self.item.key

    @property
    def text(self) -> str:
        return self.item.text

    @property
    def manual(self) -> bool:
        return self.bot_check is None and self.environment is None


def bot_check_for(item: ChecklistItem) -> BotCheck | None:
    text = item.text.casefold()
    return next((check for phrase, check in _BOT_PHRASES if phrase in text), None)


EnvironmentTicks = tuple[tuple[str, str], ...]
"""(phrase, environment) pairs: an item whose text holds the phrase is ticked by the bot
once that environment has the revision (the environments' `ticks`)."""


def environment_for(item: ChecklistItem, ticks: EnvironmentTicks) -> str | None:
    text = item.text.casefold()
    return next((name for phrase, name in ticks if phrase.casefold() in text), None)


def classify(
    items: tuple[ChecklistItem, ...], ticks: EnvironmentTicks = ()
) -> tuple[ChecklistEntry, ...]:
    entries = []
    for item in items:
        check = bot_check_for(item)
        where = environment_for(item, ticks) if check is None else None
        entries.append(ChecklistEntry(item, check, where))
    return tuple(entries)


def manual_keys(items: tuple[ChecklistItem, ...], ticks: EnvironmentTicks = ()) -> frozenset[str]:
    """The items of a checklist that a person ticks (the rest the bot checks itself)."""
    return frozenset(entry.key for entry in classify(items, ticks) if entry.manual)


def environment_keys(items: tuple[ChecklistItem, ...], ticks: EnvironmentTicks) -> dict[str, str]:
    """The items the environments tick, by key: the environment of each."""
    return {e.key: e.environment for e in classify(items, ticks) if e.environment is not None}


SEED_REQUIRED_ITEMS = frozenset(
    {
        "migration-created-and-tested-in-dev-environment",
        "code-review-completed",
        "breaking-changes-identified-and-documented",
        "rollback-plan-documented",
        "migration-tested-on-production-like-data-if-possible",
    }
)
"""What an apply requires by default: the items a person ticks in the team's own checklist
as schemabot shipped with it. It is fixed here, not read from the document on the main
branch, so a push that edits the checklist cannot change what an apply requires."""


def required_items(configured: frozenset[str] | None) -> frozenset[str]:
    """The checklist keys an apply requires: the configured ones, else the seed's."""
    return SEED_REQUIRED_ITEMS if configured is None else configured


def missing_required(items: tuple[ChecklistItem, ...], required: frozenset[str]) -> tuple[str, ...]:
    """Required keys the document's checklist no longer has, sorted."""
    return tuple(sorted(required - {item.key for item in items}))
