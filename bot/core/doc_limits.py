"""How big a document schemabot reads, and what it says about one past that.

Parsing is linear in the document's size (bot/core/doc_text.py), but every card, apply
and `/schema list` reads the document, so it is bounded: a team's SCHEMA_CHANGES.md is a
few hundred kilobytes after years of entries. Past the bound the document is not read at
all: cards say so (and find no entries), and the status commit is refused.
"""

from __future__ import annotations

from bot.core.text import Code, Text

DOC_SIZE_LIMIT = 2 * 1024 * 1024


def too_large(path: str, branch: str, size: int) -> Text:
    return Text(
        Code(path),
        " on ",
        Code(branch),
        f" is {size / 1024 / 1024:.1f} MiB, more than the "
        f"{DOC_SIZE_LIMIT // 1024 // 1024} MiB schemabot reads, so it was not read: "
        "move older entries to another file.",
    )
