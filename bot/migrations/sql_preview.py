"""What a revision will really run: Alembic's offline SQL, linted by squawk for PostgreSQL.

Rendered once per version of a revision file, from a throwaway copy of the branch it is on,
in the preview sandbox (the code is nobody's approved code yet: no secret, no network, no
database but the dialect's name), and kept in the store so cards render without waiting.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.core.records import LintFinding, RevisionRecord, SqlReviewRecord
from bot.core.revision_file import Revision
from bot.errors import SchemabotError
from bot.git.checkouts import export_tree
from bot.git.clone import Clone
from bot.migrations.runner import Checkout, MigrationRunner, last_line
from bot.migrations.sandbox import Confinement
from bot.migrations.squawk import lint
from storage.store import Store

log = logging.getLogger(__name__)

DEFAULT_DIALECT_URL = "postgresql://"
PREVIEW_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Pending:
    """A revision whose SQL is wanted: its record, its parsed file, its branch's tip."""

    record: RevisionRecord
    revision: Revision
    tip: str
    key: str
    """What the review is kept under (see `version_key`)."""


def _start(revision: Revision) -> str | None:
    return revision.down_revisions[0] if revision.down_revisions else None


def dialect_url(database_url: str | None) -> str:
    """Only the dialect of the production URL (`postgresql+psycopg://`): no host, no user,
    no password, no database. Offline SQL needs nothing more."""
    if not database_url:
        return DEFAULT_DIALECT_URL
    return f"{make_url(database_url).drivername}://"


@dataclass(frozen=True)
class SqlReviewer:
    clone: Clone
    store: Store
    runner: MigrationRunner
    """Configured with the dialect URL only (see `dialect_url`)."""
    confine: Callable[[], Confinement]
    """What the host can enforce, found once on first use."""
    lock_timeout_seconds: int
    exclude: frozenset[str]

    @property
    def dialect(self) -> str:
        return make_url(self.runner.database_url).get_backend_name()

    def review(
        self, record: RevisionRecord, revision: Revision, branch_tip: str
    ) -> SqlReviewRecord:
        """The SQL review of the revision as it is at `branch_tip` (computed once per blob)."""
        pending = Pending(record, revision, branch_tip, record.blob_sha)
        return self.review_all([pending])[record.revision]

    def review_all(self, pending: Sequence[Pending]) -> dict[str, SqlReviewRecord]:
        """The SQL reviews of several revisions: those of one branch tip rendered by one
        child, from one copy of the tree (a push of many revisions costs one start-up)."""
        reviews: dict[str, SqlReviewRecord] = {}
        by_tip: dict[str, list[Pending]] = {}
        for item in pending:
            record = item.record
            known = self.store.sql_review(record.revision, item.key)
            if known is not None:
                reviews[record.revision] = known
            elif item.revision.is_merge:
                reviews[record.revision] = self.save(
                    record, item.key, None, "a merge revision: it runs no SQL of its own"
                )
            else:
                by_tip.setdefault(item.tip, []).append(item)
        for tip, items in by_tip.items():
            reviews.update(self._render(tip, items))
        return reviews

    def _render(self, tip: str, items: list[Pending]) -> dict[str, SqlReviewRecord]:
        targets = [
            (item.record.revision, _start(item.revision), item.record.revision) for item in items
        ]
        with tempfile.TemporaryDirectory(prefix="schemabot-preview-") as folder:
            root, tree, home = Path(folder), Path(folder, "tree"), Path(folder, "home")
            tree.mkdir()
            home.mkdir()
            try:
                export_tree(self.clone, tip, tree)
            except SchemabotError as exc:
                reason = f"the preview was not run: {exc}"
                return {
                    item.record.revision: self.save(item.record, item.key, None, reason)
                    for item in items
                }
            confinement = self.confine()
            confinement.prepare(root, writable=[home])
            result = self.runner.offline_sql(Checkout(tree), targets, confinement, home)
        reviews = {}
        for item in items:
            rendered = result.rendered.get(item.record.revision)
            if rendered is None or rendered.sql is None:
                why = (rendered.error if rendered else None) or result.error or "no SQL printed"
                last = (last_line(why) or "?")[:500]
                reviews[item.record.revision] = self.save(
                    item.record, item.key, None, f"the preview failed: {last}"
                )
                continue
            sql = rendered.sql.strip() + "\n"
            findings: tuple[LintFinding, ...] = ()
            if self.dialect == "postgresql":
                findings = lint(self._as_run(sql), self.exclude)
            reviews[item.record.revision] = self.save(item.record, item.key, sql, None, findings)
        return reviews

    def save(
        self,
        record: RevisionRecord,
        key: str,
        sql: str | None,
        error: str | None,
        findings: tuple[LintFinding, ...] = (),
    ) -> SqlReviewRecord:
        """Keep a review under `key` (see `version_key`)."""
        return self.store.save_sql_review(record.revision, key, self.dialect, sql, findings, error)

    def _as_run(self, sql: str) -> str:
        """The SQL as schemabot runs it: with the `lock_timeout` it sets on every connection."""
        if self.lock_timeout_seconds <= 0:
            return sql
        return f"SET lock_timeout = '{self.lock_timeout_seconds}s';\n{sql}"
