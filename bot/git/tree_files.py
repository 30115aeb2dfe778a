"""Files as git records them in a commit's tree, read without a checkout.

A symbolic link in the repository is a blob holding the path it points to; reading a
checkout would follow it anywhere on the machine. Here a link is only ever a link: the
walk stops at one, wherever it stands on the way to the file.
"""

from __future__ import annotations

from git import Blob, Repo, Tree

LINK_MODE = 0o120000
FILE_MODES = frozenset({0o100644, 0o100755})


def entry_at(repo: Repo, commit: str, path: str) -> Blob | Tree | None:
    """The tree entry at `path`, walked one name at a time: None when absent, and the link
    itself where a symbolic link stands on the way."""
    node: Blob | Tree = repo.commit(commit).tree
    for name in path.strip("/").split("/"):
        if not isinstance(node, Tree):
            return node if node.mode == LINK_MODE else None
        try:
            child = node[name]
        except KeyError:
            return None
        if not isinstance(child, Blob | Tree):
            return None
        node = child
    return node


def file_at(repo: Repo, commit: str, path: str) -> Blob | None:
    """The regular file at `path`; None for anything else (absent, a link, a folder)."""
    node = entry_at(repo, commit, path)
    return node if isinstance(node, Blob) and node.mode in FILE_MODES else None


def is_link(node: Blob | Tree | None) -> bool:
    return isinstance(node, Blob) and node.mode == LINK_MODE


def text_of(blob: Blob) -> str:
    return bytes(blob.data_stream.read()).decode("utf-8", errors="replace")
