"""What the benchmarks share: the machine, generated repositories, the Slack stand-in, the
bot in a process of its own, and the table every script prints.

The bot runs as it does in production, alone in its interpreter: `RunningBot` (the object
`schemabot serve` runs) on port 0 in a child process, so the Slack stand-in and the
benchmark's own client threads do not compete with it for the interpreter lock.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from git import Actor, Repo

from bot import waiting
from bot.core.doc_update import add_entry
from bot.demo.project import MigrationSpec, write_migration, write_project
from bot.standin import BOT_TOKEN, FakeSlack

T = TypeVar("T")

BENCH_DIR = Path(__file__).resolve().parent
SECRET = "bench-signing-secret"
CHANNEL = "C0BENCH001"
DANA = Actor("Dana Developer", "dana@example.com")
DANA_ID = "U0DANA0001"


# -- figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One measured figure, what it is compared with in the same run, and its target."""

    benchmark: str
    name: str
    value: str
    anchor: str
    target: str
    met: bool | None = None

    @property
    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: "-"}[self.met]


def main(measure: Callable[[Path], Sequence[Figure]], doc: str | None) -> None:
    """Run one benchmark script: its options, a scratch folder, its figures printed."""
    args = options(doc or "")
    with tempfile.TemporaryDirectory(prefix="schemabot-bench-") as folder:
        report(measure(Path(folder)), args.json)


def options(description: str) -> argparse.Namespace:
    """The options every benchmark script takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser.parse_args()


def report(figures: Sequence[Figure], as_json: bool = False) -> None:
    """Print the figures as a table (or as JSON lines, for run_all.py)."""
    if as_json:
        for figure in figures:
            print(json.dumps(asdict(figure)))
        return
    print(table(figures))


def table(figures: Sequence[Figure]) -> str:
    rows = [("benchmark", "figure", "measured", "anchor (same run)", "target", "")]
    rows += [(f.benchmark, f.name, f.value, f.anchor, f.target, f.verdict) for f in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value at least `share` of them do not exceed."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    memory = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": model,
        "memory": memory,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "git": git.removeprefix("git version "),
    }


def wait_for(condition: Callable[[], T], what: str, timeout: float = 60.0) -> T:
    """Poll often: the benchmarks time what they wait for."""
    return waiting.wait_for(condition, what, timeout, interval=0.005)


def cpu_seconds(pid: int) -> float:
    """The CPU time a process has used, user and system (from /proc/<pid>/stat)."""
    # Past the command name in parentheses, fields 14 and 15 (utime, stime) are 11 and 12.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pid: int, quiet: float = 0.3, timeout: float = 60.0) -> None:
    """Until the process has used almost no CPU (under two clock ticks) for `quiet` seconds:
    whatever it was doing in the background is done."""
    deadline = time.monotonic() + timeout
    before = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = cpu_seconds(pid)
        if now - before < 2 / os.sysconf("SC_CLK_TCK"):
            return
        before = now
    raise TimeoutError(f"process {pid} still busy after {timeout} s")


# -- repositories -------------------------------------------------------------------------


def chain(count: int, start: int = 1, down: str | None = None) -> tuple[MigrationSpec, ...]:
    """`count` plain revisions, each on the one before (the first on `down`)."""
    specs = []
    for number in range(start, start + count):
        revision = f"{number:012x}"
        specs.append(
            MigrationSpec(
                revision,
                down,
                f"Step {number}",
                f"step_{number}",
                upgrade=f"op.execute(\"COMMENT ON TABLE users IS 'step {number}'\")",
                downgrade=f"op.execute(\"COMMENT ON TABLE users IS 'step {number - 1}'\")",
            )
        )
        down = revision
    return tuple(specs)


def chain_origin(root: Path, count: int) -> tuple[Path, Repo]:
    """A bare origin whose main branch holds an Alembic project with a linear chain of
    `count` revisions (one commit), and a developer's clone of it (the caller closes it)."""
    origin = root / "origin.git"
    work = root / "dana"
    Repo.init(origin, bare=True, initial_branch="main").close()
    developer = Repo.init(work, initial_branch="main")
    write_project(work, chain(count))
    developer.git.add("--all")
    developer.index.commit(f"{count} revisions", author=DANA, committer=DANA)
    developer.create_remote("origin", str(origin))
    developer.git.push("--set-upstream", "origin", "main")
    return origin, developer


def push_revision(
    developer: Repo, spec: MigrationSpec, entry: str | None = None, *, push: bool = True
) -> None:
    """Dana commits a revision (and its document entry) and pushes it (unless told not to)."""
    work = Path(str(developer.working_tree_dir))
    write_migration(work, spec)
    paths = [spec.path]
    if entry is not None:
        doc = work / "SCHEMA_CHANGES.md"
        doc.write_bytes(add_entry(doc.read_text(encoding="utf-8"), entry).encode("utf-8"))
        paths.append("SCHEMA_CHANGES.md")
    developer.index.add(paths)
    developer.index.commit(f"Add {spec.revision}", author=DANA, committer=DANA)
    if push:
        developer.git.push("origin", "main")


def entry_for(spec: MigrationSpec) -> str:
    return (
        f"### {spec.revision} - {spec.message}\n"
        f"- **Date**: 2026-11-20\n"
        f"- **Author**: Dana Developer\n"
        f"- **Migration File**: `versions/{spec.filename}`\n"
        f"- **Type**: DATA MIGRATION\n"
        f"- **Description**: {spec.message}\n"
        f"- **Tables Affected**: `users`\n"
        f"- **Breaking Changes**: No\n"
        f"- **Rollback Plan**: `alembic downgrade -1`\n"
        f"- **Tested in Dev**: Yes\n"
        f"- **Applied to Prod**: No\n"
    )


# -- Slack --------------------------------------------------------------------------------


def slack(people: int = 0) -> FakeSlack:
    """The Slack stand-in with Dana, `people` teammates (U0P0000001...) and the channel."""
    fake = FakeSlack().start()
    fake.add_user(DANA_ID, "dana@example.com", "dana", "Dana Developer")
    members = [DANA_ID, *teammates(people)]
    for user in members[1:]:
        fake.add_user(user, f"{user.lower()}@example.com", user.lower())
    fake.add_channel(CHANNEL, members=members, name="schema-review")
    return fake


def teammates(count: int) -> list[str]:
    return [f"U0P{number:07d}" for number in range(1, count + 1)]


# -- the bot in its own process -----------------------------------------------------------


def bot_environment(fake: FakeSlack, origin: Path, workdir: Path, **more: str) -> dict[str, str]:
    """The environment of a bot serving over HTTP against `fake`, watching `origin`.

    `more`: further settings by variable name without the SCHEMABOT_ prefix (POLL_SECONDS=...).
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("SCHEMABOT_")}
    env |= {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SCHEMABOT_SLACK_API_URL": fake.base_url,
        "SCHEMABOT_CHANNEL": CHANNEL,
        "SCHEMABOT_REPO_URL": str(origin),
        "SCHEMABOT_WORKDIR": str(workdir),
    }
    env |= {f"SCHEMABOT_{key}": value for key, value in more.items()}
    return env


class BotProcess:
    """`RunningBot` on 127.0.0.1 port 0 in a child process, driven through its stdin.

    The child reads its settings from the environment, as `schemabot serve` does.
    `scan()` runs one watcher cycle now (as the poll loop does); `stop()` ends it.
    """

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.log = cwd / "bot.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "--bot"],
                env=env,
                cwd=cwd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        self.port = int(self._answer())

    @property
    def pid(self) -> int:
        return self.process.pid

    def scan(self) -> list[str]:
        """One watcher cycle in the bot; the revisions whose cards it posted or refreshed."""
        return [item for item in self._ask("scan").split(",") if item]

    def stop(self) -> None:
        if self.process.poll() is None:
            self._ask("stop")
        self.process.wait(timeout=60)
        errors = [line for line in self.log.read_text().splitlines() if " ERROR " in line]
        if errors:
            raise RuntimeError(f"the bot logged errors (see {self.log}): {errors[0]}")

    def _ask(self, command: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._answer()

    def _answer(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("ok "):
            self.process.kill()
            tail = self.log.read_text().strip().splitlines()[-5:]
            raise RuntimeError(f"the bot process failed: {line.strip() or 'it exited'}: {tail}")
        return line.removeprefix("ok ").strip()


def _bot_child() -> None:
    from bot.config import load_settings
    from bot.running import RunningBot
    from bot.slack.client import slack_client
    from bot.wiring import build_services

    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="bot %(levelname)s %(name)s: %(message)s"
    )
    # waitress warns of every queued request; a burst is the point here.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    try:
        settings = load_settings()
        bot = RunningBot(build_services(settings, slack_client(settings)))
        port = bot.start(0, "127.0.0.1")
    except Exception as exc:
        print(f"error {exc!r}", flush=True)
        raise
    print(f"ok {port}", flush=True)
    for command in sys.stdin:
        if command.strip() == "scan":
            report = bot.watcher.cycle()
            print("ok " + ",".join(report.touched if report else ()), flush=True)
        elif command.strip() == "stop":
            break
    bot.stop()
    print("ok stopped", flush=True)


if __name__ == "__main__" and sys.argv[1:] == ["--bot"]:
    _bot_child()
