"""The people's side of lock safety: an approver accepting a high lock risk (a gate, like
the lint's), an approver allowing a retry to drop the INVALID index a failed concurrent
build left, and the timeouts an apply runs with, as the card shows them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.gates import Gate
from bot.core.lock_report import LockReport
from bot.core.records import AuditEvent
from bot.core.text import Code, Text

LOCK_OVERRIDE = "lock_override"
"""Audit action: an approver accepts the lock risk of one version of the file."""
ALLOW_INDEX_DROP = "allow_invalid_index_drop"
"""Audit action: an approver lets the next apply drop the INVALID indexes a run left."""
INVALID_INDEXES = "invalid_indexes_left"
"""Audit action (the bot's): a failed run left these INVALID indexes in production."""


@dataclass(frozen=True)
class RunSettings:
    """The timeouts every apply runs with, shown with the SQL on the card."""

    lock_timeout_seconds: int
    statement_timeout_seconds: int
    migration_timeout_seconds: int

    def sql_lines(self) -> tuple[str, ...]:
        """SET lines as schemabot issues them on each connection, then the overall limit."""
        lines = []
        if self.lock_timeout_seconds > 0:
            lines.append(f"SET lock_timeout = '{self.lock_timeout_seconds}s';")
        if self.statement_timeout_seconds > 0:
            lines.append(f"SET statement_timeout = '{self.statement_timeout_seconds}s';")
        else:
            lines.append("-- no statement_timeout (SCHEMABOT_STATEMENT_TIMEOUT)")
        lines.append(
            f"-- the whole migration is stopped after {self.migration_timeout_seconds} s "
            "(SCHEMABOT_MIGRATION_TIMEOUT)"
        )
        return tuple(lines)


@dataclass(frozen=True)
class LockCard:
    """The card's lock part: the report, an approver's acceptance of its risk, and the
    timeouts the apply runs with."""

    report: LockReport | None
    accepted: AuditEvent | None
    run_settings: RunSettings


def lock_gate(report: LockReport | None, accepted: AuditEvent | None, revision: str) -> Gate:
    """Met unless the revision holds a lock that blocks a large (or unmeasured) table while
    it works, and no approver accepted that for this version of the file."""
    if report is None or not report.high or accepted is not None:
        return Gate("lock risk", True)
    risky = [risk for risk in report.risks if risk.level in ("high", "unknown")]
    return Gate(
        "lock risk",
        False,
        Text(
            "its locks put production at risk (",
            Text.join("; ", (risk.text for risk in risky[:3])),
            "): make the migration safer, or an approver runs ",
            Code(f"/schema override-locks {revision} <why it is safe>"),
        ),
    )
