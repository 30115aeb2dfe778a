"""Memory: peak RSS of `schemabot serve` watching 5,000 revisions.

    python bench/memory.py [--json]

`schemabot serve` runs as a process of its own (HTTP mode, the Slack stand-in as its Web
API) on an origin whose main branch holds a linear chain of 5,000 revisions. Its first
scan takes them all as history; then Dana pushes one more revision and the bot posts its
card (which reads the revision graph of all 5,000). The peak resident set (VmHWM in
/proc/<pid>/status) is read after that card. Anchor: the same with 50 revisions.
Target: under 120 MB.
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import kit

from bot.standin import FakeSlack

SIZES = (50, 5000)
TARGET_KB = 120 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def first_scan_done(state: Path) -> bool:
    """Whether the bot's first scan is recorded (read from outside, as an operator would)."""
    if not state.exists():
        return False
    try:
        with sqlite3.connect(f"file:{state}?mode=ro", uri=True) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'first_scan_done'").fetchone()
    except sqlite3.Error:
        return False
    return row is not None


def status(pid: int) -> dict[str, int]:
    """The process's Vm* figures in kB."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {
        key: int(value.split()[0])
        for key, value in (line.split(":", 1) for line in lines if line.startswith("Vm"))
    }


def peak_rss(folder: Path, size: int) -> tuple[int, float]:
    """The serve process's peak RSS (kB) after the first scan and one card; the scan's time."""
    fake = kit.slack()
    origin, developer = kit.chain_origin(folder, size)
    env = kit.bot_environment(fake, origin, folder / "bot", POLL_SECONDS="1")
    port = free_port()
    schemabot = str(Path(sys.executable).parent / "schemabot")
    log = (folder / "serve.log").open("w")
    serve = subprocess.Popen(
        [schemabot, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        started = time.perf_counter()
        kit.wait_for(lambda: first_scan_done(folder / "bot" / "state.db"), "the first scan", 600)
        scan = time.perf_counter() - started
        spec = kit.chain(1, start=size + 1, down=f"{size:012x}")[0]
        kit.push_revision(developer, spec, kit.entry_for(spec))
        kit.wait_for(lambda: card_posted(fake, spec.revision), "the card", 60)
        peak = status(serve.pid)["VmHWM"]
    finally:
        serve.terminate()
        serve.wait(timeout=60)
        log.close()
        fake.stop()
        developer.close()
    return peak, scan


def card_posted(fake: FakeSlack, revision: str) -> bool:
    return any(revision in str(c.args.get("text")) for c in fake.calls("chat.postMessage"))


def measure(root: Path) -> list[kit.Figure]:
    found: dict[int, tuple[int, float]] = {}
    for size in SIZES:
        folder = root / str(size)
        folder.mkdir()
        found[size] = peak_rss(folder, size)
    small, large = SIZES
    anchor = f"{small} revisions: {found[small][0] / 1024:.0f} MB"
    peak, scan = found[large]
    return [
        kit.Figure(
            "memory",
            f"peak RSS of serve, {large} revisions (first scan {scan:.1f} s)",
            f"{peak / 1024:.0f} MB",
            anchor,
            "< 120 MB",
            peak < TARGET_KB,
        )
    ]


def main() -> None:
    kit.main(measure, __doc__)


if __name__ == "__main__":
    main()
