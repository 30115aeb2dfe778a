"""The idle watch cycle (fetch, nothing new) at 50, 500 and 5,000 revisions.

    python bench/idle_cycle.py [--json]

Each size gets a bare origin holding a linear chain of plain Alembic revisions, and the bot
(services with the Slack stand-in, so the cycle is the one `serve` runs: fetch, compare
branch tips, look for cards still missing, retry pending documents) takes them all as
history in its first scan. Then the idle cycle is timed. Anchor: what a naive watcher
does every cycle, loading Alembic's `ScriptDirectory` on the same migrations and walking
its revisions. Targets: under 30 ms at 5,000, flat in the number of revisions, at least
20x faster than the reload.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import kit
from alembic.config import Config
from alembic.script import ScriptDirectory

from bot.config import Settings
from bot.running import Watcher
from bot.slack.client import slack_client
from bot.standin import BOT_TOKEN
from bot.wiring import build_services

SIZES = (50, 500, 5000)
CYCLES = 30
RELOADS = 3
TARGET = 0.030
FLAT = 1.5
SPEEDUP = 20.0


def idle_cycles(folder: Path, origin: Path) -> list[float]:
    fake = kit.slack()
    settings = Settings(
        slack_bot_token=BOT_TOKEN,
        slack_api_url=fake.base_url,
        channel=kit.CHANNEL,
        repo_url=str(origin),
        workdir=folder / "bot",
    )
    services = build_services(settings, slack_client(settings))
    watcher = Watcher(services)
    try:
        first = watcher.cycle()
        assert first is not None and first.first_scan, "the first scan failed"
        watcher.cycle()  # warm: the first idle cycle opens what later ones reuse
        seconds = []
        for _ in range(CYCLES):
            started = time.perf_counter()
            report = watcher.cycle()
            seconds.append(time.perf_counter() - started)
            assert report is not None and not report.touched, "an idle cycle found something"
    finally:
        services.store.close()
        fake.stop()
    return seconds


def reloads(work: Path) -> list[float]:
    """A naive watcher's cycle: load the script directory afresh and list its revisions."""
    seconds = []
    for _ in range(RELOADS):
        started = time.perf_counter()
        script = ScriptDirectory.from_config(Config(str(work / "alembic.ini")))
        revisions = {revision.revision for revision in script.walk_revisions()}
        seconds.append(time.perf_counter() - started)
        assert revisions, "the script directory is empty"
    return seconds


def measure(root: Path) -> list[kit.Figure]:
    cycle: dict[int, float] = {}
    reload: dict[int, float] = {}
    spread: dict[int, float] = {}
    for size in SIZES:
        folder = root / str(size)
        folder.mkdir()
        origin, developer = kit.chain_origin(folder, size)
        seconds = idle_cycles(folder, origin)
        cycle[size] = statistics.median(seconds)
        spread[size] = kit.percentile(seconds, 0.95)
        # The developer's clone holds the same files as the bot's checkout of main.
        reload[size] = statistics.median(reloads(Path(str(developer.working_tree_dir))))
        developer.close()
        print(
            f"  {size} revisions: idle cycle {kit.ms(cycle[size])} (p95 {kit.ms(spread[size])}),"
            f" ScriptDirectory reload {kit.ms(reload[size])}",
            file=sys.stderr,
        )
    figures = []
    for size in SIZES:
        speedup = reload[size] / cycle[size]
        last = size == SIZES[-1]
        figures.append(
            kit.Figure(
                "idle watch cycle",
                f"{size} revisions: median of {CYCLES} (p95 {kit.ms(spread[size])})",
                kit.ms(cycle[size]),
                f"ScriptDirectory reload {kit.ms(reload[size])} = {speedup:.1f}x the cycle",
                "< 30 ms, >= 20x" if last else "-",
                cycle[size] < TARGET and speedup >= SPEEDUP if last else None,
            )
        )
    growth = cycle[SIZES[-1]] / cycle[SIZES[0]]
    figures.append(
        kit.Figure(
            "idle watch cycle",
            f"growth from {SIZES[0]} to {SIZES[-1]} revisions",
            f"{growth:.2f}x",
            f"the reload grows {reload[SIZES[-1]] / reload[SIZES[0]]:.0f}x",
            f"flat (< {FLAT}x)",
            growth < FLAT,
        )
    )
    return figures


def main() -> None:
    kit.main(measure, __doc__)


if __name__ == "__main__":
    main()
