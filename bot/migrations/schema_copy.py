"""A schema-only copy of an environment's database in a throwaway database on its server:
`pg_dump --schema-only` piped into `pg_restore`, then its `alembic_version` rows, so
Alembic finds the copy where production is.

pg_dump must be of the server's major version (an older one refuses a newer server, and a
newer one writes what an older server may not read): the Debian layout's
`/usr/lib/postgresql/<major>/bin` is looked in first, then PATH. Without a matching one
there is no copy, and the reason says which package to install. Connection settings go to
the tools through libpq's environment (PGHOST, PGPASSWORD, ...), never their command line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from bot.errors import SchemabotError
from bot.migrations.runner import PASSED_THROUGH
from bot.redact import Redactor

DUMP_TIMEOUT_SECONDS = 300
DEBIAN_BIN = Path("/usr/lib/postgresql")
# SQLAlchemy URL query parameters libpq also takes, and the variable that carries each.
_LIBPQ_QUERY = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslpassword": "PGSSLPASSWORD",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
}


class CopyUnavailable(SchemabotError):
    """No schema-only copy could be made; the message says why and what would fix it."""


def server_major(database_url: str) -> int:
    engine = create_engine(database_url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            number = connection.execute(text("SHOW server_version_num")).scalar()
    finally:
        engine.dispose()
    return int(str(number)) // 10000


def find_tool(name: str, major: int) -> Path | None:
    """`pg_dump` or `pg_restore` of exactly this major version, if installed."""
    candidates = [DEBIAN_BIN / str(major) / "bin" / name]
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and tool_major(candidate) == major:
            return candidate
    return None


def tool_major(tool: Path) -> int | None:
    try:
        shown = subprocess.run(
            [str(tool), "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"\)\s+(\d+)", shown)
    return int(found.group(1)) if found else None


def libpq_env(url: URL) -> dict[str, str]:
    """The environment that points libpq's tools at `url`'s database."""
    env = {key: value for key, value in os.environ.items() if key in PASSED_THROUGH}
    given = {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
    }
    env.update({key: str(value) for key, value in given.items() if value})
    for name, variable in _LIBPQ_QUERY.items():
        value = url.query.get(name)
        if isinstance(value, str):
            env[variable] = value
    return env


def copy_schema(source_url: str, copy_url: str, redact: Redactor) -> None:
    """Restore `source_url`'s schema (no rows but `alembic_version`'s) into `copy_url`."""
    major = server_major(source_url)
    dump, restore = find_tool("pg_dump", major), find_tool("pg_restore", major)
    if dump is None or restore is None:
        raise CopyUnavailable(
            f"no pg_dump and pg_restore of PostgreSQL {major} (the server's version) on this "
            f"host: install postgresql-client-{major}"
        )
    source, copy = make_url(source_url), make_url(copy_url)
    dumped = subprocess.run(
        [str(dump), "--schema-only", "--format=custom", "--no-owner", "--no-privileges"],
        env=libpq_env(source),
        capture_output=True,
        timeout=DUMP_TIMEOUT_SECONDS,
        check=False,
    )
    if dumped.returncode != 0:
        raise CopyUnavailable(f"pg_dump failed: {_first_line(dumped.stderr, redact)}")
    restored = subprocess.run(
        [str(restore), "--no-owner", "--no-privileges", f"--dbname={copy.database}"],
        input=dumped.stdout,
        env=libpq_env(copy),
        capture_output=True,
        timeout=DUMP_TIMEOUT_SECONDS,
        check=False,
    )
    if restored.returncode != 0 and b"errors ignored on restore" not in restored.stderr:
        raise CopyUnavailable(f"pg_restore failed: {_first_line(restored.stderr, redact)}")
    _copy_versions(source_url, copy_url)


def _copy_versions(source_url: str, copy_url: str) -> None:
    """The copy's `alembic_version` gets production's rows (a schema-only dump has none)."""
    source = create_engine(source_url)
    copy = create_engine(copy_url)
    try:
        with source.connect() as connection:
            exists = connection.execute(text("SELECT to_regclass('alembic_version')")).scalar()
            rows = (
                connection.execute(text("SELECT version_num FROM alembic_version")).all()
                if exists
                else []
            )
        if rows:
            with copy.begin() as connection:
                connection.execute(
                    text("INSERT INTO alembic_version (version_num) VALUES (:v)"),
                    [{"v": row[0]} for row in rows],
                )
    finally:
        source.dispose()
        copy.dispose()


def _first_line(stderr: bytes, redact: Redactor) -> str:
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return redact(lines[0]) if lines else "no message"
