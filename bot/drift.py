"""Drift checks: the schema an environment's migrations make, held against its own.

The chain up to the environment's current revision is built in a throwaway database
(bot/migrations/scratch.py: on `drift_url`'s server, else the environment's own) by the same
runner and child as an apply, then both schemas are read and compared (bot/core/drift.py).

What runs there: the main branch's tip (regular files, as a fresh `alembic upgrade` would
read it) with only the revision files on the way to the environment's revisions, which
already ran there: a pending revision's file is left out, as Alembic would import it. Not
approved bytes: the scratch database holds no data, and the child gets only its URL, none
of the environment's settings (its env file may hold secrets and point at the real one).
The scratch URL carries the credentials of the server it is made on: give `drift_url` a
role that may create databases and reach nothing else when main's code must not see the
environment's own.

What the chain makes depends only on those files and the target revisions, so it is kept
(by a key of every file but the document) and rebuilt only when one of them changes.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.core.drift import Difference, SchemaShape, compare
from bot.core.layout import AlembicLayout
from bot.environments import Environment
from bot.errors import SchemabotError
from bot.git.checkouts import export_tree, tree_key
from bot.git.clone import Clone
from bot.git.repository import RepositoryView
from bot.migrations.runner import Checkout, MigrationRunner
from bot.migrations.schema_shape import read_shape
from bot.migrations.scratch import throwaway_database
from bot.migrations.versions import DatabaseUnavailable, current_versions
from bot.redact import Redactor

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
    ) -> None:
        self.settings = settings
        self.clone = clone
        self.repository = repository
        self.redact = redact
        self.main_branch = main_branch
        self.layout = layout
        self._chains: OrderedDict[tuple[str, frozenset[str]], SchemaShape] = OrderedDict()
        self._lock = threading.Lock()

    def checks(self, where: Environment) -> bool:
        """Whether drift can be checked there: scratch databases need PostgreSQL."""
        url = where.database_url
        return url is not None and make_url(url).get_backend_name() == "postgresql"

    def check(self, where: Environment) -> DriftReport:
        """The environment's drift now; never raises for what the environment or the
        repository cause (the report says why it could not be checked)."""
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
        tip = self.repository.tip(main)
        if tip is None:
            raise SchemabotError(f"the remote has no branch {main}")
        graph = self.repository.graph(main)
        strangers = sorted(versions - set(graph.revisions))
        if strangers:
            raise SchemabotError(
                f"{where.name} is at {', '.join(strangers)}, which is not on {main}: "
                "its chain cannot be built from the main branch"
            )
        key = (tree_key(self.clone, tip, self.settings.doc), versions)
        with self._lock:
            if key in self._chains:
                self._chains.move_to_end(key)
                return self._chains[key]
        shape = self._build(where, tip, versions)
        with self._lock:
            self._chains[key] = shape
            while len(self._chains) > KEPT_CHAINS:
                self._chains.popitem(last=False)
        return shape

    def _off_chain(self, versions: frozenset[str]) -> frozenset[str]:
        """Every revision file that is not on the way to `versions` (and every file that
        could not be read as one): Alembic imports each file of its version folders, and
        a pending revision nobody approved must not run here either."""
        graph = self.repository.graph(self.main_branch())
        chain = set(versions)
        for version in versions:
            chain |= graph.ancestors(version)
        others = {r.path for r in graph.revisions.values() if r.revision not in chain}
        return frozenset(others | {p.path for p in graph.problems if p.path})

    def _build(self, where: Environment, tip: str, versions: frozenset[str]) -> SchemaShape:
        """Build the chain up to `versions` in a scratch database and read what it made."""
        settings = self.settings
        server = where.drift_url or settings.drift_url or where.database_url or ""
        runs = settings.workdir / "runs"
        runs.mkdir(parents=True, exist_ok=True, mode=0o700)
        with (
            tempfile.TemporaryDirectory(prefix="drift-", dir=runs) as folder,
            throwaway_database(server, self.redact) as scratch,
        ):
            export_tree(self.clone, tip, Path(folder), leave_out=self._off_chain(versions))
            runner = MigrationRunner(
                scratch,
                self.redact,
                settings.lock_timeout_seconds,
                settings.migration_timeout_seconds,
                python=settings.migration_interpreter,
                layout=self.layout,
            )
            for version in sorted(versions):
                result = runner.migrate("upgrade", Checkout(Path(folder)), version)
                if not result.ok:
                    raise SchemabotError(
                        "the migrations did not build in a scratch database: "
                        + (result.error or "no reason given").strip().splitlines()[-1]
                    )
            built = current_versions(scratch, self.redact, name="the scratch database")
            if built != versions:
                raise SchemabotError(
                    "the chain ran, but not in the scratch database: env.py connects to a "
                    "database of its own settings rather than the URL schemabot gives it"
                )
            return read_shape(scratch, self.redact, "the scratch database")
