"""Reads files of the watched repository as they stand on a branch, for cards and commands.

Files are read from git's objects at the branch tip, never through a checkout, so a path
in the repository cannot lead outside it: a symbolic link is git's record of where it
points, and the bot does not follow it. A link where the bot expects a file (`alembic.ini`,
`env.py`, a revision file, the document) is a problem the card reports. The document is
read up to DOC_SIZE_LIMIT. Results are cached by the branch tip, so repeated card
renders do not go back to git.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from git import Repo, Tree
from gitdb.exc import BadName

from bot.core.doc import SchemaDoc
from bot.core.doc_limits import DOC_SIZE_LIMIT, too_large
from bot.core.layout import AlembicLayout
from bot.core.revision_file import (
    REVISION_FILE_LIMIT,
    Revision,
    RevisionFileError,
    parse_revision_source,
)
from bot.core.revisions import RevisionGraph
from bot.core.text import Code, Text
from bot.git.clone import Clone
from bot.git.revision_blobs import revision_files_at
from bot.git.script_location import ScriptLocationError, layout_location
from bot.git.tree_files import FILE_MODES, entry_at, file_at, is_link, text_of

K = TypeVar("K")
V = TypeVar("V")
CACHED_FILES = 64
CACHED_DOCS = 4


@dataclass(frozen=True)
class Document:
    """The document on a branch: parsed, or why it is not (None, None: it is not there)."""

    doc: SchemaDoc | None
    problem: Text | None


class RepositoryView:
    def __init__(self, clone: Clone, doc_path: str, layout: AlembicLayout) -> None:
        self.clone = clone
        self.doc_path = doc_path
        self.layout = layout
        self._files: OrderedDict[tuple[str, str], str | None] = OrderedDict()
        self._docs: OrderedDict[str, Document] = OrderedDict()
        self._graphs: dict[str, RevisionGraph] = {}
        self._lock = threading.Lock()

    def tip(self, branch: str) -> str | None:
        with self.clone.open() as repo:
            return _tip(repo, branch)

    def read(self, branch: str, path: str) -> str | None:
        """The text of `path` (a revision file) on `branch`; None when the branch or the
        file is not there, when the path is a symbolic link (or passes through one), or when
        the file is larger than schemabot parses revision files."""
        with self.clone.open() as repo:
            tip = _tip(repo, branch)
            if tip is None:
                return None
            key = (tip, path)
            with self._lock:
                if key in self._files:
                    self._files.move_to_end(key)
                    return self._files[key]
            blob = file_at(repo, tip, path)
            too_large = blob is not None and blob.size > REVISION_FILE_LIMIT
            text = None if blob is None or too_large else text_of(blob)
            with self._lock:
                _remember(self._files, key, text, CACHED_FILES)
            return text

    def author(self, branch: str, path: str) -> str:
        """The git author name of the commit that added `path` on `branch` ("" if unknown)."""
        with self.clone.open() as repo:
            tip = _tip(repo, branch)
            if tip is None:
                return ""
            out = repo.git.log("-1", "--diff-filter=A", "--format=%an", tip, "--", path)
        return str(out).strip()

    def doc(self, branch: str) -> SchemaDoc | None:
        """The document on `branch`, when it is there and schemabot reads it."""
        return self.document(branch).doc

    def document(self, branch: str) -> Document:
        """The document on `branch`, parsed once per tip; past DOC_SIZE_LIMIT, or as a
        symbolic link, it is not read and `problem` says why."""
        with self.clone.open() as repo:
            tip = _tip(repo, branch)
            if tip is None:
                return Document(None, None)
            with self._lock:
                if tip in self._docs:
                    self._docs.move_to_end(tip)
                    return self._docs[tip]
            document = self._read_document(repo, tip, branch)
            with self._lock:
                _remember(self._docs, tip, document, CACHED_DOCS)
            return document

    def _read_document(self, repo: Repo, tip: str, branch: str) -> Document:
        found = entry_at(repo, tip, self.doc_path)
        if found is None:
            return Document(None, None)
        if isinstance(found, Tree):
            return Document(None, None)
        if found.mode not in FILE_MODES:
            return Document(None, _not_followed(self.doc_path, branch))
        if found.size > DOC_SIZE_LIMIT:
            return Document(None, too_large(self.doc_path, branch, found.size))
        return Document(SchemaDoc.parse(text_of(found)), None)

    def revision(self, branch: str, path: str) -> Revision | None:
        source = self.read(branch, path)
        if source is None:
            return None
        try:
            return parse_revision_source(source, path)
        except RevisionFileError:
            return None

    def links(self, branch: str, revision_path: str | None = None) -> tuple[Text, ...]:
        """What the bot and Alembic would read on `branch` that is a symbolic link instead
        of a file: the ini, the migration environment, the revision file. (The document
        says so itself: `document`.)"""
        with self.clone.open() as repo:
            tip = _tip(repo, branch)
            if tip is None:
                return ()
            expected = [self.layout.ini, *self._environment()]
            if revision_path:
                expected.append(revision_path)
            linked = [p for p in dict.fromkeys(expected) if is_link(entry_at(repo, tip, p))]
        return tuple(_not_followed(path, branch) for path in linked)

    def _environment(self) -> Iterable[str]:
        """env.py and script.py.mako, where the main branch's config puts them."""
        try:
            location = layout_location(self.clone.path, self.layout)
        except ScriptLocationError:
            return ()
        folder = location.script_dir.as_posix()
        return (f"{folder}/env.py", f"{folder}/script.py.mako")

    def graph(self, branch: str) -> RevisionGraph:
        """The static revision graph of `branch` (read from git, cached by its tip)."""
        with self.clone.open() as repo:
            tip = _tip(repo, branch)
        return RevisionGraph(()) if tip is None else self.graph_at(tip, branch)

    def graph_at(self, commit: str, branch: str) -> RevisionGraph:
        """The static revision graph of `commit` (cached for the latest one asked)."""
        with self._lock:
            if commit in self._graphs:
                return self._graphs[commit]
        with self.clone.open() as repo:
            location = layout_location(self.clone.path, self.layout)
            files, problems = revision_files_at(repo, commit, branch, location)
        graph = RevisionGraph((file.revision for file in files), problems)
        with self._lock:
            self._graphs = {commit: graph}
        return graph

    def revision_blobs_at(self, commit: str, branch: str) -> dict[str, tuple[str, str]]:
        """Each revision in `commit`'s tree: its file's path and blob."""
        with self.clone.open() as repo:
            location = layout_location(self.clone.path, self.layout)
            files, _ = revision_files_at(repo, commit, branch, location)
        return {file.revision.revision: (file.path, file.blob_sha) for file in files}


def _tip(repo: Repo, branch: str) -> str | None:
    try:
        return repo.commit(f"refs/remotes/origin/{branch}").hexsha
    except (ValueError, BadName):
        return None


def _not_followed(path: str, branch: str) -> Text:
    return Text(
        Code(path),
        " on ",
        Code(branch),
        " is a symbolic link: schemabot does not follow links in the repository, "
        "so it reads no file there.",
    )


def _remember(cache: OrderedDict[K, V], key: K, value: V, size: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > size:
        cache.popitem(last=False)
