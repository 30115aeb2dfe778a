"""The lock tracer, run inside the Alembic child (child.py loads it by path): stdlib and
Alembic only, Python 3.8+.

It upgrades a throwaway schema-only copy of production to the revision, and after each
statement reads `pg_locks` for its own backend, from the same connection, before the
transaction ends: what the statement (and those before it in the transaction) holds. It
also notes which tables got new storage (`relfilenode`): a rewrite. Every connection the
team's `env.py` opens must be to the copy (host, port, user and database): any other is
refused before it is made.
"""

from __future__ import annotations

import importlib
from typing import Any

STATEMENT_CHARS = 2000
MAX_STATEMENTS = 2000
_LOCKS = """
SELECT n.nspname, c.relname, l.mode
FROM pg_locks l
JOIN pg_class c ON c.oid = l.relation
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
  AND c.relkind IN ('r', 'p') AND c.relname <> 'alembic_version'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
"""
_STORAGE = """
SELECT n.nspname, c.relname, c.relfilenode
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%'
"""
_QUERIES = ("SELECT", "SHOW", "WITH")


def _name(schema: str, table: str) -> str:
    return table if schema == "public" else schema + "." + table


def _rows(raw: Any, query: str) -> list[Any]:
    cursor = raw.cursor()
    try:
        cursor.execute(query)
        return list(cursor.fetchall())
    finally:
        cursor.close()


# What says where a PostgreSQL connection goes; one absent counts as "" on both sides.
_WHERE = ("host", "hostaddr", "port", "user", "dbname", "service")
_REFUSED = (
    "env.py or the migration connects elsewhere than the schema-only copy ({found}); the "
    "trace was not run (connect with sqlalchemy.url, as an apply does)"
)


def _where(params: Any) -> dict[str, str]:
    """Where connection parameters lead, as libpq reads them (`database` and `username` are
    other drivers' names for `dbname` and `user`)."""
    named = dict(params)
    named.setdefault("dbname", named.get("database"))
    named.setdefault("user", named.get("username"))
    return {key: str(named.get(key) or "") for key in _WHERE}


def _check(found: dict[str, str], expected: dict[str, str]) -> None:
    if found != expected:
        differ = [key for key in _WHERE if found[key] != expected[key]]
        verb = "differs" if len(differ) == 1 else "differ"
        raise RuntimeError(_REFUSED.format(found=f"its {', '.join(differ)} {verb}"))


def _guard(url: str) -> None:
    """Refuse any connection elsewhere than the copy, by host, port, user and database: an
    `env.py` that reads its own URL must not reach production through the trace. Every
    connection SQLAlchemy makes is checked, and psycopg's and psycopg2's own `connect`. A
    check of honest code, not a boundary: code in this process can go around it; what keeps
    unreviewed code out of here is the gate a trace passes first."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine, make_url

    copy = make_url(url)
    expected = _where(
        {**copy.translate_connect_args(username="user", database="dbname"), **copy.query}
    )

    def do_connect(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        if cargs:
            raise RuntimeError(_REFUSED.format(found="a connection string it cannot check"))
        _check(_where(cparams), expected)

    event.listen(Engine, "do_connect", do_connect)
    _guard_psycopg(expected)
    _guard_psycopg2(expected)


def _given(parsed: Any, kwargs: dict[str, Any]) -> dict[str, str]:
    """Where a driver's `connect(conninfo, **kwargs)` leads: keywords win over the string."""
    named = {key: value for key, value in kwargs.items() if key in (*_WHERE, "database")}
    return _where({**parsed, **named})


def _guard_psycopg(expected: dict[str, str]) -> None:
    try:
        psycopg: Any = importlib.import_module("psycopg")
        parse = importlib.import_module("psycopg.conninfo").conninfo_to_dict
    except ImportError:
        return
    connect = psycopg.Connection.connect.__func__

    def checked(cls: Any, conninfo: str = "", /, **kwargs: Any) -> Any:
        _check(_given(parse(conninfo), kwargs), expected)
        return connect(cls, conninfo, **kwargs)

    psycopg.Connection.connect = classmethod(checked)
    psycopg.connect = psycopg.Connection.connect


def _guard_psycopg2(expected: dict[str, str]) -> None:
    try:
        psycopg2: Any = importlib.import_module("psycopg2")
        parse = importlib.import_module("psycopg2.extensions").parse_dsn
    except ImportError:
        return
    connect = psycopg2.connect

    def checked(dsn: str | None = None, /, *args: Any, **kwargs: Any) -> Any:
        _check(_given(parse(dsn or ""), kwargs), expected)
        return connect(dsn, *args, **kwargs)

    psycopg2.connect = checked


def trace(config: Any, target: str, url: str) -> dict[str, Any]:
    """Upgrade the copy at `url` to `target`, recording each statement's locks."""
    from alembic import command
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    _guard(url)
    seen: list[dict[str, Any]] = []
    storage: dict[int, dict[str, Any]] = {}

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip()[:6].upper().startswith(_QUERIES):
            return
        raw = conn.connection.dbapi_connection
        storage[id(conn)] = {_name(s, t): node for s, t, node in _rows(raw, _STORAGE)}

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip()[:6].upper().startswith(_QUERIES) or len(seen) >= MAX_STATEMENTS:
            return
        raw = conn.connection.dbapi_connection
        held = sorted({(_name(s, t), mode) for s, t, mode in _rows(raw, _LOCKS)})
        earlier = storage.pop(id(conn), {})
        now = {_name(s, t): node for s, t, node in _rows(raw, _STORAGE)}
        rewritten = sorted(t for t, node in now.items() if t in earlier and earlier[t] != node)
        seen.append(
            {
                "statement": statement[:STATEMENT_CHARS],
                "held": [list(lock) for lock in held],
                "in_transaction": not getattr(raw, "autocommit", False),
                "rewritten": rewritten,
            }
        )

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    command.upgrade(config, target)
    return {"ok": True, "trace": seen}
