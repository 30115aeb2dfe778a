"""Ack latency: 50 clicks, 50 slash commands and 50 events at once, over HTTP and in Socket
Mode, each beside a floor measured in the same run.

    python bench/ack_latency.py [--json]

The bot (`RunningBot`, as `schemabot serve` runs it) is alone in a child process, with the
Slack stand-in as its Web API; a revision is pushed and its card posted first.

- HTTP: 50 client threads in another process (bench/fire.py) each open a connection and
  POST a signed request at the same moment; each time runs from its connect to the last
  byte of the answer. Floor: a bare waitress server with as many threads as the bot's,
  answering 200 once it has read the request (bench/floor.py), sent the same burst.
- Socket Mode: Slack's side is a WebSocket server in another process (bench/envelopes.py)
  that writes 50 envelopes back to back on the bot's connection; each time runs from the
  start of its envelope's sending to the arrival of its ack. Floor: a bare Socket Mode
  client on the `websockets` library that parses each envelope and acks it
  (bench/floor.py), sent the same burst on its own connection.

Each round sends every burst to the floor, then to the bot, and waits until the bot has
done what it does after the acks: every effect there (for clicks, their fifty verdicts in
its state file; else the fifty answers or Home tabs sent to Slack), and its process idle,
so no burst meets the leftovers of the one before. Target: the bot's p99 within 1.5x the
floor's p99.
"""

from __future__ import annotations

import io
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from wsgiref.types import StartResponse, WSGIEnvironment

import bursts
import kit
from slack_sdk.signature import SignatureVerifier

from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY, create_origin
from bot.slack.early_ack import acked_at_arrival_raw
from bot.slack.http_door import slack_door, slack_payload
from bot.standin import FakeSlack
from bot.standin.workspace import APP_TOKEN

CONCURRENCY = 50
ROUNDS = 8
TARGET_RATIO = 1.5
DOOR_CALLS = 200

Samples = dict[str, list[float]]
Send = Callable[[str, list[str]], list[float]]


def effects(fake: FakeSlack, state: Path, kind: str) -> int:
    """How many effects of `kind` the bot has had so far. A click's is its verdict, read
    from the bot's state file (read-only): fifty approvals at once move the card in a few
    updates, since a render that changes nothing calls no Slack. The others' are calls
    that reached Slack."""
    if kind != "clicks":
        return len(fake.calls(bursts.EFFECTS[kind]))
    with closing(sqlite3.connect(f"file:{state}?mode=ro", uri=True)) as db:
        [(count,)] = db.execute("SELECT count(*) FROM audit_log WHERE action = 'approve'")
        return int(count)


def state_file(env: dict[str, str]) -> Path:
    """The bot's state file, in its work folder."""
    return Path(env["SCHEMABOT_WORKDIR"]) / "state.db"


@dataclass(frozen=True)
class Bot:
    """The bot under measure: its process, its state file, and how to send it a burst."""

    pid: int
    state: Path
    send: Send


def settle(fake: FakeSlack, bot: Bot, kind: str, count: int) -> None:
    """Wait until the bot has finished the work it does after the acks: its effects are
    all there, and its process is idle (the last card renders make no call when nothing
    changed, so only its CPU tells they are done)."""
    kit.wait_for(lambda: effects(fake, bot.state, kind) >= count, f"{count} effects of {kind}")
    kit.wait_until_idle(bot.pid)


def rounds(fake: FakeSlack, floor: Send, bot: Bot) -> tuple[Samples, Samples]:
    """Every burst to the floor, then to the bot, ROUNDS times (after one warm-up)."""
    users = kit.teammates(CONCURRENCY)
    for kind in bursts.KINDS:
        before = effects(fake, bot.state, kind)
        bot.send(kind, users[:1])
        floor(kind, users[:1])
        settle(fake, bot, kind, before + 1)
    floors: Samples = {kind: [] for kind in bursts.KINDS}
    bots: Samples = {kind: [] for kind in bursts.KINDS}
    for _ in range(ROUNDS):
        for kind in bursts.KINDS:
            floors[kind] += floor(kind, users)
            before = effects(fake, bot.state, kind)
            bots[kind] += bot.send(kind, users)
            settle(fake, bot, kind, before + CONCURRENCY)
    return floors, bots


def over_http(fake: FakeSlack, env: dict[str, str], folder: Path) -> tuple[Samples, Samples]:
    bot = kit.BotProcess(env, folder)
    floor = bursts.Helper(str(kit.BENCH_DIR / "floor.py"), "http")
    floor_port = int(floor.greeting.removeprefix("ok "))
    try:
        return rounds(
            fake,
            lambda kind, users: bursts.fire(
                floor_port, bursts.http_requests(kind, fake, users), folder
            ),
            Bot(
                bot.pid,
                state_file(env),
                lambda kind, users: bursts.fire(
                    bot.port, bursts.http_requests(kind, fake, users), folder
                ),
            ),
        )
    finally:
        floor.stop()
        bot.stop()


def in_socket_mode(fake: FakeSlack, env: dict[str, str], folder: Path) -> tuple[Samples, Samples]:
    server = bursts.EnvelopeServer()
    fake.attach_socket_server(server)
    bot = kit.BotProcess(env | {"SLACK_APP_TOKEN": APP_TOKEN}, folder)
    floor = bursts.Helper(str(kit.BENCH_DIR / "floor.py"), "socket", server.url_for("floor"))
    try:
        server.ask("wait bot")

        def send(name: str) -> Send:
            return lambda kind, users: server.burst(
                name, bursts.envelopes(kind, fake, users), folder
            )

        return rounds(fake, send("floor"), Bot(bot.pid, state_file(env), send("bot")))
    finally:
        floor.stop()
        bot.stop()
        server.stop()


def door_seconds(fake: FakeSlack) -> tuple[float, float, float, int]:
    """Interpreter time the HTTP door spends on one click before passing it on, the part of
    it that checks the signature, the check of its shape that follows its ack (medians of
    DOOR_CALLS), and the click's size: work the bare server does not do."""
    [click] = bursts.http_requests("clicks", fake, kit.teammates(1))
    body = click["body"].encode()
    headers = click["headers"]

    def passed(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [])
        return [b""]

    # As the app builds it: a click's shape is checked after its ack.
    door = slack_door(passed, kit.SECRET, checked_after_ack=acked_at_arrival_raw)
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": headers["Content-Type"],
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": headers["X-Slack-Request-Timestamp"],
        "HTTP_X_SLACK_SIGNATURE": headers["X-Slack-Signature"],
    }
    verifier = SignatureVerifier(kit.SECRET)
    times, signature, shape = [], [], []
    for _ in range(DOOR_CALLS):
        started = time.perf_counter()
        door({**environ, "wsgi.input": io.BytesIO(body)}, lambda status, headers: None)
        checked = time.perf_counter()
        verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
        signed = time.perf_counter()
        slack_payload(click["body"], headers["Content-Type"])
        times.append(checked - started)
        signature.append(signed - checked)
        shape.append(time.perf_counter() - signed)
    return (
        kit.percentile(times, 0.5),
        kit.percentile(signature, 0.5),
        kit.percentile(shape, 0.5),
        len(body),
    )


def figures(mode: str, floor_name: str, floors: Samples, bots: Samples) -> list[kit.Figure]:
    found = []
    for kind in bursts.KINDS:
        floor_p50, floor_p99 = kit.percentile(floors[kind], 0.5), kit.percentile(floors[kind], 0.99)
        p50, p99 = kit.percentile(bots[kind], 0.5), kit.percentile(bots[kind], 0.99)
        ratio = p99 / floor_p99
        found.append(
            kit.Figure(
                "ack latency",
                f"{mode}, {CONCURRENCY} {kind} at once ({ROUNDS} rounds): p50 {kit.ms(p50)}, p99",
                f"{kit.ms(p99)} = {ratio:.2f}x",
                f"{floor_name}: p50 {kit.ms(floor_p50)}, p99 {kit.ms(floor_p99)}",
                f"p99 <= {TARGET_RATIO}x floor",
                ratio <= TARGET_RATIO,
            )
        )
    return found


def measure(folder: Path) -> list[kit.Figure]:
    fake = kit.slack(people=CONCURRENCY)
    developer = create_origin(folder / "origin.git", folder / "dana", kit.DANA)
    env = kit.bot_environment(fake, folder / "origin.git", folder / "bot", POLL_SECONDS="3600")
    try:
        card_bot = kit.BotProcess(env, folder)
        try:
            card_bot.scan()
            kit.push_revision(developer, DEMO_PENDING, DEMO_PENDING_ENTRY)
            card_bot.scan()
            kit.wait_for(lambda: fake.messages(kit.CHANNEL), "the review card")
        finally:
            card_bot.stop()
        http = over_http(fake, env, folder)
        socket = in_socket_mode(fake, env, folder)
        door, signature, shape, click_size = door_seconds(fake)
    finally:
        fake.stop()
        developer.close()
    floor_p50 = kit.percentile(http[0]["clicks"], 0.5)
    return [
        *figures("HTTP", "bare waitress", *http),
        kit.Figure(
            "ack latency",
            f"HTTP door: one click of {click_size / 1024:.1f} KiB checked before its ack "
            f"(x{CONCURRENCY} = {kit.ms(door * CONCURRENCY)} a burst)",
            f"{door * 1000:.2f} ms, of which the signature {signature * 1000:.2f} ms"
            f" (its shape, checked after the ack: {shape * 1000:.2f} ms)",
            f"bare waitress, the whole burst of clicks: p50 {kit.ms(floor_p50)}",
            "-",
        ),
        *figures("Socket Mode", "bare websockets client", *socket),
    ]


def main() -> None:
    kit.main(measure, __doc__)


if __name__ == "__main__":
    main()
