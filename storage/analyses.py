"""Queries for the SQL review of revision files: offline SQL and lint findings."""

import json
from dataclasses import asdict

from bot.core.records import LintFinding, SqlReviewRecord
from storage.base import StoreBase, from_text


class AnalysisQueries(StoreBase):
    def save_sql_review(
        self,
        revision: str,
        blob_sha: str,
        dialect: str,
        sql: str | None,
        findings: tuple[LintFinding, ...],
        error: str | None,
    ) -> SqlReviewRecord:
        """Keep the SQL review of one version of the file (replacing an earlier one of it)."""
        now = self._now()
        with self._db.atomic():
            self._execute(
                "INSERT OR REPLACE INTO sql_reviews "
                "(revision, blob_sha, dialect, sql, findings, error, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    revision,
                    blob_sha,
                    dialect,
                    sql,
                    json.dumps([asdict(finding) for finding in findings]),
                    error,
                    now,
                ],
            )
        return SqlReviewRecord(revision, blob_sha, dialect, sql, findings, error, from_text(now))

    def sql_review(self, revision: str, blob_sha: str) -> SqlReviewRecord | None:
        row = self._row(
            "SELECT * FROM sql_reviews WHERE revision = ? AND blob_sha = ?", [revision, blob_sha]
        )
        if row is None:
            return None
        findings = tuple(LintFinding(**item) for item in json.loads(row["findings"]))
        return SqlReviewRecord(
            row["revision"],
            row["blob_sha"],
            row["dialect"],
            row["sql"],
            findings,
            row["error"],
            from_text(row["at"]),
        )
