"""The database side of lock safety: table sizes, schema-only copies, the tracer's guard."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from bot.migrations.runner import Checkout, MigrationRunner
from bot.migrations.schema_copy import copy_schema, find_tool, server_major
from bot.migrations.scratch import throwaway_database
from bot.migrations.table_stats import read_table_stats
from bot.redact import Redactor

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ENV_PY_ELSEWHERE = """
import os
from alembic import context
from sqlalchemy import create_engine

def run():
    engine = create_engine(os.environ["THEIR_DATABASE_URL"])
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()

run()
"""
REVISION = '''"""make t"""
from alembic import op
import sqlalchemy as sa
revision = "t1"
down_revision = None
def upgrade():
    op.create_table("t", sa.Column("id", sa.Integer))
def downgrade():
    pass
'''


def run_sql(url: str, *statements: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def test_sizes_are_read_and_an_unanalyzed_table_is_counted_up_to_the_threshold(
    pg_url: str,
) -> None:
    run_sql(
        pg_url,
        "CREATE TABLE big (id int)",
        "INSERT INTO big SELECT generate_series(1, 5000)",
        "CREATE TABLE small (id int)",
        "ANALYZE small",
    )
    stats = read_table_stats(pg_url, ["big", "small", "absent"], Redactor(), NOW, 1000)
    assert stats.error is None and stats.read_at == NOW
    assert stats.sizes["big"].rows == 1000  # counted up to the threshold: large
    assert stats.sizes["small"].rows == 0 and stats.sizes["small"].bytes >= 0
    assert "absent" not in stats.sizes


def test_an_unreachable_database_gives_unknown_sizes_and_why() -> None:
    stats = read_table_stats(
        "postgresql+psycopg://postgres:secret-pw@127.0.0.1:1/prod",
        ["t"],
        Redactor(["secret-pw"]),
        NOW,
        10,
    )
    assert stats.sizes == {} and stats.error
    assert "secret-pw" not in stats.error


def test_tools_of_another_major_version_are_not_used(pg_url: str) -> None:
    major = server_major(pg_url)
    assert find_tool("pg_dump", major) is not None
    assert find_tool("pg_dump", major + 80) is None


def test_a_schema_only_copy_has_the_tables_no_rows_and_the_alembic_version(pg_url: str) -> None:
    run_sql(
        pg_url,
        "CREATE TABLE events (id int PRIMARY KEY, code int)",
        "INSERT INTO events VALUES (1, 1)",
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)",
        "INSERT INTO alembic_version VALUES ('abc123')",
    )
    with throwaway_database(pg_url) as copy:
        copy_schema(pg_url, copy, Redactor())
        engine = create_engine(copy)
        with engine.connect() as connection:
            assert {c["name"] for c in inspect(connection).get_columns("events")} == {"id", "code"}
            assert connection.execute(text("SELECT count(*) FROM events")).scalar() == 0
            assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == [
                ("abc123",)
            ]
        engine.dispose()


def test_a_trace_refuses_an_env_py_that_connects_elsewhere(tmp_path: Path, pg_url: str) -> None:
    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    (tmp_path / "migrations" / "env.py").write_text(ENV_PY_ELSEWHERE)
    (tmp_path / "migrations" / "versions" / "t1_make_t.py").write_text(REVISION)
    with throwaway_database(pg_url) as copy:
        runner = MigrationRunner(copy, Redactor(), settings_env={"THEIR_DATABASE_URL": pg_url})
        result = runner.trace(Checkout(tmp_path), "t1")
    assert not result.ok
    assert "elsewhere than the schema-only copy (its dbname differs)" in (result.error or "")
    engine = create_engine(pg_url)
    with engine.connect() as connection:
        assert not inspect(connection).has_table("t")
    engine.dispose()


ENV_PY_OTHER_HOST = """
from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

# The copy's own database, reached by another host name: the same name, not the same place.
url = make_url(context.config.get_main_option("sqlalchemy.url")).set(host="localhost")
with create_engine(url).connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""
ENV_PY_HONEST = """
from alembic import context
from sqlalchemy import engine_from_config

engine = engine_from_config(context.config.get_section(context.config.config_ini_section))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""
REVISION_REACHING_OUT = '''"""make t, and reach production with psycopg"""
import os
from alembic import op
import psycopg
import sqlalchemy as sa
revision = "t1"
down_revision = None
def upgrade():
    op.create_table("t", sa.Column("id", sa.Integer))
    with psycopg.connect(os.environ["THEIR_DATABASE_URL"], autocommit=True) as connection:
        connection.execute("CREATE TABLE reached (id int)")
def downgrade():
    pass
'''


def traced(tmp_path: Path, pg_url: str, env_py: str, revision: str = REVISION) -> str | None:
    """Trace `revision` under `env_py` on a throwaway database; the error, if it failed."""
    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    (tmp_path / "migrations" / "env.py").write_text(env_py)
    (tmp_path / "migrations" / "versions" / "t1_make_t.py").write_text(revision)
    their_url = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with throwaway_database(pg_url) as copy:
        runner = MigrationRunner(copy, Redactor(), settings_env={"THEIR_DATABASE_URL": their_url})
        result = runner.trace(Checkout(tmp_path), "t1")
    return None if result.ok else result.error or "?"


def has_table(url: str, table: str) -> bool:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = inspect(connection).has_table(table)
    engine.dispose()
    return found


def test_the_trace_refuses_the_copys_database_name_on_another_host(
    tmp_path: Path, pg_url: str
) -> None:
    error = traced(tmp_path, pg_url, ENV_PY_OTHER_HOST)

    assert error is not None and "(its host differs)" in error


def test_the_trace_refuses_a_migration_that_connects_with_psycopg_itself(
    tmp_path: Path, pg_url: str
) -> None:
    error = traced(tmp_path, pg_url, ENV_PY_HONEST, REVISION_REACHING_OUT)

    assert error is not None and "connects elsewhere than the schema-only copy" in error
    assert not has_table(pg_url, "reached")


def test_an_env_py_that_connects_with_sqlalchemy_url_is_traced(tmp_path: Path, pg_url: str) -> None:
    assert traced(tmp_path, pg_url, ENV_PY_HONEST) is None
