"""Alembic configs users get wrong: each message names the file, the key and the fix."""

from pathlib import Path

import pytest

from tests.support.alembic_config import (
    error_from,
    make_repo,
)

# What users get wrong


def test_no_ini_and_no_override(tmp_path: Path) -> None:
    assert error_from(tmp_path) == (
        "`alembic.ini` is not in the repository: set SCHEMABOT_ALEMBIC_INI to its path, "
        "or SCHEMABOT_SCRIPT_LOCATION to the Alembic script folder."
    )


def test_no_alembic_section(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {"alembic.ini": "[loggers]\nkeys = root\n"})
    assert error_from(root) == (
        "`alembic.ini` has no [alembic] section (SCHEMABOT_ALEMBIC_SECTION), and pyproject.toml "
        "has no `script_location` in [tool.alembic] either: set SCHEMABOT_SCRIPT_LOCATION to "
        "the Alembic script folder."
    )


def test_no_script_location_key(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {"alembic.ini": "[alembic]\nsqlalchemy.url = sqlite://\n"})
    assert "has no `script_location` in its [alembic] section" in error_from(root)


def test_a_missing_versions_folder_is_named_with_where_it_came_from(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {"alembic.ini": "[alembic]\nscript_location = migrations\n"})
    (root / "migrations").mkdir()
    assert error_from(root) == (
        "The versions folder `migrations/versions` (`script_location` in `alembic.ini`) does not "
        "exist. Git keeps no empty folders: commit a `.gitkeep` in it, or set "
        "SCHEMABOT_VERSION_LOCATIONS to the folders that hold the revisions."
    )


def test_a_missing_version_location(tmp_path: Path) -> None:
    ini = "[alembic]\nscript_location = m\npath_separator = os\nversion_locations = m/a:m/b\n"
    root = make_repo(tmp_path, {"alembic.ini": ini}, ("m/a",))
    assert error_from(root).startswith(
        "The versions folder `m/b` (`version_locations` in `alembic.ini`) does not exist."
    )


def test_a_missing_script_folder(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {"alembic.ini": "[alembic]\nscript_location = nowhere\n"})
    assert error_from(root) == (
        "The script folder `nowhere` (`script_location` in `alembic.ini`) does not exist: set "
        "SCHEMABOT_SCRIPT_LOCATION to the Alembic script folder."
    )


@pytest.mark.parametrize(
    ("ini", "key"),
    [
        ("[alembic]\nscript_location = ../outside\n", "script_location"),
        ("[alembic]\nscript_location = %(here)s/../..\n", "script_location"),
        ("[alembic]\nscript_location = /etc\n", "script_location"),
        (
            "[alembic]\nscript_location = m\npath_separator = os\nversion_locations = ../v\n",
            "version_locations",
        ),
    ],
)
def test_a_path_leaving_the_repository(tmp_path: Path, ini: str, key: str) -> None:
    root = make_repo(tmp_path / "repo", {"alembic.ini": ini}, ("m/versions",))
    (tmp_path / "outside").mkdir()
    assert error_from(root) == f"`{key}` in `alembic.ini` points outside the repository."


def test_an_ini_outside_the_repository(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {}, ("m/versions",))
    assert error_from(root, alembic_ini="../alembic.ini") == (
        "SCHEMABOT_ALEMBIC_INI (`../alembic.ini`) points outside the repository."
    )


def test_a_link_leaving_the_repository(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"alembic.ini": "[alembic]\nscript_location = m\n"})
    make_repo(tmp_path, {}, ("elsewhere/versions",))
    (root / "m").symlink_to(tmp_path / "elsewhere")
    assert "points outside the repository" in error_from(root)


def test_an_unreadable_ini(tmp_path: Path) -> None:
    (tmp_path / "alembic.ini").mkdir()
    assert error_from(tmp_path) == "`alembic.ini` cannot be read: Is a directory."


def test_a_broken_ini_does_not_show_its_lines(tmp_path: Path) -> None:
    """The line may be the database URL with its password."""
    root = make_repo(tmp_path, {"alembic.ini": "sqlalchemy.url = postgresql://u:hunter2@db\n"})
    message = error_from(root)
    assert message == "`alembic.ini` is not a valid ini file (line 1)."
    root = make_repo(tmp_path, {"alembic.ini": "[alembic]\nscript_location = m\nhunter2\n"})
    assert error_from(root) == "`alembic.ini` is not a valid ini file (line 3)."


def test_an_ini_that_is_not_text(tmp_path: Path) -> None:
    (tmp_path / "alembic.ini").write_bytes(b"[alembic]\nscript_location = \xff\xfe\n")
    assert error_from(tmp_path) == "`alembic.ini` is not utf-8 text."


def test_an_unknown_separator(tmp_path: Path) -> None:
    ini = "[alembic]\nscript_location = m\npath_separator = comma\nversion_locations = a,b\n"
    root = make_repo(tmp_path, {"alembic.ini": ini}, ("m/versions",))
    assert error_from(root) == (
        "`path_separator = comma` in `alembic.ini` is not one of space, newline, os, ':' or ';'."
    )


def test_a_bad_substitution(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {"alembic.ini": "[alembic]\nscript_location = %(root)s/m\n"})
    assert error_from(root).startswith("`script_location` in `alembic.ini` has a bad %-subst")


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[tool.alembic\n", "pyproject.toml cannot be read"),
        ("[tool.alembic]\nscript_location = 3\n", "`script_location` in pyproject.toml must be"),
        (
            '[tool.alembic]\nscript_location = "m"\nversion_locations = "m/versions"\n',
            "`version_locations` in pyproject.toml must be a list of strings.",
        ),
        (
            '[tool.alembic]\nscript_location = "m"\nrecursive_version_locations = "yes"\n',
            "`recursive_version_locations` in pyproject.toml must be true or false.",
        ),
        ('[tool.alembic]\nscript_location = "%(root)s"\n', "has a bad %-substitution"),
    ],
)
def test_a_broken_pyproject_toml(tmp_path: Path, toml: str, message: str) -> None:
    files = {"alembic.ini": "[alembic]\n", "pyproject.toml": toml}
    root = make_repo(tmp_path, files, ("m/versions",))
    assert message in error_from(root)
