"""Batches progress lines so a busy migration posts a message every few seconds, not per line."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MAX_BATCH_CHARS = 3500


class Throttle:
    def __init__(
        self,
        send: Callable[[str], None],
        interval: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._interval = interval
        self._clock = clock
        self._lines: list[str] = []
        self._last = clock()
        self._lock = threading.Lock()

    def add(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)
            due = self._clock() - self._last >= self._interval
            size = sum(len(item) + 1 for item in self._lines)
        if due or size >= MAX_BATCH_CHARS:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
            self._last = self._clock()
        text = "\n".join(lines)
        while text:
            self._send(text[:MAX_BATCH_CHARS])
            text = text[MAX_BATCH_CHARS:]

    def close(self) -> None:
        self.flush()
