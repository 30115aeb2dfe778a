"""Reads files of the watched repository as they stand on a branch, for cards and commands.

Backed by the bot's clone (after the watcher's last fetch); results are cached by the
branch tip, so repeated card renders do not go back to git.
"""

from __future__ import annotations

import threading

from git import Repo
from gitdb.exc import BadName

from bot.core.doc import SchemaDoc
from bot.core.layout import AlembicLayout
from bot.core.revision_file import Revision, RevisionFileError, parse_revision_source
from bot.core.revisions import RevisionGraph
from bot.git.clone import Clone
from bot.git.revision_blobs import revision_files_at
from bot.git.script_location import layout_location


class RepositoryView:
    def __init__(self, clone: Clone, doc_path: str, layout: AlembicLayout) -> None:
        self.clone = clone
        self.doc_path = doc_path
        self.layout = layout
        self._cache: dict[tuple[str, str, str], str | None] = {}
        self._graphs: dict[str, RevisionGraph] = {}
        self._lock = threading.Lock()

    def tip(self, branch: str) -> str | None:
        with self.clone.open() as repo:
            return _tip(repo, branch)

    def read(self, branch: str, path: str) -> str | None:
        """The text of `path` on `branch` (None when the branch or file is not there)."""
        with self.clone.open() as repo:
            tip = _tip(repo, branch)
            if tip is None:
                return None
            key = (tip, path, "file")
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
            try:
                blob = repo.commit(tip).tree / path
            except KeyError:
                text = None
            else:
                text = blob.data_stream.read().decode("utf-8", errors="replace")
            with self._lock:
                self._cache[key] = text
            return text

    def author(self, branch: str, path: str) -> str:
        """The git author name of the commit that added `path` on `branch` ("" if unknown)."""
        with self.clone.open() as repo:
            ref = f"refs/remotes/origin/{branch}"
            out = repo.git.log("-1", "--diff-filter=A", "--format=%an", ref, "--", path)
        return str(out).strip()

    def doc(self, branch: str) -> SchemaDoc | None:
        text = self.read(branch, self.doc_path)
        return None if text is None else SchemaDoc.parse(text)

    def revision(self, branch: str, path: str) -> Revision | None:
        source = self.read(branch, path)
        if source is None:
            return None
        try:
            return parse_revision_source(source, path)
        except RevisionFileError:
            return None

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


def _tip(repo: Repo, branch: str) -> str | None:
    try:
        return repo.commit(f"refs/remotes/origin/{branch}").hexsha
    except (ValueError, BadName):
        return None
