"""The team's backup command, run before an apply: `SCHEMABOT_BACKUP_COMMAND`."""

from __future__ import annotations

import os
import subprocess

from bot.redact import Redactor


def run_backup(command: str, database_url: str, timeout: int, redact: Redactor) -> str | None:
    """Run `command` in a shell with `SCHEMABOT_DATABASE_URL` set; None, or why it failed.
    The Slack tokens are not the command's business and stay out of its environment."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("SLACK_")}
    env["SCHEMABOT_DATABASE_URL"] = database_url
    try:
        done = subprocess.run(
            command, shell=True, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return "the backup command timed out"
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return redact(f"exit code {done.returncode}: " + " / ".join(tail))
    return None
