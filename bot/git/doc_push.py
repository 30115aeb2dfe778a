"""The bot's commits to SCHEMA_CHANGES.md on the main branch, pushed without force.

Each attempt starts from the remote's current tip: if a teammate pushed meanwhile, the
edit is redone on their commit and pushed again, a bounded number of times. A teammate's
change is never overwritten, and an edit that is already there makes no commit at all.

The document is read from the tip's tree, and only a regular file is written: where the
tree has a symbolic link (at the document, or on the way to it) the commit is refused,
so a link cannot make the bot write outside its checkout. A document past
DOC_SIZE_LIMIT is refused too.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from git import Actor, PushInfo, Repo
from git.exc import GitCommandError

from bot.config import GitAuthor
from bot.core.doc_limits import DOC_SIZE_LIMIT, too_large
from bot.core.text import Code, Text
from bot.errors import SchemabotError
from bot.git.clone import Clone
from bot.git.environment import confine
from bot.git.tree_files import entry_at, file_at, is_link

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
                outcome = self._attempt(checkout, tip, branch, edit, message)
            if outcome is None or outcome.startswith("commit:"):
                return None if outcome is None else outcome.removeprefix("commit:")
            last_reason = outcome
        raise DocPushError(
            f"could not push the {self.doc_path} update after {PUSH_ATTEMPTS} tries: {last_reason}"
        )

    def _attempt(
        self, checkout: Path, tip: str, branch: str, edit: Callable[[str], str], message: str
    ) -> str | None:
        """None: nothing to change; "commit:<sha>": pushed; anything else: why it bounced."""
        before = self._document(tip, branch)
        after = edit(before)
        if after == before:
            return None
        target = _regular_file(checkout, self.doc_path)
        if target is None:
            raise DocPushError(self._linked(branch))
        target.write_bytes(after.encode("utf-8"))
        with Repo(checkout) as repo:
            confine(repo)
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

    def _document(self, tip: str, branch: str) -> str:
        """The document's text at `tip`, from git's objects."""
        with self.clone.open() as repo:
            node = entry_at(repo, tip, self.doc_path)
            if node is None:
                raise DocPushError(Text(Code(self.doc_path), " is not on ", Code(branch)))
            blob = file_at(repo, tip, self.doc_path)
            if blob is None:
                raise DocPushError(
                    self._linked(branch)
                    if is_link(node)
                    else Text(Code(self.doc_path), " on ", Code(branch), " is not a file")
                )
            if blob.size > DOC_SIZE_LIMIT:
                raise DocPushError(too_large(self.doc_path, branch, blob.size))
            try:
                # Strictly: a byte replaced here would be written back changed.
                return bytes(blob.data_stream.read()).decode("utf-8")
            except UnicodeDecodeError:
                raise DocPushError(
                    Text(Code(self.doc_path), " on ", Code(branch), " is not UTF-8 text")
                ) from None

    def _linked(self, branch: str) -> Text:
        return Text(
            Code(self.doc_path),
            " on ",
            Code(branch),
            " is a symbolic link (or lies behind one): schemabot does not write through links",
        )


def _regular_file(root: Path, path: str) -> Path | None:
    """`root / path` when it is a regular file reached through no link, inside `root`."""
    target = root
    for name in path.strip("/").split("/"):
        target = target / name
        if target.is_symlink():
            return None
    inside = target.resolve().is_relative_to(root.resolve())
    return target if inside and target.is_file() else None
