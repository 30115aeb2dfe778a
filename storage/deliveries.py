"""Slack deliveries already handled, so that a retry that arrives after a restart has no effect."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from storage.base import StoreBase, to_text

DELIVERY_MEMORY = timedelta(days=1)
"""How long a delivery is remembered; Slack retries an event three times within minutes."""


class DeliveryQueries(StoreBase):
    def record_deliveries(self, keys: Iterable[str]) -> list[str]:
        """Remember `keys` as handled now; returns those not already remembered.

        Keys older than `DELIVERY_MEMORY` are forgotten on the way.
        """
        now = self._clock()
        new = []
        with self._db.atomic():
            self._execute(
                "DELETE FROM processed_requests WHERE seen_at < ?",
                [to_text(now - DELIVERY_MEMORY)],
            )
            for key in keys:
                inserted = self._execute(
                    "INSERT INTO processed_requests (key, seen_at) VALUES (?, ?) "
                    "ON CONFLICT (key) DO NOTHING",
                    [key, to_text(now)],
                ).rowcount
                if inserted:
                    new.append(key)
        return new

    def deliveries_since(self, moment: datetime) -> list[str]:
        """The keys remembered at `moment` or later, oldest first."""
        rows = self._rows(
            "SELECT key FROM processed_requests WHERE seen_at >= ? ORDER BY seen_at, key",
            [to_text(moment)],
        )
        return [row["key"] for row in rows]
