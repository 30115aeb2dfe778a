"""What a revision will really run: Alembic's offline SQL, linted by squawk for PostgreSQL.

Rendered once per version of a revision file, from a checkout of the branch it is on, in
the child process that runs Alembic (offline: no database is touched), and kept in the
store so cards render without waiting for it.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.core.records import LintFinding, RevisionRecord, SqlReviewRecord
from bot.core.revision_file import Revision
from bot.git.clone import Clone
from bot.git.doc_push import worktree
from bot.migrations.runner import MigrationRunner
from bot.redact import Redactor
from storage.store import Store

log = logging.getLogger(__name__)

DEFAULT_DIALECT_URL = "postgresql://"
LEVEL_ORDER = {"error": 0, "warning": 1}
# squawk reports every rule as a warning; these lose data or block production traffic
# while they run, so the card shows them first, as errors.
ERROR_RULES = frozenset(
    {
        "adding-field-with-default",
        "adding-foreign-key-constraint",
        "adding-not-nullable-field",
        "adding-required-field",
        "ban-drop-column",
        "ban-drop-database",
        "ban-drop-not-null",
        "ban-drop-table",
        "ban-truncate-cascade",
        "changing-column-type",
        "constraint-missing-not-valid",
        "disallowed-unique-constraint",
        "renaming-column",
        "renaming-table",
        "require-concurrent-index-creation",
        "require-concurrent-index-deletion",
    }
)


def squawk_binary() -> str | None:
    """squawk from this Python's environment (the squawk-cli package), else from PATH."""
    beside = Path(sys.executable).parent / "squawk"
    return str(beside) if beside.is_file() else shutil.which("squawk")


def lint(sql: str, exclude: frozenset[str] = frozenset()) -> tuple[LintFinding, ...]:
    """squawk's findings on `sql`, errors first; empty when squawk is not installed."""
    binary = squawk_binary()
    if binary is None:
        log.warning("squawk is not installed: no lint of the SQL")
        return ()
    args = [binary, "--reporter", "json", "--stdin-filepath", "migration.sql"]
    if exclude:
        args.append("--exclude=" + ",".join(sorted(exclude)))
    done = subprocess.run(args, input=sql, capture_output=True, text=True, timeout=60)
    if done.returncode not in (0, 1) or not done.stdout.strip().startswith("["):
        log.warning("squawk failed (exit %d): %s", done.returncode, done.stderr.strip()[:200])
        return ()
    lines = sql.splitlines()
    findings = [
        LintFinding(
            rule=str(item["rule_name"]),
            level="error"
            if item["rule_name"] in ERROR_RULES or str(item["level"]).lower() == "error"
            else "warning",
            message=str(item["message"]),
            help=str(item.get("help") or ""),
            line=int(item["line"]) + 1,
            statement="\n".join(
                lines[int(item["line"]) : int(item.get("line_end", item["line"])) + 1]
            ),
        )
        for item in json.loads(done.stdout)
    ]
    return tuple(sorted(findings, key=lambda f: (LEVEL_ORDER.get(f.level, 2), f.line)))


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
