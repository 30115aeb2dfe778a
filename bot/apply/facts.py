"""What the gates look at, gathered from git, the store and production for one request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.config import Settings
from bot.core.bundle import Bundle, version_key
from bot.core.checklist import required_items
from bot.core.gates import ApplyFacts, Gate, RollbackFacts
from bot.core.layout import AlembicLayout
from bot.core.revision_file import function_body
from bot.git.bundle import blob_text
from bot.git.clone import Clone
from bot.git.repository import RepositoryView
from bot.git.scan import MAIN_BRANCH, Scanner
from bot.git.signatures import unsigned_commits
from bot.migrations.versions import DatabaseUnavailable, current_versions
from bot.redact import Redactor
from bot.reviewing import Reviews
from storage.store import Store

APPLY_LOCK = "apply"


@dataclass(frozen=True)
class ApplyParts:
    settings: Settings
    store: Store
    reviews: Reviews
    repository: RepositoryView
    scanner: Scanner
    clone: Clone
    redact: Redactor
    clock: Callable[[], datetime]
    layout: AlembicLayout
    lock_gates: Callable[[str], tuple[Gate, ...]] = lambda revision: ()
    """The lock-safety gates of a revision, statistics read afresh (bot/lock_impact.py)."""


def main_branch(parts: ApplyParts) -> str:
    return parts.store.get_meta(MAIN_BRANCH) or parts.settings.branch or "main"


def apply_facts(parts: ApplyParts, revision: str, user: str) -> ApplyFacts:
    state = parts.reviews.state(revision)
    main = main_branch(parts)
    doc = parts.repository.doc(main)
    entry = doc.entry_for(revision, state.record.path) if doc is not None else None
    items = {item.key: item.text for item in (doc.checklist() if doc else ())}
    wanted = required_items(parts.settings.required_checklist)
    required = {key: text for key, text in items.items() if key in wanted}
    required |= {key: f"`{key}` (not in the checklist)" for key in sorted(wanted - set(items))}
    production, database_error = production_state(parts)
    return ApplyFacts(
        revision=revision,
        user=user,
        appliers=parts.settings.appliers,
        state=state,
        on_main=state.record.on_main,
        main_branch=main,
        has_entry=entry is not None,
        doc_path=parts.settings.doc,
        required_items=required,
        graph=parts.repository.graph(main),
        production=production,
        database_error=database_error,
        lock=parts.store.get_lock(APPLY_LOCK),
        lint_errors=lint_errors(parts, revision, version_key(state.record.blob_sha, state.bundle)),
        lint_gate=parts.settings.lint_gate,
        unsigned=unsigned(parts, state.bundle, state.record.path),
        lock_gates=parts.lock_gates(revision),
    )


def unsigned(parts: ApplyParts, bundle: Bundle | None, path: str) -> tuple[str, ...] | None:
    """With SCHEMABOT_REQUIRE_SIGNED_COMMITS, the file's commits that do not verify."""
    if not parts.settings.require_signed_commits:
        return None
    if bundle is None or bundle.commit is None:
        return ("(its file cannot be read)",)
    return unsigned_commits(parts.clone, bundle.commit, path, parts.settings.allowed_signers)


def rollback_facts(parts: ApplyParts, revision: str, user: str) -> RollbackFacts:
    production, database_error = production_state(parts)
    state = parts.reviews.state(revision)
    return RollbackFacts(
        revision=revision,
        user=user,
        appliers=parts.settings.appliers,
        graph=parts.repository.graph(main_branch(parts)),
        production=production,
        database_error=database_error,
        lock=parts.store.get_lock(APPLY_LOCK),
        state=state,
        downgrade_changed=downgrade_changed(parts, state.applied, state.bundle),
    )


def downgrade_changed(parts: ApplyParts, applied: Bundle | None, now: Bundle | None) -> bool:
    """Whether the file's `downgrade()` differs from the one in the applied bytes."""
    if applied is None or now is None or now.revision not in now.files:
        return False
    if now.revision_blob == applied.revision_blob:
        return False
    with parts.clone.open() as repo:
        before = blob_text(repo, applied.revision_blob)
        after = blob_text(repo, now.revision_blob)
    return function_body(before, "downgrade") != function_body(after, "downgrade")


def production_state(parts: ApplyParts) -> tuple[frozenset[str] | None, str | None]:
    """Production's `alembic_version` rows, or why they could not be read."""
    url = parts.settings.database_url
    if not url:
        return None, "no production database is configured (SCHEMABOT_DATABASE_URL)"
    try:
        return current_versions(url, parts.redact), None
    except DatabaseUnavailable as exc:
        return None, str(exc)


def lint_errors(parts: ApplyParts, revision: str, key: str) -> tuple[str, ...] | None:
    """Rules squawk flags as errors in this version's SQL (kept under `key`, see
    `version_key`); None while it is not linted."""
    review = parts.store.sql_review(revision, key)
    if review is None:
        return None
    return tuple(f.rule for f in review.findings if f.level == "error")
