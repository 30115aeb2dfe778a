"""Which revision files a commit holds, and which ones each push adds, changes or removes.

Each cycle looks only at the commits since the tip it saw last on each branch, so an idle
cycle costs a comparison of branch tips, whatever the size of the history. Git objects stop
here: the rest of the bot gets plain dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike

from git import Blob, Commit, Repo
from gitdb.exc import BadName

from bot.core.revision_file import (
    REVISION_FILE_LIMIT,
    Revision,
    RevisionFileError,
    decode_revision,
    parse_revision_source,
    too_large_to_parse,
)
from bot.core.revisions import GraphProblem
from bot.git.script_location import ScriptLocation
from bot.git.tree_files import LINK_MODE


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
    problems: tuple[GraphProblem, ...]


def revision_files_at(
    repo: Repo, commit: str, branch: str, location: ScriptLocation
) -> tuple[list[RevisionFile], list[GraphProblem]]:
    """Every revision file in `commit`'s tree (for the first scan), with parse problems."""
    files: list[RevisionFile] = []
    problems: list[GraphProblem] = []
    tree = repo.commit(commit).tree
    for version_dir in location.version_dirs:
        try:
            folder = tree / str(version_dir)
        except KeyError:
            continue
        for item in folder.traverse():
            if isinstance(item, Blob) and location.is_revision_path(str(item.path)):
                if item.mode == LINK_MODE:
                    problems.append(_linked(str(item.path)))
                    continue
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
    problems: list[GraphProblem] = []
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
            if item.b_mode == LINK_MODE:
                problems.append(_linked(after_path))
            else:
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
    """`file` with the commit that last changed it and the author of the one that added it."""
    return _with_adding_commit(repo, file, since, file.commit)


def _with_adding_commit(repo: Repo, file: RevisionFile, base: str | None, tip: str) -> RevisionFile:
    commit_range = f"{base}..{tip}" if base else tip
    last = str(repo.git.log("--format=%H", "-1", commit_range, "--", file.path)).strip()
    if not last:
        return file
    # The author is whoever added the file, following renames (a renumbered file keeps its
    # author), not whoever touched it last: a formatter bot or a rebase is not the author.
    added = str(
        repo.git.log("--follow", "--diff-filter=A", "--format=%an%x00%ae", tip, "--", file.path)
    ).splitlines()
    name, email = added[-1].split("\x00") if added else ("", "")
    return RevisionFile(file.revision, file.branch, last, file.path, file.blob_sha, name, email)


def _linked(path: str) -> GraphProblem:
    return GraphProblem(
        "unparseable", path, None, "a symbolic link; schemabot reads no linked revision files"
    )


def _has_commit(repo: Repo, sha: str) -> bool:
    try:
        repo.commit(sha)
    except (ValueError, BadName):
        return False
    return True


def _parse_blob(
    blob: Blob, branch: str, commit: str, problems: list[GraphProblem]
) -> RevisionFile | None:
    path = str(blob.path)
    if blob.size > REVISION_FILE_LIMIT:
        problems.append(GraphProblem("unparseable", path, None, too_large_to_parse(blob.size)))
        return None
    try:
        revision = parse_revision_source(decode_revision(blob.data_stream.read(), path), path)
    except RevisionFileError as exc:
        problems.append(GraphProblem("unparseable", path, None, exc.detail))
        return None
    return RevisionFile(revision, branch, commit, path, blob.hexsha, "", "")
