"""Opening the state file: one guarded connection, WAL, and the schema as sqlite-utils Migrations.

Why one shared connection behind a lock rather than one connection per thread: SQLite admits
one writer at a time whatever we do, the store's transactions take microseconds, and the bot's
threads (the watcher, Bolt's listener pool, apply workers) are many and short-lived, so
per-thread connections would only add busy-waiting between our own threads and connections
that nobody closes. The lock is held for a whole transaction, not a statement: on a shared
connection, a statement from another thread in the middle of a transaction would silently
join it. Other processes (a `schemabot scan` beside `schemabot serve`) are kept apart by
SQLite itself: WAL lets them read while we write, and the busy timeout makes writers queue.
"""

import sqlite3
import threading
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from storage.errors import StateStoreError

MIGRATION_SET = "schemabot"
DEFAULT_BUSY_TIMEOUT = 5.0
"""Seconds a statement waits for another process's write lock before giving up."""

# Failures caused by the file or its surroundings rather than by our SQL: these become
# StateStoreError; anything else (a constraint we broke, a typo in SQL) is a bug and propagates.
_ENVIRONMENT_ERRORS = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_NOTADB,
    sqlite3.SQLITE_CORRUPT,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_PERM,
}


class MigrationStep(Protocol):
    """One named step of the schema; its name is recorded in `_sqlite_migrations`."""

    __name__: str

    def __call__(self, db: Database, /) -> None: ...


class StateDatabase(Database):
    """The state store's `Database`: one connection shared by every thread of the bot.

    Use it only inside `atomic()` (writes) or `locked()` (reads): both hold the thread lock.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, busy_timeout: float) -> None:
        super().__init__(conn, execute_plugins=False)
        self.path = path
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()

    @contextmanager
    def atomic(self) -> Generator[Database, None, None]:
        """A transaction that holds the thread lock throughout.

        The outermost one starts with `BEGIN IMMEDIATE`, taking SQLite's write lock up front:
        a deferred transaction that reads first and writes later fails at once, without
        waiting, when another process wrote in between. Nested ones are savepoints.
        """
        with self.locked():
            if self.conn.in_transaction:
                with super().atomic() as db:
                    yield db
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                self.rollback()
                raise
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                self.rollback()
                raise

    @contextmanager
    def locked(self) -> Generator["StateDatabase", None, None]:
        """Hold the connection for this thread; environment failures become StateStoreError."""
        with self._lock:
            try:
                yield self
            except sqlite3.Error as error:
                code = _primary_code(error)
                if code not in _ENVIRONMENT_ERRORS:
                    raise
                raise StateStoreError(self.path, self._describe(code, error)) from error

    def _describe(self, code: int, error: sqlite3.Error) -> str:
        if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return f"another process held it locked for more than {self.busy_timeout:g}s"
        if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
            return f"not a SQLite database, or a damaged one ({error})"
        return f"cannot be used ({error})"


def _primary_code(error: sqlite3.Error) -> int | None:
    # Errors raised by the driver itself (a closed connection) carry no SQLite code.
    code: int | None = getattr(error, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def initial_schema(db: Database) -> None:
    """Every table of the first release."""
    for statement in _INITIAL_SCHEMA:
        db.execute(statement)


def sql_reviews(db: Database) -> None:
    """The offline SQL and lint findings of each version of a revision file (0.2)."""
    db.table("sql_reviews").create(
        {
            "revision": str,
            "blob_sha": str,
            "dialect": str,
            "sql": str,
            "findings": str,
            "error": str,
            "at": str,
        },
        pk=("revision", "blob_sha"),
        not_null={"revision", "blob_sha", "dialect", "findings", "at"},
    )


def approved_bytes(db: Database) -> None:
    """The bundle (revision file and migration environment, as blobs) each verdict was given
    on and each run ran (0.3)."""
    db.execute("ALTER TABLE verdicts ADD COLUMN bundle TEXT")
    db.execute("ALTER TABLE apply_runs ADD COLUMN bundle TEXT")


def card_permalinks(db: Database) -> None:
    """Each card's permalink, kept from when it is posted, so the Home tab asks Slack for
    none (0.3)."""
    db.table("cards").add_column("permalink", str)


def environment_presence(db: Database) -> None:
    """The environment each run migrates, and which environments have which revisions:
    since when, and through which run (none: found there) (0.4)."""
    db.execute("ALTER TABLE apply_runs ADD COLUMN environment TEXT NOT NULL DEFAULT 'production'")
    # No foreign key on revision: a developers' database may hold revisions of any branch.
    db.table("environment_revisions").create(
        {"environment": str, "revision": str, "since": str, "run_id": int},
        pk=("environment", "revision"),
        not_null={"environment", "revision", "since"},
    )


def drift_findings(db: Database) -> None:
    """The schema differences already told to the channel, per environment, so each new
    one is posted once (0.4)."""
    db.table("drift_seen").create(
        {"environment": str, "fingerprint": str, "first_seen": str},
        pk=("environment", "fingerprint"),
        not_null={"environment", "fingerprint", "first_seen"},
    )


def audit_chain(db: Database) -> None:
    """A hash per audit row, chained to the row before it, so an edited or missing row is
    found (`schemabot audit --verify`); the rows written before this step are chained now,
    in order (0.4)."""
    from storage.chain_links import chain_existing

    db.execute(
        """CREATE TABLE audit_chain (
        event_id INTEGER PRIMARY KEY REFERENCES audit_log (id),
        hash TEXT NOT NULL
    )"""
    )
    for verb in ("UPDATE", "DELETE"):
        db.execute(
            f"""CREATE TRIGGER audit_chain_no_{verb.lower()} BEFORE {verb} ON audit_chain
    BEGIN SELECT RAISE(ABORT, 'audit_chain is append-only'); END"""
        )
    chain_existing(db)


def table_statistics_and_lock_traces(db: Database) -> None:
    """Production's table sizes as last read, and each approved version's lock trace (0.5)."""
    db.table("table_statistics").create(
        {"database": str, "table_name": str, "rows": int, "bytes": int, "read_at": str},
        pk=("database", "table_name"),
        not_null={"database", "table_name", "bytes", "read_at"},
    )
    db.table("statistics_reads").create(
        {"database": str, "read_at": str, "error": str},
        pk="database",
        not_null={"database", "read_at"},
    )
    db.table("lock_traces").create(
        {"revision": str, "version_key": str, "trace": str, "error": str, "at": str},
        pk=("revision", "version_key"),
        not_null={"revision", "version_key", "trace", "at"},
    )


STEPS: tuple[MigrationStep, ...] = (
    initial_schema,
    sql_reviews,
    approved_bytes,
    card_permalinks,
    environment_presence,
    drift_findings,
    audit_chain,
    table_statistics_and_lock_traces,
)
"""The schema's history, in order. Never edit or reorder a released step: append a new one."""


def schema_migrations(steps: Sequence[MigrationStep] = STEPS) -> Migrations:
    """The ordered `Migrations` set for `steps`, each named after its function."""
    migrations = Migrations(MIGRATION_SET)
    for step in steps:
        migrations()(step)
    return migrations


def open_db(
    path: Path | str,
    *,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    steps: Sequence[MigrationStep] = STEPS,
) -> StateDatabase:
    """Open (creating if needed) the state file and bring its schema up to `steps`.

    Raises StateStoreError, without writing to the file, when it is not a SQLite database,
    is locked past `busy_timeout` seconds, belongs to something else, or was written by a
    newer schemabot.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=busy_timeout, check_same_thread=False)
    except (OSError, sqlite3.Error) as error:
        raise StateStoreError(path, f"cannot be opened ({error})") from error
    try:
        db = StateDatabase(conn, path, busy_timeout)
        with db.locked():
            db.execute("PRAGMA foreign_keys = ON")
            migrations = schema_migrations(steps)
            _check_ownership(db, migrations, {step.__name__ for step in steps})
            db.enable_wal()
            migrations.apply(db)
    except BaseException:
        conn.close()
        raise
    return db


def _check_ownership(db: StateDatabase, migrations: Migrations, known: set[str]) -> None:
    """Refuse files we must not write to: a newer schemabot's, or another program's."""
    applied = {migration.name for migration in migrations.applied(db)}
    unknown = sorted(applied - known)
    if unknown:
        raise StateStoreError(
            db.path,
            "written by a newer schemabot (schema steps unknown to this version: "
            f"{', '.join(unknown)}); upgrade schemabot or set SCHEMABOT_STATE_DB to another file",
        )
    foreign = [name for name in db.table_names() if not name.startswith(("sqlite_", "_sqlite_"))]
    if not applied and foreign:
        raise StateStoreError(
            db.path,
            f"a SQLite database that is not schemabot's state (it has tables "
            f"{', '.join(foreign)}); set SCHEMABOT_STATE_DB to another file",
        )


_INITIAL_SCHEMA = (
    """CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE branch_tips (
        branch TEXT PRIMARY KEY,
        sha TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    """CREATE TABLE revisions (
        revision TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        blob_sha TEXT NOT NULL,
        branch TEXT NOT NULL,
        commit_sha TEXT NOT NULL,
        author_name TEXT NOT NULL,
        author_email TEXT NOT NULL,
        seen_at TEXT NOT NULL,
        history INTEGER NOT NULL CHECK (history IN (0, 1)),
        on_main INTEGER NOT NULL CHECK (on_main IN (0, 1)),
        changed_at TEXT,
        changed_commit TEXT,
        removed_at TEXT
    )""",
    # A row with no ts is a claim: a thread is posting the first card right now.
    """CREATE TABLE cards (
        revision TEXT PRIMARY KEY REFERENCES revisions (revision),
        claimed_at TEXT NOT NULL,
        channel TEXT,
        ts TEXT,
        posted_at TEXT,
        updated_at TEXT,
        CHECK ((channel IS NULL) = (ts IS NULL))
    )""",
    """CREATE TABLE verdicts (
        id INTEGER PRIMARY KEY,
        revision TEXT NOT NULL REFERENCES revisions (revision),
        user_id TEXT NOT NULL,
        verdict TEXT NOT NULL CHECK (verdict IN ('approve', 'request_changes')),
        reason TEXT,
        blob_sha TEXT NOT NULL,
        at TEXT NOT NULL,
        withdrawn_at TEXT
    )""",
    "CREATE INDEX verdicts_by_reviewer ON verdicts (revision, user_id, id)",
    """CREATE TABLE checklist (
        revision TEXT NOT NULL REFERENCES revisions (revision),
        item_key TEXT NOT NULL,
        ticked INTEGER NOT NULL CHECK (ticked IN (0, 1)),
        by_user TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (revision, item_key)
    )""",
    # No foreign key on revision: the log records whatever happened and never refuses a row.
    """CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        revision TEXT,
        action TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}'
    )""",
    "CREATE INDEX audit_log_by_revision ON audit_log (revision, id)",
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    # state is checked in Python (RunState), so a release adding a state needs no table rebuild.
    """CREATE TABLE apply_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        revision TEXT NOT NULL REFERENCES revisions (revision),
        kind TEXT NOT NULL CHECK (kind IN ('apply', 'rollback')),
        state TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        channel TEXT,
        thread_ts TEXT,
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT,
        error TEXT,
        doc_commit TEXT
    )""",
    "CREATE INDEX apply_runs_by_revision ON apply_runs (revision, id)",
    "CREATE INDEX apply_runs_unfinished ON apply_runs (id) WHERE finished_at IS NULL",
    """CREATE TABLE locks (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        acquired_at TEXT NOT NULL
    )""",
    """CREATE TABLE processed_requests (
        key TEXT PRIMARY KEY,
        seen_at TEXT NOT NULL
    )""",
    "CREATE INDEX processed_requests_by_age ON processed_requests (seen_at)",
)
