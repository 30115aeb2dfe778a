"""Which lock each statement of a revision's offline SQL takes, read from its text."""

from __future__ import annotations

import pytest

from bot.core.lock_facts import LockTrace, TableSize, TableStats, TracedStatement
from bot.core.lock_modes import LockMode, TableLock
from bot.core.lock_reading import read_locks, table_name
from bot.core.lock_report import lock_report, locked_tables, size_text
from bot.core.sql_statements import statements
from bot.core.text import plain

AE = LockMode.ACCESS_EXCLUSIVE


@pytest.mark.parametrize(
    ("sql", "locks", "work"),
    [
        ("ALTER TABLE posts ADD COLUMN note TEXT", [("posts", AE)], "brief"),
        ("ALTER TABLE posts ADD COLUMN n INTEGER DEFAULT 0 NOT NULL", [("posts", AE)], "brief"),
        ("ALTER TABLE posts ADD COLUMN at TIMESTAMP DEFAULT now()", [("posts", AE)], "brief"),
        ("ALTER TABLE posts ADD COLUMN r FLOAT DEFAULT random()", [("posts", AE)], "rewrite"),
        ("ALTER TABLE posts ALTER COLUMN title SET NOT NULL", [("posts", AE)], "scan"),
        (
            "ALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY(user_id) REFERENCES users (id)",
            [("posts", LockMode.SHARE_ROW_EXCLUSIVE), ("users", LockMode.SHARE_ROW_EXCLUSIVE)],
            "scan",
        ),
        (
            "ALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY(user_id) REFERENCES users (id) "
            "NOT VALID",
            [("posts", LockMode.SHARE_ROW_EXCLUSIVE), ("users", LockMode.SHARE_ROW_EXCLUSIVE)],
            "brief",
        ),
        (
            "ALTER TABLE posts VALIDATE CONSTRAINT fk",
            [("posts", LockMode.SHARE_UPDATE_EXCLUSIVE)],
            "scan",
        ),
        ("CREATE INDEX ix_title ON posts (title)", [("posts", LockMode.SHARE)], "index"),
        (
            "CREATE UNIQUE INDEX CONCURRENTLY ix_title ON posts (title)",
            [("posts", LockMode.SHARE_UPDATE_EXCLUSIVE)],
            "concurrent",
        ),
        ("ALTER TABLE posts RENAME TO articles", [("posts", AE)], "brief"),
        ("ALTER TABLE posts RENAME COLUMN title TO headline", [("posts", AE)], "brief"),
        ("ALTER TABLE posts DROP COLUMN title", [("posts", AE)], "brief"),
        ("DROP TABLE posts", [("posts", AE)], "brief"),
        ("ALTER TABLE posts ALTER COLUMN title TYPE TEXT", [("posts", AE)], "rewrite"),
        ("ALTER TABLE posts ALTER COLUMN type SET NOT NULL", [("posts", AE)], "scan"),
        ('ALTER TABLE "Audit"."Events" ADD COLUMN x INT', [("Audit.Events", AE)], "brief"),
        ("ALTER TABLE public.posts ADD COLUMN x INT", [("posts", AE)], "brief"),
        ("UPDATE posts SET a = 1", [("posts", LockMode.ROW_EXCLUSIVE)], "rows"),
        ("LOCK TABLE posts IN SHARE MODE", [("posts", LockMode.SHARE)], "brief"),
    ],
)
def test_each_statement_reads_as_the_documentation_says(
    sql: str, locks: list[tuple[str, LockMode]], work: str
) -> None:
    (reading,) = read_locks(sql)
    assert sorted(reading.locks) == sorted(TableLock(t, m) for t, m in locks)
    assert reading.work == work


def test_the_strictest_subcommand_wins() -> None:
    (reading,) = read_locks(
        "ALTER TABLE posts ALTER COLUMN n SET STATISTICS 100, ALTER COLUMN n TYPE BIGINT"
    )
    assert reading.strongest is AE
    assert reading.work == "rewrite"


def test_transactions_and_alembic_bookkeeping_are_read_from_the_offline_sql() -> None:
    sql = """BEGIN;
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL);
-- Running upgrade  -> a1
ALTER TABLE posts ADD COLUMN v TEXT;
COMMIT;
CREATE INDEX CONCURRENTLY ix ON posts (v);
BEGIN;
UPDATE alembic_version SET version_num='a1' WHERE alembic_version.version_num = 'a0';
COMMIT;
"""
    readings = read_locks(sql)
    assert [r.statement for r in readings] == [
        "ALTER TABLE posts ADD COLUMN v TEXT",
        "CREATE INDEX CONCURRENTLY ix ON posts (v)",
    ]
    assert [r.in_transaction for r in readings] == [True, False]
    assert readings[1].concurrently and readings[1].index == "ix"


def test_statements_are_cut_where_postgresql_cuts_them() -> None:
    script = (
        "INSERT INTO t VALUES ('a;b', E'it\\'s;', \"we;ird\"); -- c;omment\n"
        "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;"
        "/* a /* nested; */ comment */ SELECT $1;"
    )
    assert statements(script) == (
        "INSERT INTO t VALUES ('a;b', E'it\\'s;', \"we;ird\")",
        "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql",
        "SELECT $1",
    )


def test_an_unknown_statement_is_kept_and_says_so() -> None:
    (reading,) = read_locks("REFRESH MATERIALIZED VIEW stats")
    assert not reading.known and reading.locks == ()


def test_a_table_created_here_needs_no_statistics_and_its_work_is_no_risk() -> None:
    readings = read_locks(
        "BEGIN; CREATE TABLE tags (id INT, post_id INT REFERENCES posts (id));"
        "CREATE INDEX ix ON tags (post_id); COMMIT;"
    )
    assert locked_tables(readings) == ("posts",)
    report = lock_report(readings, TableStats(), None)
    assert [(risk.table, risk.level) for risk in report.risks] == [("posts", "medium")]


def test_a_brief_lock_held_while_a_later_statement_rewrites_is_high_risk() -> None:
    readings = read_locks(
        "BEGIN; ALTER TABLE users ADD COLUMN x INT; "
        "ALTER TABLE posts ALTER COLUMN title TYPE TEXT; COMMIT;"
    )
    stats = TableStats(
        {
            "users": TableSize("users", 500, 65536),
            "posts": TableSize("posts", 12_000_000, 9 * 1024**3),
        }
    )
    report = lock_report(readings, stats, None, large_table_rows=1_000_000)
    texts = {risk.table: (risk.level, plain(risk.text)) for risk in report.risks}
    assert texts["users"][0] == "high"
    assert "while it rewrites `posts` (12 M rows, 9.0 GB)" in texts["users"][1]
    assert "held until its transaction ends" in texts["users"][1]
    assert texts["posts"] == (
        "high",
        "Blocks reads and writes on `posts` (12 M rows, 9.0 GB) while it rewrites `posts`",
    )
    assert report.high


def test_small_tables_and_unknown_sizes() -> None:
    readings = read_locks("CREATE INDEX ix ON posts (title)")
    small = lock_report(readings, TableStats({"posts": TableSize("posts", 10, 8192)}), None)
    assert [r.level for r in small.risks] == ["medium"] and not small.high
    unknown = lock_report(readings, TableStats(error="timeout"), None)
    assert [r.level for r in unknown.risks] == ["unknown"] and unknown.high
    assert size_text(None) == "size unknown"
    assert size_text(TableSize("t", None, 2048)) == "rows unknown (never analyzed), 2.0 kB"


def test_the_trace_confirms_or_corrects_each_statement() -> None:
    readings = read_locks(
        "BEGIN; ALTER TABLE posts ADD COLUMN v TEXT; DROP INDEX ix_old;"
        "ALTER TABLE posts ADD CONSTRAINT c CHECK (v <> '') ; COMMIT;"
    )
    trace = LockTrace(
        (
            TracedStatement("SELECT 1", ()),
            TracedStatement("ALTER TABLE posts ADD COLUMN v TEXT", (TableLock("posts", AE),)),
            TracedStatement("DROP INDEX ix_old", (TableLock("posts", AE), TableLock("users", AE))),
            TracedStatement(
                "ALTER TABLE posts ADD CONSTRAINT c CHECK (v <> '')",
                (TableLock("posts", LockMode.SHARE_ROW_EXCLUSIVE), TableLock("posts", AE)),
            ),
        )
    )
    report = lock_report(readings, TableStats(), trace)
    assert [v.agreement for v in report.statements] == ["confirmed", "completed", "confirmed"]
    assert report.statements[1].locks == (TableLock("users", AE),)


def test_table_names_fold_as_postgresql_folds_them() -> None:
    assert table_name('"Posts"') == "Posts"
    assert table_name("Posts") == "posts"
    assert table_name("public . posts") == "posts"
