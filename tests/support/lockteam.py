"""A team whose production has a table of a million rows, and sessions that hold locks on it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
from alembic import command
from alembic.config import Config

from bot.apply.applier import Applier
from bot.config import Settings
from bot.core.records import ApplyRun
from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY, MigrationSpec
from bot.wiring import build_services
from tests.support.applyteam import (
    APPLIER,
    BASELINE,
    TODAY,
    Notes,
    Team,
    approve_and_tick,
    push_pending,
)
from tests.support.gitrepos import make_origin

ROWS = 1_000_000
EVENTS = """
CREATE TABLE events (id bigint PRIMARY KEY, code bigint NOT NULL, kind text NOT NULL);
INSERT INTO events SELECT i, i, 'k' || (i % 10) FROM generate_series(1, %(rows)s) AS s(i);
ANALYZE events;
"""


def plain_url(url: str) -> str:
    """The test database's URL as psycopg takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def entry_for(spec: MigrationSpec, title: str) -> str:
    return (
        DEMO_PENDING_ENTRY.replace(DEMO_PENDING.revision, spec.revision)
        .replace(DEMO_PENDING.filename, spec.filename)
        .replace("Add Visibility to Posts", title)
    )


def make_lock_team(
    tmp_path: Path, pg_url: str, rows: int = ROWS, **settings: Any
) -> Iterator[Team]:
    """Production at the seed's history plus `events` (a million rows unless told, analyzed),
    no pending revision yet; `settings` override the lock settings."""
    dev = make_origin(tmp_path)
    config = Config(str(dev.root / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", pg_url)
    command.upgrade(config, BASELINE)
    with psycopg.connect(plain_url(pg_url), autocommit=True) as connection:
        for statement in EVENTS.strip().split(";\n"):
            connection.execute(statement.replace("%(rows)s", str(rows)))  # type: ignore[arg-type]
    base = Settings(
        repo_url=str(dev.origin),
        workdir=tmp_path / "bot",
        database_url=pg_url,
        appliers=frozenset({APPLIER}),
    )
    services = build_services(replace(base, **settings), clock=lambda: TODAY)
    services.scanner.run()
    notes = Notes()
    yield Team(dev, services, Applier(services.apply_parts, notes), notes, pg_url)
    services.store.close()


def push_reviewed(team: Team, spec: MigrationSpec, title: str) -> None:
    """Push the revision with its entry, render its SQL, approve it and tick its checklist."""
    push_pending(team.dev, spec, entry_for(spec, title))
    team.services.scanner.run()
    team.services.review_sql([spec.revision])
    approve_and_tick(team, spec.revision)


@contextmanager
def holding(pg_url: str, query: str, application: str) -> Iterator[psycopg.Connection[Any]]:
    """A session that ran `query` in a transaction it keeps open: its locks stay held."""
    connection = psycopg.connect(plain_url(pg_url), application_name=application)
    connection.execute(query)  # type: ignore[arg-type]
    try:
        yield connection
    finally:
        connection.rollback()
        connection.close()


def apply_in_background(team: Team, revision: str) -> tuple[threading.Thread, list[ApplyRun]]:
    done: list[ApplyRun] = []
    run = team.applier.request(revision, APPLIER)
    worker = threading.Thread(target=lambda: done.append(team.applier.execute(run)))
    worker.start()
    return worker, done
