"""Reading where the revisions live, checked against what Alembic's own Config finds."""

import warnings
from pathlib import Path, PurePosixPath

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from bot.git.script_location import ScriptLocation, ScriptLocationError, read_script_location

P = PurePosixPath


def make_repo(root: Path, files: dict[str, str], folders: tuple[str, ...] = ()) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    for folder in folders:
        (root / folder).mkdir(parents=True, exist_ok=True)
    return root


def alembic_finds(root: Path, ini: str = "alembic.ini") -> ScriptLocation:
    """What Alembic's ScriptDirectory.from_config finds, run from the repo root."""
    config = Config(str(root / ini), toml_file=str(root / "pyproject.toml"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        script = ScriptDirectory.from_config(config)
        folders = script._version_locations

    def relative(path: str | Path) -> PurePosixPath:
        return P(Path(path).resolve().relative_to(root.resolve()).as_posix())

    return ScriptLocation(
        relative(script.dir),
        tuple(relative(f) for f in folders),
        script.recursive_version_locations,
        script.sourceless,
    )


def error_from(root: Path, **options: str) -> str:
    with pytest.raises(ScriptLocationError) as caught:
        read_script_location(root, **options)
    return str(caught.value)


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
        "The script folder `db/migrations` (SCHEMABOT_SCRIPT_LOCATION) does not exist."
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
        "`alembic.ini` has no [alembic] section, and pyproject.toml has no `script_location` "
        "in [tool.alembic] either."
    )


def test_no_script_location_key(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {"alembic.ini": "[alembic]\nsqlalchemy.url = sqlite://\n"})
    assert "has no `script_location` in its [alembic] section" in error_from(root)


def test_a_missing_versions_folder_is_named_with_where_it_came_from(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {"alembic.ini": "[alembic]\nscript_location = migrations\n"})
    (root / "migrations").mkdir()
    assert error_from(root) == (
        "The versions folder `migrations/versions` (`script_location` in `alembic.ini`) does not "
        "exist. Git keeps no empty folders: commit a `.gitkeep` in it."
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
        "The script folder `nowhere` (`script_location` in `alembic.ini`) does not exist."
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


# Filtering changed paths


def test_a_revision_path_is_a_python_file_directly_in_a_version_folder() -> None:
    location = ScriptLocation(P("db"), (P("db/versions"), P("plugins/audit")))
    assert location.is_revision_path("db/versions/1a2b_add_users.py")
    assert location.is_revision_path("plugins/audit/9f8e_audit.py")
    for path in [
        "db/versions/__init__.py",
        "db/versions/.#1a2b_add_users.py",
        "db/versions/README",
        "db/versions/1a2b_add_users.pyc",
        "db/versions/__pycache__/1a2b_add_users.cpython-311.pyc",
        "db/versions/sub/3c4d_nested.py",
        "db/env.py",
        "db/versionsX/1a2b.py",
        "../db/versions/1a2b.py",
        "/db/versions/1a2b.py",
    ]:
        assert not location.is_revision_path(path), path


def test_recursive_version_folders_include_their_subfolders_but_not_pycache() -> None:
    location = ScriptLocation(P("."), (P("versions"),), recursive=True)
    assert location.is_revision_path("versions/2024/q1/1a2b_add.py")
    assert location.is_revision_path("versions/1a2b_add.py")
    assert not location.is_revision_path("versions/2024/__pycache__/1a2b_add.py")
    assert not location.is_revision_path("1a2b_add.py")


def test_sourceless_locations_take_compiled_files() -> None:
    location = ScriptLocation(P("m"), (P("m/versions"),), sourceless=True)
    assert location.is_revision_path("m/versions/1a2b_add.pyc")
    assert location.is_revision_path("m/versions/__pycache__/1a2b_add.cpython-311.pyc")
    assert location.is_revision_path("m/versions/1a2b_add.py")
    assert not location.is_revision_path("m/versions/__pycache__/1a2b_add.py")
