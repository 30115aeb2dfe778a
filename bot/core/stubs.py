"""The revision files of an apply's checkout: the approved one, and inert stand-ins.

Alembic needs every revision production has, and every ancestor of the target, to compute
where it is and where it goes; it runs only the code between the two. An apply's checkout
therefore holds the approved bytes of the revision it runs, and for each other revision a
stand-in with the same links and empty functions, written from the static graph: an
unapproved file is never there to be imported, and an old one never runs again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.core.revision_file import Revision
from bot.errors import SchemabotError

FOLDER = "schemabot_revisions"
"""The one version folder of an apply's checkout, beside `alembic.ini`."""


class StubError(SchemabotError):
    """A revision's links are set by code, so no faithful stand-in can be written."""


@dataclass(frozen=True)
class RevisionFiles:
    """File names (inside FOLDER) and the text of each stand-in."""

    target: str
    stubs: dict[str, str]


def file_name(revision_id: str) -> str:
    """A file name made by schemabot, never from the id itself."""
    return f"r{hashlib.sha256(revision_id.encode()).hexdigest()[:24]}.py"


def stub_source(revision: Revision) -> str:
    """An inert revision file with `revision`'s links: its functions do nothing."""
    if set(revision.unresolved) & {"down_revision", "branch_labels", "depends_on"}:
        raise StubError(
            f"`{revision.revision}` sets its links in code ({', '.join(revision.unresolved)})"
        )
    return (
        '"""A schemabot stand-in: it runs nothing."""\n'
        f"revision = {revision.revision!r}\n"
        f"down_revision = {_value(revision.down_revisions)}\n"
        f"branch_labels = {_value(revision.branch_labels)}\n"
        f"depends_on = {_value(revision.depends_on)}\n\n\n"
        "def upgrade():\n    pass\n\n\n"
        "def downgrade():\n    pass\n"
    )


def revision_files(target: str, others: Iterable[Revision]) -> RevisionFiles:
    """The target's file name and a stand-in for each other revision."""
    stubs = {file_name(r.revision): stub_source(r) for r in others if r.revision != target}
    return RevisionFiles(file_name(target), stubs)


def vouched_blobs(
    chain: Iterable[str], applied: Mapping[str, str], first_scan: Mapping[str, str]
) -> dict[str, str]:
    """For each revision of `chain`, the bytes schemabot can vouch for: those it applied
    (approved), else those of production's history as the first scan found it.
    Raises StubError naming the revisions it can vouch for neither way."""
    found = {rev: applied.get(rev) or first_scan.get(rev) for rev in chain}
    unknown = sorted(rev for rev, blob in found.items() if blob is None)
    if unknown:
        raise StubError(
            f"schemabot can vouch for no bytes of {', '.join(unknown[:5])}: neither applied by "
            "it nor production's history when it first looked"
        )
    return {rev: blob for rev, blob in found.items() if blob is not None}


def _value(items: tuple[str, ...]) -> str:
    if not items:
        return "None"
    return repr(items[0]) if len(items) == 1 else repr(tuple(items))
