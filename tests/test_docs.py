"""The README documents every setting, command-line command and option, and /schema subcommand."""

from __future__ import annotations

import argparse
import re

import pytest

from bot.cli import _parser
from bot.config import SETTINGS
from handlers.commands import HELP
from tests.support.paths import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("variable", sorted(s.env for s in SETTINGS.values()))
def test_every_setting_is_in_the_readme(variable: str) -> None:
    assert f"| `{variable}` |" in README


@pytest.mark.parametrize("command", sorted(subcommands()))
def test_every_cli_command_and_option_is_in_the_readme(command: str) -> None:
    assert f"`schemabot {command}" in README
    for action in subcommands()[command]._actions:
        for option in action.option_strings:
            if option.startswith("--") and option != "--help":
                assert option in README, f"schemabot {command} {option}"


@pytest.mark.parametrize("subcommand", sorted(set(re.findall(r"`/schema (\w+)", HELP))))
def test_every_slash_subcommand_is_in_the_readme(subcommand: str) -> None:
    assert f"`/schema {subcommand}" in README


def layout_section() -> str:
    return README.split("## Layout", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize(
    "room",
    sorted(
        f"`{path.relative_to(REPO_ROOT).as_posix()}/`"
        for top in ("bot", "tests")
        for path in (REPO_ROOT / top).iterdir()
        if path.is_dir() and (path / "__init__.py").is_file()
    ),
)
def test_the_layout_section_names_every_room(room: str) -> None:
    assert room in layout_section()


@pytest.mark.parametrize(
    "module", sorted(p.name for p in (REPO_ROOT / "bot").glob("*.py") if p.name != "__init__.py")
)
def test_the_layout_section_names_every_top_level_module(module: str) -> None:
    assert f"`{module}`" in layout_section()
