"""Exporting and checking the audit log's hash chain (see bot/core/audit_chain.py)."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from bot.core.audit_chain import GENESIS, ChainBreak, link
from bot.core.records import JsonValue
from storage.base import StoreBase, to_text
from storage.chain_links import event_fields


@dataclass(frozen=True)
class ChainedEvent:
    """One audit event as exported: its fields, the hash before it and its own."""

    fields: dict[str, JsonValue]
    prev: str
    hash: str

    def line(self) -> dict[str, JsonValue]:
        return {**self.fields, "prev": self.prev, "hash": self.hash}


class AuditChainQueries(StoreBase):
    def chained_events(self, since: datetime | None = None) -> Iterator[ChainedEvent]:
        """Every event (from `since` on), oldest first, with the hashes kept for it."""
        rows = self._rows(
            "SELECT l.*, c.hash AS chain_hash, "
            "(SELECT p.hash FROM audit_chain AS p WHERE p.event_id < l.id "
            " ORDER BY p.event_id DESC LIMIT 1) AS prev_hash "
            "FROM audit_log AS l LEFT JOIN audit_chain AS c ON c.event_id = l.id "
            "WHERE l.at >= ? ORDER BY l.id",
            [to_text(since) if since else ""],
        )
        for row in rows:
            yield ChainedEvent(
                event_fields(row), row["prev_hash"] or GENESIS, row["chain_hash"] or ""
            )

    def verify_audit(self) -> tuple[int, ChainBreak | None]:
        """Recompute the chain from the log and hold it against the hashes kept: how many
        events were checked, and the first that does not hold (edited, removed, added)."""
        events = self._rows("SELECT * FROM audit_log ORDER BY id")
        kept = {row["event_id"]: row["hash"] for row in self._rows("SELECT * FROM audit_chain")}
        previous = GENESIS
        for row in events:
            previous = link(previous, event_fields(row))
            if row["id"] not in kept:
                return len(events), ChainBreak(f"event {row['id']}", "it has no hash in the chain")
            if kept.pop(row["id"]) != previous:
                return len(events), ChainBreak(
                    f"event {row['id']}",
                    "its content, or an event before it, was changed after it was written",
                )
        if kept:
            return len(events), ChainBreak(
                f"event {min(kept)}", "the chain has a hash for an event the log no longer has"
            )
        return len(events), None
