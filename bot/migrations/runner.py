"""Alembic in a child process: upgrade, downgrade and offline SQL, with progress lines.

`alembic.command` keeps module-level state and runs the team's own `env.py` and migration
code, so it never runs inside the bot: the child is `child.py`, started by path under the
team's interpreter, from the folder of `alembic.ini`. A crash, a hang or a stray `sys.exit`
in migration code ends only the child, and an overall timeout kills it.

Two kinds of run, two environments. An apply or rollback runs approved bytes against
production: the child gets the database URL and the team's env file, nothing else of the
bot's environment, and the checkout is checked against the approved blobs in the same step
that starts it. A preview runs anything anyone pushed: it goes through the sandbox.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal

from bot.core.layout import AlembicLayout
from bot.errors import SchemabotError
from bot.migrations.child import RESULT, URL_VARIABLE
from bot.migrations.sandbox import PREVIEW_PATH, Confinement
from bot.redact import Redactor

ProgressSink = Callable[[str], None]
Direction = Literal["upgrade", "downgrade"]
CHILD = Path(__file__).with_name("child.py")
# What an apply's child inherits from the bot's environment: what the interpreter, libpq
# and TLS need, never Slack's or schemabot's own variables.
PASSED_THROUGH = frozenset(
    {"PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV"}
    | {"SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"}
)
PASSED_PREFIXES = ("PG",)
PREVIEW_OUTPUT_LIMIT = 8 * 1024 * 1024
"""What a preview may print per revision it renders, up to PREVIEW_OUTPUT_TARGETS of them."""
PREVIEW_OUTPUT_TARGETS = 8
READ_CHUNK = 64 * 1024


class CheckoutMismatch(SchemabotError):
    """The files about to run are not the approved ones; nothing was started."""


def layout_job(layout: AlembicLayout, root: Path) -> dict[str, Any]:
    """What the child needs to find the config, from the ini's folder in a checkout at `root`."""
    location = layout.script_location
    if location is not None and not PurePosixPath(location).is_absolute():
        # The override is relative to the repository root; the child runs from the ini's.
        location = os.path.relpath(root / location, layout.ini_dir(root))
    return {
        "ini": PurePosixPath(layout.ini).name,
        "section": layout.section,
        "script_location": location,
    }


@dataclass(frozen=True)
class Checkout:
    """A folder holding what Alembic will read; `expected` maps every file in it (relative
    path) to the git blob it must be, or is None for a preview's throwaway copy."""

    root: Path
    expected: Mapping[str, str] | None = None
    version_locations: str | None = None
    """A version folder (relative to the ini's) that replaces the ini's own."""


def last_line(text: str | None) -> str | None:
    """The last line of a child's error that says something (where Python puts the error
    itself, after its traceback); None when there is none."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else None


@dataclass(frozen=True)
class MigrationResult:
    ok: bool
    error: str | None
    output: tuple[str, ...]
    rendered: Mapping[str, Rendered] = field(default_factory=dict)
    """Offline SQL by key, each or why it could not be rendered."""
    timed_out: bool = False
    cut: bool = False
    env_database: EnvDatabase | None = None
    found: Mapping[str, str] = field(default_factory=dict)
    """What the child reported about itself (`python`, `alembic` versions of a probe)."""
    traced: tuple[Any, ...] = ()
    """A lock trace's statements as the child reported them (see bot/migrations/trace_child.py)."""


@dataclass(frozen=True)
class Rendered:
    """One revision's offline SQL, or why Alembic could not render it."""

    sql: str | None
    error: str | None


@dataclass(frozen=True)
class EnvDatabase:
    """The database the team's `env.py` connected to, as the child saw it afterwards."""

    url: str | None
    versions: tuple[str, ...]
    error: str | None


@dataclass(frozen=True)
class MigrationRunner:
    """Runs Alembic commands against one database from checkouts of the repository."""

    database_url: str
    redact: Redactor
    lock_timeout_seconds: int = 10
    timeout_seconds: int = 900
    python: str = sys.executable
    layout: AlembicLayout = field(default_factory=AlembicLayout)
    settings_env: Mapping[str, str] = field(default_factory=dict)
    """The team's own settings for `env.py`: SCHEMABOT_MIGRATION_ENV_FILE for a runner that
    applies, SCHEMABOT_PREVIEW_ENV_FILE's placeholders for one that previews."""
    statement_timeout_seconds: int = 0
    """PostgreSQL `statement_timeout` of each statement an apply runs (0: none)."""

    def migrate(
        self,
        direction: Direction,
        checkout: Checkout,
        target: str,
        on_line: ProgressSink | None = None,
    ) -> MigrationResult:
        """`alembic upgrade|downgrade <target>` against the database, online."""
        job = {
            "action": direction,
            "target": target,
            "lock_timeout": self.lock_timeout_seconds,
            "statement_timeout": self.statement_timeout_seconds,
            "report_backends": True,
        }
        verify(checkout)
        argv = [self.python, str(CHILD)]
        return self._run(argv, self._approved_env(), checkout, job, on_line, output_limit=None)

    def trace(self, checkout: Checkout, target: str) -> MigrationResult:
        """Upgrade this runner's database (a throwaway copy) to `target`, recording each
        statement's locks. Reviewed bytes only (see bot/apply/lock_tracing.py): the copy may
        sit on production's server, reachable with production's credentials."""
        job = {"action": "trace", "target": target}
        verify(checkout)
        argv = [self.python, str(CHILD)]
        return self._run(
            argv, self._approved_env(), checkout, job, None, output_limit=PREVIEW_OUTPUT_LIMIT
        )

    def _approved_env(self) -> dict[str, str]:
        """What a run of approved bytes gets: the basics, the team's settings, the URL."""
        env = {key: value for key, value in os.environ.items() if _passed(key)}
        env.update(self.settings_env)
        # No bytecode in the checkout: a retry verifies the same files again.
        env.update(
            {
                URL_VARIABLE: self.database_url,
                "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        return env

    def probe(self) -> MigrationResult:
        """Whether the migration interpreter can run the child: Python and Alembic versions
        (in `found`), or why not (in `error`)."""
        env = {"PATH": PREVIEW_PATH, "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            result = self._run(
                [self.python, str(CHILD)],
                env,
                Checkout(CHILD.parent),
                {"action": "probe"},
                None,
                output_limit=PREVIEW_OUTPUT_LIMIT,
            )
        except OSError as exc:
            return MigrationResult(False, f"{self.python} cannot be started ({exc.strerror})", ())
        if "python" not in result.found:
            return MigrationResult(
                False, f"{self.python} cannot run schemabot's child: is it a Python?", result.output
            )
        return result

    def offline_sql(
        self,
        checkout: Checkout,
        targets: Sequence[tuple[str, str | None, str]],
        confinement: Confinement,
        home: Path,
    ) -> MigrationResult:
        """For each `(key, start, end)`, the SQL Alembic would run from `start` (None: the
        base) to `end`, offline, all in one child in the preview sandbox (one start-up for
        a push of many revisions): `home` is its writable HOME and TMPDIR."""
        ranges = [[key, f"{start}:{end}" if start else end] for key, start, end in targets]
        job = {"action": "sql", "targets": ranges}
        env = {
            **self.settings_env,
            "PATH": f"{Path(self.python).parent}:{PREVIEW_PATH}",
            "HOME": str(home),
            "TMPDIR": str(home),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            URL_VARIABLE: self.database_url,
        }
        cwd = self.layout.ini_dir(checkout.root)
        stage = home.parent / "stage"
        stage.mkdir(exist_ok=True)
        argv = confinement.command([self.python, str(CHILD.resolve())], env, cwd, stage)
        limit = PREVIEW_OUTPUT_LIMIT * min(len(targets), PREVIEW_OUTPUT_TARGETS)
        return self._run(argv, None, checkout, job, None, output_limit=limit)

    def _run(
        self,
        argv: list[str],
        env: dict[str, str] | None,
        checkout: Checkout,
        job: dict[str, Any],
        on_line: ProgressSink | None,
        output_limit: int | None,
    ) -> MigrationResult:
        payload = {
            **job,
            **layout_job(self.layout, checkout.root),
            "version_locations": checkout.version_locations,
        }
        child = subprocess.Popen(
            argv,
            cwd=self.layout.ini_dir(checkout.root),
            env=env if env is not None else {"PATH": PREVIEW_PATH},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write((json.dumps(payload) + "\n").encode())
        child.stdin.flush()
        reading = _Reading(self.redact, on_line, output_limit)
        reader = threading.Thread(target=reading.consume, args=(child, child.stdout), daemon=True)
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
        return reading.outcome(timed_out, self.timeout_seconds)


def verify(checkout: Checkout) -> None:
    """Check, just before the child starts, that the checkout holds exactly the expected
    blobs: no file more, none less, none changed, no symlink."""
    if checkout.expected is None:
        return
    found: dict[str, str] = {}
    for path in _files(checkout.root):
        relative = path.relative_to(checkout.root).as_posix()
        if path.is_symlink() or not path.is_file():
            raise CheckoutMismatch(f"`{relative}` in the checkout is not a regular file")
        found[relative] = git_blob_sha(path.read_bytes())
    expected = dict(checkout.expected)
    if found != expected:
        differ = sorted(p for p in set(found) | set(expected) if found.get(p) != expected.get(p))
        raise CheckoutMismatch(
            "the checkout is not the approved bytes ("
            + ", ".join(f"`{p}`" for p in differ[:5])
            + "): nothing was run"
        )


def git_blob_sha(data: bytes) -> str:
    """The id git gives a blob with these bytes."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _files(root: Path) -> Iterator[Path]:
    for folder, dirs, names in os.walk(root):
        for name in dirs:
            if os.path.islink(os.path.join(folder, name)):
                yield Path(folder, name)
        for name in names:
            yield Path(folder, name)


def _passed(key: str) -> bool:
    return key in PASSED_THROUGH or key.startswith(PASSED_PREFIXES)


class _Reading:
    """The child's output, read line by line up to a limit; the result line set apart."""

    def __init__(self, redact: Redactor, on_line: ProgressSink | None, limit: int | None) -> None:
        self.redact = redact
        self.on_line = on_line
        self.limit = limit
        self.lines: list[str] = []
        self.result: dict[str, object] = {}
        self.cut = False

    def consume(self, child: subprocess.Popen[bytes], stream: IO[bytes]) -> None:
        read = 0
        pending = b""
        while True:
            chunk = stream.read1(READ_CHUNK) if hasattr(stream, "read1") else stream.read()
            if not chunk:
                break
            read += len(chunk)
            if self.limit is not None and read > self.limit:
                self.cut = True
                child.kill()
                break
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for raw in complete:
                self._line(raw.decode("utf-8", "replace"))
        if pending and not self.cut:
            self._line(pending.decode("utf-8", "replace"))

    def _line(self, text: str) -> None:
        if text.startswith(RESULT):
            try:
                parsed = json.loads(text[len(RESULT) :])
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                self.result = parsed
                return
        line = self.redact(text)
        self.lines.append(line)
        if self.on_line is not None:
            self.on_line(line)

    def outcome(self, timed_out: bool, timeout: int) -> MigrationResult:
        lines = tuple(self.lines)
        if self.cut:
            limit = (self.limit or 0) // (1024 * 1024)
            return MigrationResult(
                False, f"it printed more than {limit} MiB and was stopped", lines, cut=True
            )
        if timed_out:
            return MigrationResult(
                False,
                f"it did not finish within {timeout} s and was stopped",
                lines,
                timed_out=True,
            )
        if not self.result:
            tail = "\n".join(lines[-5:])
            return MigrationResult(False, f"the Alembic process ended unexpectedly:\n{tail}", lines)
        error = self.result.get("error")
        return MigrationResult(
            bool(self.result.get("ok")),
            self.redact(str(error)) if error else None,
            lines,
            self._rendered(self.result.get("sqls")),
            env_database=self._env_database(self.result.get("env_database")),
            found={
                key: str(self.result[key]) for key in ("python", "alembic") if key in self.result
            },
            traced=_listed(self.result.get("trace")),
        )

    def _rendered(self, sqls: object) -> dict[str, Rendered]:
        if not isinstance(sqls, dict):
            return {}
        found = {}
        for key, value in sqls.items():
            value = value if isinstance(value, dict) else {}
            sql, error = value.get("sql"), value.get("error")
            found[str(key)] = Rendered(
                self.redact(sql) if isinstance(sql, str) else None,
                self.redact(str(error)) if error else None,
            )
        return found

    def _env_database(self, seen: object) -> EnvDatabase | None:
        if not isinstance(seen, dict):
            return None
        url, versions, error = seen.get("url"), seen.get("versions"), seen.get("error")
        return EnvDatabase(
            self.redact(str(url)) if url else None,
            tuple(str(v) for v in versions) if isinstance(versions, list) else (),
            self.redact(str(error)) if error else None,
        )


def _listed(value: object) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, list) else ()
