"""Reads what the production database says about its own migrations, never writing to it."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import SchemabotError
from bot.redact import Redactor

VERSION_TABLE = "alembic_version"


class DatabaseUnavailable(SchemabotError):
    """An environment's database did not answer."""


READ_TIMEOUT_SECONDS = 2
"""How long a read of an environment may wait to connect (libpq's shortest) and to read."""


def current_versions(
    database_url: str,
    redact: Redactor | None = None,
    timeout: int | None = None,
    name: str = "production",
) -> frozenset[str]:
    """The revision ids in the `alembic_version` of the database `name` (production by
    default; empty when it has none yet). With `timeout`, a server that does not answer
    within that many seconds, or a read held up by a lock, is given up on."""
    redact = redact or Redactor()
    bounded = timeout is not None and make_url(database_url).get_backend_name() == "postgresql"
    engine = create_engine(
        database_url,
        pool_pre_ping=True,
        connect_args={"connect_timeout": timeout} if bounded else {},
    )
    try:
        with engine.connect() as connection:
            if bounded:
                # Local to the read's own transaction, so it works behind a pooler too.
                connection.execute(text(f"SET LOCAL statement_timeout = '{timeout}s'"))
            if not inspect(connection).has_table(VERSION_TABLE):
                return frozenset()
            rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
            return frozenset(str(row[0]) for row in rows)
    except SQLAlchemyError as exc:
        original = getattr(exc, "orig", None)
        reason = redact(str(original) if original is not None else str(exc))
        safe_url = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailable(
            f"the {name} database ({redact(safe_url)}) did not answer: {reason.strip()}"
        ) from None
    finally:
        engine.dispose()
