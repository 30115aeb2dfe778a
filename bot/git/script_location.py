"""Where a repository keeps its Alembic revisions, read from its config without importing anything.

Alembic reads `script_location`, `version_locations` and `recursive_version_locations` from the
`[alembic]` section of the ini file, falling back to `[tool.alembic]` in `pyproject.toml`; this
module reads them the same way. schemabot runs Alembic from the ini's folder (as `cd backend &&
alembic upgrade head` would), so relative paths, and `pyproject.toml`, are taken from there.
"""

import configparser
import os
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bot.core.layout import AlembicLayout
from bot.errors import SchemabotError

# Alembic's own file rules (alembic/script/base.py): any `.py` (or, when sourceless, `.pyc` and
# `.pyo`) that is not `__init__*` nor an emacs lock file `.#*`.
_ONLY_SOURCE = re.compile(r"(?!\.\#|__init__)(.*\.py)$")
_SOURCELESS = re.compile(r"(?!\.\#|__init__)(.*\.py)(c|o)?$")
_SEPARATORS = {"space": " ", "newline": "\n", "os": os.pathsep, ":": ":", ";": ";"}
_LEGACY_SPLIT = re.compile(r", *|(?: +)")


class ScriptLocationError(SchemabotError):
    """The repository's Alembic config does not lead to a versions folder."""


@dataclass(frozen=True)
class ScriptLocation:
    """The script folder and the folders holding revision files, relative to the repo root."""

    script_dir: PurePosixPath
    version_dirs: tuple[PurePosixPath, ...]
    recursive: bool = False
    sourceless: bool = False

    def is_revision_path(self, path: str) -> bool:
        """Whether Alembic would load this repo-relative file as a revision (by name only)."""
        file = PurePosixPath(path)
        if file.is_absolute() or ".." in file.parts:
            return False
        folder = file.parent
        if self.sourceless and folder.name == "__pycache__" and file.suffix in (".pyc", ".pyo"):
            folder = folder.parent
        elif folder.name.endswith("__pycache__"):
            return False
        if not (_SOURCELESS if self.sourceless else _ONLY_SOURCE).match(file.name):
            return False
        if self.recursive:
            return any(d == folder or d in folder.parents for d in self.version_dirs)
        return folder in self.version_dirs

    def revision_files(self, root: Path) -> list[PurePosixPath]:
        """The revision files under `root`, in the order Alembic loads them.

        A file reached twice (overlapping version folders, symlinks) counts once, as in Alembic.
        """
        real_path = RealPaths()
        seen: set[str] = set()
        found: list[PurePosixPath] = []
        for version_dir in self.version_dirs:
            for folder, names in self._walk(os.path.join(root, version_dir)):
                relative = PurePosixPath(Path(os.path.relpath(folder, root)).as_posix())
                for name in names:
                    real = real_path(os.path.join(folder, name))
                    if real not in seen:
                        seen.add(real)
                        if _counts(folder, name, self.sourceless):
                            found.append(relative / name)
        return found

    def _walk(self, top: str) -> Iterator[tuple[str, list[str]]]:
        """Each folder Alembic lists and its files, in Alembic's order."""
        for folder, dirs, files in os.walk(top):
            if folder.endswith("__pycache__"):
                continue
            yield folder, sorted(files)
            cache = os.path.join(folder, "__pycache__")
            if self.sourceless and os.path.isdir(cache):
                stems = {name.split(".")[0] for name in files}
                compiled = [n for n in os.listdir(cache) if n.split(".")[0] not in stems]
                yield cache, sorted(compiled)
            if not self.recursive:
                break
            dirs.sort()


class RealPaths:
    """`os.path.realpath` for many files, resolving each folder only once."""

    def __init__(self) -> None:
        self._folders: dict[str, str] = {}

    def __call__(self, file: str) -> str:
        if os.path.islink(file):
            return os.path.realpath(file)
        folder, name = os.path.split(file)
        if folder not in self._folders:
            self._folders[folder] = os.path.realpath(folder)
        return os.path.join(self._folders[folder], name)


def _counts(folder: str, name: str, sourceless: bool) -> bool:
    match = (_SOURCELESS if sourceless else _ONLY_SOURCE).match(name)
    if match is None:
        return False
    if name.endswith((".pyc", ".pyo")):
        # Alembic prefers the source, and a .pyc over a .pyo.
        source = os.path.join(folder, match.group(1))
        return not (
            os.path.exists(source) or (name.endswith(".pyo") and os.path.exists(f"{source}c"))
        )
    return True


def read_script_location(
    repo_root: Path,
    alembic_ini: str = "alembic.ini",
    override: str | None = None,
    *,
    section: str = "alembic",
    version_locations: tuple[str, ...] = (),
) -> ScriptLocation:
    """Read the script location as Alembic would from `alembic_ini` (a path inside the repo).

    `override` (SCHEMABOT_SCRIPT_LOCATION) replaces the ini's `script_location`, and lets the ini
    be missing; `section` is the ini's section (SCHEMABOT_ALEMBIC_SECTION); `version_locations`
    (SCHEMABOT_VERSION_LOCATIONS) replace the ini's, for projects that set them in code. An
    ini without `script_location` in its own folder beside an `env.py` is Flask-Migrate's
    layout: the folder is the script folder.
    """
    root = repo_root.resolve()
    ini_path = root / alembic_ini
    _inside(root, ini_path, f"SCHEMABOT_ALEMBIC_INI (`{alembic_ini}`)")
    config = _Config(root, ini_path, alembic_ini, section)
    if override is not None:
        source = "SCHEMABOT_SCRIPT_LOCATION"
        script_dir = _repo_path(root, override, source)
    elif not ini_path.exists():
        raise ScriptLocationError(
            f"`{alembic_ini}` is not in the repository: set SCHEMABOT_ALEMBIC_INI to its path, "
            "or SCHEMABOT_SCRIPT_LOCATION to the Alembic script folder."
        )
    elif config.value("script_location") is None and (ini_path.parent / "env.py").is_file():
        source = f"the folder of `{alembic_ini}` (Flask-Migrate's layout)"
        script_dir = _inside(root, ini_path.parent, source)
    else:
        source = config.source("script_location")
        script_dir = config.script_location()
    if not (root / script_dir).is_dir():
        raise ScriptLocationError(
            f"The script folder `{script_dir}` ({source}) does not exist: set "
            "SCHEMABOT_SCRIPT_LOCATION to the Alembic script folder."
        )
    recursive = config.boolean("recursive_version_locations")
    if version_locations:
        source = "SCHEMABOT_VERSION_LOCATIONS"
        recursive = any(folder.endswith("/**") for folder in version_locations)
        version_dirs = [
            _repo_path(root, folder.removesuffix("/**"), source) for folder in version_locations
        ]
    else:
        version_dirs = config.version_locations()
        if version_dirs:
            source = config.source("version_locations")
    if not version_dirs:
        version_dirs = [script_dir / "versions"]
    for folder in version_dirs:
        if not (root / folder).is_dir():
            raise ScriptLocationError(
                f"The versions folder `{folder}` ({source}) does not exist. "
                "Git keeps no empty folders: commit a `.gitkeep` in it, or set "
                "SCHEMABOT_VERSION_LOCATIONS to the folders that hold the revisions."
            )
    return ScriptLocation(script_dir, tuple(version_dirs), recursive, config.boolean("sourceless"))


def layout_location(repo_root: Path, layout: AlembicLayout) -> ScriptLocation:
    """`read_script_location` with the operator's settings."""
    return read_script_location(
        repo_root,
        layout.ini,
        layout.script_location,
        section=layout.section,
        version_locations=layout.version_locations,
    )


class _Config:
    """The `[alembic]` section of the ini, then `[tool.alembic]` of pyproject.toml, as Alembic."""

    def __init__(self, root: Path, ini_path: Path, ini_name: str, section: str) -> None:
        self.root = root
        # Alembic runs from the ini's folder: relative paths and pyproject.toml are found there.
        self.base = ini_path.parent
        self.ini_name = ini_name
        self.section = section
        self.parser = configparser.ConfigParser({"here": ini_path.absolute().parent.as_posix()})
        self._toml: dict[str, object] | None = None
        if not ini_path.exists():
            return
        try:
            with ini_path.open(encoding="locale") as f:
                self.parser.read_file(f, source=ini_name)
        except UnicodeDecodeError as e:
            raise ScriptLocationError(f"`{ini_name}` is not {e.encoding} text.") from e
        except OSError as e:
            raise ScriptLocationError(f"`{ini_name}` cannot be read: {e.strerror}.") from e
        except configparser.Error as e:
            # The error's own text quotes the offending line, which may hold a database
            # password (sqlalchemy.url), so only its line number is shown.
            raise ScriptLocationError(
                f"`{ini_name}` is not a valid ini file (line {_error_line(e)})."
            ) from e

    def script_location(self) -> PurePosixPath:
        value = self._value("script_location")
        if value is None:
            missing = (
                f"no `script_location` in its [{self.section}] section"
                if self.parser.has_section(self.section)
                else f"no [{self.section}] section (SCHEMABOT_ALEMBIC_SECTION)"
            )
            raise ScriptLocationError(
                f"`{self.ini_name}` has {missing}, and pyproject.toml has no "
                "`script_location` in [tool.alembic] either: set SCHEMABOT_SCRIPT_LOCATION "
                "to the Alembic script folder."
            )
        if not isinstance(value, str):
            raise ScriptLocationError("`script_location` in pyproject.toml must be a string.")
        return _repo_path(self.root, value, self.source("script_location"), self.base)

    def version_locations(self) -> list[PurePosixPath]:
        if self.parser.get(self.section, "version_locations", fallback=None, raw=True):
            text = self._get("version_locations")
            separator = self._separator()
            if separator is None:
                paths = _LEGACY_SPLIT.split(text)
            else:
                paths = [p.strip() for p in text.split(separator) if p]
        else:
            listed = self._toml_value("version_locations")
            if listed is None:
                return []
            if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
                raise ScriptLocationError(
                    "`version_locations` in pyproject.toml must be a list of strings."
                )
            paths = listed
        source = self.source("version_locations")
        return [_repo_path(self.root, p, source, self.base) for p in paths]

    def boolean(self, key: str) -> bool:
        if self.parser.has_option(self.section, key):
            # Alembic compares with "true" exactly: "True" or "yes" mean false.
            return self._get(key) == "true"
        value = self._toml_value(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise ScriptLocationError(f"`{key}` in pyproject.toml must be true or false.")
        return value

    def source(self, key: str) -> str:
        """Where the key's value comes from, for messages."""
        if self.parser.get(self.section, key, fallback=None, raw=True):
            return f"`{key}` in `{self.ini_name}`"
        return f"`{key}` in pyproject.toml"

    def _separator(self) -> str | None:
        for key in ("path_separator", "version_path_separator"):
            if self.parser.has_option(self.section, key):
                name = self._get(key)
                if name not in _SEPARATORS:
                    raise ScriptLocationError(
                        f"`{key} = {name}` in `{self.ini_name}` is not one of "
                        "space, newline, os, ':' or ';'."
                    )
                return _SEPARATORS[name]
        return None

    def value(self, key: str) -> object:
        """The key's value in the ini's section, else in pyproject.toml; None when neither."""
        return self._value(key)

    def _value(self, key: str) -> object:
        if self.parser.has_option(self.section, key):
            return self._get(key)
        return self._toml_value(key)

    def _get(self, key: str) -> str:
        try:
            return self.parser.get(self.section, key)
        except configparser.InterpolationError as e:
            raise ScriptLocationError(
                f"`{key}` in `{self.ini_name}` has a bad %-substitution: only %(here)s and "
                "the section's own keys can be used, and a literal % is written %%."
            ) from e

    def _toml_value(self, key: str) -> object:
        if self._toml is None:
            self._toml = _read_toml(self.base / "pyproject.toml")
        value = self._toml.get(key)
        here = {"here": self.root.as_posix()}
        try:
            if isinstance(value, str):
                return value % here
            if isinstance(value, list):
                return [v % here if isinstance(v, str) else v for v in value]
        except (KeyError, ValueError, TypeError) as e:
            raise ScriptLocationError(
                f"`{key}` in pyproject.toml has a bad %-substitution: only %(here)s can be used."
            ) from e
        return value


def _error_line(error: configparser.Error) -> object:
    errors = getattr(error, "errors", None)
    return errors[0][0] if errors else getattr(error, "lineno", "?")


def _read_toml(path: Path) -> dict[str, object]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ScriptLocationError(f"pyproject.toml cannot be read: {e}.") from e
    tool = data.get("tool")
    section = tool.get("alembic") if isinstance(tool, dict) else None
    return section if isinstance(section, dict) else {}


def _repo_path(root: Path, value: str, source: str, base: Path | None = None) -> PurePosixPath:
    """A config path as a repo-relative path: relative ones from `base` (the folder Alembic
    runs from, the ini's), else from the root; `package:path` is found in the repo's own
    folders."""
    base = base or root
    if not os.path.isabs(value) and ":" in value:
        package, *parts = value.split(":")
        module = package.replace(".", "/")
        bases = [base / module, root / module, root / "src" / module]
        found = next((b for b in bases if b.is_dir()), None)
        if found is None:
            raise ScriptLocationError(
                f"{source}: package `{package}` of `{value}` is not a folder in the repository "
                f"(looked for `{module}/` and `src/{module}/`)."
            )
        return _inside(root, found.joinpath(*parts), source)
    return _inside(root, base / value, source)


def _inside(root: Path, path: Path, source: str) -> PurePosixPath:
    """The path relative to the repository root, links followed; it must not leave the repo."""
    real = path.resolve()
    if not real.is_relative_to(root):
        raise ScriptLocationError(f"{source} points outside the repository.")
    return PurePosixPath(real.relative_to(root).as_posix())
