"""Each watcher cycle, what every environment has: its `alembic_version`, read only.

Reads are cheap and bounded: all environments at once, each with a short connect and
statement timeout, and an environment that did not answer is not waited for again: its next
read goes on in the background and is taken when it is done. What each environment has (the
revisions in its `alembic_version` and their ancestors) is kept in the store with since when
(bot/core/promotion.py reads it), and the checklist items an environment ticks follow it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from bot.core.checklist import environment_keys
from bot.core.records import BOT_ACTOR
from bot.core.revisions import RevisionGraph
from bot.environments import Environment, environment_ticks
from bot.errors import SchemabotError
from bot.git.repository import RepositoryView
from bot.migrations.versions import READ_TIMEOUT_SECONDS, DatabaseUnavailable, current_versions
from bot.redact import Redactor
from storage.store import Store

log = logging.getLogger(__name__)

Outcome = frozenset[str] | str
"""An environment's `alembic_version` rows, or why they could not be read."""


class EnvironmentWatch:
    def __init__(
        self,
        environments: tuple[Environment, ...],
        store: Store,
        repository: RepositoryView,
        redact: Redactor,
        main_branch: Callable[[], str],
    ) -> None:
        self.environments = environments
        self.store = store
        self.repository = repository
        self.redact = redact
        self.main_branch = main_branch
        self._read: dict[str, frozenset[str]] = {}
        self._down: dict[str, str] = {}
        self._pending: dict[str, Future[Outcome]] = {}
        # Revisions whose rows or ticks changed since the last cycle reported them: a read
        # an apply asked for finds changes too, and the watcher's cycle refreshes their cards.
        self._unreported: set[str] = set()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="environments")
        self._lock = threading.Lock()

    def cycle(self) -> set[str]:
        """Read every environment and record what each has; the revisions whose rows or
        ticks changed since the last cycle (their cards need a refresh)."""
        self.look()
        with self._lock:
            changed, self._unreported = self._unreported, set()
        return changed

    def look(self) -> None:
        """Read every environment and record what each has, leaving what changed for the
        next `cycle` to report."""
        waiting: dict[str, Future[Outcome]] = {}
        outcomes: dict[str, Outcome] = {}
        with self._lock:
            for environment in self.environments:
                name = environment.name
                if name not in self._down:
                    waiting[name] = self._pool.submit(self._versions, environment)
                    continue
                # Down at the last look: not waited for; its read goes on by itself.
                pending = self._pending.get(name)
                if pending is None:
                    self._pending[name] = self._pool.submit(self._versions, environment)
                elif pending.done():
                    outcomes[name] = self._pending.pop(name).result()
        outcomes |= {name: future.result() for name, future in waiting.items()}
        for environment in self.environments:
            if environment.name in outcomes:
                self._record(environment, outcomes[environment.name])
        self._tick()

    def refresh(self, environment: Environment) -> str | None:
        """Read one environment now and record it; why it could not be read, if it could not."""
        outcome = self._versions(environment)
        self._record(environment, outcome)
        return outcome if isinstance(outcome, str) else None

    def unreachable(self, name: str) -> str | None:
        """Why the environment did not answer at its last read (None: it did)."""
        with self._lock:
            return self._down.get(name)

    def stop(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _versions(self, environment: Environment) -> Outcome:
        if not environment.database_url:
            return f"no database URL is configured for {environment.name}"
        try:
            return current_versions(
                environment.database_url, self.redact, READ_TIMEOUT_SECONDS, environment.name
            )
        except DatabaseUnavailable as exc:
            return str(exc)

    def _record(self, environment: Environment, outcome: Outcome) -> None:
        name = environment.name
        if isinstance(outcome, str):
            with self._lock:
                if self._down.get(name) != outcome:
                    log.warning("environment %s: %s", name, outcome)
                self._down[name] = outcome
            return
        with self._lock:
            if self._down.pop(name, None) is not None:
                log.info("environment %s answers again", name)
            if self._read.get(name) == outcome:
                return
            self._read[name] = outcome
        changed = self.store.sync_presence(name, self._closure(outcome))
        with self._lock:
            self._unreported |= changed

    def _closure(self, versions: frozenset[str]) -> frozenset[str]:
        """The revisions a database has: its version rows and their ancestors. A row that
        is not on the main branch (a developer's database) is read on its own branch."""
        graph = self.repository.graph(self.main_branch())
        found: set[str] = set()
        for version in versions:
            found.add(version)
            for known in [version, *self._parents_off_main(version, graph)]:
                if known in graph.revisions:
                    found.add(known)
                    found.update(graph.ancestors(known))
        return frozenset(found)

    def _parents_off_main(self, revision: str, graph: RevisionGraph) -> tuple[str, ...]:
        if revision in graph.revisions:
            return ()
        record = self.store.get_revision(revision)
        if record is None:
            return ()
        parsed = self.repository.revision(record.branch, record.path)
        return parsed.down_revisions if parsed is not None else ()

    def _tick(self) -> None:
        """Tick (or untick) the checklist items environments verify, on every pending
        revision, as the bot: only what changed is written."""
        ticks = environment_ticks(self.environments)
        if not ticks:
            return
        changed: set[str] = set()
        main = self.main_branch()
        for record in self.store.list_revisions(pending_only=True):
            doc = self.repository.doc(main if record.on_main else record.branch)
            if doc is None:
                continue
            where = self.store.presence_of(record.revision)
            have = self.store.checklist_for(record.revision)
            for key, name in environment_keys(doc.checklist(), ticks).items():
                want = name in where
                tick = have.get(key)
                if (tick.ticked, tick.by) == (want, BOT_ACTOR) if tick else not want:
                    continue
                try:
                    if self.store.set_bot_tick(record.revision, key, want):
                        changed.add(record.revision)
                except SchemabotError as exc:
                    log.warning("could not tick %s on %s: %s", key, record.revision, exc)
        with self._lock:
            self._unreported |= changed
