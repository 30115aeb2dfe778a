"""Repositories with Alembic configs, and what Alembic's own Config finds in them."""

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
