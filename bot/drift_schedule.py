"""The scheduled drift check (SCHEMABOT_DRIFT_CHECK): each environment's drift, and what is
new of it posted to the channel once.

A difference told once is not told again while it lasts; one that goes away and comes back
is new again. The check runs in a thread of its own, one at a time, so a slow scratch build
never holds up the watcher; when it last ran is kept in the store, so a restart does not
run it again before it is due.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from bot.config import Settings
from bot.core.drift import Difference
from bot.core.text import Bold, Text
from bot.drift import DriftChecker
from bot.environments import environments_of
from storage.store import Store

log = logging.getLogger(__name__)
LAST_RUN = "drift_check_last"


class DriftSchedule:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        checker: DriftChecker,
        clock: Callable[[], datetime],
        announce: Callable[[Text], None],
    ) -> None:
        self.settings = settings
        self.store = store
        self.checker = checker
        self.clock = clock
        self.announce = announce
        self.started = clock()
        self._thread: threading.Thread | None = None

    def tick(self) -> None:
        """Start a check when one is due and none is running."""
        schedule = self.settings.drift_check
        if schedule is None or (self._thread is not None and self._thread.is_alive()):
            return
        last = self.store.get_meta(LAST_RUN)
        now = self.clock()
        if not schedule.due(datetime.fromisoformat(last) if last else None, self.started, now):
            return
        self.store.set_meta(LAST_RUN, now.isoformat())
        self._thread = threading.Thread(target=self._run, name="drift-check", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.run_once()
        except Exception:
            log.exception("the drift check failed")

    def run_once(self) -> dict[str, tuple[Difference, ...]]:
        """Check every environment; post and return the differences not told before."""
        told: dict[str, tuple[Difference, ...]] = {}
        for environment in environments_of(self.settings):
            if not self.checker.checks(environment):
                continue
            report = self.checker.check(environment)
            if report.error is not None:
                log.warning("drift in %s not checked: %s", environment.name, report.error)
                continue
            fingerprints = frozenset(d.fingerprint for d in report.differences)
            new = self.store.remember_drift(environment.name, fingerprints)
            fresh = tuple(d for d in report.differences if d.fingerprint in new)
            if fresh:
                self.announce(drift_news(environment.name, fresh))
                told[environment.name] = fresh
        return told


def drift_news(environment: str, differences: tuple[Difference, ...]) -> Text:
    lines = [
        Text(
            ":warning: ",
            Bold(environment),
            f" has drifted from its migrations ({len(differences)} new difference"
            f"{'s' if len(differences) > 1 else ''}):",
        )
    ]
    lines += [Text("• ", d.text()) for d in differences[:20]]
    if len(differences) > 20:
        lines.append(Text(f"…and {len(differences) - 20} more: `/schema drift {environment}`."))
    return Text.lines(lines)
