"""The audit log as a hash chain: each event's hash covers the event and the hash before it.

A row edited, removed or inserted after the fact changes every hash from there on, so the
chain kept beside the log (and each exported line, which carries the hash of the line
before it) tells where the history was changed. The hash is computed from the event's
canonical JSON, the same text a reader gets from `schemabot audit --json`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.core.records import JsonValue

GENESIS = "0" * 64
"""The hash before the first event."""
EVENT_FIELDS = ("id", "at", "actor", "revision", "action", "detail")


def canonical(event: Mapping[str, JsonValue]) -> str:
    """The event's fields (only those of EVENT_FIELDS) as one canonical JSON text."""
    fields = {name: event.get(name) for name in EVENT_FIELDS}
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link(previous: str, event: Mapping[str, JsonValue]) -> str:
    """The hash of `event` chained after `previous`."""
    return hashlib.sha256(f"{previous}\n{canonical(event)}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """Where a chain stops holding: the event (by id, or line number for a file) and why."""

    where: str
    reason: str


def check_lines(lines: Iterable[Mapping[str, JsonValue]]) -> ChainBreak | None:
    """Check exported lines: each one's `prev` is the hash of the line before it, and its
    `hash` is its own. The first line's `prev` is taken as given (an export `--since` a
    date starts in the middle of the chain)."""
    previous: str | None = None
    for number, line in enumerate(lines, start=1):
        where = f"line {number} (event {line.get('id')})"
        given_prev, given_hash = line.get("prev"), line.get("hash")
        if not isinstance(given_prev, str) or not isinstance(given_hash, str):
            return ChainBreak(where, "it has no prev or hash")
        if previous is not None and given_prev != previous:
            return ChainBreak(where, "its prev is not the hash of the line before it")
        if link(given_prev, line) != given_hash:
            return ChainBreak(where, "its hash does not match its content")
        previous = given_hash
    return None
