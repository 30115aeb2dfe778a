"""Reading SCHEMA_CHANGES.md takes time linear in its size, whatever its lines hold.

A 122 KiB document whose headings were padded with 40,000 spaces made the next card take
102 s: the patterns tried each run of spaces from each of its characters. Each document
below is built to make such code slow (long blank runs before text, thousands of
sections, one checklist item a thousand times, unclosed brackets); it is read the way a
card reads it, and timed against a normal document of the same size (the seed document
repeated) read the same way on the same machine, and against itself at an eighth of the
size. Linear code stays within a small factor of both; quadratic code is hundreds of
times slower at 1 MiB.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from bot.core.consistency import check
from bot.core.doc import SchemaDoc
from bot.core.doc_limits import DOC_SIZE_LIMIT
from bot.demo.project import seed_document
from tests.support.migration_files import read

MiB = 1024 * 1024
ANALYSIS = read('op.add_column("users", sa.Column("bio", sa.Text()))')
ENTRY = "### 1a2b3c4d5e6f - A change\n"
PENDING = "## Pending Migrations\n" + ENTRY


def repeated(unit: str, size: int, head: str = "") -> str:
    """`head`, then `unit` over and over, `size` characters in all."""
    body = unit * ((size - len(head)) // len(unit) + 1)
    return (head + body)[:size]


PATHOLOGICAL: dict[str, Callable[[int], str]] = {
    "headings padded with spaces": lambda size: repeated("# a" + " " * 40_000 + "x\n", size),
    "field values padded with spaces": lambda size: repeated(
        "- **Type**: a" + " " * 40_000 + "x\n", size, PENDING
    ),
    "Last Updated padded with spaces": lambda size: repeated(
        "**Last Updated**: a" + " " * 40_000 + "x\n", size
    ),
    "checklist items padded with spaces": lambda size: repeated(
        "- [ ] a" + " " * 40_000 + "x\n", size, "## Migration Checklist\n"
    ),
    "one checklist item over and over": lambda size: repeated(
        "- [ ] Tested in dev\n", size, "## Migration Checklist\n"
    ),
    "a section for every entry": lambda size: repeated(
        "## s\n### 1a2b3c4d5e6f - t\n- **Type**: x\n", size
    ),
    "nothing but headings": lambda size: repeated("## s\n", size),
    "an entry heading padded with spaces": lambda size: repeated(
        "### " + "a1" * 20_000 + " " * 20_000 + "\n", size, "## Pending Migrations\n"
    ),
    "fences opened and closed": lambda size: repeated("```\n", size),
    "a Type of unclosed brackets": lambda size: repeated("(", size, PENDING + "- **Type**: "),
    "Tables Affected padded with spaces": lambda size: repeated(
        "a" + " " * 40_000 + "x, ", size, PENDING + "- **Tables Affected**: "
    ),
}


def read_like_a_card(text: str) -> None:
    """What building a card does with the document: parse it, find the entry, its
    checklist and rollback procedure, and check the entry against the code."""
    doc = SchemaDoc.parse(text)
    doc.checklist()
    doc.rollback_procedure()
    entry = doc.entry_for("1a2b3c4d5e6f", "versions/1a2b3c4d5e6f_test.py")
    check(entry, ANALYSIS, False)


def seconds(text: str, runs: int = 3) -> float:
    """The best of `runs` timings of reading `text` like a card."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        read_like_a_card(text)
        best = min(best, time.perf_counter() - started)
    return best


@pytest.fixture(scope="module")
def normal_seconds() -> float:
    normal = repeated(seed_document(), MiB)
    assert len(normal) == MiB
    return seconds(normal)


@pytest.mark.parametrize("shape", sorted(PATHOLOGICAL))
def test_a_pathological_megabyte_reads_in_linear_time(shape: str, normal_seconds: float) -> None:
    whole, eighth = PATHOLOGICAL[shape](MiB), PATHOLOGICAL[shape](MiB // 8)
    assert len(whole) == MiB <= DOC_SIZE_LIMIT

    full = seconds(whole, runs=3)
    small = seconds(eighth, runs=5)

    # Eight times the text takes about eight times as long (sixty-four, were it quadratic:
    # the margin is for a busy machine timing milliseconds); and no shape costs more than a
    # few times a normal document's lines would.
    assert full / small < 24, f"{shape}: {full:.3f}s at 1 MiB, {small:.3f}s at 128 KiB"
    assert full / normal_seconds < 40, f"{shape}: {full:.3f}s, normal {normal_seconds:.3f}s"
