"""The card's lock part in words: a line per statement, the risk, the trace and the sizes.

Statements are SQL from the repository: each is shown as `Code`, never as markup.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.lock_compare import StatementView
from bot.core.lock_reading import WORK_WORDS
from bot.core.lock_report import ONLINE_ONLY, LockReport, short, size_text
from bot.core.lock_review import LockCard
from bot.core.text import Bold, Code, Text, User

STATEMENTS_SHOWN = 8
RISK_MARK = {
    "high": ":rotating_light:",
    "unknown": ":grey_question:",
    "medium": ":large_yellow_circle:",
}
AGREEMENT = {
    "confirmed": "the trace confirms it",
    "corrected": "the trace saw otherwise",
    "completed": "as the trace saw it",
    "untraced": "",
    "unpredicted": "not in its offline SQL: the trace saw it run",
}


def lock_text(card: LockCard) -> Text:
    """Everything the card says about locks, one item per line."""
    report = card.report
    if report is None:
        return Text(Bold("Locks"), "\n", "No PostgreSQL SQL to read the locks of yet.")
    lines: list[Text] = [
        Text(Bold("Locks in production"), f" (large: {report.large_table_rows:,} rows or more)")
    ]
    shown = [view for view in report.statements if view.locks or not view.reading.known]
    for view in shown[:STATEMENTS_SHOWN]:
        lines.append(_statement_line(view, report))
    if len(shown) > STATEMENTS_SHOWN:
        lines.append(
            Text(f"…and {len(shown) - STATEMENTS_SHOWN} more statements that lock tables.")
        )
    if not shown:
        lines.append(Text("No statement locks a table that exists in production."))
    for risk in report.risks:
        level = "High risk: " if risk.level == "high" else ""
        lines.append(Text(f"{RISK_MARK[risk.level]} {level}", risk.text))
    if card.accepted is not None:
        reason = str(card.accepted.detail.get("reason", ""))
        lines.append(
            Text(":shield: ", User(card.accepted.actor), f" accepted the lock risk: {reason}")
        )
    elif report.high:
        lines.append(
            Text(
                "An apply waits until the risk is made smaller, or an approver accepts it with ",
                Code("/schema override-locks <rev> <why it is safe>"),
                ".",
            )
        )
    lines.append(_trace_line(report))
    lines.append(_stats_line(report))
    return Text.lines(lines)


def _statement_line(view: StatementView, report: LockReport) -> Text:
    reading = view.reading
    number = f"{reading.number}." if reading.number else "Online only:"
    head = Text(f"{number} ", Code(short(reading.statement)), " — ")
    if not view.locks:
        return head + "schemabot cannot tell what this statement locks"
    locks = Text.join(
        ", ",
        (
            Text(lock.mode.label, " on ", Code(lock.table), f" ({lock.mode.blocks})")
            for lock in view.locks
        ),
    )
    work = WORK_WORDS[view.work]
    size = report.stats.size(reading.on) if reading.on and not reading.creates else None
    parts = [locks]
    if work:
        parts.append(Text(work))
    if size is not None:
        parts.append(Text(Code(reading.on or ""), f": {size_text(size)}"))
    if not reading.in_transaction:
        parts.append(Text("outside a transaction"))
    if AGREEMENT[view.agreement]:
        parts.append(Text(AGREEMENT[view.agreement]))
    return head + Text.join(" · ", parts)


def _trace_line(report: LockReport) -> Text:
    trace = report.trace
    if trace is None:
        return Text(
            "Not traced yet: the trace runs the approved bytes on a schema-only copy of "
            "production once an apply would take them as reviewed: approved, on the main "
            "branch, documented, and signed where signatures are required."
        )
    if trace.error is not None:
        return Text("No lock trace: ", trace.error)
    corrected = sum(view.agreement == "corrected" for view in report.statements)
    when = _at(trace.at)
    worse = sum(view.worse for view in report.statements)
    if worse:
        return Text(
            f":warning: Traced on a schema-only copy of production{when}: {ONLINE_ONLY} "
            f"({worse} statement(s) lock or rewrite more than it says). The SQL reviewed is not "
            "what runs: read the revision's code, not only its SQL."
        )
    unpredicted = sum(view.agreement == "unpredicted" for view in report.statements)
    also = (
        f" It also saw {unpredicted} statement(s) the offline SQL does not have (online only)."
        if unpredicted
        else ""
    )
    if corrected:
        return Text(
            f"Traced on a schema-only copy of production{when}: it corrected "
            f"{corrected} statement(s); the lines above show what it saw.{also}"
        )
    return Text(f"Traced on a schema-only copy of production{when}: it confirms the reading.{also}")


def _stats_line(report: LockReport) -> Text:
    stats = report.stats
    if stats.error is not None and not stats.sizes:
        return Text("Table sizes unknown: ", stats.error)
    line = Text(f"Sizes from production's statistics{_at(stats.read_at)}")
    if stats.error is not None:
        line += Text("; the last read failed: ", stats.error)
    return line + "."


def _at(moment: datetime | None) -> str:
    return f", {moment:%Y-%m-%d %H:%M} UTC" if moment is not None else ""
