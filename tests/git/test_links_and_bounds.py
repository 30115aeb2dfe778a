"""Symbolic links and oversized files in the repository: reported, never followed or written.

A link in the repository is git's record of a path; a checkout would follow it anywhere
on the machine. Whoever pushes a branch could point `alembic.ini` at a secrets file, or
the document at a file the bot can write.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from git import Repo

from bot.config import GitAuthor
from bot.core.doc_limits import DOC_SIZE_LIMIT
from bot.core.layout import AlembicLayout
from bot.core.revision_file import REVISION_FILE_LIMIT
from bot.core.text import plain
from bot.demo.project import DEMO_PENDING
from bot.git.checkouts import CheckoutError, export_tree
from bot.git.clone import Clone
from bot.git.doc_push import DocPusher, DocPushError
from bot.git.repository import RepositoryView
from bot.redact import Redactor
from tests.support.gitrepos import DANA, Developer, make_origin

SECRET = "TOP-SECRET-LINE=hunter2"
DOC = "SCHEMA_CHANGES.md"
AUTHOR = GitAuthor("schemabot", "schemabot@localhost")


@pytest.fixture
def dev(tmp_path: Path) -> Developer:
    return make_origin(tmp_path)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside every repository and work dir, as a secrets file would be."""
    secret = tmp_path / "secrets" / "db.env"
    secret.parent.mkdir()
    secret.write_text(SECRET + "\n")
    return secret


def link(dev: Developer, path: str, target: Path | str, message: str = "Link it") -> None:
    """Replace `path` in Dana's clone by a symbolic link to `target`, commit and push."""
    place = dev.root / path
    if place.is_dir() and not place.is_symlink():
        dev.repo.git.rm("-r", "-q", path)
    elif place.exists() or place.is_symlink():
        place.unlink()
    place.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, place)
    dev.repo.git.add("--all", path)
    dev.repo.index.commit(message, author=DANA, committer=DANA)
    dev.push()


def view_of(tmp_path: Path, dev: Developer, doc: str = DOC) -> RepositoryView:
    clone = Clone(str(dev.origin), tmp_path / "bot" / "clone", Redactor())
    with clone.open() as repo:
        tips = clone.fetch(repo)
        clone.checkout(repo, tips["main"])
    return RepositoryView(clone, doc, AlembicLayout())


def test_a_linked_alembic_ini_and_env_py_on_a_branch_are_named_and_not_read(
    tmp_path: Path, dev: Developer, outside: Path
) -> None:
    dev.switch("feat/links", create=True)
    dev.add_migration(DEMO_PENDING)
    link(dev, "alembic.ini", outside)
    link(dev, "migrations/env.py", outside)
    view = view_of(tmp_path, dev)

    assert view.read("feat/links", "alembic.ini") is None
    assert view.read("main", "alembic.ini") is not None
    problems = [plain(problem) for problem in view.links("feat/links", DEMO_PENDING.path)]
    assert problems == [
        "`alembic.ini` on `feat/links` is a symbolic link: schemabot does not follow links"
        " in the repository, so it reads no file there.",
        "`migrations/env.py` on `feat/links` is a symbolic link: schemabot does not follow"
        " links in the repository, so it reads no file there.",
    ]
    assert view.links("main", DEMO_PENDING.path) == ()
    assert not any(SECRET in problem for problem in problems)


def test_a_linked_revision_file_or_folder_on_the_way_is_a_link_too(
    tmp_path: Path, dev: Developer, outside: Path
) -> None:
    dev.switch("feat/folder", create=True)
    link(dev, "migrations", outside.parent)
    view = view_of(tmp_path, dev)

    assert view.read("feat/folder", "migrations/env.py") is None
    linked = [plain(p) for p in view.links("feat/folder", "migrations/versions/x.py")]
    assert len(linked) == 3
    assert all("is a symbolic link" in problem for problem in linked)


def test_a_linked_document_is_not_read_and_the_card_is_told_why(
    tmp_path: Path, dev: Developer, outside: Path
) -> None:
    link(dev, DOC, outside)
    view = view_of(tmp_path, dev)

    document = view.document("main")
    assert document.doc is None and document.problem is not None
    assert "is a symbolic link" in plain(document.problem)


def test_a_document_past_the_bound_is_not_read(tmp_path: Path, dev: Developer) -> None:
    dev.write(DOC, "x" * (DOC_SIZE_LIMIT + 1), message="A very long document")
    dev.push()
    view = view_of(tmp_path, dev)

    document = view.document("main")

    assert document.doc is None and document.problem is not None
    assert plain(document.problem) == (
        "`SCHEMA_CHANGES.md` on `main` is 2.0 MiB, more than the 2 MiB schemabot reads,"
        " so it was not read: move older entries to another file."
    )


def test_a_revision_file_past_the_bound_is_not_read(tmp_path: Path, dev: Developer) -> None:
    path = "migrations/versions/0fat_huge.py"
    dev.write(path, 'revision = "0fat"\n' + "x = 1\n" * (REVISION_FILE_LIMIT // 6 + 1))
    dev.push()

    assert view_of(tmp_path, dev).read("main", path) is None


def test_a_tree_past_the_preview_bound_is_refused_before_anything_is_copied(
    tmp_path: Path, dev: Developer
) -> None:
    dev.write("data/blob.bin", "x" * 4096)
    dev.push()
    clone = view_of(tmp_path, dev).clone
    with clone.open() as repo:
        tip = repo.commit("origin/main").hexsha
    files = [line.split()[3] for line in dev.repo.git.ls_tree("-r", "-l", "HEAD").splitlines()]
    total = sum(int(size) for size in files)

    with pytest.raises(CheckoutError, match="too much to copy"):
        export_tree(clone, tip, tmp_path / "small", limit=total - 1)
    assert not (tmp_path / "small").exists() or not any((tmp_path / "small").iterdir())
    assert export_tree(clone, tip, tmp_path / "roomy", limit=total) > 0
    assert (tmp_path / "roomy" / "data" / "blob.bin").stat().st_size == 4096


def test_the_status_commit_refuses_to_write_through_a_linked_document(
    tmp_path: Path, dev: Developer, outside: Path
) -> None:
    link(dev, DOC, outside)
    view = view_of(tmp_path, dev)
    pusher = DocPusher(view.clone, DOC, AUTHOR, tmp_path / "bot" / "runs" / "1-doc")
    with Repo(dev.origin) as origin:
        before = origin.commit("main").hexsha

    with pytest.raises(DocPushError) as refused:
        pusher.push_edit("main", lambda text: text + "Applied\n", "Mark applied")

    assert "is a symbolic link" in str(refused.value)
    assert outside.read_text() == SECRET + "\n"
    with Repo(dev.origin) as origin:
        assert origin.commit("main").hexsha == before


def test_the_status_commit_refuses_a_document_behind_a_linked_folder(
    tmp_path: Path, dev: Developer, outside: Path
) -> None:
    (outside.parent / DOC).write_text((dev.root / DOC).read_text())
    link(dev, "docs", outside.parent)
    view = view_of(tmp_path, dev, doc=f"docs/{DOC}")
    pusher = DocPusher(view.clone, f"docs/{DOC}", AUTHOR, tmp_path / "bot" / "runs" / "2-doc")
    written = (outside.parent / DOC).read_text()

    with pytest.raises(DocPushError):
        pusher.push_edit("main", lambda text: text + "Applied\n", "Mark applied")

    assert (outside.parent / DOC).read_text() == written


def test_the_status_commit_still_lands_on_a_regular_document(
    tmp_path: Path, dev: Developer
) -> None:
    view = view_of(tmp_path, dev)
    pusher = DocPusher(view.clone, DOC, AUTHOR, tmp_path / "bot" / "runs" / "3-doc")

    commit = pusher.push_edit("main", lambda text: text + "\n", "Touch the document")

    with Repo(dev.origin) as origin:
        assert commit == origin.commit("main").hexsha
