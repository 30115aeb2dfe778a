"""What lock impact costs a card: its render with the lock part, the statistics read and the
trace, each as a ratio to the render without them.

    python bench/lock_impact.py [--json]

Needs PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres), or SCHEMABOT_BENCH_PG.

The sandbox project's pending revision (a column and an index on `posts`) is reviewed with
a production at the seed's history whose `posts` has 100,000 rows. The anchor is the card's
render (snapshot and Block Kit) without the lock part, in the same run. Measured: the same
render with the lock part (sizes and trace read from the state store, the SQL read
statically); a read of the sizes from production (done by the watcher and before an apply,
never during a render); and a trace of the approved bytes on a schema-only copy (once per
approved version, in the watcher). Targets: the lock part adds under half a render; a
sizes read costs under 20 renders; a trace finishes in under 10 s.
"""

from __future__ import annotations

import copy
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import kit
import psycopg
from alembic import command
from alembic.config import Config
from apply_overhead import BASELINE, databases

from bot.config import Settings
from bot.core.checklist import manual_keys
from bot.demo.project import DEMO_PENDING, create_origin
from bot.slack.cards import review_card
from bot.wiring import Services, build_services

RENDERS = 200
READS = 20
TRACES = 3
ROWS = 100_000
APPROVER = "U0BENCHREV1"


def timed(action: Callable[[], object], times: int) -> float:
    """The median seconds of `times` runs of `action`."""
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        spent.append(time.perf_counter() - started)
    return statistics.median(spent)


def production(folder: Path, url: str) -> Path:
    """The origin, and production at the seed's history with `ROWS` posts."""
    developer = create_origin(folder / "origin.git", folder / "dana", kit.DANA)
    kit.push_revision(developer, DEMO_PENDING, kit.entry_for(DEMO_PENDING))
    config = Config(str(folder / "dana" / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, BASELINE)
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute("INSERT INTO users (id, email) VALUES (1, 'bench@example.com')")
        connection.execute(
            f"INSERT INTO posts (author_id, body) SELECT 1, 'post ' || i "
            f"FROM generate_series(1, {ROWS}) AS s(i)"
        )
        connection.execute("ANALYZE posts")
    return folder / "origin.git"


def approved(origin: Path, workdir: Path, url: str) -> Services:
    """A bot with its own state, the pending revision rendered, approved and ticked."""
    settings = Settings(repo_url=str(origin), workdir=workdir, database_url=url)
    services = build_services(settings)
    services.scanner.run()
    services.review_sql([DEMO_PENDING.revision])
    services.reviews.approve(DEMO_PENDING.revision, APPROVER, authors=())
    doc = services.repository.doc("main")
    assert doc is not None
    keys = manual_keys(doc.checklist())
    services.reviews.set_checklist(DEMO_PENDING.revision, APPROVER, (), keys, keys)
    return services


def measure(folder: Path) -> list[kit.Figure]:
    revision = DEMO_PENDING.revision
    with databases(1) as (url,):
        origin = production(folder, url)
        traces = []
        for attempt in range(TRACES):
            # A bot with fresh state each time: the trace of a newly approved version.
            fresh = approved(origin, folder / f"trace-{attempt}", url)
            assert fresh.locks is not None and fresh.locks.tracer is not None
            tracer = fresh.locks.tracer
            started = time.perf_counter()
            trace = tracer.trace(revision)
            traces.append(time.perf_counter() - started)
            assert trace is not None and trace.error is None, trace
            fresh.store.close()
        services = approved(origin, folder / "bot", url)
        locks = services.locks
        assert locks is not None
        locks.cycle([revision])

        def render() -> None:
            review_card(services.snapshot(revision))

        snapshot = services.snapshot(revision)
        assert snapshot.locks is not None and snapshot.locks.report is not None
        assert snapshot.locks.report.trace is not None and snapshot.locks.report.stats.sizes
        with_locks = timed(render, RENDERS)
        read = timed(lambda: locks.refresh_stats(("posts",), max_age=None), READS)
        with_lock_part = services.builder
        services.builder = copy.copy(with_lock_part)
        services.builder.locks = None
        services.builder.run_settings = None
        assert services.snapshot(revision).locks is None
        without = timed(render, RENDERS)
        services.store.close()
    traced = statistics.median(traces)
    return [
        kit.Figure(
            "lock_impact",
            "card render with the lock part",
            f"{kit.ms(with_locks)} ({with_locks / without:.2f}x)",
            f"render without it: {kit.ms(without)}",
            "< 1.5x",
            with_locks / without < 1.5,
        ),
        kit.Figure(
            "lock_impact",
            f"table sizes read from production ({ROWS:,} rows)",
            f"{kit.ms(read)} ({read / without:.1f}x a render)",
            f"render without the lock part: {kit.ms(without)}",
            "< 20x",
            read / without < 20,
        ),
        kit.Figure(
            "lock_impact",
            "trace on a schema-only copy (once per approved version)",
            f"{traced:.2f} s ({traced / without:.0f}x a render)",
            f"render without the lock part: {kit.ms(without)}",
            "< 10 s",
            traced < 10,
        ),
    ]


if __name__ == "__main__":
    kit.main(measure, __doc__)
