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

    @property
    def key(self) -> str:
        return self.item.key

    @property
    def text(self) -> str:
        return self.item.text

    @property
    def manual(self) -> bool:
        return self.bot_check is None


def bot_check_for(item: ChecklistItem) -> BotCheck | None:
    text = item.text.casefold()
    return next((check for phrase, check in _BOT_PHRASES if phrase in text), None)


def classify(items: tuple[ChecklistItem, ...]) -> tuple[ChecklistEntry, ...]:
    return tuple(ChecklistEntry(item, bot_check_for(item)) for item in items)


def manual_keys(items: tuple[ChecklistItem, ...]) -> frozenset[str]:
    """The items of a checklist that a person ticks (the rest the bot checks itself)."""
    return frozenset(entry.key for entry in classify(items) if entry.manual)


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
