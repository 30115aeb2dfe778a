"""What the environment gates look at: where the revision must already be, and drift."""

from __future__ import annotations

from bot.apply.facts import ApplyParts, appliers_of, main_branch
from bot.core.bundle import Bundle
from bot.core.drift import DRIFT_OVERRIDE, DriftFacts, DriftOverride
from bot.core.operations import analyze
from bot.core.promotion import PromotionFacts
from bot.core.review import ReviewState
from bot.core.text import Code, Text, plain
from bot.environments import Environment, environment_named
from bot.errors import SchemabotError


def promotion_facts(
    parts: ApplyParts, where: Environment, revision: str, bundle: Bundle | None
) -> PromotionFacts | None:
    """With `requires`: the revision in that environment, read afresh."""
    if where.requires is None:
        return None
    needed = environment_named(parts.settings, where.requires)
    error = parts.watch.refresh(needed) if parts.watch is not None else None
    presence = parts.store.presence_of(revision).get(needed.name)
    other = None
    if presence is not None and presence.run_id is not None and bundle is not None:
        run = parts.store.get_run(presence.run_id)
        ran = run.bundle if run is not None else None
        if ran is not None and ran.revision_blob != bundle.revision_blob:
            other = presence.run_id
    return PromotionFacts(
        revision=revision,
        environment=where.name,
        requires=needed.name,
        requires_read_only=needed.read_only,
        soak_minutes=where.soak_minutes,
        presence=presence,
        now=parts.clock(),
        read_error=error,
        other_version_run=other,
    )


def drift_facts(
    parts: ApplyParts, where: Environment, revision: str, state: ReviewState
) -> DriftFacts | None:
    """Before a production apply: the drift there, on the tables the revision touches
    (with `[environments]` or SCHEMABOT_DRIFT_CHECK, on PostgreSQL)."""
    checker = parts.drift
    if not where.is_production or checker is None or not checker.checks(where):
        return None
    settings = parts.settings
    if not settings.environments and settings.drift_check is None:
        return None  # one environment and no drift checks asked for: applies as they were
    source = parts.repository.read(main_branch(parts), state.record.path)
    analysis = analyze(source, state.record.path) if source is not None else None
    # Code whose tables only running it would tell: drift on any table counts.
    tables = () if analysis is None or analysis.unresolved else analysis.tables
    report = checker.check(where)
    return DriftFacts(
        revision=revision,
        environment=where.name,
        tables=tables,
        differences=report.differences,
        error=report.error,
        override=latest_override(parts, revision, where.name),
    )


def latest_override(parts: ApplyParts, revision: str, environment: str) -> DriftOverride | None:
    for event in reversed(parts.store.audit_for(revision)):
        if event.action == DRIFT_OVERRIDE and event.detail.get("environment") == environment:
            return DriftOverride(
                event.actor,
                str(event.detail.get("reason", "")),
                str(event.detail.get("fingerprint", "")),
            )
    return None


def accept_drift(parts: ApplyParts, revision: str, user: str, reason: str) -> DriftFacts:
    """An applier of production accepts the drift there is now on the tables the revision
    touches, saying why (kept in the audit log); the gate passes while that drift stays
    exactly the same."""
    where = environment_named(parts.settings, None)
    appliers, source = appliers_of(parts, where)
    if user not in appliers:
        raise SchemabotError(f"Only the appliers of production ({source}) can accept its drift.")
    if not reason.strip():
        raise SchemabotError("Say why the drift is safe: it goes in the audit log.")
    facts = drift_facts(parts, where, revision, parts.reviews.state(revision))
    if facts is None:
        raise SchemabotError("Drift is checked only on PostgreSQL: nothing to accept.")
    if facts.error is None and not facts.relevant:
        raise SchemabotError(
            Text("No drift on the tables ", Code(revision), " touches: nothing to accept.")
        )
    parts.store.audit(
        user,
        DRIFT_OVERRIDE,
        revision,
        environment=where.name,
        fingerprint=facts.fingerprint,
        reason=reason.strip(),
        differences=[plain(d.text()) for d in facts.relevant],
        error=facts.error,
    )
    return facts
