"""Throwaway PostgreSQL databases beside an environment's own, for work that must not touch it.

Drift checks build the migration chain in one; lock tracing runs a revision in one. Each is
created on the server of a given URL (or of a configured scratch URL), named by schemabot
(`schemabot_scratch_<random>`), and dropped afterwards whatever happened inside.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import SchemabotError
from bot.redact import Redactor

PREFIX = "schemabot_scratch_"


class ScratchUnavailable(SchemabotError):
    """No throwaway database could be made (no rights, another dialect, the server down)."""


@contextmanager
def throwaway_database(server_url: str, redact: Redactor | None = None) -> Iterator[str]:
    """A new empty database on `server_url`'s server, as a URL; dropped when done.

    `server_url` may name any database on the server: the new one is created from the
    server's `postgres` maintenance database, by a role that may create databases.
    """
    redact = redact or Redactor()
    url = make_url(server_url)
    if url.get_backend_name() != "postgresql":
        raise ScratchUnavailable(
            f"scratch databases need PostgreSQL; this is {url.get_backend_name()}"
        )
    name = PREFIX + secrets.token_hex(6)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        except SQLAlchemyError as exc:
            reason = redact(str(getattr(exc, "orig", exc))).strip().splitlines()[:1]
            raise ScratchUnavailable(
                f"cannot create a scratch database on {_server(url)}: {' '.join(reason)}"
            ) from None
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _server(url: URL) -> str:
    return f"{url.host or 'localhost'}:{url.port or 5432}"
