"""Push to card: from `git push` to the card's `chat.postMessage`, polling every second.

    python bench/push_to_card.py [--json]

The bot (RunningBot over HTTP, SCHEMABOT_POLL_SECONDS=1) runs in its own process against
the Slack stand-in. Dana pushes a new revision with its document entry; the clock runs
from just before `git push` until the stand-in has received the card. The push lands at a
random moment of the poll interval, as in real life. Anchor: the poll interval itself,
and the push alone. Target: under poll interval + 1 s.
"""

from __future__ import annotations

import statistics
import time
from functools import partial
from pathlib import Path

import kit

from bot.demo.project import create_origin
from bot.standin import FakeSlack

POLL = 1.0
TRIALS = 8
TARGET = POLL + 1.0
BASELINE = "merge_enum_fix_and_photo_urls"


def card_posted(fake: FakeSlack, revision: str) -> bool:
    return any(
        call.ok and revision in str(call.args.get("text", ""))
        for call in fake.calls("chat.postMessage")
    )


def measure(folder: Path) -> list[kit.Figure]:
    fake = kit.slack()
    developer = create_origin(folder / "origin.git", folder / "dana", kit.DANA)
    env = kit.bot_environment(fake, folder / "origin.git", folder / "bot", POLL_SECONDS=str(POLL))
    bot = kit.BotProcess(env, folder)
    specs = kit.chain(TRIALS, start=0xB0000, down=BASELINE)
    latencies: list[float] = []
    pushes: list[float] = []
    try:
        bot.scan()  # the first scan: the seed is history
        for number, spec in enumerate(specs):
            # Let the push land anywhere in the poll interval, not in step with it.
            time.sleep(POLL * ((number * 0.37) % 1))
            kit.push_revision(developer, spec, kit.entry_for(spec), push=False)
            started = time.perf_counter()
            developer.git.push("origin", "main")
            pushes.append(time.perf_counter() - started)
            kit.wait_for(partial(card_posted, fake, spec.revision), "the card", 30)
            latencies.append(time.perf_counter() - started)
    finally:
        bot.stop()
        fake.stop()
        developer.close()
    worst, typical = max(latencies), statistics.median(latencies)
    anchor = f"poll interval {POLL:g} s; the push alone {kit.ms(statistics.median(pushes))}"
    return [
        kit.Figure("push to card", f"median of {TRIALS} pushes", kit.ms(typical), anchor, "-"),
        kit.Figure(
            "push to card",
            f"worst of {TRIALS} pushes",
            kit.ms(worst),
            anchor,
            "< 2 s",
            worst < TARGET,
        ),
    ]


def main() -> None:
    kit.main(measure, __doc__)


if __name__ == "__main__":
    main()
