"""Table sizes from an environment's database: `pg_class.reltuples` and
`pg_total_relation_size`, read-only, with short timeouts so an outage costs seconds, never
a hang. PostgreSQL only: other databases have no such statistics to read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.core.lock_facts import TableSize, TableStats
from bot.redact import Redactor

CONNECT_TIMEOUT_SECONDS = 3
STATEMENT_TIMEOUT_MS = 2000
_SIZES = text(
    """
    SELECT n.nspname, c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND c.relname = ANY(:names)
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    """
)


def read_table_stats(
    database_url: str, tables: Iterable[str], redact: Redactor, now: datetime
) -> TableStats:
    """The sizes of `tables` (as the card names them: `posts`, `audit.events`); a table
    the database does not have is left out. Never raises: a failure is the stats' error."""
    wanted = sorted(set(tables))
    if not wanted:
        return TableStats({}, now)
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return TableStats(error=f"{url.get_backend_name()} keeps no table statistics to read")
    options = f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c default_transaction_read_only=on"
    engine = create_engine(
        url,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS, "options": options},
        pool_pre_ping=False,
    )
    names = sorted({table.rsplit(".", 1)[-1] for table in wanted})
    try:
        with engine.connect() as connection:
            rows = connection.execute(_SIZES, {"names": names}).all()
    except SQLAlchemyError as exc:
        reason = redact(str(getattr(exc, "orig", exc))).strip().splitlines()[:1]
        return TableStats(error=" ".join(reason) or type(exc).__name__)
    finally:
        engine.dispose()
    sizes = {}
    for schema, name, rows_estimate, size in rows:
        key = name if schema == "public" else f"{schema}.{name}"
        if key in wanted:
            estimate = int(rows_estimate)
            sizes[key] = TableSize(key, estimate if estimate >= 0 else None, int(size))
    return TableStats(sizes, now)
