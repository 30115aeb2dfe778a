"""The bursts of the ack benchmark: what Slack sends when fifty people act at once, over HTTP
and in Socket Mode, and the helper processes that send them or stand as floors."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import kit

from bot.demo.project import DEMO_PENDING
from bot.slack.app import EVENTS_PATH
from bot.standin import FakeSlack
from bot.standin.signing import (
    app_home_opened,
    block_actions_body,
    button_click,
    event_callback,
    sign,
    slash_command,
)

KINDS = ("clicks", "slash commands", "events")
# What the bot does after acking each kind, as the stand-in records it.
EFFECTS = {"clicks": "chat.update", "slash commands": "response_url", "events": "views.publish"}
ENVELOPE_TYPES = {
    "clicks": "interactive",
    "slash commands": "slash_commands",
    "events": "events_api",
}


def payloads(kind: str, fake: FakeSlack, users: list[str]) -> list[dict[str, Any]]:
    """One payload of `kind` per user, as Slack would send it when they all act at once."""
    if kind == "clicks":
        card = fake.messages(kit.CHANNEL)[0].as_slack()
        return [
            button_click(
                "approve",
                message=card,
                channel_id=kit.CHANNEL,
                user_id=user,
                response_url=fake.response_url(kit.CHANNEL, user, str(card["ts"])),
            )
            for user in users
        ]
    if kind == "slash commands":
        return [
            slash_command(
                f"status {DEMO_PENDING.revision[:4]}",
                user_id=user,
                channel_id=kit.CHANNEL,
                response_url=fake.response_url(kit.CHANNEL, user),
            )
            for user in users
        ]
    return [event_callback(app_home_opened(user)) for user in users]


def http_requests(kind: str, fake: FakeSlack, users: list[str]) -> list[dict[str, Any]]:
    """Signed POSTs to /slack/events, for bench/fire.py."""
    requests = []
    for payload in payloads(kind, fake, users):
        if kind == "clicks":
            body = block_actions_body(payload)
        elif kind == "slash commands":
            body = urlencode(payload)
        else:
            body = json.dumps(payload)
        headers = sign(kit.SECRET, body)
        requests.append({"method": "POST", "path": EVENTS_PATH, "body": body, "headers": headers})
    return requests


def envelopes(kind: str, fake: FakeSlack, users: list[str]) -> list[dict[str, Any]]:
    """Socket Mode envelopes, for bench/envelopes.py."""
    envelope_type = ENVELOPE_TYPES[kind]
    return [
        {
            "envelope_id": str(uuid.uuid4()),
            "payload": payload,
            "type": envelope_type,
            "accepts_response_payload": envelope_type == "slash_commands",
            **({"retry_attempt": 0, "retry_reason": ""} if envelope_type == "events_api" else {}),
        }
        for payload in payloads(kind, fake, users)
    ]


def fire(port: int, requests: list[dict[str, Any]], folder: Path) -> list[float]:
    """Send `requests` all at once from another process (bench/fire.py); their latencies."""
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


class Helper:
    """A helper script in a process of its own, spoken to one line at a time."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.greeting = self._line()

    def ask(self, command: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._line()

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line:
            self.process.kill()
            raise RuntimeError(f"{self.process.args} exited with {self.process.wait()}")
        return line


class EnvelopeServer(Helper):
    """bench/envelopes.py: Slack's side of Socket Mode; FakeSlack hands out its URLs."""

    def __init__(self) -> None:
        super().__init__(str(kit.BENCH_DIR / "envelopes.py"))
        self.port = int(self.greeting.removeprefix("ok "))

    def url_for(self, name: str) -> str:
        return f"ws://127.0.0.1:{self.port}/link/?who={name}"

    def new_url(self) -> str:
        """What apps.connections.open returns to the bot."""
        return self.url_for("bot")

    def burst(self, name: str, envelopes: list[dict[str, Any]], folder: Path) -> list[float]:
        batch = folder / "envelopes.json"
        batch.write_text(json.dumps(envelopes))
        seconds: list[float] = json.loads(self.ask(f"burst {name} {batch}"))
        return seconds
