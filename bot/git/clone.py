"""The bot's own clone of the team's repository: cloned once, fetched every cycle."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from git import Repo
from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError

from bot.errors import SchemabotError
from bot.git.environment import blanked, confine
from bot.redact import Redactor

log = logging.getLogger(__name__)


class WatchError(SchemabotError):
    """The repository could not be cloned or fetched, or its main branch is missing."""


class Clone:
    """The bot's own clone of the team's repository, shared by the watcher and apply.

    GitPython is not thread-safe and keeps `git cat-file` helpers per `Repo`, so each user
    opens its own short-lived `Repo` under this lock and closes it when done.
    """

    def __init__(self, url: str, path: Path, redact: Redactor) -> None:
        self.url = url
        self.path = path
        self.redact = redact
        self.lock = threading.RLock()

    @contextmanager
    def open(self) -> Iterator[Repo]:
        with self.lock:
            self._ensure_cloned()
            with Repo(self.path) as repo:
                # File names come from the repository: never let git read one as a pathspec
                # with magic (`:(glob)`, `:(exclude)`) when it is passed after `--`.
                repo.git.update_environment(GIT_LITERAL_PATHSPECS="1")
                confine(repo)
                yield repo

    def _ensure_cloned(self) -> None:
        try:
            Repo(self.path).close()
            return
        except (InvalidGitRepositoryError, NoSuchPathError):
            pass
        if self.path.exists() and any(self.path.iterdir()):
            raise WatchError(f"{self.path} exists but is not a git clone; move it away")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            Repo.clone_from(self.url, self.path, env=blanked(), no_checkout=True).close()
        except GitCommandError as exc:
            raise WatchError(
                f"cannot clone {self.redact(self.url)}: {self.redact(_git_reason(exc))}"
            ) from None

    def fetch(self, repo: Repo) -> dict[str, str]:
        """Fetch every branch (pruning deleted ones); returns branch name -> tip commit."""
        try:
            repo.remotes.origin.fetch(prune=True)
        except GitCommandError as exc:
            raise WatchError(
                f"cannot fetch {self.redact(self.url)}: {self.redact(_git_reason(exc))}"
            ) from None
        return branch_tips(repo)

    def default_branch(self, repo: Repo, tips: dict[str, str]) -> str:
        """The remote's default branch, from `origin/HEAD` (else main, else master)."""
        try:
            target = repo.git.symbolic_ref("refs/remotes/origin/HEAD")
            name = str(target).removeprefix("refs/remotes/origin/")
            if name in tips:
                return name
        except GitCommandError:
            pass
        for name in ("main", "master"):
            if name in tips:
                return name
        raise WatchError("cannot tell the remote's default branch; set SCHEMABOT_BRANCH")

    def dry_run_push(self, repo: Repo, commit: str, branch: str) -> str | None:
        """Why the remote would refuse a push of `commit` to `branch`, or None if it takes it."""
        try:
            repo.git.push("--dry-run", "origin", f"{commit}:refs/heads/{branch}")
        except GitCommandError as exc:
            return self.redact(_git_reason(exc))
        return None

    def checkout(self, repo: Repo, commit: str) -> None:
        """Put the work tree at `commit` (detached), so alembic.ini and the doc can be read."""
        if repo.head.is_detached and repo.head.commit.hexsha == commit:
            return
        repo.git.checkout("--detach", "--force", commit)


def _git_reason(exc: GitCommandError) -> str:
    stderr = str(exc.stderr or "").strip().splitlines()
    return stderr[-1].removeprefix("stderr: ").strip(" '") if stderr else str(exc)


def branch_tips(repo: Repo) -> dict[str, str]:
    """Branch name -> tip commit of every remote branch, from one `git for-each-ref`
    (GitPython's walk of the refs grows with their square: seconds at a few thousand)."""
    listed = repo.git.for_each_ref(
        "--format=%(refname:lstrip=3) %(objectname)", "refs/remotes/origin"
    )
    tips = dict(line.split(" ", 1) for line in str(listed).splitlines() if line)
    tips.pop("HEAD", None)
    return tips
