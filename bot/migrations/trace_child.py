"""The lock tracer, run inside the Alembic child (child.py loads it by path): stdlib and
Alembic only, Python 3.8+.

It upgrades a throwaway schema-only copy of production to the revision, and after each
statement reads `pg_locks` for its own backend, from the same connection, before the
transaction ends: what the statement (and those before it in the transaction) holds. It
also notes which tables got new storage (`relfilenode`): a rewrite. Every connection the
team's `env.py` opens must be to the copy: any other is refused before it is made.
"""

from __future__ import annotations

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


def _guard(database: str) -> None:
    """Refuse any connection to another database than the copy: an `env.py` that reads
    its own URL must not reach production through the trace."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def do_connect(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        wanted = cparams.get("dbname") or cparams.get("database")
        if wanted != database:
            raise RuntimeError(
                "env.py connects to another database than the schema-only copy; "
                "the trace was not run (it uses sqlalchemy.url, or the URL in the ini)"
            )

    event.listen(Engine, "do_connect", do_connect)


def trace(config: Any, target: str, url: str) -> dict[str, Any]:
    """Upgrade the copy at `url` to `target`, recording each statement's locks."""
    from alembic import command
    from sqlalchemy import event
    from sqlalchemy.engine import Engine, make_url

    _guard(str(make_url(url).database))
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
