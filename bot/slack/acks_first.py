"""The work that follows acks waits while acks are still being sent.

One interpreter runs the acks and the work after them, one thread at a time. In a burst
(fifty people clicking at once), every click's card update and every Home tab competed
with the acks still to be sent, and the last of fifty acks came several times later than
a bare server's. So what follows an ack is queued here and handed on, in order, once no
request has been on its way to its ack for `quiet` seconds, or at the latest `longest`
seconds after it was queued. A burst's requests arrive closer together than `quiet`; a
person waits `quiet` longer for the card to move, which nobody sees. `longest` stays well
inside the three seconds a click's trigger_id lives, so a click that opens a modal still
opens it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

QUIET_SECONDS = 0.02
LONGEST_WAIT_SECONDS = 1.0

_Work = Callable[[], object]


class AcksFirst:
    """See the module docstring. `close()` hands on what waits, at once."""

    def __init__(self, quiet: float = QUIET_SECONDS, longest: float = LONGEST_WAIT_SECONDS):
        self.quiet = quiet
        self.longest = longest
        self._arriving = 0
        self._last_ack = 0.0
        self._closing = False
        # Held for a counter, a time and a flag, never across any work.
        self._changed = threading.Condition()
        self._waiting: queue.SimpleQueue[tuple[float, _Work] | None] = queue.SimpleQueue()
        self._releaser = threading.Thread(target=self._release, name="acks-first", daemon=True)
        self._releaser.start()

    @contextmanager
    def arriving(self) -> Iterator[None]:
        """Around a request's way from its arrival to its ack."""
        with self._changed:
            self._arriving += 1
        try:
            yield
        finally:
            with self._changed:
                self._arriving -= 1
                self._last_ack = time.monotonic()

    def acked(self) -> None:
        """An ack was just sent (where `arriving` does not frame the way to it)."""
        with self._changed:
            self._last_ack = time.monotonic()

    def after(self, work: _Work) -> None:
        """Run `work` once acks are quiet; it should only hand work on, quickly."""
        self._waiting.put((time.monotonic(), work))

    def close(self) -> None:
        """Hand on everything still waiting, without waiting for quiet; then stop."""
        with self._changed:
            if self._closing:
                return
            self._closing = True
            self._changed.notify_all()
        self._waiting.put(None)
        self._releaser.join()

    def _release(self) -> None:
        while (item := self._waiting.get()) is not None:
            queued_at, work = item
            self._until_quiet(queued_at + self.longest)
            try:
                work()
            except Exception:
                log.exception("could not hand on the work that follows an ack")

    def _until_quiet(self, deadline: float) -> None:
        # No notify at each ack: this thread looks again when the quiet time would be up.
        with self._changed:
            while not self._closing:
                now = time.monotonic()
                quiet_for = now - self._last_ack
                if (self._arriving == 0 and quiet_for >= self.quiet) or now >= deadline:
                    return
                pause = self.quiet - quiet_for if self._arriving == 0 else self.quiet
                self._changed.wait(min(max(pause, 0.001), deadline - now))
