"""Every benchmark, each in a fresh process, then one table of the figures and the machine.

    python bench/run_all.py [--markdown] [--skip apply_overhead ...]

`--markdown` prints the table as bench/RESULTS.md shows it. apply_overhead and
lock_impact need PostgreSQL on 127.0.0.1:5432; the others need only git.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import kit

BENCHMARKS = (
    "ack_latency",
    "idle_cycle",
    "push_to_card",
    "apply_overhead",
    "memory",
    "preview_sandbox",
    "pending_previews",
    "lock_impact",
)


def run(name: str) -> list[kit.Figure]:
    started = time.monotonic()
    print(f"running bench/{name}.py ...", file=sys.stderr, flush=True)
    done = subprocess.run(
        [sys.executable, str(kit.BENCH_DIR / f"{name}.py"), "--json"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        raise SystemExit(f"bench/{name}.py failed (exit {done.returncode})")
    print(f"  done in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return [kit.Figure(**json.loads(line)) for line in done.stdout.splitlines() if line]


def markdown(figures: list[kit.Figure]) -> str:
    lines = [
        "| benchmark | figure | measured | anchor (same run) | target | |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {f.benchmark} | {f.name} | **{f.value}** | {f.anchor} | {f.target} | {f.verdict} |"
        for f in figures
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--skip", nargs="*", default=[], choices=BENCHMARKS)
    args = parser.parse_args()
    figures = [figure for name in BENCHMARKS if name not in args.skip for figure in run(name)]
    about = kit.machine()
    if args.markdown:
        print(", ".join(f"{key}: {value}" for key, value in about.items()))
        print()
        print(markdown(figures))
    else:
        for key, value in about.items():
            print(f"{key:>7}: {value}")
        print()
        print(kit.table(figures))
    missed = [f for f in figures if f.met is False]
    if missed:
        print(f"\n{len(missed)} target(s) missed", file=sys.stderr)


if __name__ == "__main__":
    main()
