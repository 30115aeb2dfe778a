"""The `schemabot` command line as a user runs it: a process, its output, its exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.demo.project import DEMO_PENDING
from tests.support.gitrepos import Developer, make_origin

SCHEMABOT = [sys.executable, "-m", "bot.cli"]


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEMABOT_", "SLACK_"))}
    return subprocess.run(
        [*SCHEMABOT, *args], cwd=cwd, env=clean | env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def dev(tmp_path: Path) -> Developer:
    developer = make_origin(tmp_path)
    developer.add_migration(DEMO_PENDING)
    developer.push()
    return developer


def test_revisions_json_matches_alembic_on_a_real_history(corpus: Path, tmp_path: Path) -> None:
    expected = json.loads((corpus / "redash" / "expected.json").read_text())

    done = run(
        ["revisions", "--json", "--repo-dir", str(corpus / "redash")],
        tmp_path,
        SCHEMABOT_SCRIPT_LOCATION=".",
    )

    assert done.returncode == 0, done.stderr
    graph = json.loads(done.stdout)
    assert graph["heads"] == expected["heads"]
    by_id = {item["revision"]: item for item in graph["revisions"]}
    assert set(by_id) == set(expected["revisions"])
    for revision, want in expected["revisions"].items():
        assert sorted(by_id[revision]["down_revisions"]) == want["down_revisions"]
        assert by_id[revision]["message"] == want["message"]
        assert by_id[revision]["doc_entry"] is False


def test_revisions_from_the_repo_url_mark_documented_revisions(
    dev: Developer, tmp_path: Path
) -> None:
    done = run(["revisions", "--json"], tmp_path, SCHEMABOT_REPO_URL=str(dev.origin))

    assert done.returncode == 0, done.stderr
    graph = json.loads(done.stdout)
    assert graph["heads"] == [DEMO_PENDING.revision]
    documented = {item["revision"]: item["doc_entry"] for item in graph["revisions"]}
    assert documented["ae8fcb7881c7"] is True
    assert documented[DEMO_PENDING.revision] is False
    plain = run(["revisions"], tmp_path, SCHEMABOT_REPO_URL=str(dev.origin))
    assert f"{DEMO_PENDING.revision} (head)" in plain.stdout


def test_draft_prints_an_entry_in_the_documents_template(dev: Developer, tmp_path: Path) -> None:
    done = run(["draft", "b41f"], tmp_path, SCHEMABOT_REPO_URL=str(dev.origin))

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"### {DEMO_PENDING.revision} - Add Visibility to Posts\n")
    assert "- **Author**: Dana Developer\n" in done.stdout
    assert "- **Tables Affected**: `posts`\n" in done.stdout
    refused = run(["draft", "ae8fcb7881c7"], tmp_path, SCHEMABOT_REPO_URL=str(dev.origin))
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "schemabot: ae8fcb7881c7 already has an entry in SCHEMA_CHANGES.md "
        "(--force drafts one anyway)"
    ]


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["scan"], {}, "SLACK_BOT_TOKEN is required"),
        (
            ["revisions"],
            {"SCHEMABOT_REQUIRED_APPROVALS": "two"},
            "SCHEMABOT_REQUIRED_APPROVALS must be a whole number",
        ),
        (["revisions"], {"SCHEMABOT_CHANEL": "C1"}, "unknown setting SCHEMABOT_CHANEL"),
        (
            ["revisions"],
            {"SCHEMABOT_REPO_URL": "/nowhere/at/all.git"},
            "cannot clone /nowhere/at/all.git",
        ),
        (
            ["revisions"],
            {"SCHEMABOT_REPO_URL": "https://bot:s3cr3t-pass@127.0.0.1:9/x.git"},
            "cannot clone https://bot:********@127.0.0.1:9/x.git",
        ),
    ],
)
def test_errors_are_one_line_on_stderr_with_a_non_zero_exit(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    done = run(args, tmp_path, **env)

    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert "s3cr3t-pass" not in done.stderr + done.stdout


def test_schemabot_toml_sets_keys_and_a_bad_key_names_itself(tmp_path: Path) -> None:
    (tmp_path / "schemabot.toml").write_text('required_approvals = 2\nchanel = "C1"\n')

    done = run(["revisions"], tmp_path)

    assert done.returncode == 1
    assert "schemabot.toml: unknown key 'chanel'" in done.stderr
