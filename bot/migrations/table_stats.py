"""Table sizes from an environment's database: `pg_class.reltuples` and
`pg_total_relation_size`, read-only, with short timeouts so an outage costs seconds, never
a hang. PostgreSQL only: other databases have no such statistics to read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.core.lock_facts import TableSize, TableStats
from bot.migrations.lock_watch import read_only_engine
from bot.redact import Redactor

_SIZES = text(
    """
    SELECT n.nspname, c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND c.relname = ANY(:names)
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    """
)


def read_table_stats(
    database_url: str, tables: Iterable[str], redact: Redactor, now: datetime, count_up_to: int
) -> TableStats:
    """The sizes of `tables` (as the card names them: `posts`, `audit.events`); a table
    the database does not have is left out. Never raises: a failure is the stats' error.

    A table never analyzed has no row estimate (`reltuples` is -1): its rows are counted,
    up to `count_up_to` (the large-table threshold), so it is known to be small or large.
    """
    wanted = sorted(set(tables))
    if not wanted:
        return TableStats({}, now)
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return TableStats(error=f"{url.get_backend_name()} keeps no table statistics to read")
    engine = read_only_engine(database_url)
    names = sorted({table.rsplit(".", 1)[-1] for table in wanted})
    try:
        with engine.connect() as connection:
            rows = [tuple(row) for row in connection.execute(_SIZES, {"names": names})]
            sizes = _sizes(connection, rows, wanted, count_up_to)
    except SQLAlchemyError as exc:
        reason = redact(str(getattr(exc, "orig", exc))).strip().splitlines()[:1]
        return TableStats(error=" ".join(reason) or type(exc).__name__)
    finally:
        engine.dispose()
    return TableStats(sizes, now)


def _sizes(
    connection: Connection,
    rows: Sequence[tuple[Any, ...]],
    wanted: list[str],
    count_up_to: int,
) -> dict[str, TableSize]:
    quote = connection.dialect.identifier_preparer.quote
    sizes = {}
    for row in rows:
        schema, name, rows_estimate, size = str(row[0]), str(row[1]), row[2], row[3]
        key = name if schema == "public" else f"{schema}.{name}"
        if key not in wanted:
            continue
        estimate: int | None = int(rows_estimate)
        if estimate is not None and estimate < 0:
            counted = text(
                f"SELECT count(*) FROM (SELECT 1 FROM {quote(schema)}.{quote(name)} LIMIT :n) s"
            )
            estimate = connection.execute(counted, {"n": count_up_to}).scalar()
        sizes[key] = TableSize(key, None if estimate is None else int(estimate), int(size))
    return sizes
