"""`schemabot demo` as a newcomer runs it: one command, no Slack, no PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from git import Repo

from bot.demo.project import DEMO_PENDING, seed_document
from bot.migrations.versions import current_versions


def test_the_demo_plays_the_whole_review_and_leaves_its_sandbox(tmp_path: Path) -> None:
    sandbox = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEMABOT_", "SLACK_"))}

    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--dir", str(sandbox)],
        cwd=tmp_path,
        env=env | {"COLUMNS": "100"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for step in ("The review card appears", "Rae approves", "not an approver", "/schema apply"):
        assert step in out
    assert "Applied to Prod**: Yes" in out
    assert str(sandbox) in out
    assert current_versions(f"sqlite:///{sandbox / 'production.db'}") == {DEMO_PENDING.revision}
    with Repo(sandbox / "origin.git") as origin:
        head = origin.commit("main")
        assert head.message.startswith(f"Mark {DEMO_PENDING.revision} applied to production")
        assert list(head.stats.files) == ["SCHEMA_CHANGES.md"]
    assert (sandbox / "bot" / "state.db").is_file()


def test_the_demo_refuses_a_folder_that_is_not_a_previous_demo(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")

    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    assert "is not empty and is not a previous demo" in done.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_the_shipped_seed_is_the_teams_document(shared_seed: Path) -> None:
    assert seed_document().encode("utf-8") == shared_seed.read_bytes()
