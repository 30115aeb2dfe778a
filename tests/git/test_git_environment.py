"""git, which schemabot runs every cycle, gets none of its secrets in its environment.

The bot's clone runs a `reference-transaction` hook (set through git's own environment
configuration, as an operator's global config could) when it clones and when a fetch moves
a branch; the hook saves the environment git hands it, which is git's own.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.git.clone import Clone
from bot.redact import Redactor
from tests.support.gitrepos import Developer, make_origin

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-git-must-not-see",
    "SCHEMABOT_DATABASE_URL": "postgresql://app:hunter2@db/prod",
    "STAGING_DATABASE_URL": "postgresql://app:hunter3@db/staging",
}


def test_git_runs_without_the_bots_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dev: Developer = make_origin(tmp_path)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    seen = tmp_path / "seen-by-git.env"
    hook = hooks / "reference-transaction"
    # Only the bot's git is of interest (Dana's push runs the hook too, in her clone).
    hook.write_text(
        f"#!/bin/sh\ncase \"$PWD\" in */bot/clone*) env >> '{seen}';; esac\ncat > /dev/null\n"
    )
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.hooksPath")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", str(hooks))

    clone = Clone(str(dev.origin), tmp_path / "bot" / "clone", Redactor())
    with clone.open() as repo:
        clone.fetch(repo)
    dev.write("notes.txt", "a new commit to fetch\n")
    dev.push()
    with clone.open() as repo:
        tips = clone.fetch(repo)

    assert "main" in tips
    environment = seen.read_text()
    assert environment.count("PATH=") >= 2  # the clone's and the fetch's, with what git needs
    for value in SECRETS.values():
        assert value not in environment
