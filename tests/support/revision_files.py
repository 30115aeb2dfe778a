"""Revision files as Alembic writes them, and the check that our graph agrees with Alembic's."""

from pathlib import Path, PurePosixPath

from alembic.script import ScriptDirectory
from alembic.util import to_tuple

from bot.core.revisions import RevisionGraph
from bot.git.script_location import ScriptLocation

CORPORA = ["neutron", "ctfd", "redash"]
FIELDS = {"revision", "down_revision", "branch_labels", "depends_on"}


def revision_source(
    rev: str,
    down: str | tuple[str, ...] | None = None,
    *,
    labels: str | tuple[str, ...] | None = None,
    depends: str | tuple[str, ...] | None = None,
    doc: str | None = None,
) -> str:
    """A revision file as `alembic revision` writes it."""
    if doc is None:
        doc = f"{rev} message\n\nRevision ID: {rev}\nCreate Date: 2024-05-01 10:00:00\n\n"
    return (
        f'"""{doc}"""\n'
        "from alembic import op\n\n"
        f"revision = {rev!r}\n"
        f"down_revision = {down!r}\n"
        f"branch_labels = {labels!r}\n"
        f"depends_on = {depends!r}\n\n\n"
        "def upgrade():\n    pass\n\n\n"
        "def downgrade():\n    pass\n"
    )


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def versions_at(*dirs: str, recursive: bool = False) -> ScriptLocation:
    return ScriptLocation(PurePosixPath("."), tuple(PurePosixPath(d) for d in dirs), recursive)


def alembic(root: Path, *dirs: str, **options: bool) -> ScriptDirectory:
    return ScriptDirectory(root, version_locations=[str(root / d) for d in dirs], **options)


def assert_same_as_alembic(ours: RevisionGraph, script: ScriptDirectory, root: Path) -> None:
    """Heads, bases and each revision's links, message, children and ancestors agree."""
    assert ours.heads == tuple(sorted(script.get_heads()))
    assert ours.bases == tuple(sorted(script.get_bases()))
    theirs = {s.revision: s for s in script.walk_revisions()}
    assert set(ours.revisions) == set(theirs)
    for rev, s in theirs.items():
        mine = ours.revisions[rev]
        assert mine.down_revisions == s._versioned_down_revisions
        assert mine.depends_on == to_tuple(s.dependencies, ())
        assert mine.message == s.doc
        assert mine.path == Path(s.path).relative_to(root.resolve()).as_posix()
        assert ours.children(rev) == tuple(sorted(s.nextrev))
        ancestors = script.revision_map._get_ancestor_nodes([s], include_dependencies=True)
        assert ours.ancestors(rev) == {a.revision for a in ancestors} - {rev}
