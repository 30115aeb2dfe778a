"""The program that runs Alembic for schemabot, in a child process (see runner.py).

It runs under the team's own interpreter (`SCHEMABOT_MIGRATION_PYTHON`), where schemabot is
not installed: it is started by path and needs only the standard library and Alembic (with
the SQLAlchemy Alembic brings), on Python 3.8 or newer. Its working directory is the folder
of `alembic.ini`, which it puts first on `sys.path` as `python -m alembic` run from there
would, so a team's `env.py` that imports its application works unchanged.

The parent's instructions arrive as one JSON line on stdin; the database URL arrives in the
environment, never on the command line. When stdin closes (the bot died), the child exits at
once, and PostgreSQL rolls back whatever transaction it had open. Output: Alembic's log lines
as they come, then one line `SCHEMABOT-RESULT <json>`.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import threading
from contextlib import contextmanager
from typing import Any, Dict, Iterator

RESULT = "SCHEMABOT-RESULT "
BACKEND = "SCHEMABOT-BACKEND "
"""A progress line naming the PostgreSQL backend of each connection the migration opens."""
URL_VARIABLE = "SCHEMABOT_MIGRATE_URL"
# One key for every schemabot on this database: "schemabot" as a 63-bit number.
ADVISORY_LOCK_KEY = int.from_bytes(b"schemabot", "big") & 0x7FFF_FFFF_FFFF_FFFF
# The oldest Alembic whose command API and offline mode this program uses.
MINIMUM_ALEMBIC = (1, 7)
MINIMUM_PYTHON = (3, 8)

Job = Dict[str, Any]


def _die_with_parent() -> None:
    """Exit as soon as the parent's end of stdin closes: the bot was stopped or killed."""
    sys.stdin.read()
    os._exit(3)


def _set_lock_timeout(seconds: int) -> None:
    """Every new PostgreSQL connection gets `lock_timeout`, committed at once.

    Committing right away matters: an open transaction on the connection before
    `context.configure()` would silently disable Alembic's own transaction handling.
    """
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        module = type(dbapi_connection).__module__
        if not module.startswith("psycopg"):
            return
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET lock_timeout = '{int(seconds)}s'")
        cursor.close()
        dbapi_connection.commit()

    event.listen(Pool, "connect", on_connect)


def _report_backends() -> None:
    """Print each new PostgreSQL connection's backend pid, so the parent can watch from
    another connection who blocks it (pg_blocking_pids). Committed at once, as above."""
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        if not type(dbapi_connection).__module__.startswith("psycopg"):
            return
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
        cursor.close()
        dbapi_connection.commit()
        sys.stdout.write(BACKEND + str(int(pid)) + "\n")
        sys.stdout.flush()

    event.listen(Pool, "connect", on_connect)


def _set_statement_timeout(seconds: int) -> None:
    """Every new PostgreSQL connection gets `statement_timeout`: no one statement of the
    migration runs longer (0: no limit). Committed at once, as above."""
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        if not type(dbapi_connection).__module__.startswith("psycopg"):
            return
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET statement_timeout = '{int(seconds)}s'")
        cursor.close()
        dbapi_connection.commit()

    event.listen(Pool, "connect", on_connect)


@contextmanager
def _advisory_lock(url: str) -> Iterator[None]:
    """Hold a session-level advisory lock on PostgreSQL for the whole run.

    Session-level, on a connection of its own: a transaction-level lock would be released
    by Alembic's `autocommit_block()`. Other databases have no such lock: nothing to hold.
    """
    from sqlalchemy import create_engine, text

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


def _config(job: Job, url: str) -> Any:
    from alembic.config import Config

    config = Config(job["ini"], ini_section=job.get("section") or "alembic")
    # configparser treats % as interpolation: a password with % must be escaped.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if job.get("script_location"):
        config.set_main_option("script_location", job["script_location"])
    if job.get("version_locations"):
        config.set_main_option("version_locations", job["version_locations"])
    return config


def _database_env_py_uses(config: Any) -> Job:
    """Which database the team's `env.py` connects to, and its `alembic_version` there: the
    parent checks it is the one it verifies (settings can point `env.py` elsewhere)."""
    from alembic import util
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(config)
    seen: Job = {}

    def look(revision: Any, context: Any) -> list[Any]:
        seen["url"] = str(util.obfuscate_url_pw(context.connection.engine.url))
        seen["versions"] = sorted(context.get_current_heads())
        return []

    try:
        with EnvironmentContext(config, script, fn=look, dont_mutate=True):
            script.run_env()
    except Exception as exc:
        seen["error"] = f"{type(exc).__name__}: {exc}"
    return seen


def _offline(config: Any, target: str) -> Job:
    """The offline SQL from one `start:end` (or `end`), or why Alembic could not render it."""
    from alembic import command

    buffer = io.StringIO()
    config.output_buffer = buffer
    try:
        command.upgrade(config, target, sql=True)
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"sql": buffer.getvalue()}


def _tracing() -> Any:
    """The lock tracer, `trace_child.py` beside this file, loaded by its path: the ini's
    folder is first on sys.path, and nothing there may stand in for it."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "trace_child.py")
    spec = importlib.util.spec_from_file_location("schemabot_trace_child", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _probe() -> Job:
    """Whether this interpreter can serve: a recent enough Python and Alembic."""
    python = ".".join(str(part) for part in sys.version_info[:3])
    if sys.version_info < MINIMUM_PYTHON:
        oldest = ".".join(str(part) for part in MINIMUM_PYTHON)
        return {"ok": False, "python": python, "error": f"Python {python} is older than {oldest}"}
    try:
        import alembic
    except ImportError as exc:
        return {"ok": False, "python": python, "error": f"Alembic cannot be imported ({exc})"}
    version = tuple(int(part) for part in alembic.__version__.split(".")[:2])
    served = version >= MINIMUM_ALEMBIC
    oldest = ".".join(str(part) for part in MINIMUM_ALEMBIC)
    return {
        "ok": served,
        "python": python,
        "alembic": alembic.__version__,
        "error": None if served else f"Alembic {alembic.__version__} is older than {oldest}",
    }


def run(job: Job) -> Job:
    action = job["action"]
    if action == "probe":
        return _probe()
    from alembic import command

    url = os.environ[URL_VARIABLE]
    config = _config(job, url)
    if action == "sql":
        return {
            "ok": True,
            "sqls": {key: _offline(config, target) for key, target in job["targets"]},
        }
    if action == "trace":
        traced: Job = _tracing().trace(config, job["target"], url)
        return traced
    _set_lock_timeout(int(job.get("lock_timeout", 10)))
    if job.get("statement_timeout"):
        _set_statement_timeout(int(job["statement_timeout"]))
    if job.get("report_backends"):
        _report_backends()
    with _advisory_lock(url):
        if action == "upgrade":
            command.upgrade(config, job["target"])
        elif action == "downgrade":
            command.downgrade(config, job["target"])
        else:
            raise ValueError(f"unknown action {action!r}")
        return {"ok": True, "env_database": _database_env_py_uses(config)}


def main() -> int:
    # Started by path, this file's folder is sys.path[0]: replace it with the ini's folder
    # (the working directory), as `python -m alembic` run from there would have it, so
    # nothing beside this file can shadow a module of the team's application.
    sys.path[0] = ""
    logging.basicConfig(
        level=logging.INFO, stream=sys.stdout, format="%(levelname)s [%(name)s] %(message)s"
    )
    job = json.loads(sys.stdin.readline())
    threading.Thread(target=_die_with_parent, daemon=True).start()
    try:
        result = run(job)
    # Whatever the team's code raises (SystemExit included) is reported, not a crash.
    except BaseException as exc:
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write(RESULT + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
