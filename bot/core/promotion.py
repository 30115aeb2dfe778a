"""Environments in the review: where a revision is, and whether it may go on to the next.

A revision goes to an environment once it is in the one that environment `requires` and has
stayed there `soak_minutes`; the card shows a row per environment. Plain values in and out:
bot/apply/environment_facts.py and bot/card_builder.py gather them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.records import Presence
from bot.core.text import Bold, Code, Text, User


@dataclass(frozen=True)
class PromotionFacts:
    """What the promotion gate of applying `revision` to `environment` looks at."""

    revision: str
    environment: str
    requires: str
    requires_read_only: bool
    soak_minutes: int
    presence: Presence | None
    """The revision in `requires`, as last read."""
    now: datetime
    read_error: str | None = None
    """Why `requires` could not be read just now."""
    other_version_run: int | None = None
    """A run of schemabot put another version of the revision file in `requires`."""


def promotion(facts: PromotionFacts) -> tuple[bool, Text]:
    """Whether the revision may go on to `facts.environment`, and if not, why (naming the
    environment it must be in and the time it still has to stay there)."""
    needed, revision = facts.requires, facts.revision
    if facts.read_error is not None:
        return False, Text(
            Code(needed),
            " did not answer, so schemabot cannot tell whether it has ",
            Code(revision),
            ": ",
            facts.read_error,
        )
    presence = facts.presence
    if presence is None:
        how = (
            Text(" (", Code(needed), " is read-only: it is upgraded there by hand)")
            if facts.requires_read_only
            else Text(": run ", Code(f"/schema apply {revision} {needed}"), " first")
        )
        return False, Text(Code(facts.environment), " requires it in ", Code(needed), " first", how)
    if facts.other_version_run is not None:
        return False, Text(
            Code(needed),
            f" runs another version of its file (run {facts.other_version_run}): roll it back "
            "there and apply this version first",
        )
    left = presence.since + timedelta(minutes=facts.soak_minutes) - facts.now
    if left > timedelta(0):
        return False, Text(
            "it must stay in ",
            Code(needed),
            f" for {facts.soak_minutes} min before ",
            Code(facts.environment),
            f": {_minutes(left)} min left (it has been there since "
            f"{presence.since:%Y-%m-%d %H:%M} UTC)",
        )
    return True, Text()


def _minutes(span: timedelta) -> int:
    """Whole minutes, rounded up: "0 min left" would read as allowed."""
    return max(1, -(-int(span.total_seconds()) // 60))


@dataclass(frozen=True)
class EnvironmentRow:
    """One environment as a card shows it for one revision."""

    name: str
    presence: Presence | None
    read_only: bool = False
    applying: bool = False
    unreachable: str | None = None
    """Why its database did not answer at the last read (what it shows may be old)."""


def environment_lines(rows: tuple[EnvironmentRow, ...]) -> tuple[Text, ...]:
    """A line per environment: has it, since when, by whose apply or found there."""
    lines: list[Text] = []
    for row in rows:
        name = Bold(row.name + (" (read-only)" if row.read_only else ""))
        presence = row.presence
        if row.applying:
            line = Text(":gear: ", name, ": applying now")
        elif presence is None:
            line = Text(":white_large_square: ", name, ": not yet")
        else:
            how = (
                Text("applied by ", User(presence.applied_by), f" (run {presence.run_id})")
                if presence.applied_by is not None
                else Text("found there")
            )
            line = Text(
                ":white_check_mark: ", name, f": since {presence.since:%Y-%m-%d %H:%M} UTC, ", how
            )
        if row.unreachable is not None:
            line += Text(" · :warning: did not answer at the last look: ", row.unreachable)
        lines.append(line)
    return tuple(lines)
