"""What the gates look at, gathered from git, the store and production for one request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.core.bundle import Bundle, version_key
from bot.core.checklist import environment_keys, required_items
from bot.core.doc import ChecklistItem
from bot.core.gates import ApplyFacts, Gate, RollbackFacts
from bot.core.layout import AlembicLayout
from bot.core.records import BOT_ACTOR
from bot.core.review import ReviewState, applied_bundle
from bot.core.revision_file import function_body
from bot.environments import Environment, environment_ticks, environments_of
from bot.git.bundle import blob_text
from bot.git.clone import Clone
from bot.git.repository import RepositoryView
from bot.git.scan import Scanner, watched_main
from bot.git.signatures import unsigned_commits
from bot.migrations.versions import DatabaseUnavailable, current_versions
from bot.redact import Redactor
from bot.reviewing import Reviews
from storage.store import Store

if TYPE_CHECKING:
    from bot.drift import DriftChecker
    from bot.environment_watch import EnvironmentWatch

"""Production's apply lock; another environment's is `Environment.lock_name`."""


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
    watch: EnvironmentWatch | None = None
    """Reads an environment afresh (the one a promotion requires)."""
    drift: DriftChecker | None = None
    lock_gates: Callable[[str], tuple[Gate, ...]] = lambda revision: ()
    """The lock-safety gates of a revision, statistics read afresh (bot/lock_impact.py)."""


def main_branch(parts: ApplyParts) -> str:
    return watched_main(parts.store, parts.settings.branch)


def apply_facts(
    parts: ApplyParts, revision: str, user: str, environment: Environment | None = None
) -> ApplyFacts:
    from bot.apply.environment_facts import drift_facts, promotion_facts

    where = environment or environments_of(parts.settings)[-1]
    if parts.watch is not None:
        parts.watch.look()  # the items environments tick, as they are now
    facts = review_facts(parts, revision)
    state = facts.state
    doc = parts.repository.doc(facts.main_branch)
    checklist = doc.checklist() if doc else ()
    items = {item.key: item.text for item in checklist}
    # What this environment verifies itself cannot be required before it runs there.
    own = {key for key, name in ticked_by(parts, checklist).items() if name == where.name}
    wanted = required_items(parts.settings.required_checklist) - own
    required = {key: text for key, text in items.items() if key in wanted}
    required |= {key: f"`{key}` (not in the checklist)" for key in sorted(wanted - set(items))}
    production, database_error = environment_state(parts, where)
    appliers, source = appliers_of(parts, where)
    return replace(
        facts,
        user=user,
        appliers=appliers,
        appliers_source=source,
        environment=where.name,
        promotion=promotion_facts(parts, where, revision, state.bundle),
        drift=drift_facts(parts, where, revision, state) if production is not None else None,
        required_items=required,
        production=production,
        database_error=database_error,
        lock=parts.store.get_lock(where.lock_name),
        lint_errors=lint_errors(parts, revision, version_key(state.record.blob_sha, state.bundle)),
        lint_gate=parts.settings.lint_gate,
        lock_gates=parts.lock_gates(revision) if where.is_production else (),
    )


def review_facts(parts: ApplyParts, revision: str) -> ApplyFacts:
    """The facts about the revision's bytes and their review, read as an apply reads them:
    its review (approvals, change requests, the bytes they were given on), whether it is on
    the main branch with an entry in the document, the main branch's graph, its signatures.
    The facts of the moment (who asks, the environment, its lock) are left empty: an apply
    fills them in, and `check_trace` ignores their gates."""
    main = main_branch(parts)
    doc = parts.repository.doc(main)
    checklist = doc.checklist() if doc else ()
    state = bot_ticks_only(parts, parts.reviews.state(revision), checklist)
    entry = doc.entry_for(revision, state.record.path) if doc is not None else None
    return ApplyFacts(
        revision=revision,
        user="",
        appliers=frozenset(),
        state=state,
        on_main=state.record.on_main,
        main_branch=main,
        has_entry=entry is not None,
        doc_path=parts.settings.doc,
        required_items={},
        graph=parts.repository.graph(main),
        production=None,
        database_error=None,
        lock=None,
        lint_errors=None,
        unsigned=unsigned(parts, state.bundle, state.record.path),
    )


def unsigned(parts: ApplyParts, bundle: Bundle | None, path: str) -> tuple[str, ...] | None:
    """With SCHEMABOT_REQUIRE_SIGNED_COMMITS, the file's commits that do not verify."""
    if not parts.settings.require_signed_commits:
        return None
    if bundle is None or bundle.commit is None:
        return ("(its file cannot be read)",)
    return unsigned_commits(parts.clone, bundle.commit, path, parts.settings.allowed_signers)


def rollback_facts(
    parts: ApplyParts, revision: str, user: str, environment: Environment | None = None
) -> RollbackFacts:
    where = environment or environments_of(parts.settings)[-1]
    production, database_error = environment_state(parts, where)
    state = parts.reviews.state(revision)
    if not where.is_production:
        # What that environment was given: its own runs' bytes, not production's.
        runs = [r for r in parts.store.runs_for(revision) if r.environment == where.name]
        state = replace(state, applied=applied_bundle(runs))
    appliers, source = appliers_of(parts, where)
    return RollbackFacts(
        revision=revision,
        user=user,
        appliers=appliers,
        appliers_source=source,
        environment=where.name,
        graph=parts.repository.graph(main_branch(parts)),
        production=production,
        database_error=database_error,
        lock=parts.store.get_lock(where.lock_name),
        state=state,
        downgrade_changed=downgrade_changed(parts, state.applied, state.bundle),
    )


def appliers_of(parts: ApplyParts, where: Environment) -> tuple[frozenset[str], str]:
    """Who may apply in the environment, and the setting that says so."""
    if where.appliers is not None:
        return where.appliers, f"appliers of [environments.{where.name}]"
    return parts.settings.appliers, "SCHEMABOT_APPLIERS"


def ticked_by(parts: ApplyParts, items: tuple[ChecklistItem, ...]) -> dict[str, str]:
    """The checklist items environments tick, by key: the environment of each."""
    ticks = environment_ticks(parts.settings.environments)
    return environment_keys(items, ticks) if ticks else {}


def bot_ticks_only(
    parts: ApplyParts, state: ReviewState, items: tuple[ChecklistItem, ...]
) -> ReviewState:
    """The review with the items environments tick counted only when the bot ticked them:
    a person's tick of "tested in dev" is not dev having the revision."""
    keys = ticked_by(parts, items)
    if not keys:
        return state
    kept = {k: t for k, t in state.ticks.items() if k not in keys or t.by == BOT_ACTOR}
    return replace(state, ticks=kept)


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


def environment_state(
    parts: ApplyParts, where: Environment
) -> tuple[frozenset[str] | None, str | None]:
    """The environment's `alembic_version` rows, or why they could not be read."""
    url = where.database_url
    if not url:
        return None, f"no {where.name} database is configured ({where.url_source})"
    try:
        return current_versions(url, parts.redact, name=where.name), None
    except DatabaseUnavailable as exc:
        return None, str(exc)


def lint_errors(parts: ApplyParts, revision: str, key: str) -> tuple[str, ...] | None:
    """Rules squawk flags as errors in this version's SQL (kept under `key`, see
    `version_key`); None while it is not linted."""
    review = parts.store.sql_review(revision, key)
    if review is None:
        return None
    return tuple(f.rule for f in review.findings if f.level == "error")
