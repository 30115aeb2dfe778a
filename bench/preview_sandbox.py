"""What the preview sandbox costs: a card's offline SQL rendered confined, and not.

    python bench/preview_sandbox.py [--json]

The sandbox project's pending revision is rendered offline, as a card's preview: through
the preview sandbox (a throwaway copy of the tree, fresh namespaces, another user when run
as root, limits) and, as the anchor, by the same Alembic child started directly in a plain
checkout with the bot's environment (what schemabot did before the sandbox). The figure is
the median time per render and its ratio to the anchor. Target: the sandbox adds less than
half a second per preview.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import kit

from bot.core.layout import AlembicLayout
from bot.core.revision_file import parse_revision_source
from bot.demo.project import DEMO_PENDING, create_origin
from bot.git.clone import Clone
from bot.migrations.child import URL_VARIABLE
from bot.migrations.runner import CHILD, MigrationRunner, layout_job
from bot.migrations.sandbox import probe
from bot.migrations.sql_preview import SqlReviewer
from bot.redact import Redactor
from storage.store import Store

RENDERS = 7
TARGET_EXTRA = 0.5


def sandboxed(folder: Path, origin: Path) -> list[float]:
    store = Store.open(folder / "state.db")
    clone = Clone(str(origin), folder / "clone", Redactor())
    with clone.open() as repo:
        tip = clone.fetch(repo)["main"]
    confinement = probe([folder])
    runner = MigrationRunner("postgresql://", Redactor(), timeout_seconds=120)
    reviewer = SqlReviewer(clone, store, runner, lambda: confinement, 10, frozenset())
    parsed = parse_revision_source(DEMO_PENDING.source(), DEMO_PENDING.path)
    times = []
    record = store.record_revision(
        DEMO_PENDING.revision,
        path=DEMO_PENDING.path,
        blob_sha="blob",
        branch="main",
        commit=tip,
        author_name="Dana",
        author_email="dana@example.com",
    )
    for attempt in range(RENDERS):
        # Another version each time, so no render is answered from the store.
        version = replace(record, blob_sha=f"blob-{attempt}")
        started = time.perf_counter()
        review = reviewer.review(version, parsed, tip)
        times.append(time.perf_counter() - started)
        assert review.sql, review.error
    store.close()
    return times


def direct(checkout: Path) -> list[float]:
    span = f"{DEMO_PENDING.down_revision}:{DEMO_PENDING.revision}"
    job: dict[str, object] = {"action": "sql", "targets": [[DEMO_PENDING.revision, span]]}
    job |= layout_job(AlembicLayout(), checkout)
    env = dict(os.environ, **{URL_VARIABLE: "postgresql://"})
    times = []
    for _ in range(RENDERS):
        started = time.perf_counter()
        # stdin stays open while it works: the child exits when its parent's end closes.
        child = subprocess.Popen(
            [sys.executable, str(CHILD)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=checkout,
            env=env,
            text=True,
        )
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(json.dumps(job) + "\n")
        child.stdin.flush()
        output = child.stdout.read()
        child.wait()
        child.stdin.close()
        times.append(time.perf_counter() - started)
        assert "ALTER TABLE posts" in output, output[-500:]
    return times


def measure(folder: Path) -> list[kit.Figure]:
    developer = create_origin(folder / "origin.git", folder / "dana", kit.DANA)
    kit.push_revision(developer, DEMO_PENDING, kit.entry_for(DEMO_PENDING))
    with tempfile.TemporaryDirectory(prefix="schemabot-bench-state-") as state:
        confined = statistics.median(sandboxed(Path(state), folder / "origin.git"))
    plain = statistics.median(direct(folder / "dana"))
    gaps = probe([]).gaps()
    return [
        kit.Figure(
            "preview_sandbox",
            "offline SQL of one revision, sandboxed" + (" (host gaps: see log)" if gaps else ""),
            f"{kit.ms(confined)} ({confined / plain:.2f}x)",
            f"unconfined child in a checkout: {kit.ms(plain)}",
            f"< +{TARGET_EXTRA * 1000:.0f} ms",
            confined - plain < TARGET_EXTRA,
        )
    ]


if __name__ == "__main__":
    kit.main(measure, __doc__)
