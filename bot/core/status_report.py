"""Plain-text answers about reviews, shared by `/schema` and the `schemabot` command line."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.card import CardSnapshot, Level
from bot.core.records import AuditEvent, LockRecord
from bot.core.review import ReviewStatus

DONE_STATUSES = {ReviewStatus.APPLIED, ReviewStatus.REMOVED}


def in_production_before(snap: CardSnapshot) -> bool:
    """Taken as history at the first scan and never run by schemabot since: nothing to review."""
    return snap.record.history and snap.state.last_run is None


def needs(snap: CardSnapshot) -> list[str]:
    """What still stands between this revision and an apply, in words."""
    state = snap.state
    if state.status in DONE_STATUSES | {ReviewStatus.APPLYING} or in_production_before(snap):
        return []
    missing: list[str] = []
    if snap.entry is None:
        missing.append(f"an entry in {snap.doc_path}")
    short = state.required_approvals - len(state.approvals)
    if short > 0:
        missing.append(f"{short} more approval{'s' if short > 1 else ''}")
    if state.change_requests:
        missing.append(f"{len(state.change_requests)} change request(s) resolved")
    unticked = [line.entry.text for line in snap.manual_items if not line.done]
    if unticked:
        missing.append(f"{len(unticked)} checklist item(s) ticked")
    if not snap.record.on_main:
        missing.append(f"a merge to {snap.main_branch}")
    return missing


def list_text(snapshots: Sequence[CardSnapshot], locks: Sequence[LockRecord] = ()) -> str:
    lines = [
        f":lock: Held: the {lock.name} lock, by {lock.holder}, since "
        f"{lock.acquired_at:%Y-%m-%d %H:%M} UTC"
        for lock in locks
    ]
    if not snapshots:
        lines.append("No schema changes are waiting: every revision seen is reviewed and applied.")
        return "\n".join(lines)
    lines.append(f"*Pending schema changes* ({len(snapshots)})")
    for snap in snapshots:
        missing = needs(snap)
        still = f" — needs {', '.join(missing)}" if missing else " — ready to apply"
        lines.append(f"• `{snap.revision}` {snap.title}: {snap.state.status_line}{still}")
    return "\n".join(lines)


def status_text(snap: CardSnapshot, history: Sequence[AuditEvent]) -> str:
    state = snap.state
    status = (
        "In production before schemabot (no review)"
        if in_production_before(snap)
        else state.status_line
    )
    lines = [
        f"*{snap.revision}* - {snap.title}",
        f"Status: {status}",
        f"Branch: {snap.record.branch}"
        + ("" if snap.record.on_main else f" (not on {snap.main_branch} yet)"),
        f"File: {snap.record.path}",
    ]
    lines += [f"Approved by <@{v.user_id}>" for v in state.approvals]
    lines += [f"Stale approval by <@{v.user_id}> (the file changed)" for v in state.stale_approvals]
    lines += [f"Changes requested by <@{v.user_id}>: {v.reason}" for v in state.change_requests]
    if snap.checklist:
        lines.append("Checklist:")
        for line in snap.checklist:
            mark = "[x]" if line.done else "[ ]"
            who = (
                " (schemabot)" if not line.entry.manual else (f" (<@{line.by}>)" if line.by else "")
            )
            lines.append(f"  {mark} {line.entry.text}{who if line.done else ''}")
    errors = [f for f in snap.findings if f.level is not Level.INFO]
    lines += [f"Found: {finding.text}" for finding in errors]
    missing = needs(snap)
    if missing:
        lines.append("Still needs: " + ", ".join(missing))
    if history:
        lines.append("History:")
        for event in history[-15:]:
            actor = "schemabot" if event.actor == "schemabot" else f"<@{event.actor}>"
            lines.append(f"  {event.at:%Y-%m-%d %H:%M} {actor} {event.action.replace('_', ' ')}")
    return "\n".join(lines)
