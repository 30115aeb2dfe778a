"""The revision graph of a checkout on disk: every file Alembic would load, read with `ast`."""

import os
import re
from functools import partial
from pathlib import Path

from bot.core.revision_file import (
    REVISION_FILE_LIMIT,
    Revision,
    RevisionFileError,
    decode_revision,
    parse_revision_source,
    too_large_to_parse,
)
from bot.core.revisions import RevisionGraph, read_each
from bot.git.script_location import RealPaths, ScriptLocation


def load_graph(root: Path, location: ScriptLocation) -> RevisionGraph:
    """The graph of every file under `root` that Alembic would load as a revision."""
    inside = os.path.join(os.path.realpath(root), "")
    real_path = RealPaths()
    return RevisionGraph(
        *read_each(
            (file.as_posix(), partial(_read_revision, root, file.as_posix(), inside, real_path))
            for file in location.revision_files(root)
        )
    )


def _read_revision(root: Path, path: str, inside: str, real_path: RealPaths) -> Revision:
    """Read a file found by `revision_files`, if it is source kept inside the repository."""
    file = os.path.join(root, path)
    if not path.endswith(".py"):
        raise RevisionFileError(path, None, "compiled Python without its source, unreadable")
    if not real_path(file).startswith(inside):
        raise RevisionFileError(path, None, "a link to a file outside the repository")
    try:
        with open(file, "rb") as f:
            data = f.read(REVISION_FILE_LIMIT + 1)
    except OSError as e:
        raise RevisionFileError(path, None, f"cannot be read ({e.strerror})") from e
    if len(data) > REVISION_FILE_LIMIT:
        raise RevisionFileError(path, None, too_large_to_parse(os.path.getsize(file)))
    return parse_revision_source(decode_revision(data, path), path)


_DECLARES_REVISION = re.compile(rb"^revision\s*(?::[^=\n]*)?=\s*['\"]", re.MULTILINE)


def missed_revisions(root: Path, location: ScriptLocation) -> str | None:
    """A warning when the version folders hold far fewer revisions than the files under the
    script folder that declare one: a project that sets its folders in code (neutron's
    `cli.py`, prefect's `env.py`) would otherwise be read as having no history at all."""
    loaded = {str(path) for path in location.revision_files(root)}
    declaring = [
        path.relative_to(root).as_posix()
        for path in (root / location.script_dir).rglob("*.py")
        if "__pycache__" not in path.parts
        and not path.is_symlink()
        and path.is_file()
        and _DECLARES_REVISION.search(_head(path))
    ]
    if len(declaring) < 2 or len(loaded) * 2 > len(declaring):
        return None
    return (
        f"The version folders hold {len(loaded)} revision file(s), but {len(declaring)} files "
        f"under `{location.script_dir}` declare a revision: if the project sets its version "
        "folders in code, list them in SCHEMABOT_VERSION_LOCATIONS (`folder/**` reads a "
        "folder and all below it)."
    )


def _head(path: Path, size: int = 65536) -> bytes:
    """The first `size` bytes of a file: enough to see whether it declares a revision."""
    with open(path, "rb") as file:
        return file.read(size)
