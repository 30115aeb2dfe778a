"""Folders Alembic reads, written from git objects: never a worktree of the bot's clone.

A preview gets a throwaway copy of a commit's tree (regular files only: symlinks, which
could point anywhere, are left out); an apply gets exactly the blobs reviewers approved.
Paths come from the repository, so each is checked to stay inside the folder, and files
are created fresh (never opened through a link).
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from bot.errors import SchemabotError
from bot.git.clone import Clone

PREVIEW_TREE_LIMIT = 256 * 1024 * 1024


class CheckoutError(SchemabotError):
    """A folder for Alembic could not be written as asked."""


def export_tree(
    clone: Clone,
    commit: str,
    dest: Path,
    limit: int = PREVIEW_TREE_LIMIT,
) -> int:
    """Write `commit`'s regular files under `dest`; returns how many. Refuses trees over
    `limit` bytes (a preview of a huge repository is not worth its disk), before a byte of
    them is copied: the tree's listing gives every file's size."""
    too_large = CheckoutError(
        f"the repository holds more than {limit // 1024**2} MiB of files, "
        "too much to copy for a preview"
    )
    written = 0
    with tempfile.TemporaryFile() as archive:
        with clone.open() as repo:
            if _files_size(str(repo.git.ls_tree("-r", "-l", "-z", commit))) > limit:
                raise too_large
            repo.archive(archive, treeish=commit, format="tar")
        archive.seek(0)
        with tarfile.open(fileobj=archive, mode="r:") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                source = tar.extractfile(member)
                if source is None:
                    continue
                _write(dest, member.name, source.read(), executable=bool(member.mode & 0o111))
                written += 1
    return written


def _files_size(listing: str) -> int:
    """The bytes of the regular files of a `git ls-tree -r -l -z` listing (links and
    submodules are never copied)."""
    total = 0
    for entry in filter(None, listing.split("\0")):
        mode, kind, _, size = entry.partition("\t")[0].split()
        if kind == "blob" and mode != "120000":
            total += int(size)
    return total


def write_blobs(
    clone: Clone, files: Mapping[str, str], dest: Path, extra: Mapping[str, bytes] | None = None
) -> None:
    """Write each blob of `files` (repository path -> blob sha) and each `extra` file."""
    with clone.open() as repo:
        for path, sha in files.items():
            data = bytes(repo.odb.stream(bytes.fromhex(sha)).read())
            _write(dest, path, data)
    for path, data in (extra or {}).items():
        _write(dest, path, data)


def _write(dest: Path, path: str, data: bytes, executable: bool = False) -> None:
    relative = PurePosixPath(path)
    if relative.is_absolute() or not relative.parts or ".." in relative.parts:
        raise CheckoutError(f"{path!r} is not a path inside the repository")
    target = dest.joinpath(*relative.parts)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    try:
        target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        descriptor = os.open(target, flags, 0o755 if executable else 0o644)
    except OSError as exc:
        # Two paths for one file (a stand-in's name taken by a repository file, a file where
        # a folder must be): refuse rather than write over anything.
        raise CheckoutError(f"{path!r} cannot be written ({exc.strerror})") from None
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
