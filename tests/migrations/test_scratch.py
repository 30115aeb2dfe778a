"""Throwaway databases beside production: made, usable, and gone afterwards."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from bot.migrations.scratch import ScratchUnavailable, throwaway_database
from tests.support import pg


def databases() -> set[str]:
    with pg.admin() as conn:
        rows = conn.execute("SELECT datname FROM pg_database").fetchall()
    return {str(row[0]) for row in rows}


def test_a_scratch_database_is_made_beside_production_and_dropped_after(pg_url: str) -> None:
    with throwaway_database(pg_url) as scratch:
        engine = create_engine(scratch)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (id int)"))
        engine.dispose()
        name = scratch.rsplit("/", 1)[1]
        assert name.startswith("schemabot_scratch_") and name in databases()
    assert name not in databases()


def test_a_scratch_database_is_dropped_when_the_work_inside_fails(pg_url: str) -> None:
    with pytest.raises(RuntimeError), throwaway_database(pg_url) as scratch:
        raise RuntimeError("the work failed")
    assert scratch.rsplit("/", 1)[1] not in databases()


def test_another_dialect_gets_a_clear_refusal(tmp_path: object) -> None:
    with (
        pytest.raises(ScratchUnavailable, match="need PostgreSQL"),
        throwaway_database("sqlite:///prod.db"),
    ):
        pass
