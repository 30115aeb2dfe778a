"""Who blocks a running migration, seen from beside it, and the INVALID indexes a failed
concurrent build leaves behind.

While the Alembic child migrates, a thread asks `pg_blocking_pids` about the child's
backends (the child names them on a progress line) every second, from a connection of its
own that is read-only and has a short `statement_timeout`, and reports each new blocker
once: its pid, application, state, when its query started and the query's first line with
its literals masked (a blocker's query may hold anyone's data: an email in a WHERE clause).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.redact import Redactor

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
CONNECT_TIMEOUT_SECONDS = 3
READ_ONLY = "-c statement_timeout=2000 -c default_transaction_read_only=on"
QUERY_CHARS = 200
# Quoted strings (E'', B'', U&'' and '' escapes; unterminated at the end of a first line),
# dollar-quoted bodies, and numbers standing alone.
_LITERALS = re.compile(
    r"""(?P<quoted>(?:\b[eEbBxXnN]|\bU&)?'(?:[^']|'')*(?:'|$))"""
    r"|(?P<dollar>\$(?P<tag>[A-Za-z_]\w*)?\$.*?(?:\$(?P=tag)?\$|$))"
    r"|(?P<number>(?<![\w.$])\d+(?:\.\d*)?(?:[eE][-+]?\d+)?(?![\w.]))"
)
_BLOCKERS = text(
    """
    SELECT waiting.pid, a.pid, a.application_name, a.state, a.query_start, a.query,
           waiting_activity.query
    FROM unnest(CAST(:pids AS int[])) AS waiting(pid)
    CROSS JOIN LATERAL unnest(pg_blocking_pids(waiting.pid)) AS blocker(pid)
    JOIN pg_stat_activity a ON a.pid = blocker.pid
    LEFT JOIN pg_stat_activity waiting_activity ON waiting_activity.pid = waiting.pid
    ORDER BY a.query_start NULLS LAST
    """
)
_INVALID = text(
    """
    SELECT n.nspname, c.relname, t.relname
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_class t ON t.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%'
    """
)


@dataclass(frozen=True)
class Blocker:
    """A session holding a lock the migration waits for."""

    pid: int
    application: str
    state: str
    query_start: datetime | None
    query: str
    """The first line of its current (or last) query, its literals masked."""
    waiting_pid: int
    waiting_query: str


@dataclass(frozen=True, order=True)
class InvalidIndex:
    schema: str
    name: str
    table: str

    @property
    def qualified(self) -> str:
        return self.name if self.schema == "public" else f"{self.schema}.{self.name}"


def read_only_engine(database_url: str) -> Engine:
    """A connection for looking, never for changing: read-only, short timeouts."""
    url = make_url(database_url)
    return create_engine(
        url,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS, "options": READ_ONLY},
        pool_size=1,
    )


def first_line(query: str | None) -> str:
    """The query's first line that says something, its literals masked, cut short."""
    lines = [line.strip() for line in (query or "").splitlines() if line.strip()]
    return without_literals(lines[0])[:QUERY_CHARS] if lines else ""


def without_literals(sql: str) -> str:
    """`sql` with each string literal shown as '…', dollar-quoted body as $$…$$ and number
    as ?: the statement's shape stays, the data it names does not."""

    def mask(found: re.Match[str]) -> str:
        if found["quoted"] is not None:
            return "'…'"
        if found["dollar"] is not None:
            return "$$…$$"
        return "?"

    return _LITERALS.sub(mask, sql)


class BlockerWatch:
    """Reports who blocks the given backends, each blocker once, until stopped."""

    def __init__(
        self,
        database_url: str,
        redact: Redactor,
        on_blockers: Callable[[tuple[Blocker, ...]], None],
        interval: float = POLL_SECONDS,
    ) -> None:
        self.engine = read_only_engine(database_url)
        self.redact = redact
        self.on_blockers = on_blockers
        self.interval = interval
        self.backends: set[int] = set()
        self.seen: set[tuple[int, datetime | None]] = set()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lock-watch", daemon=True)
        self._guard = threading.Lock()

    def __enter__(self) -> BlockerWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)
        self.engine.dispose()

    def watch(self, pid: int) -> None:
        with self._guard:
            self.backends.add(pid)

    def _loop(self) -> None:
        while not self._stopped.wait(self.interval):
            with self._guard:
                pids = sorted(self.backends)
            if not pids:
                continue
            try:
                found = self._blockers(pids)
            except SQLAlchemyError as exc:
                log.warning("could not ask who blocks the migration: %s", self.redact(str(exc)))
                continue
            new = tuple(b for b in found if (b.pid, b.query_start) not in self.seen)
            self.seen.update((b.pid, b.query_start) for b in new)
            if new:
                self.on_blockers(new)

    def _blockers(self, pids: list[int]) -> list[Blocker]:
        with self.engine.connect() as connection:
            rows = connection.execute(_BLOCKERS, {"pids": pids}).all()
        found: dict[int, Blocker] = {}
        for waiting, pid, application, state, started, query, waiting_query in rows:
            found.setdefault(
                int(pid),
                Blocker(
                    int(pid),
                    self.redact(str(application or "")),
                    str(state or "unknown"),
                    started,
                    self.redact(first_line(query)),
                    int(waiting),
                    self.redact(first_line(waiting_query)),
                ),
            )
        return list(found.values())


def invalid_indexes(database_url: str) -> frozenset[InvalidIndex]:
    """The INVALID indexes of the database (a failed CREATE INDEX CONCURRENTLY leaves one)."""
    engine = read_only_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(_INVALID).all()
    finally:
        engine.dispose()
    return frozenset(InvalidIndex(str(s), str(n), str(t)) for s, n, t in rows)


def drop_invalid_index(database_url: str, index: InvalidIndex, lock_timeout_seconds: int) -> None:
    """`DROP INDEX CONCURRENTLY` of an index that is still INVALID (checked in the same
    breath), outside a transaction as PostgreSQL requires."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            still = connection.execute(
                text(
                    "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE NOT i.indisvalid AND n.nspname = :schema AND c.relname = :name"
                ),
                {"schema": index.schema, "name": index.name},
            ).first()
            if still is None:
                return
            quote = connection.dialect.identifier_preparer.quote
            connection.execute(text(f"SET lock_timeout = '{int(lock_timeout_seconds)}s'"))
            connection.execute(
                text(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(index.schema)}.{quote(index.name)}")
            )
    finally:
        engine.dispose()
