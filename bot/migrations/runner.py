"""Alembic in a child process: upgrade, downgrade and offline SQL, with progress lines.

`alembic.command` keeps module-level state and runs the team's own `env.py` and migration
code, so it never runs inside the bot: a crash, a hang or a stray `sys.exit` in migration
code ends only the child, and an overall timeout kills it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.migrations.child import RESULT, URL_VARIABLE
from bot.redact import Redactor

ProgressSink = Callable[[str], None]
Direction = Literal["upgrade", "downgrade"]


@dataclass(frozen=True)
class MigrationResult:
    ok: bool
    error: str | None
    output: tuple[str, ...]
    sql: str | None = None
    timed_out: bool = False


@dataclass(frozen=True)
class MigrationRunner:
    """Runs Alembic commands against one database from a checkout of the repository."""

    database_url: str
    redact: Redactor
    lock_timeout_seconds: int = 10
    timeout_seconds: int = 900

    def migrate(
        self,
        direction: Direction,
        checkout: Path,
        ini: str,
        script_location: str | None,
        target: str,
        on_line: ProgressSink | None = None,
    ) -> MigrationResult:
        """`alembic upgrade|downgrade <target>` against the database, online."""
        job = {"action": direction, "target": target}
        return self._run(checkout, ini, script_location, job, on_line)

    def offline_sql(
        self, checkout: Path, ini: str, script_location: str | None, start: str | None, end: str
    ) -> MigrationResult:
        """The SQL Alembic would run from `start` (None: the base) to `end`, offline."""
        job = {"action": "sql", "target": f"{start}:{end}" if start else end}
        return self._run(checkout, ini, script_location, job, None)

    def _run(
        self,
        checkout: Path,
        ini: str,
        script_location: str | None,
        job: dict[str, str],
        on_line: ProgressSink | None,
    ) -> MigrationResult:
        env = dict(os.environ)
        env[URL_VARIABLE] = self.database_url
        payload = {
            **job,
            "ini": ini,
            "script_location": script_location,
            "lock_timeout": self.lock_timeout_seconds,
        }
        child = subprocess.Popen(
            [sys.executable, "-P", "-m", "bot.migrations.child"],
            cwd=checkout,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(json.dumps(payload) + "\n")
        child.stdin.flush()
        lines: list[str] = []
        result: dict[str, object] = {}
        reader = threading.Thread(
            target=self._read, args=(child.stdout, lines, result, on_line), daemon=True
        )
        reader.start()
        timed_out = False
        try:
            child.wait(timeout=self.timeout_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
            child.kill()
            child.wait()
        finally:
            child.stdin.close()
        reader.join(timeout=5)
        if timed_out:
            return MigrationResult(
                False,
                f"the migration did not finish within {self.timeout_seconds} s and was stopped",
                tuple(lines),
                timed_out=True,
            )
        if not result:
            tail = "\n".join(lines[-5:])
            return MigrationResult(
                False, f"the migration process ended unexpectedly:\n{tail}", tuple(lines)
            )
        error = result.get("error")
        sql = result.get("sql")
        return MigrationResult(
            bool(result.get("ok")),
            self.redact(str(error)) if error else None,
            tuple(lines),
            self.redact(str(sql)) if sql is not None else None,
        )

    def _read(
        self,
        stream: object,
        lines: list[str],
        result: dict[str, object],
        on_line: ProgressSink | None,
    ) -> None:
        for raw in stream:  # type: ignore[attr-defined]
            line = self.redact(str(raw).rstrip("\n"))
            if line.startswith(RESULT):
                result.update(json.loads(str(raw)[len(RESULT) :]))
                continue
            lines.append(line)
            if on_line is not None:
                on_line(line)
