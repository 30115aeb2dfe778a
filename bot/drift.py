"""Drift checks: the schema an environment's migrations make, held against its own.

The chain up to the environment's current revision is built in a throwaway database
(bot/migrations/scratch.py: on `drift_url`'s server, else the environment's own) by the same
runner and child as an apply, then both schemas are read and compared (bot/core/drift.py).

What runs there runs with the credentials of the server the scratch database is made on,
which are often the environment's own: so only bytes schemabot can vouch for run, as in an
apply. The migration environment is the one approved with the latest apply (or, before any,
the main branch's at the first scan), and each revision on the way to the environment's
revisions is the file schemabot applied, or the file production's history had at the first
scan; nothing else of the repository is there to be imported. The child gets the scratch
URL and none of the environment's settings (its env file may point at the real database).

What the chain makes depends only on those bytes and the target revisions, so it is kept
(by those blobs) and rebuilt only when one of them changes.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.apply.checkout import vouched_chain_checkout
from bot.config import Settings
from bot.core.bundle import Bundle
from bot.core.drift import Difference, SchemaShape, compare
from bot.core.layout import AlembicLayout
from bot.core.stubs import vouched_blobs
from bot.environments import Environment
from bot.errors import SchemabotError
from bot.git.bundle import BundleReader
from bot.git.clone import Clone
from bot.git.repository import RepositoryView
from bot.git.scan import FIRST_SCAN_COMMIT
from bot.migrations.runner import MigrationRunner, last_line
from bot.migrations.schema_shape import read_shape
from bot.migrations.scratch import throwaway_database
from bot.migrations.versions import DatabaseUnavailable, current_versions
from bot.redact import Redactor
from storage.store import Store

log = logging.getLogger(__name__)
KEPT_CHAINS = 8


@dataclass(frozen=True)
class DriftReport:
    """An environment's drift, or why it could not be checked."""

    environment: str
    versions: frozenset[str]
    differences: tuple[Difference, ...] = ()
    error: str | None = None


class DriftChecker:
    def __init__(
        self,
        settings: Settings,
        clone: Clone,
        repository: RepositoryView,
        redact: Redactor,
        main_branch: Callable[[], str],
        layout: AlembicLayout,
        store: Store,
        bundles: BundleReader,
    ) -> None:
        self.settings = settings
        self.clone = clone
        self.repository = repository
        self.store = store
        self.bundles = bundles
        self.redact = redact
        self.main_branch = main_branch
        self.layout = layout
        self._chains: OrderedDict[tuple[str, frozenset[str]], SchemaShape] = OrderedDict()
        self._in_flight: dict[str, Future[DriftReport]] = {}
        self._lock = threading.Lock()

    def checks(self, where: Environment) -> bool:
        """Whether drift can be checked there: scratch databases need PostgreSQL."""
        url = where.database_url
        return url is not None and make_url(url).get_backend_name() == "postgresql"

    def check(self, where: Environment) -> DriftReport:
        """The environment's drift now; never raises for what the environment or the
        repository cause (the report says why it could not be checked).

        One check per environment runs at a time: whoever asks while one runs (fifty
        `/schema drift` at once, an apply's gate, the schedule) gets its report, so a
        channel cannot fill a server with scratch databases."""
        with self._lock:
            running = self._in_flight.get(where.name)
            mine = running is None
            if running is None:
                running = self._in_flight[where.name] = Future()
        if not mine:
            return running.result()
        try:
            report = self._check(where)
        except BaseException as exc:
            running.set_exception(exc)
            raise
        else:
            running.set_result(report)
            return report
        finally:
            with self._lock:
                del self._in_flight[where.name]

    def _check(self, where: Environment) -> DriftReport:
        versions: frozenset[str] = frozenset()
        try:
            if not where.database_url or not self.checks(where):
                raise SchemabotError(f"drift checks need PostgreSQL; {where.name} is not")
            versions = current_versions(where.database_url, self.redact, name=where.name)
            expected = self._expected(where, versions)
            actual = read_shape(where.database_url, self.redact, where.name)
        except (SchemabotError, DatabaseUnavailable) as exc:
            return DriftReport(where.name, versions, error=self.redact(str(exc)))
        return DriftReport(where.name, versions, compare(expected, actual))

    def _expected(self, where: Environment, versions: frozenset[str]) -> SchemaShape:
        main = self.main_branch()
        graph = self.repository.graph(main)
        strangers = sorted(versions - set(graph.revisions))
        if strangers:
            raise SchemabotError(
                f"{where.name} is at {', '.join(strangers)}, which is not on {main}: "
                "its chain cannot be built from the main branch"
            )
        environment, chain = self._vouched(versions)
        key = (json.dumps([sorted(environment.items()), sorted(chain.items())]), versions)
        with self._lock:
            if key in self._chains:
                self._chains.move_to_end(key)
                return self._chains[key]
        shape = self._build(where, environment, chain, versions)
        with self._lock:
            self._chains[key] = shape
            while len(self._chains) > KEPT_CHAINS:
                self._chains.popitem(last=False)
        return shape

    def _vouched(self, versions: frozenset[str]) -> tuple[dict[str, str], dict[str, str]]:
        """The migration environment and each revision up to `versions`, as blobs
        schemabot can vouch for (see the module docstring)."""
        main = self.main_branch()
        graph = self.repository.graph(main)
        chain = set(versions)
        for version in versions:
            chain |= graph.ancestors(version)
        first = self.store.get_meta(FIRST_SCAN_COMMIT)
        at_first = self.repository.revision_blobs_at(first, main) if first else {}
        history = {rev: found for rev, found in at_first.items() if self._was_history(rev)}
        applied: dict[str, str] = {}
        latest: Bundle | None = None
        for rev in sorted(chain):
            run = self.store.last_applied_run(rev)
            if run is not None and run.bundle is not None:
                applied[rev] = run.bundle.revision_blob
        for run in self.store.applied_runs():
            if run.bundle is not None:
                latest = run.bundle
        if latest is not None:
            environment = dict(latest.environment)
        elif first is not None and history:
            some_path = next(iter(history.values()))[0]
            environment = dict(self.bundles.at(first, some_path).environment)
        else:
            raise SchemabotError(
                "drift checks run only bytes schemabot can vouch for, and it has seen neither "
                "an apply nor a first scan of the main branch yet"
            )
        blobs = vouched_blobs(chain, applied, {rev: blob for rev, (_, blob) in history.items()})
        return environment, blobs

    def _was_history(self, revision: str) -> bool:
        """Whether the first scan took `revision` as production's history (not one pending
        review then, whose bytes nobody approved)."""
        record = self.store.get_revision(revision)
        return record is not None and record.history

    def _build(
        self,
        where: Environment,
        environment: dict[str, str],
        chain: dict[str, str],
        versions: frozenset[str],
    ) -> SchemaShape:
        """Build the chain up to `versions` in a scratch database and read what it made."""
        settings = self.settings
        server = where.drift_url or settings.drift_url or where.database_url or ""
        runs = settings.workdir / "runs"
        runs.mkdir(parents=True, exist_ok=True, mode=0o700)
        with (
            tempfile.TemporaryDirectory(prefix="drift-", dir=runs) as folder,
            throwaway_database(server, self.redact) as scratch,
        ):
            checkout = vouched_chain_checkout(
                self.clone, environment, chain, self.layout.ini, Path(folder)
            )
            runner = MigrationRunner(
                scratch,
                self.redact,
                settings.lock_timeout_seconds,
                settings.migration_timeout_seconds,
                python=settings.migration_interpreter,
                layout=self.layout,
            )
            for version in sorted(versions):
                result = runner.migrate("upgrade", checkout, version)
                if not result.ok:
                    raise SchemabotError(
                        "the migrations did not build in a scratch database: "
                        + (last_line(result.error) or "no reason given")
                    )
            built = current_versions(scratch, self.redact, name="the scratch database")
            if built != versions:
                raise SchemabotError(
                    "the chain ran, but not in the scratch database: env.py connects to a "
                    "database of its own settings rather than the URL schemabot gives it"
                )
            return read_shape(scratch, self.redact, "the scratch database")
