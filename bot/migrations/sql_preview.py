"""What a revision will really run: Alembic's offline SQL, linted by squawk for PostgreSQL.

Rendered once per version of a revision file, from a checkout of the branch it is on, in
the child process that runs Alembic (offline: no database is touched), and kept in the
store so cards render without waiting for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.core.records import LintFinding, RevisionRecord, SqlReviewRecord
from bot.core.revision_file import Revision
from bot.git.clone import Clone
from bot.git.doc_push import worktree
from bot.migrations.runner import MigrationRunner
from bot.migrations.squawk import lint
from bot.redact import Redactor
from storage.store import Store

log = logging.getLogger(__name__)

DEFAULT_DIALECT_URL = "postgresql://"


@dataclass(frozen=True)
class SqlReviewer:
    clone: Clone
    store: Store
    work: Path
    database_url: str | None
    alembic_ini: str
    script_location: str | None
    lock_timeout_seconds: int
    exclude: frozenset[str]
    redact: Redactor

    @property
    def dialect(self) -> str:
        return make_url(self.database_url or DEFAULT_DIALECT_URL).get_backend_name()

    def review(
        self, record: RevisionRecord, revision: Revision, branch_tip: str
    ) -> SqlReviewRecord:
        """The SQL review of the revision as it is at `branch_tip` (computed once per blob)."""
        known = self.store.sql_review(record.revision, record.blob_sha)
        if known is not None:
            return known
        if revision.is_merge:
            return self.store.save_sql_review(
                record.revision,
                record.blob_sha,
                self.dialect,
                None,
                (),
                "a merge revision: it runs no SQL of its own",
            )
        start = revision.down_revisions[0] if revision.down_revisions else None
        runner = MigrationRunner(
            self.database_url or DEFAULT_DIALECT_URL, self.redact, timeout_seconds=120
        )
        with worktree(self.clone, branch_tip, self.work / f"sql-{record.revision}") as checkout:
            result = runner.offline_sql(
                checkout, self.alembic_ini, self.script_location, start, record.revision
            )
        if not result.ok or result.sql is None:
            error = (result.error or "Alembic produced no SQL").splitlines()[-1][:500]
            return self.store.save_sql_review(
                record.revision, record.blob_sha, self.dialect, None, (), error
            )
        sql = result.sql.strip() + "\n"
        findings: tuple[LintFinding, ...] = ()
        if self.dialect == "postgresql":
            findings = lint(self._as_run(sql), self.exclude)
        return self.store.save_sql_review(
            record.revision, record.blob_sha, self.dialect, sql, findings, None
        )

    def _as_run(self, sql: str) -> str:
        """The SQL as schemabot runs it: with the `lock_timeout` it sets on every connection."""
        if self.lock_timeout_seconds <= 0:
            return sql
        return f"SET lock_timeout = '{self.lock_timeout_seconds}s';\n{sql}"
