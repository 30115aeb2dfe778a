"""`schemabot doctor` as an operator runs it: a process, its report, its exit code.

A good setup passes every check; each broken one gets one FAIL line naming what to do, and
the rest of the report still runs.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from git import Repo
from sqlalchemy import create_engine, text

from bot.standin import BOT_TOKEN, FakeSlack
from tests.support.gitrepos import make_origin
from tests.support.paths import REPO_ROOT
from tests.support.slackbot import CHANNEL, SECRET

BASELINE = "merge_enum_fix_and_photo_urls"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, name="schema-review")
        slack.add_channel("C0ELSEWHERE", name="elsewhere", bot_is_member=False)
        yield slack


@pytest.fixture
def environment(tmp_path: Path, fake: FakeSlack, pg_url: str) -> dict[str, str]:
    dev = make_origin(tmp_path)
    dev.repo.close()
    engine = create_engine(pg_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num varchar(32))"))
        connection.execute(text(f"INSERT INTO alembic_version VALUES ('{BASELINE}')"))
    engine.dispose()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEMABOT_", "SLACK_"))}
    return base | {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SCHEMABOT_SLACK_API_URL": fake.base_url,
        "SCHEMABOT_CHANNEL": CHANNEL,
        "SCHEMABOT_REPO_URL": str(dev.origin),
        "SCHEMABOT_DATABASE_URL": pg_url,
        "SCHEMABOT_WORKDIR": str(tmp_path / "work"),
    }


def doctor(env: dict[str, str], cwd: Path) -> tuple[int, dict[str, str]]:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "doctor"],
        cwd=cwd,
        env=env | {"PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    lines = {}
    for line in done.stdout.splitlines():
        verdict, _, rest = line.partition("  ")
        name, _, detail = rest.strip().partition(": ")
        lines[name] = f"{verdict.strip()} {detail}"
    return done.returncode, lines


def test_a_good_setup_passes_every_check(environment: dict[str, str], tmp_path: Path) -> None:
    code, report = doctor(environment, tmp_path)

    assert code == 0, report
    assert all(line.startswith("ok ") for line in report.values()), report
    assert {
        "settings",
        "slack token",
        "slack channel",
        "repository",
        "push rights",
        "alembic layout",
        "migration interpreter",
        "preview sandbox",
        "preview",
        "production",
        "lock trace",
        "squawk",
    } <= set(report)
    assert "renders offline in the sandbox" in report["preview"]


@pytest.mark.parametrize(
    ("change", "check", "says"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-not-the-one"}, "slack token", "auth.test refused it"),
        ({"SCHEMABOT_CHANNEL": "C0ELSEWHERE"}, "slack channel", "/invite @schemabot"),
        ({"SCHEMABOT_ALEMBIC_INI": "db/alembic.ini"}, "alembic layout", "SCHEMABOT_ALEMBIC_INI"),
        ({"SCHEMABOT_MIGRATION_PYTHON": "/bin/sh"}, "migration interpreter", "cannot"),
        ({"SCHEMABOT_BRANCH": "trunk"}, "repository", "SCHEMABOT_BRANCH"),
    ],
)
def test_each_broken_setting_is_one_fail_line_naming_the_fix(
    environment: dict[str, str], tmp_path: Path, change: dict[str, str], check: str, says: str
) -> None:
    code, report = doctor(environment | change, tmp_path)

    assert code == 1
    assert report[check].startswith("FAIL ") and says in report[check], report[check]
    assert report["settings"].startswith("ok "), "the other checks still ran"


def test_an_unreachable_production_and_an_unknown_version_fail(
    environment: dict[str, str], tmp_path: Path, pg_url: str
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    down = pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{closed}")
    code, report = doctor(environment | {"SCHEMABOT_DATABASE_URL": down}, tmp_path)
    assert code == 1 and "did not answer" in report["production"]

    engine = create_engine(pg_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00f00f00f00'"))
    engine.dispose()
    code, report = doctor(environment, tmp_path)
    assert code == 1 and "f00f00f00f00, unknown to the main branch" in report["production"]


def test_a_head_that_does_not_render_names_the_module_env_py_needs(
    environment: dict[str, str], tmp_path: Path
) -> None:
    clone = tmp_path / "change"
    with Repo.clone_from(environment["SCHEMABOT_REPO_URL"], clone) as repo:
        env_py = clone / "migrations" / "env.py"
        env_py.write_text("import not_installed_anywhere\n" + env_py.read_text())
        repo.index.add(["migrations/env.py"])
        repo.index.commit("env.py needs the app")
        repo.git.push("origin", "main")

    code, report = doctor(environment, tmp_path)

    assert code == 1
    assert "No module named 'not_installed_anywhere'" in report["preview"]
    assert "SCHEMABOT_MIGRATION_PYTHON" in report["preview"]


def test_a_remote_that_takes_no_push_is_named(environment: dict[str, str], tmp_path: Path) -> None:
    origin = Path(environment["SCHEMABOT_REPO_URL"])
    port = _free_port()
    daemon = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--export-all",
            f"--base-path={origin.parent}",
            f"--port={port}",
            "--listen=127.0.0.1",
            str(origin.parent),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port)
        read_only = f"git://127.0.0.1:{port}/{origin.name}"
        code, report = doctor(environment | {"SCHEMABOT_REPO_URL": read_only}, tmp_path)
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)

    assert code == 1
    assert report["repository"].startswith("ok ")
    assert report["push rights"].startswith("FAIL ") and "write access" in report["push rights"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int) -> None:
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        import time

        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")
