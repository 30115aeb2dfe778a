"""`schemabot serve` as operators run it: a process that serves, watches, and stops on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY
from bot.standin import BOT_TOKEN, FakeSlack
from tests.support.applyteam import push_pending
from tests.support.gitrepos import Developer, make_origin

CHANNEL = "C0SERVE001"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_user("U0DANA0001", "dana@example.com", "dana")
        fake.add_channel(CHANNEL, members=["U0DANA0001"])
        yield fake


def start_serve(
    tmp_path: Path, dev: Developer, slack: FakeSlack
) -> tuple[subprocess.Popen[str], int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEMABOT_", "SLACK_"))}
    env |= {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "serve-test-secret",
        "SCHEMABOT_SLACK_API_URL": slack.base_url,
        "SCHEMABOT_CHANNEL": CHANNEL,
        "SCHEMABOT_REPO_URL": str(dev.origin),
        "SCHEMABOT_WORKDIR": str(tmp_path / "work"),
        "SCHEMABOT_POLL_SECONDS": "0.3",
    }
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", "0", "--host", "127.0.0.1"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert bot.stderr is not None
    deadline = time.monotonic() + 30
    for line in bot.stderr:
        found = re.search(r"serving Slack requests at http://127\.0\.0\.1:(\d+)/slack/events", line)
        if found:
            return bot, int(found.group(1))
        assert time.monotonic() < deadline, "serve did not start"
    raise AssertionError(f"serve exited with {bot.wait()}")


def test_serve_answers_health_checks_posts_cards_and_stops_on_sigterm(
    tmp_path: Path, slack: FakeSlack
) -> None:
    dev = make_origin(tmp_path)
    bot, port = start_serve(tmp_path, dev, slack)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as health:
            assert health.status == 200
        slack.wait_for(lambda: slack.calls("auth.test"), timeout=10)
        push_pending(dev, DEMO_PENDING, DEMO_PENDING_ENTRY)

        [card] = slack.wait_for(lambda: slack.messages(CHANNEL), timeout=20)

        assert card.text.startswith(f"Schema review: {DEMO_PENDING.revision}")
    finally:
        bot.send_signal(signal.SIGTERM)
        code = bot.wait(timeout=30)
    assert code == 0
    assert len(slack.calls("chat.postMessage")) == 1
