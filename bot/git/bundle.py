"""The bundle of a revision at a commit: its file and its migration environment, as blobs.

Read from git objects only, never through a checkout, so a symlink in the repository is
seen as one (and refused) rather than followed.
"""

from __future__ import annotations

import configparser
import threading
import tomllib
from collections.abc import Iterator
from pathlib import PurePosixPath

from git import Blob, Repo, Tree
from gitdb.exc import BadName

from bot.core.bundle import Bundle
from bot.core.imports import candidate_files, imported_modules, module_name
from bot.core.layout import AlembicLayout
from bot.git.clone import Clone
from bot.git.script_location import ScriptLocation, ScriptLocationError, layout_location
from bot.git.tree_files import FILE_MODES, LINK_MODE

MAX_ENVIRONMENT_FILES = 400
MAX_PARSED_BYTES = 1024 * 1024


def revision_bundle(
    repo: Repo, commit: str, revision_path: str, layout: AlembicLayout, location: ScriptLocation
) -> Bundle:
    """What an approval of the file at `revision_path` in `commit` covers."""
    tree = repo.commit(commit).tree
    files: dict[str, str] = {}
    problems: list[str] = []
    links: list[str] = []
    revision = _regular(tree, revision_path, problems, links, required=True)
    if revision is not None:
        files[revision_path] = revision.hexsha
    for path, blob in _environment(tree, layout, location, problems, links):
        files[path] = blob.hexsha
    return Bundle(revision_path, files, tuple(problems), commit, tuple(links))


def blob_text(repo: Repo, blob_sha: str) -> str:
    return bytes(repo.odb.stream(bytes.fromhex(blob_sha)).read()).decode("utf-8", "replace")


def _environment(
    tree: Tree,
    layout: AlembicLayout,
    location: ScriptLocation,
    problems: list[str],
    links: list[str],
) -> Iterator[tuple[str, Blob]]:
    ini = layout.ini
    ini_blob = _regular(tree, ini, problems, links, required=False)
    ini_text = _text(ini_blob) if ini_blob is not None else ""
    if ini_blob is not None:
        yield ini, ini_blob
    ini_dir = PurePosixPath(ini).parent
    pyproject = str(ini_dir / "pyproject.toml") if str(ini_dir) != "." else "pyproject.toml"
    pyproject_blob = _regular(tree, pyproject, problems, links, required=False)
    if pyproject_blob is not None and _configures_alembic(_text(pyproject_blob)):
        yield pyproject, pyproject_blob
    script_dir = location.script_dir
    mako = _regular(tree, str(script_dir / "script.py.mako"), problems, links, required=False)
    if mako is not None:
        yield str(script_dir / "script.py.mako"), mako
    env_path = str(script_dir / "env.py")
    env = _regular(tree, env_path, problems, links, required=True)
    if env is None:
        return
    yield env_path, env
    roots = _import_roots(ini_dir, ini_text, layout.section)
    yield from _imported(tree, env_path, env, roots, problems, links)


def _imported(
    tree: Tree,
    env_path: str,
    env: Blob,
    roots: tuple[PurePosixPath, ...],
    problems: list[str],
    links: list[str],
) -> Iterator[tuple[str, Blob]]:
    """The repository files `env.py` imports, and theirs, as far as the syntax tells."""
    seen = {env_path}
    todo = [(env_path, env)]
    while todo:
        path, blob = todo.pop()
        source = _text(blob)
        if source is None:
            continue
        relative = _relative_to_roots(path, roots)
        for module in imported_modules(source, relative or PurePosixPath(path).name):
            for root in roots:
                for candidate in candidate_files(module):
                    found = str(root / candidate) if str(root) != "." else candidate
                    if found in seen:
                        continue
                    found_blob = _regular(tree, found, problems, links, required=False)
                    if found_blob is None:
                        continue
                    seen.add(found)
                    if len(seen) > MAX_ENVIRONMENT_FILES:
                        problems.append(
                            f"env.py imports more than {MAX_ENVIRONMENT_FILES} files of the "
                            "repository: only the first are covered by approval"
                        )
                        return
                    yield found, found_blob
                    todo.append((found, found_blob))


def _relative_to_roots(path: str, roots: tuple[PurePosixPath, ...]) -> str | None:
    file = PurePosixPath(path)
    for root in roots:
        if str(root) == "." or root in file.parents:
            relative = file.relative_to(root) if str(root) != "." else file
            return str(relative) if module_name(str(relative)) else None
    return None


def _import_roots(
    ini_dir: PurePosixPath, ini_text: str | None, section: str
) -> tuple[PurePosixPath, ...]:
    """Where `env.py`'s imports are looked up: the ini's folder (Alembic runs from there,
    as `python -m alembic` would), then each `prepend_sys_path` entry."""
    roots = [ini_dir]
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(ini_text or "")
    except configparser.Error:
        return tuple(roots)
    raw = parser.get(section, "prepend_sys_path", fallback="") or ""
    for entry in raw.replace(",", " ").replace(":", " ").split():
        entry = entry.replace("%(here)s", ".")
        candidate = PurePosixPath(ini_dir / entry)
        if ".." not in candidate.parts and not candidate.is_absolute():
            roots.append(PurePosixPath(*candidate.parts) if candidate.parts else ini_dir)
    return tuple(dict.fromkeys(roots))


def _configures_alembic(text: str | None) -> bool:
    try:
        data = tomllib.loads(text or "")
    except tomllib.TOMLDecodeError:
        return False
    tool = data.get("tool")
    return isinstance(tool, dict) and "alembic" in tool


def _regular(
    tree: Tree, path: str, problems: list[str], links: list[str], *, required: bool
) -> Blob | None:
    """The blob at `path` when it is a regular file, walking one name at a time so a link
    on the way is seen (and recorded) rather than followed."""
    node: Blob | Tree = tree
    for name in PurePosixPath(path).parts:
        if not isinstance(node, Tree):
            break
        try:
            node = node[name]
        except KeyError:
            if required:
                problems.append(f"`{path}` is missing")
            return None
    if isinstance(node, Blob) and node.mode == LINK_MODE:
        links.append(path)
        return None
    if not isinstance(node, Blob) or node.mode not in FILE_MODES or str(node.path) != path:
        problems.append(f"`{path}` is not a regular file; schemabot reads only regular files")
        return None
    return node


def _text(blob: Blob) -> str | None:
    if blob.size > MAX_PARSED_BYTES:
        return None
    return bytes(blob.data_stream.read()).decode("utf-8", "replace")


class BundleReader:
    """Bundles of revisions at their branch tips, read from the bot's clone (cached)."""

    def __init__(self, clone: Clone, layout: AlembicLayout) -> None:
        self.clone = clone
        self.layout = layout
        self._cache: dict[tuple[str, str], Bundle] = {}
        self._lock = threading.Lock()

    def at(self, commit: str, revision_path: str) -> Bundle:
        key = (commit, revision_path)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        with self.clone.open() as repo:
            try:
                location = layout_location(self.clone.path, self.layout)
            except ScriptLocationError as exc:
                return Bundle(revision_path, {}, (str(exc),), commit)
            bundle = revision_bundle(repo, commit, revision_path, self.layout, location)
        with self._lock:
            if len(self._cache) > 2048:
                self._cache.clear()
            self._cache[key] = bundle
        return bundle

    def on_branch(self, branch: str, revision_path: str) -> Bundle | None:
        """The bundle at the tip of `branch` on the remote; None when the branch is gone."""
        with self.clone.open() as repo:
            try:
                tip = repo.commit(f"refs/remotes/origin/{branch}").hexsha
            except (ValueError, BadName):
                return None
        return self.at(tip, revision_path)
