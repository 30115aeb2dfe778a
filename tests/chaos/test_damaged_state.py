"""The state file damaged or locked when the command line starts."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.demo.project import DEMO_PENDING
from bot.standin import BOT_TOKEN
from storage.store import Store
from tests.support.production_bot import (
    REVISION,
)
from tests.support.slackbot import (
    CHANNEL,
    REVIEWER,
)

# -- the state file damaged or locked at start --------------------------------------------


def cli_environment(tmp_path: Path, state: Path) -> dict[str, str]:
    """What an operator's environment holds for `schemabot`, the state file at `state`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEMABOT_", "SLACK_"))}
    return env | {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "chaos-signing-secret",
        "SCHEMABOT_SLACK_API_URL": "http://127.0.0.1:9/api/",
        "SCHEMABOT_CHANNEL": CHANNEL,
        "SCHEMABOT_REPO_URL": str(tmp_path / "origin.git"),
        "SCHEMABOT_WORKDIR": str(tmp_path / "work"),
        "SCHEMABOT_STATE_DB": str(state),
    }


CLI_COMMANDS = (["status"], ["scan"], ["serve", "--host", "127.0.0.1", "--port", "0"])


def run_cli(tmp_path: Path, state: Path) -> list[subprocess.CompletedProcess[str]]:
    """`schemabot status`, `scan` and `serve` started at once on the state file."""
    schemabot = str(Path(sys.executable).parent / "schemabot")
    started = [
        subprocess.Popen(
            [schemabot, *command],
            cwd=tmp_path,
            env=cli_environment(tmp_path, state),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in CLI_COMMANDS
    ]
    done = []
    for process in started:
        stdout, stderr = process.communicate(timeout=60)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    return done


def reasons(stderr: str) -> list[str]:
    """stderr without the log records (`serve` logs its settings before it opens the store)."""
    return [line for line in stderr.splitlines() if not line[:4].isdigit()]


def state_file(tmp_path: Path) -> Path:
    """A state file holding a review in progress."""
    path = tmp_path / "state" / "state.db"
    with Store.open(path) as store:
        store.record_revision(
            REVISION,
            path=DEMO_PENDING.path,
            blob_sha="b10b",
            branch="main",
            commit="c0c0",
            author_name="Dana Developer",
            author_email="dana@example.com",
        )
        store.record_verdict(REVISION, REVIEWER, "approve", None, "b10b")
    return path


@pytest.mark.parametrize("damage", ["overwritten", "header smashed", "truncated"])
def test_a_damaged_state_file_stops_the_cli_with_one_line_and_stays_as_it_was(
    tmp_path: Path, damage: str
) -> None:
    state = state_file(tmp_path)
    good = state.read_bytes()
    if damage == "overwritten":
        state.write_bytes(b"these are not the bytes you are looking for\n" * 200)
    elif damage == "header smashed":
        state.write_bytes(b"\x00" * 100 + good[100:])
    else:
        state.write_bytes(good[:1500])
    before = state.read_bytes()

    for done in run_cli(tmp_path, state):
        assert done.returncode == 1, done.args
        [reason] = reasons(done.stderr)
        assert reason.startswith(f"schemabot: state store {state}: "), reason
        assert "damaged" in reason or "malformed" in reason, reason
    assert state.read_bytes() == before
    assert sorted(p.name for p in state.parent.iterdir()) == ["state.db"]


def test_a_locked_state_file_stops_the_cli_with_one_line_and_loses_nothing(
    tmp_path: Path,
) -> None:
    state = state_file(tmp_path)
    before = state.read_bytes()
    holder = sqlite3.connect(state, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        results = run_cli(tmp_path, state)
    finally:
        holder.rollback()
        holder.close()

    for done in results:
        assert done.returncode == 1, done.args
        assert reasons(done.stderr) == [
            f"schemabot: state store {state}: another process held it locked for more than 5s"
        ]
    assert state.read_bytes() == before
    with Store.open(state) as store:
        assert [v.user_id for v in store.current_verdicts(REVISION)] == [REVIEWER]
