"""Slack's retries handled once, with nothing slow before the ack.

Slack sends an event again when it saw no ack within three seconds (`X-Slack-Retry-Num`
over HTTP, `retry_attempt` in Socket Mode), up to three times over about five minutes. It
never resends an interaction or a slash command: the user sees an error instead. So the
window that recognises a second delivery lives in memory, where checking it takes no disk
write, no lock a worker holds across its work, and no network, and can run before the ack.
Events are also written to the state file after the ack, by a thread of their own, and read
back at start: an event retried across a restart still has one effect. Interactions and
commands are kept in memory only; nothing resends them after a restart.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from storage.deliveries import DELIVERY_MEMORY
from storage.errors import StateStoreError
from storage.store import Store

log = logging.getLogger(__name__)

EVENT = "event:"


def delivery_key(body: dict[str, Any]) -> str | None:
    """What identifies one delivery of a request, the same in every retry of it."""
    if body.get("event_id"):
        return f"{EVENT}{body['event_id']}"
    if body.get("type") == "block_actions" and body.get("actions"):
        action = body["actions"][0]
        user = body.get("user")
        user = user.get("id") if isinstance(user, dict) else user
        return f"action:{user}:{action.get('action_id')}:{action.get('action_ts')}"
    if body.get("type") == "view_submission" and body.get("trigger_id"):
        # Not the view's id and hash: they stay the same when a person corrects an input
        # the bot refused and sends the modal again. Each submission has its own trigger.
        return f"view:{body['trigger_id']}"
    if body.get("command") and body.get("trigger_id"):
        return f"command:{body['trigger_id']}"
    return None


class DeliveryWindow:
    """The deliveries seen in the last `DELIVERY_MEMORY`; see the module docstring."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock
        self._seen: OrderedDict[str, datetime] = OrderedDict()
        # Held only for a lookup and an insert in `_seen`, never across any I/O.
        self._lock = threading.Lock()
        self._unsaved: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="deliveries")

    def load(self) -> None:
        """Remember the events the state file has seen recently (call it before serving)."""
        now = self._clock()
        for key in self._store.deliveries_since(now - DELIVERY_MEMORY):
            self._seen[key] = now

    def first(self, key: str) -> bool:
        """True the first time `key` is seen; events are then saved after the caller acks."""
        now = self._clock()
        with self._lock:
            while self._seen:
                oldest, seen_at = next(iter(self._seen.items()))
                if now - seen_at < DELIVERY_MEMORY:
                    break
                del self._seen[oldest]
            if key in self._seen:
                return False
            self._seen[key] = now
        if key.startswith(EVENT):
            self._unsaved.put(key)
            self._writer.submit(self._save)
        return True

    def close(self) -> None:
        """Save what is still unsaved; call it before the store closes."""
        self._writer.shutdown(wait=True)

    def _save(self) -> None:
        # One transaction for every key waiting: a burst of events is one write, not fifty.
        keys: list[str] = []
        while True:
            try:
                keys.append(self._unsaved.get_nowait())
            except queue.Empty:
                break
        if not keys:
            return
        try:
            self._store.record_deliveries(keys)
        except StateStoreError as exc:
            log.warning("could not remember %d Slack deliveries: %s", len(keys), exc)
