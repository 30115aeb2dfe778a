"""Ack latency over HTTP: 50 button clicks at once, then 50 slash commands at once.

    python bench/ack_latency.py [--json]

The bot (RunningBot, port 0) runs alone in a child process; 50 client threads in another
process (bench/fire.py) each open a connection and POST a signed request at the same
moment; the time is from connect to the last byte of the answer. Anchor: 50 `GET /healthz`
at once against the same server, the floor of the HTTP layer. Target: p99 under 50 ms
(Slack gives up after 3 s).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import kit

from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY, create_origin
from bot.slack.app import EVENTS_PATH, HEALTH_PATH
from bot.standin import FakeSlack
from bot.standin.signing import block_actions_body, button_click, sign, slash_command_body

CONCURRENCY = 50
ROUNDS = 5
TARGET_P99 = 0.050
REVISION = DEMO_PENDING.revision


def fire(port: int, requests: list[dict[str, object]], folder: Path) -> list[float]:
    """Send `requests` all at once from another process; their latencies in seconds."""
    batch = folder / "requests.json"
    batch.write_text(json.dumps(requests))
    done = subprocess.run(
        [sys.executable, str(kit.BENCH_DIR / "fire.py"), str(port), str(batch)],
        capture_output=True,
        text=True,
        check=True,
    )
    answers = json.loads(done.stdout)
    bad = [status for status, _ in answers if status != 200]
    if bad:
        raise RuntimeError(f"{len(bad)} requests were not answered 200: {sorted(set(bad))}")
    return [seconds for _, seconds in answers]


def post(body: str) -> dict[str, object]:
    return {"method": "POST", "path": EVENTS_PATH, "body": body, "headers": sign(kit.SECRET, body)}


def clicks(fake: FakeSlack, users: list[str]) -> list[dict[str, object]]:
    card = fake.messages(kit.CHANNEL)[0].as_slack()
    return [
        post(
            block_actions_body(
                button_click(
                    "approve",
                    message=card,
                    channel_id=kit.CHANNEL,
                    user_id=user,
                    response_url=fake.response_url(kit.CHANNEL, user, str(card["ts"])),
                )
            )
        )
        for user in users
    ]


def commands(fake: FakeSlack, users: list[str]) -> list[dict[str, object]]:
    return [
        post(
            slash_command_body(
                f"status {REVISION[:4]}",
                user_id=user,
                channel_id=kit.CHANNEL,
                response_url=fake.response_url(kit.CHANNEL, user),
            )
        )
        for user in users
    ]


def settle(fake: FakeSlack, method: str, count: int) -> None:
    """Wait until the bot has finished the work it does after the acks."""
    kit.wait_for(lambda: len(fake.calls(method)) >= count, f"{count} {method} calls")
    time.sleep(0.5)


def measure(folder: Path) -> list[kit.Figure]:
    fake = kit.slack(people=CONCURRENCY)
    developer = create_origin(folder / "origin.git", folder / "dana", kit.DANA)
    env = kit.bot_environment(fake, folder / "origin.git", folder / "bot", POLL_SECONDS="3600")
    bot = kit.BotProcess(env, folder)
    try:
        bot.scan()
        kit.push_revision(developer, DEMO_PENDING, DEMO_PENDING_ENTRY)
        bot.scan()
        kit.wait_for(lambda: fake.messages(kit.CHANNEL), "the review card")
        users = kit.teammates(CONCURRENCY)
        health: dict[str, object] = {"method": "GET", "path": HEALTH_PATH, "body": None}
        health["headers"] = {}
        # Warm up: the first request of each kind pays for imports and caches.
        fire(bot.port, clicks(fake, users[:1]) + commands(fake, users[:1]), folder)
        settle(fake, "response_url", 1)
        floor: list[float] = []
        click: list[float] = []
        command: list[float] = []
        for _ in range(ROUNDS):
            floor += fire(bot.port, [health] * CONCURRENCY, folder)
            updates = len(fake.calls("chat.update"))
            click += fire(bot.port, clicks(fake, users), folder)
            settle(fake, "chat.update", updates + CONCURRENCY)
            answers = len(fake.calls("response_url"))
            command += fire(bot.port, commands(fake, users), folder)
            settle(fake, "response_url", answers + CONCURRENCY)
    finally:
        bot.stop()
        fake.stop()
        developer.close()
    anchor = (
        f"/healthz p50 {kit.ms(kit.percentile(floor, 0.5))}, "
        f"p99 {kit.ms(kit.percentile(floor, 0.99))}"
    )
    figures = []
    for name, samples in (("button clicks", click), ("slash commands", command)):
        p50, p99 = kit.percentile(samples, 0.5), kit.percentile(samples, 0.99)
        label = f"{CONCURRENCY} {name} at once ({ROUNDS} rounds)"
        figures += [
            kit.Figure("ack latency", f"{label}: p50", kit.ms(p50), anchor, "-", None),
            kit.Figure(
                "ack latency", f"{label}: p99", kit.ms(p99), anchor, "< 50 ms", p99 < TARGET_P99
            ),
        ]
    return figures


def main() -> None:
    kit.main(measure, __doc__)


if __name__ == "__main__":
    main()
