"""Answers about reviews, shared by `/schema` and the `schemabot` command line.

One builder for both: each answer is a `Text`, which Slack renders as escaped mrkdwn
(bot/slack/markup.py) and the command line prints as plain text.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.card import CardSnapshot, Level
from bot.core.lock_text import lock_text
from bot.core.records import BOT_ACTOR, AuditEvent, LockRecord
from bot.core.review import ReviewStatus
from bot.core.text import Bold, Code, Text, User

DONE_STATUSES = {ReviewStatus.APPLIED, ReviewStatus.REMOVED}
# However many revisions or items there are, an answer names this many and counts the rest.
REVISIONS_LISTED = 40
CHECKLIST_LISTED = 50


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


def list_text(snapshots: Sequence[CardSnapshot], locks: Sequence[LockRecord] = ()) -> Text:
    """Pending revisions, what each still needs, and the locks held."""
    lines = [
        Text(
            f":lock: Held: the {lock.name} lock, by {lock.holder}, since "
            f"{lock.acquired_at:%Y-%m-%d %H:%M} UTC"
        )
        for lock in locks
    ]
    if not snapshots:
        lines.append(
            Text("No schema changes are waiting: every revision seen is reviewed and applied.")
        )
        return Text.lines(lines)
    lines.append(Text(Bold("Pending schema changes"), f" ({len(snapshots)})"))
    for snap in snapshots[:REVISIONS_LISTED]:
        missing = needs(snap)
        still = f" — needs {', '.join(missing)}" if missing else " — ready to apply"
        lines.append(
            Text("• ", Code(snap.revision), f" {snap.title}: {snap.state.status_line}{still}")
        )
    if len(snapshots) > REVISIONS_LISTED:
        lines.append(Text(f"…and {len(snapshots) - REVISIONS_LISTED} more."))
    return Text.lines(lines)


def status_text(snap: CardSnapshot, history: Sequence[AuditEvent]) -> Text:
    """One revision's review: status, verdicts, checklist, findings, what it locks, what it
    needs, history."""
    state = snap.state
    status = (
        "In production before schemabot (no review)"
        if in_production_before(snap)
        else state.status_line
    )
    lines: list[Text | str] = [
        Text(Bold(snap.revision), f" - {snap.title}"),
        f"Status: {status}",
        f"Branch: {snap.record.branch}"
        + ("" if snap.record.on_main else f" (not on {snap.main_branch} yet)"),
        f"File: {snap.record.path}",
    ]
    lines += [Text("Approved by ", User(v.user_id)) for v in state.approvals]
    lines += [
        Text("Stale approval by ", User(v.user_id), " (the file changed)")
        for v in state.stale_approvals
    ]
    lines += [
        Text("Changes requested by ", User(v.user_id), f": {v.reason}")
        for v in state.change_requests
    ]
    if snap.checklist:
        lines.append("Checklist:")
        for line in snap.checklist[:CHECKLIST_LISTED]:
            mark = "[x]" if line.done else "[ ]"
            who: Text | str = ""
            if line.done:
                who = (
                    " (schemabot)"
                    if not line.entry.manual
                    else (Text(" (", User(line.by), ")") if line.by else "")
                )
            lines.append(Text(f"  {mark} {line.entry.text}", who))
        if len(snap.checklist) > CHECKLIST_LISTED:
            lines.append(f"  …and {len(snap.checklist) - CHECKLIST_LISTED} more items")
    errors = [f for f in snap.findings if f.level is not Level.INFO]
    lines += [Text("Found: ", finding.text) for finding in errors]
    if snap.locks is not None:
        lines.append(lock_text(snap.locks))
    missing = needs(snap)
    if missing:
        lines.append("Still needs: " + ", ".join(missing))
    if history:
        lines.append("History:")
        for event in history[-15:]:
            actor: Text | str = "schemabot" if event.actor == BOT_ACTOR else Text(User(event.actor))
            lines.append(
                Text(f"  {event.at:%Y-%m-%d %H:%M} ", actor, f" {event.action.replace('_', ' ')}")
            )
    return Text.lines(lines)
