"""`schemabot audit`: the audit log as JSON lines, each carrying the hash of the one before,
and `--verify`, which recomputes the chain from the state file (bot/core/audit_chain.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from bot.config import ConfigError
from storage.store import Store


def since_moment(text: str | None) -> datetime | None:
    """`--since`: a date (its midnight, UTC) or an ISO 8601 moment (UTC unless it says)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"--since takes a date like 2025-03-14, got {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def export(store: Store, since: str | None, as_json: bool, say: Callable[[str], None]) -> int:
    """Every event from `since` on, oldest first: JSON lines, or one readable line each."""
    for event in store.chained_events(since_moment(since)):
        if as_json:
            say(json.dumps(event.line(), sort_keys=True, ensure_ascii=False))
            continue
        fields = event.fields
        detail = json.dumps(fields["detail"], sort_keys=True, ensure_ascii=False)
        say(
            f"{fields['id']}  {fields['at']}  {fields['actor']}  {fields['action']}  "
            f"{fields['revision'] or '-'}  {detail}"
        )
    return 0


def verify(store: Store, say: Callable[[str], None]) -> int:
    """0 when every event holds its hash; 1, naming the first that does not, otherwise."""
    checked, broken = store.verify_audit()
    if broken is None:
        say(f"ok: the audit chain holds ({checked} events)")
        return 0
    say(f"FAIL: the audit chain breaks at {broken.where}: {broken.reason}")
    return 1
