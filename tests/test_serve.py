"""`schemabot serve` as operators run it: a process that serves, watches, and stops on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY
from bot.slack.app import EVENTS_PATH, HEALTH_PATH
from bot.standin import BOT_TOKEN, FakeSlack
from bot.standin.workspace import APP_TOKEN
from tests.support.applyteam import push_pending
from tests.support.gitrepos import Developer, make_origin
from tests.support.socket_mode_server import FakeSocketModeServer

CHANNEL = "C0SERVE001"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_user("U0DANA0001", "dana@example.com", "dana")
        fake.add_channel(CHANNEL, members=["U0DANA0001"])
        yield fake


def start_serve(
    tmp_path: Path, dev: Developer, slack: FakeSlack, *, socket_mode: bool = False
) -> tuple[subprocess.Popen[str], int]:
    """`schemabot serve` on a free port; returns the process and the port it bound."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEMABOT_", "SLACK_"))}
    env |= {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SCHEMABOT_SLACK_API_URL": slack.base_url,
        "SCHEMABOT_CHANNEL": CHANNEL,
        "SCHEMABOT_REPO_URL": str(dev.origin),
        "SCHEMABOT_WORKDIR": str(tmp_path / "work"),
        "SCHEMABOT_POLL_SECONDS": "0.3",
    }
    env |= {"SLACK_APP_TOKEN": APP_TOKEN} if socket_mode else {"SLACK_SIGNING_SECRET": "secret"}
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", "0", "--host", "127.0.0.1"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert bot.stderr is not None
    path = HEALTH_PATH if socket_mode else EVENTS_PATH
    serving = re.compile(rf"serving .* at http://127\.0\.0\.1:(\d+){path}")
    deadline = time.monotonic() + 30
    for line in bot.stderr:
        found = serving.search(line)
        if found:
            # Keep reading its log, so that the bot never waits on a full pipe.
            threading.Thread(target=bot.stderr.read, daemon=True).start()
            return bot, int(found.group(1))
        assert time.monotonic() < deadline, "serve did not start"
    raise AssertionError(f"serve exited with {bot.wait()}")


def health(port: int) -> int:
    """The status `GET /healthz` answers, as Docker's HEALTHCHECK sees it."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{HEALTH_PATH}", timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return refused.code


def test_serve_answers_health_checks_posts_cards_and_stops_on_sigterm(
    tmp_path: Path, slack: FakeSlack
) -> None:
    dev = make_origin(tmp_path)
    bot, port = start_serve(tmp_path, dev, slack)
    try:
        assert health(port) == 200
        slack.wait_for(lambda: slack.calls("auth.test"), timeout=10)
        push_pending(dev, DEMO_PENDING, DEMO_PENDING_ENTRY)

        [card] = slack.wait_for(lambda: slack.messages(CHANNEL), timeout=20)

        assert card.text.startswith(f"Schema review: {DEMO_PENDING.revision}")
    finally:
        bot.send_signal(signal.SIGTERM)
        code = bot.wait(timeout=30)
    assert code == 0
    assert len(slack.calls("chat.postMessage")) == 1


def test_serve_in_socket_mode_answers_health_checks_while_connected(
    tmp_path: Path, slack: FakeSlack
) -> None:
    dev = make_origin(tmp_path)
    server = FakeSocketModeServer().start()
    slack.attach_socket_server(server)
    bot, port = start_serve(tmp_path, dev, slack, socket_mode=True)
    try:
        server.wait_for_connection()
        assert health(port) == 200
        push_pending(dev, DEMO_PENDING, DEMO_PENDING_ENTRY)
        slack.wait_for(lambda: slack.messages(CHANNEL), timeout=20)

        # Slack out of reach: the connection drops and no new one can be opened.
        server.stop()

        slack.wait_for(lambda: health(port) == 503, timeout=20)
    finally:
        bot.send_signal(signal.SIGTERM)
        code = bot.wait(timeout=30)
        server.stop()
    assert code == 0
