"""Who wrote a revision file, as git tells it: every author and committer who touched it.

Git identities are claims (anyone can commit as anyone); schemabot takes every identity that
touched the file, on any branch, as an author, so none of them can approve it.
"""

from __future__ import annotations

import threading

from bot.core.records import GitIdentity
from bot.git.clone import Clone, branch_tips


class Authorship:
    """Every identity that touched a file, cached until a branch moves."""

    def __init__(self, clone: Clone) -> None:
        self.clone = clone
        self._tips: frozenset[str] = frozenset()
        self._cache: dict[str, tuple[GitIdentity, ...]] = {}
        self._lock = threading.Lock()

    def touchers(self, path: str) -> tuple[GitIdentity, ...]:
        """Each distinct author and committer of a commit that changed `path` (following
        renames) on any branch, the earliest first."""
        with self.clone.open() as repo:
            tips = frozenset(branch_tips(repo).values())
            with self._lock:
                if tips != self._tips:
                    self._tips, self._cache = tips, {}
                if path in self._cache:
                    return self._cache[path]
            out = str(
                repo.git.log("--all", "--follow", "--format=%an%x00%ae%x00%cn%x00%ce", "--", path)
            )
        found: dict[GitIdentity, None] = {}
        for line in reversed(out.splitlines()):
            author_name, author_email, committer_name, committer_email = line.split("\x00")
            found[GitIdentity(author_name, author_email)] = None
            found[GitIdentity(committer_name, committer_email)] = None
        identities = tuple(found)
        with self._lock:
            if tips == self._tips:
                self._cache[path] = identities
        return identities
