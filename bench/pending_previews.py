"""A push of many revisions: the watcher cycle that posts their cards and renders their SQL.

    python bench/pending_previews.py [--json]

The bot (RunningBot in its own process, against the Slack stand-in) takes the seed as
history; then one push adds N revisions with their entries, and one watcher cycle posts the
N cards and renders the N previews in the sandbox (one child per branch tip). The figure is
the cycle's time for N = 6 and 15 as a ratio to N = 1, in the same run. Target: a push of 15
costs less than 4 times a push of one (before, each preview was a child of its own: 10-12 s
for six).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import kit

from bot.demo.project import create_origin

BASELINE = "merge_enum_fix_and_photo_urls"
SIZES = (1, 6, 15)
ROUNDS = 3
TARGET = 4.0


def cycle_time(folder: Path, count: int, start: int) -> float:
    fake = kit.slack()
    developer = create_origin(folder / "origin.git", folder / "dana", kit.DANA)
    env = kit.bot_environment(fake, folder / "origin.git", folder / "bot")
    bot = kit.BotProcess(env, folder)
    try:
        bot.scan()  # the first scan: the seed is history
        for spec in kit.chain(count, start=start, down=BASELINE):
            kit.push_revision(developer, spec, kit.entry_for(spec), push=False)
        developer.git.push("origin", "main")
        started = time.perf_counter()
        touched = bot.scan()
        elapsed = time.perf_counter() - started
        assert len(touched) == count, touched
        return elapsed
    finally:
        bot.stop()
        fake.stop()
        developer.close()


def measure(folder: Path) -> list[kit.Figure]:
    times: dict[int, float] = {}
    for size in SIZES:
        runs = []
        for round_ in range(ROUNDS):
            work = folder / f"n{size}-{round_}"
            work.mkdir()
            runs.append(cycle_time(work, size, 0xC0000 + 100 * size + round_ * 20))
        times[size] = statistics.median(runs)
    one = times[1]
    return [
        kit.Figure(
            "pending previews",
            f"cycle for a push of {size} revisions",
            f"{kit.ms(times[size])} ({times[size] / one:.2f}x)",
            f"a push of one: {kit.ms(one)}",
            f"< {TARGET:g}x" if size == max(SIZES) else "-",
            times[size] / one < TARGET if size == max(SIZES) else None,
        )
        for size in SIZES[1:]
    ]


if __name__ == "__main__":
    kit.main(measure, __doc__)
