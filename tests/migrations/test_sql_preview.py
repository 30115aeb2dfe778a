"""Alembic's offline SQL for real revisions, linted by the real squawk."""

from __future__ import annotations

from pathlib import Path

from bot.core.records import SqlReviewRecord
from bot.core.revision_file import parse_revision_source
from bot.demo.project import DEMO_PENDING, SEED_HISTORY, MigrationSpec
from bot.git.clone import Clone
from bot.migrations.runner import MigrationRunner
from bot.migrations.sandbox import probe
from bot.migrations.sql_preview import SqlReviewer, dialect_url
from bot.migrations.squawk import lint
from bot.redact import Redactor
from storage.store import Store
from tests.support.gitrepos import make_origin

CLEAN = MigrationSpec(
    "c1ea4c1ea401",
    DEMO_PENDING.revision,
    "Add audit events table",
    "add_audit_events",
    upgrade="""
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
    )
    """,
    downgrade='op.drop_table("audit_events")',
)


def reviewer(
    tmp_path: Path, store: Store, database_url: str | None = None
) -> tuple[SqlReviewer, str]:
    dev = make_origin(tmp_path)
    dev.add_migration(DEMO_PENDING)
    dev.add_migration(CLEAN)
    dev.push()
    redact = Redactor()
    clone = Clone(str(dev.origin), tmp_path / "bot" / "repo", redact)
    with clone.open() as repo:
        tip = clone.fetch(repo)["main"]
    for spec in (*SEED_HISTORY, DEMO_PENDING, CLEAN):
        store.record_revision(
            spec.revision,
            path=spec.path,
            blob_sha=spec.revision,
            branch="main",
            commit=tip,
            author_name="Dana",
            author_email="dana@example.com",
        )
    sandbox = probe([tmp_path / "bot"])
    runner = MigrationRunner(dialect_url(database_url), redact, timeout_seconds=120)
    sql = SqlReviewer(clone, store, runner, lambda: sandbox, 10, frozenset())
    return sql, tip


def review_of(sql: SqlReviewer, store: Store, spec: MigrationSpec, tip: str) -> SqlReviewRecord:
    record = store.get_revision(spec.revision)
    assert record is not None
    return sql.review(record, parse_revision_source(spec.source(), spec.path), tip)


def test_the_sql_of_a_revision_is_alembics_offline_sql_for_postgresql(
    tmp_path: Path, store: Store
) -> None:
    sql, tip = reviewer(tmp_path, store)

    review = review_of(sql, store, DEMO_PENDING, tip)

    assert review.error is None and review.dialect == "postgresql"
    assert "ALTER TABLE posts ADD COLUMN visibility VARCHAR(16) DEFAULT 'public' NOT NULL;" in (
        review.sql or ""
    )
    assert "CREATE INDEX ix_posts_visibility ON posts (visibility);" in (review.sql or "")
    rules = {finding.rule for finding in review.findings}
    assert "require-concurrent-index-creation" in rules
    assert "require-lock-timeout" not in rules, "schemabot sets lock_timeout itself"
    index = next(f for f in review.findings if f.rule == "require-concurrent-index-creation")
    assert index.statement.startswith("CREATE INDEX ix_posts_visibility")
    assert store.sql_review(DEMO_PENDING.revision, DEMO_PENDING.revision) == review


def test_a_clean_migration_has_no_errors_and_a_merge_runs_no_sql(
    tmp_path: Path, store: Store
) -> None:
    sql, tip = reviewer(tmp_path, store)

    clean = review_of(sql, store, CLEAN, tip)
    merge = review_of(sql, store, SEED_HISTORY[-1], tip)

    assert clean.error is None and "CREATE TABLE audit_events" in (clean.sql or "")
    assert not [f for f in clean.findings if f.level == "error"]
    assert merge.sql is None and "merge" in (merge.error or "")


def test_sqlite_production_gets_sqlite_sql_and_no_postgres_lint(
    tmp_path: Path, store: Store
) -> None:
    sql, tip = reviewer(tmp_path, store, f"sqlite:///{tmp_path / 'prod.db'}")

    review = review_of(sql, store, DEMO_PENDING, tip)

    assert review.dialect == "sqlite" and review.findings == ()
    assert "visibility" in (review.sql or "")
    assert not (tmp_path / "prod.db").exists(), "offline mode never touches the database"


def test_lint_reports_errors_first_and_honours_excluded_rules() -> None:
    sql = "ALTER TABLE posts ADD COLUMN flag BOOLEAN NOT NULL;\nDROP TABLE old_posts;\n"

    findings = lint(sql)
    excluded = lint(sql, frozenset({"ban-drop-table"}))

    assert findings and findings[0].level == "error"
    assert "ban-drop-table" in {f.rule for f in findings}
    assert "ban-drop-table" not in {f.rule for f in excluded}
