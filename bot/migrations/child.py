"""The child process that runs Alembic (started by bot/migrations/runner.py).

It runs inside the repository's checkout with the repo's own `env.py`, so a crash or a hang
in migration code cannot take the bot down. The database URL arrives in the environment,
never on the command line. The parent's instructions arrive as one JSON line on stdin;
when stdin closes (the bot died), the child exits at once, and PostgreSQL rolls back
whatever transaction it had open.

Output: Alembic's log lines as they come, then one line `SCHEMABOT-RESULT <json>`.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import Pool

RESULT = "SCHEMABOT-RESULT "
URL_VARIABLE = "SCHEMABOT_MIGRATE_URL"
# One key for every schemabot on this database: "schemabot" as a 63-bit number.
ADVISORY_LOCK_KEY = int.from_bytes(b"schemabot", "big") & 0x7FFF_FFFF_FFFF_FFFF


def _die_with_parent() -> None:
    """Exit as soon as the parent's end of stdin closes: the bot was stopped or killed."""
    sys.stdin.read()
    os._exit(3)


def _set_lock_timeout(seconds: int) -> None:
    """Every new PostgreSQL connection gets `lock_timeout`, committed at once.

    Committing right away matters: an open transaction on the connection before
    `context.configure()` would silently disable Alembic's own transaction handling.
    """

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        module = type(dbapi_connection).__module__
        if not module.startswith("psycopg"):
            return
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET lock_timeout = '{int(seconds)}s'")
        cursor.close()
        dbapi_connection.commit()

    event.listen(Pool, "connect", on_connect)


@contextmanager
def _advisory_lock(url: str) -> Iterator[None]:
    """Hold a session-level advisory lock on PostgreSQL for the whole run.

    Session-level, on a connection of its own: a transaction-level lock would be released
    by Alembic's `autocommit_block()`. Other databases have no such lock: nothing to hold.
    """
    engine = create_engine(url)
    try:
        if engine.dialect.name != "postgresql":
            yield
            return
        with engine.connect() as connection:
            locked = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            ).scalar()
            connection.commit()
            if not locked:
                raise RuntimeError("another schemabot is migrating this database right now")
            yield
    finally:
        engine.dispose()


def _config(ini: str, url: str, script_location: str | None) -> Config:
    config = Config(ini)
    # configparser treats % as interpolation: a password with % must be escaped.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if script_location:
        config.set_main_option("script_location", script_location)
    return config


def run(job: dict[str, Any]) -> dict[str, Any]:
    url = os.environ[URL_VARIABLE]
    config = _config(job["ini"], url, job.get("script_location"))
    action = job["action"]
    if action == "sql":
        buffer = io.StringIO()
        config.output_buffer = buffer
        command.upgrade(config, job["target"], sql=True)
        return {"ok": True, "sql": buffer.getvalue()}
    _set_lock_timeout(int(job.get("lock_timeout", 10)))
    with _advisory_lock(url):
        if action == "upgrade":
            command.upgrade(config, job["target"])
        elif action == "downgrade":
            command.downgrade(config, job["target"])
        else:
            raise ValueError(f"unknown action {action!r}")
    return {"ok": True}


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, stream=sys.stdout, format="%(levelname)s [%(name)s] %(message)s"
    )
    job = json.loads(sys.stdin.readline())
    threading.Thread(target=_die_with_parent, daemon=True).start()
    try:
        result = run(job)
    except Exception as exc:
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write(RESULT + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
