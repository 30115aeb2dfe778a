"""The rooms keep to their jobs: which packages each part of the bot may import."""

import ast
from pathlib import Path

import pytest

from tests.support.paths import REPO_ROOT

# Slack payloads stop at handlers/ and bot/slack/; git objects at bot/git/; the state file
# at storage/. bot/wiring.py and bot/running.py assemble the parts, so they see them all.
RULES = {
    "slack_sdk": {"bot/slack", "bot/standin", "handlers", "bot/wiring.py", "bot/running.py"},
    "slack_bolt": {"bot/slack", "handlers", "bot/running.py"},
    "git": {"bot/git", "bot/demo"},
    "sqlite_utils": {"storage"},
    "subprocess": {"bot/migrations", "bot/demo"},
    "websocket": {"bot/slack"},
}
CORE_MAY_IMPORT = {"bot.core", "bot.errors"}


def modules(folder: str) -> list[Path]:
    return sorted((REPO_ROOT / folder).rglob("*.py"))


def imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def room(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


@pytest.mark.parametrize("path", modules("bot/core"), ids=room)
def test_the_review_core_imports_nothing_but_itself_and_the_standard_library(path: Path) -> None:
    ours = {name for name in imported(path) if name.split(".")[0] in {"bot", "handlers", "storage"}}
    outside = {name for name in ours if not any(name.startswith(p) for p in CORE_MAY_IMPORT)}
    third_party = {
        name
        for name in imported(path)
        if name.split(".")[0] in {*RULES, "sqlalchemy", "alembic", "storage", "waitress"}
    }
    assert outside | third_party == set()


@pytest.mark.parametrize("package", sorted(RULES))
def test_each_outside_package_is_used_in_its_rooms_only(package: str) -> None:
    users = {
        room(path)
        for folder in ("bot", "handlers", "storage")
        for path in modules(folder)
        if any(name == package or name.startswith(package + ".") for name in imported(path))
    }
    allowed = RULES[package]
    assert {u for u in users if not any(u == a or u.startswith(a + "/") for a in allowed)} == set()
