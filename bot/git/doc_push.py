"""The bot's commits to SCHEMA_CHANGES.md on the main branch, pushed without force.

Each attempt starts from the remote's current tip: if a teammate pushed meanwhile, the
edit is redone on their commit and pushed again, a bounded number of times. A teammate's
change is never overwritten, and an edit that is already there makes no commit at all.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from git import Actor, PushInfo, Repo
from git.exc import GitCommandError

from bot.config import GitAuthor
from bot.errors import SchemabotError
from bot.git.clone import Clone

PUSH_ATTEMPTS = 5
PUSH_FAILED = (
    PushInfo.REJECTED | PushInfo.REMOTE_REJECTED | PushInfo.REMOTE_FAILURE | PushInfo.ERROR
)


class DocPushError(SchemabotError):
    """The document commit could not be pushed; the database change stands."""


@contextmanager
def worktree(clone: Clone, commit: str, path: Path) -> Iterator[Path]:
    """A detached checkout of `commit` at `path`, beside the bot's clone, removed after."""
    with clone.open() as repo:
        if path.exists():
            shutil.rmtree(path)
            repo.git.worktree("prune")
        path.parent.mkdir(parents=True, exist_ok=True)
        repo.git.worktree("add", "--detach", "--force", str(path), commit)
    try:
        yield path
    finally:
        with clone.open() as repo:
            repo.git.worktree("remove", "--force", str(path))


class DocPusher:
    def __init__(self, clone: Clone, doc_path: str, author: GitAuthor, work: Path) -> None:
        self.clone = clone
        self.doc_path = doc_path
        self.author = Actor(author.name, author.email)
        self.work = work

    def push_edit(self, branch: str, edit: Callable[[str], str], message: str) -> str | None:
        """Commit `edit(doc)` on `branch` and push it; the new commit, or None if unchanged."""
        last_reason = ""
        for _ in range(PUSH_ATTEMPTS):
            with self.clone.open() as repo:
                tip = self.clone.fetch(repo).get(branch)
            if tip is None:
                raise DocPushError(f"the remote has no branch {branch!r}")
            with worktree(self.clone, tip, self.work) as checkout:
                outcome = self._attempt(checkout, branch, edit, message)
            if outcome is None or outcome.startswith("commit:"):
                return None if outcome is None else outcome.removeprefix("commit:")
            last_reason = outcome
        raise DocPushError(
            f"could not push the {self.doc_path} update after {PUSH_ATTEMPTS} tries: {last_reason}"
        )

    def _attempt(
        self, checkout: Path, branch: str, edit: Callable[[str], str], message: str
    ) -> str | None:
        """None: nothing to change; "commit:<sha>": pushed; anything else: why it bounced."""
        target = checkout / self.doc_path
        if not target.is_file():
            raise DocPushError(f"{self.doc_path} is not on {branch}")
        before = target.read_bytes().decode("utf-8")
        after = edit(before)
        if after == before:
            return None
        target.write_bytes(after.encode("utf-8"))
        with Repo(checkout) as repo:
            repo.index.add([self.doc_path])
            commit = repo.index.commit(message, author=self.author, committer=self.author)
            try:
                results = repo.remote("origin").push(f"HEAD:refs/heads/{branch}")
            except GitCommandError as exc:
                return f"push failed: {self.clone.redact(str(exc.stderr or exc)).strip()}"
            failed = [info for info in results if info.flags & PUSH_FAILED]
            if failed or not results:
                summary = failed[0].summary.strip() if failed else "no answer from the remote"
                return f"the remote refused the push ({summary})"
        return f"commit:{commit.hexsha}"
