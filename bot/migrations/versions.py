"""Reads what the production database says about its own migrations, never writing to it."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import SchemabotError
from bot.redact import Redactor

VERSION_TABLE = "alembic_version"


class DatabaseUnavailable(SchemabotError):
    """The production database did not answer."""


def current_versions(database_url: str, redact: Redactor | None = None) -> frozenset[str]:
    """The revision ids in production's `alembic_version` (empty when it has none yet)."""
    redact = redact or Redactor()
    engine = create_engine(database_url, pool_pre_ping=True)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(VERSION_TABLE):
                return frozenset()
            rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
            return frozenset(str(row[0]) for row in rows)
    except SQLAlchemyError as exc:
        original = getattr(exc, "orig", None)
        reason = redact(str(original) if original is not None else str(exc))
        safe_url = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailable(
            f"the production database ({redact(safe_url)}) did not answer: {reason.strip()}"
        ) from None
    finally:
        engine.dispose()
