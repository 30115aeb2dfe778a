"""squawk, the PostgreSQL migration linter, run on a revision's offline SQL."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

from bot.core.records import LintFinding

log = logging.getLogger(__name__)

LEVEL_ORDER = {"error": 0, "warning": 1}
# squawk reports every rule as a warning; these lose data or block production traffic
# while they run, so the card shows them first, as errors.
ERROR_RULES = frozenset(
    {
        "adding-field-with-default",
        "adding-foreign-key-constraint",
        "adding-not-nullable-field",
        "adding-required-field",
        "ban-drop-column",
        "ban-drop-database",
        "ban-drop-not-null",
        "ban-drop-table",
        "ban-truncate-cascade",
        "changing-column-type",
        "constraint-missing-not-valid",
        "disallowed-unique-constraint",
        "renaming-column",
        "renaming-table",
        "require-concurrent-index-creation",
        "require-concurrent-index-deletion",
    }
)


def squawk_binary() -> str | None:
    """squawk from this Python's environment (the squawk-cli package), else from PATH."""
    beside = Path(sys.executable).parent / "squawk"
    return str(beside) if beside.is_file() else shutil.which("squawk")


def squawk_version() -> str | None:
    """What `squawk --version` says, or None when squawk is missing or does not run."""
    binary = squawk_binary()
    if binary is None:
        return None
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    return done.stdout.strip() if done.returncode == 0 else None


def lint(sql: str, exclude: frozenset[str] = frozenset()) -> tuple[LintFinding, ...]:
    """squawk's findings on `sql`, errors first; empty when squawk is not installed."""
    binary = squawk_binary()
    if binary is None:
        log.warning("squawk is not installed: no lint of the SQL")
        return ()
    args = [binary, "--reporter", "json", "--stdin-filepath", "migration.sql"]
    if exclude:
        args.append("--exclude=" + ",".join(sorted(exclude)))
    done = subprocess.run(args, input=sql, capture_output=True, text=True, timeout=60)
    if done.returncode not in (0, 1) or not done.stdout.strip().startswith("["):
        log.warning("squawk failed (exit %d): %s", done.returncode, done.stderr.strip()[:200])
        return ()
    lines = sql.splitlines()
    findings = [
        LintFinding(
            rule=str(item["rule_name"]),
            level="error"
            if item["rule_name"] in ERROR_RULES or str(item["level"]).lower() == "error"
            else "warning",
            message=str(item["message"]),
            help=str(item.get("help") or ""),
            line=int(item["line"]) + 1,
            statement="\n".join(
                lines[int(item["line"]) : int(item.get("line_end", item["line"])) + 1]
            ),
        )
        for item in json.loads(done.stdout)
    ]
    return tuple(sorted(findings, key=lambda f: (LEVEL_ORDER.get(f.level, 2), f.line)))
