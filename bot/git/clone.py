"""Watches the team's repository with GitPython: which revision files each push adds,
changes or removes, on every branch.

Each cycle fetches, then looks only at the commits since the tip it saw last on each
branch, so an idle cycle costs a fetch and a comparison of branch tips, whatever the size
of the history. Git objects stop here: the rest of the bot gets plain dataclasses.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.util import decode_source
from os import PathLike
from pathlib import Path

from git import Blob, Commit, Repo
from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError
from gitdb.exc import BadName

from bot.core.revision_file import Revision, RevisionFileError, parse_revision_source
from bot.errors import SchemabotError
from bot.git.script_location import ScriptLocation
from bot.redact import Redactor

log = logging.getLogger(__name__)


class WatchError(SchemabotError):
    """The repository could not be cloned or fetched, or its main branch is missing."""


@dataclass(frozen=True)
class RevisionFile:
    """One revision file as it stands in one commit."""

    revision: Revision
    branch: str
    commit: str
    path: str
    blob_sha: str
    author_name: str
    author_email: str


@dataclass(frozen=True)
class FileChange:
    """A revision file added (`after` only), changed (both) or removed (`before` only)."""

    before: RevisionFile | None
    after: RevisionFile | None


@dataclass(frozen=True)
class BranchDelta:
    changes: tuple[FileChange, ...]
    problems: tuple[str, ...]


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
            Repo.clone_from(self.url, self.path, no_checkout=True).close()
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
        return {
            ref.remote_head: ref.commit.hexsha
            for ref in repo.remotes.origin.refs
            if ref.remote_head != "HEAD"
        }

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

    def checkout(self, repo: Repo, commit: str) -> None:
        """Put the work tree at `commit` (detached), so alembic.ini and the doc can be read."""
        if repo.head.is_detached and repo.head.commit.hexsha == commit:
            return
        repo.git.checkout("--detach", "--force", commit)


def _git_reason(exc: GitCommandError) -> str:
    stderr = str(exc.stderr or "").strip().splitlines()
    return stderr[-1].removeprefix("stderr: ").strip(" '") if stderr else str(exc)


def revision_files_at(
    repo: Repo, commit: str, branch: str, location: ScriptLocation
) -> tuple[list[RevisionFile], list[str]]:
    """Every revision file in `commit`'s tree (for the first scan), with parse problems."""
    files: list[RevisionFile] = []
    problems: list[str] = []
    tree = repo.commit(commit).tree
    for version_dir in location.version_dirs:
        try:
            folder = tree / str(version_dir)
        except KeyError:
            continue
        for item in folder.traverse():
            if isinstance(item, Blob) and location.is_revision_path(str(item.path)):
                parsed = _parse_blob(item, branch, commit, problems)
                if parsed is not None:
                    files.append(parsed)
    return files, problems


def branch_delta(
    repo: Repo,
    branch: str,
    old_tip: str | None,
    new_tip: str,
    base_for_new_branch: str | None,
    location: ScriptLocation,
) -> BranchDelta:
    """What changed among revision files between `old_tip` (or the merge base) and `new_tip`.

    Compares trees rather than walking commits, so a force-push is handled like any move.
    """
    base = old_tip if old_tip and _has_commit(repo, old_tip) else base_for_new_branch
    tip_commit = repo.commit(new_tip)
    problems: list[str] = []
    changes: list[FileChange] = []
    if base is None:
        files, problems = revision_files_at(repo, new_tip, branch, location)
        changes = [FileChange(None, file) for file in files]
        return BranchDelta(tuple(changes), tuple(problems))
    paths: list[str | PathLike[str]] = [str(folder) for folder in location.version_dirs]
    for item in repo.commit(base).diff(tip_commit, paths=paths):
        before_path = item.a_path if item.change_type != "A" else None
        after_path = item.b_path if item.change_type != "D" else None
        before = after = None
        if before_path and item.a_blob is not None and location.is_revision_path(before_path):
            before = _parse_blob(item.a_blob, branch, base, [])
        if after_path and item.b_blob is not None and location.is_revision_path(after_path):
            after = _parse_blob(item.b_blob, branch, new_tip, problems)
            if after is not None:
                after = _with_adding_commit(repo, after, base, new_tip)
        if before is not None or after is not None:
            changes.append(FileChange(before, after))
    return BranchDelta(tuple(changes), tuple(problems))


def merge_base(repo: Repo, one: str, other: str) -> str | None:
    bases: list[Commit] = repo.merge_base(one, other)
    return bases[0].hexsha if bases else None


def adding_commit(repo: Repo, file: RevisionFile, since: str | None) -> RevisionFile:
    """`file` with the commit (and its author) that last added or changed it."""
    return _with_adding_commit(repo, file, since, file.commit)


def _with_adding_commit(repo: Repo, file: RevisionFile, base: str | None, tip: str) -> RevisionFile:
    commit_range = f"{base}..{tip}" if base else tip
    out = repo.git.log(
        "--diff-filter=AM", "--format=%H%x00%an%x00%ae", "-1", commit_range, "--", file.path
    )
    if not out:
        return file
    sha, name, email = str(out).splitlines()[0].split("\x00")
    return RevisionFile(file.revision, file.branch, sha, file.path, file.blob_sha, name, email)


def _has_commit(repo: Repo, sha: str) -> bool:
    try:
        repo.commit(sha)
    except (ValueError, BadName):
        return False
    return True


def _parse_blob(blob: Blob, branch: str, commit: str, problems: list[str]) -> RevisionFile | None:
    source = decode_source(blob.data_stream.read())
    path = str(blob.path)
    try:
        revision = parse_revision_source(source, path)
    except RevisionFileError as exc:
        problems.append(f"{branch}: {exc}")
        return None
    return RevisionFile(revision, branch, commit, path, blob.hexsha, "", "")
