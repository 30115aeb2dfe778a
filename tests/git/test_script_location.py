"""Reading where the revisions live, checked against what Alembic's own Config finds."""

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from bot.git.script_location import ScriptLocation, read_script_location
from tests.support.alembic_config import (
    P,
    alembic_finds,
    error_from,
    make_repo,
)

# Reading the ini as Alembic does


@pytest.mark.parametrize(
    ("ini", "folders", "expected"),
    [
        (
            "[alembic]\nscript_location = migrations\n",
            ("migrations/versions",),
            ScriptLocation(P("migrations"), (P("migrations/versions"),)),
        ),
        (
            "[alembic]\nscript_location = %(here)s/migrations\n"
            "recursive_version_locations = true\n",
            ("migrations/versions",),
            ScriptLocation(P("migrations"), (P("migrations/versions"),), recursive=True),
        ),
        (
            "[alembic]\nscript_location = migrations\nrecursive_version_locations = True\n",
            ("migrations/versions",),
            # Alembic compares with "true" exactly.
            ScriptLocation(P("migrations"), (P("migrations/versions"),), recursive=False),
        ),
        (
            "[alembic]\nscript_location = m\npath_separator = os\n"
            "version_locations = %(here)s/a:b/c\n",
            ("m", "a", "b/c"),
            ScriptLocation(P("m"), (P("a"), P("b/c"))),
        ),
        (
            "[alembic]\nscript_location = m\npath_separator = space\nversion_locations = a  b/c\n",
            ("m", "a", "b/c"),
            ScriptLocation(P("m"), (P("a"), P("b/c"))),
        ),
        (
            "[alembic]\nscript_location = m\npath_separator = newline\n"
            "version_locations =\n    a\n    b/c\n",
            ("m", "a", "b/c"),
            ScriptLocation(P("m"), (P("a"), P("b/c"))),
        ),
        (
            "[alembic]\nscript_location = m\npath_separator = :\nversion_locations = a:b/c\n",
            ("m", "a", "b/c"),
            ScriptLocation(P("m"), (P("a"), P("b/c"))),
        ),
        (
            "[alembic]\nscript_location = m\npath_separator = ;\nversion_locations = a; b/c\n",
            ("m", "a", "b/c"),
            ScriptLocation(P("m"), (P("a"), P("b/c"))),
        ),
        (
            "[alembic]\nscript_location = m\nversion_path_separator = ;\n"
            "version_locations = a;b/c\n",
            ("m", "a", "b/c"),
            ScriptLocation(P("m"), (P("a"), P("b/c"))),
        ),
        (
            "[alembic]\nscript_location = m\npath_separator = space\n"
            "version_path_separator = ;\nversion_locations = a b/c\n",
            ("m", "a", "b/c"),
            ScriptLocation(P("m"), (P("a"), P("b/c"))),
        ),
        (
            # No separator set: Alembic's legacy split on commas and spaces.
            "[alembic]\nscript_location = m\nversion_locations = a, b/c d\n",
            ("m", "a", "b/c", "d"),
            ScriptLocation(P("m"), (P("a"), P("b/c"), P("d"))),
        ),
    ],
)
def test_the_ini_reads_as_alembic_reads_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ini: str,
    folders: tuple[str, ...],
    expected: ScriptLocation,
) -> None:
    root = make_repo(tmp_path, {"alembic.ini": ini}, folders)
    monkeypatch.chdir(root)
    assert read_script_location(root) == expected
    assert alembic_finds(root) == expected


def test_here_is_the_folder_of_an_ini_kept_below_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ini = "[alembic]\nscript_location = %(here)s/migrations\n"
    root = make_repo(tmp_path, {"db/alembic.ini": ini}, ("db/migrations/versions",))
    monkeypatch.chdir(root)
    found = read_script_location(root, "db/alembic.ini")
    assert found == ScriptLocation(P("db/migrations"), (P("db/migrations/versions"),))
    assert alembic_finds(root, "db/alembic.ini") == found


def test_pyproject_toml_fills_in_what_the_ini_leaves_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alembic's `pyproject` template keeps only the database URL and logging in the ini."""
    root = make_repo(
        tmp_path,
        {
            "alembic.ini": "[alembic]\nsqlalchemy.url = driver://user:pass@localhost/db\n",
            "pyproject.toml": (
                "[tool.alembic]\n"
                'script_location = "%(here)s/migrations"\n'
                'version_locations = ["%(here)s/migrations/versions", "plugins"]\n'
                "recursive_version_locations = true\n"
            ),
        },
        ("migrations/versions", "plugins"),
    )
    monkeypatch.chdir(root)
    expected = ScriptLocation(
        P("migrations"), (P("migrations/versions"), P("plugins")), recursive=True
    )
    assert read_script_location(root) == expected
    assert alembic_finds(root) == expected


def test_the_ini_wins_over_pyproject_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(
        tmp_path,
        {
            "alembic.ini": "[alembic]\nscript_location = migrations\n",
            "pyproject.toml": '[tool.alembic]\nscript_location = "elsewhere"\n',
        },
        ("migrations/versions", "elsewhere/versions"),
    )
    monkeypatch.chdir(root)
    assert read_script_location(root).script_dir == P("migrations")
    assert alembic_finds(root).script_dir == P("migrations")


@pytest.mark.parametrize("layout", ["", "src/"])
def test_a_package_location_is_found_in_the_repository_without_importing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    package = f"schemabot_test_pkg_{len(layout)}"
    root = make_repo(
        tmp_path,
        {
            "alembic.ini": f"[alembic]\nscript_location = {package}.db:migrations\n",
            f"{layout}{package}/__init__.py": "",
            f"{layout}{package}/db/__init__.py": "",
        },
        (f"{layout}{package}/db/migrations/versions",),
    )
    expected = ScriptLocation(
        P(f"{layout}{package}/db/migrations"), (P(f"{layout}{package}/db/migrations/versions"),)
    )
    assert read_script_location(root) == expected
    monkeypatch.chdir(root)
    monkeypatch.syspath_prepend(str(root / layout))
    assert alembic_finds(root) == expected


def test_a_package_that_is_not_in_the_repository(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {"alembic.ini": "[alembic]\nscript_location = myapp.db:migr\n"})
    assert error_from(root) == (
        "`script_location` in `alembic.ini`: package `myapp.db` of `myapp.db:migr` is not a "
        "folder in the repository (looked for `myapp/db/` and `src/myapp/db/`)."
    )


# The override


def test_the_override_needs_no_ini(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {}, ("db/migrations/versions",))
    found = read_script_location(root, override="db/migrations")
    assert found == ScriptLocation(P("db/migrations"), (P("db/migrations/versions"),))


def test_the_override_replaces_only_the_ini_script_location(tmp_path: Path) -> None:
    ini = "[alembic]\nscript_location = old\nrecursive_version_locations = true\n"
    root = make_repo(tmp_path, {"alembic.ini": ini}, ("new/versions",))
    found = read_script_location(root, override="new")
    assert found == ScriptLocation(P("new"), (P("new/versions"),), recursive=True)


def test_an_override_that_does_not_exist(tmp_path: Path) -> None:
    assert error_from(make_repo(tmp_path, {}), override="db/migrations") == (
        "The script folder `db/migrations` (SCHEMABOT_SCRIPT_LOCATION) does not exist: set "
        "SCHEMABOT_SCRIPT_LOCATION to the Alembic script folder."
    )


def test_flask_migrate_keeps_no_script_location_the_ini_folder_is_the_script_folder(
    tmp_path: Path,
) -> None:
    root = make_repo(
        tmp_path,
        {"migrations/alembic.ini": "[alembic]\n", "migrations/env.py": ""},
        ("migrations/versions",),
    )
    found = read_script_location(root, "migrations/alembic.ini")
    assert (found.script_dir, found.version_dirs) == (P("migrations"), (P("migrations/versions"),))


def test_a_named_section_is_read_as_alembic_n_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ini = "[core]\nscript_location = core\n\n[tenant]\nscript_location = tenant\n"
    root = make_repo(tmp_path, {"alembic.ini": ini}, ("core/versions", "tenant/versions"))
    monkeypatch.chdir(root)
    config = Config(str(root / "alembic.ini"), ini_section="tenant")
    assert ScriptDirectory.from_config(config).dir == "tenant"
    assert read_script_location(root, section="tenant").script_dir == P("tenant")


def test_version_folders_set_in_code_are_given_by_the_setting(tmp_path: Path) -> None:
    ini = "[alembic]\nscript_location = db\n"
    root = make_repo(tmp_path, {"alembic.ini": ini}, ("db/versions", "db/expand", "db/x/y"))
    listed = read_script_location(root, version_locations=("db/expand", "db/x/y"))
    walked = read_script_location(root, version_locations=("db/**",))
    assert (listed.version_dirs, listed.recursive) == ((P("db/expand"), P("db/x/y")), False)
    assert (walked.version_dirs, walked.recursive) == ((P("db"),), True)


def test_relative_paths_in_an_ini_below_the_root_are_read_from_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ini = "[alembic]\nscript_location = app/alembic\n"
    root = make_repo(tmp_path, {"backend/alembic.ini": ini}, ("backend/app/alembic/versions",))
    monkeypatch.chdir(root / "backend")  # where the team runs `alembic upgrade head`
    config = Config(str(root / "backend/alembic.ini"))

    found = read_script_location(root, "backend/alembic.ini")

    assert ScriptDirectory.from_config(config).dir == "app/alembic"
    assert found == ScriptLocation(P("backend/app/alembic"), (P("backend/app/alembic/versions"),))
