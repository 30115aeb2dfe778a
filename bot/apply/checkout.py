"""The checkout an apply or rollback runs: exactly the approved bytes, written from git.

What is in it: the migration environment of the approved bundle (`alembic.ini`, `env.py`,
the template, the application files `env.py` imports) at the blobs reviewers approved, the
revision's approved file, and inert stand-ins for the other revisions Alembic must know (see
bot/core/stubs.py). Nothing else of the repository is there to be imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from bot.core.bundle import Bundle
from bot.core.gates import applied_closure
from bot.core.revisions import RevisionGraph
from bot.core.stubs import FOLDER, file_name, revision_files
from bot.errors import SchemabotError
from bot.git.checkouts import write_blobs
from bot.git.clone import Clone
from bot.migrations.runner import Checkout, git_blob_sha


class ProductionMoved(SchemabotError):
    """Production no longer has what the revision builds on: the gates no longer hold."""


def approved_checkout(
    clone: Clone,
    bundle: Bundle,
    graph: RevisionGraph,
    production: frozenset[str],
    target: str,
    ini: str,
    dest: Path,
) -> Checkout:
    """Write the checkout that runs `target` from `bundle` under `dest`.

    `graph` is the static graph at the commit the gates were checked on; `production` the
    revisions production has now. Its ancestors must all be there: stand-ins run nothing,
    so a missing one would be recorded as applied without having run.
    """
    if target not in graph.revisions:
        raise SchemabotError(f"`{target}` is not in the revision graph it was approved in")
    have = applied_closure(graph, production)
    missing = sorted(graph.ancestors(target) - have)
    if missing:
        raise ProductionMoved(
            "production no longer has what it builds on ("
            + ", ".join(f"`{rev}`" for rev in missing[:5])
            + "): check `alembic current` and run `/schema apply` again"
        )
    known = have | graph.ancestors(target)
    files = revision_files(target, (graph.revisions[rev] for rev in sorted(known)))
    folder = PurePosixPath(ini).parent / FOLDER
    blobs = dict(bundle.environment)
    blobs[str(folder / files.target)] = bundle.revision_blob
    stubs = {str(folder / name): text.encode() for name, text in files.stubs.items()}
    write_blobs(clone, blobs, dest, stubs)
    expected = {**blobs, **{path: git_blob_sha(data) for path, data in stubs.items()}}
    return Checkout(dest, expected, version_locations=FOLDER)


def vouched_chain_checkout(
    clone: Clone,
    environment: Mapping[str, str],
    chain: Mapping[str, str],
    ini: str,
    dest: Path,
) -> Checkout:
    """Write a checkout that runs a whole chain of revisions from bytes schemabot can vouch
    for: `environment` (path -> blob) as approved, and each revision of `chain` (id -> blob)
    as applied or as production's history (see `vouched_blobs`)."""
    folder = PurePosixPath(ini).parent / FOLDER
    blobs = dict(environment)
    blobs.update({str(folder / file_name(rev)): blob for rev, blob in chain.items()})
    write_blobs(clone, blobs, dest)
    return Checkout(dest, blobs, version_locations=FOLDER)
