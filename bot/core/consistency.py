"""Where a SCHEMA_CHANGES.md entry and the migration's code disagree, said for a Slack card.

The comparison is loose on purpose: people write Type and Tables Affected by hand. A Type
must name what the upgrade mainly does (tables and columns created, changed or dropped),
while indexes, constraints, enum types and data moved along with them may go unsaid; only
when they are all an upgrade does must the Type name them. ALTER TABLE covers every change
made inside a table. A raw UPDATE is a DATA MIGRATION, not an ALTER COLUMN: the column's
definition stays as it was, and reviewers weigh a data fix differently from a schema change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.core.doc import DEFAULT_TEMPLATE, DocEntry
from bot.core.doc_text import PLACEHOLDER
from bot.core.operations import TYPES, MigrationAnalysis
from bot.core.text import Code, Text

_MAIN_KINDS = frozenset(
    {"CREATE TABLE", "ALTER TABLE", "RENAME TABLE", "DROP TABLE"}
    | {"ADD COLUMN", "MODIFY COLUMN", "DROP COLUMN", "MERGE"}
)
_IN_A_TABLE = frozenset(
    {"RENAME TABLE", "ADD COLUMN", "MODIFY COLUMN", "DROP COLUMN", "CREATE INDEX", "DROP INDEX"}
    | {"ADD CONSTRAINT", "DROP CONSTRAINT"}
)
# Other words people write in Type, by the Type they mean.
_SYNONYMS = {
    "ALTER COLUMN": "MODIFY COLUMN",
    "CHANGE COLUMN": "MODIFY COLUMN",
    "RENAME COLUMN": "MODIFY COLUMN",
    "REMOVE COLUMN": "DROP COLUMN",
    "ADD TABLE": "CREATE TABLE",
    "REMOVE TABLE": "DROP TABLE",
    "ADD INDEX": "CREATE INDEX",
    "REMOVE INDEX": "DROP INDEX",
    "ADD FOREIGN KEY": "ADD CONSTRAINT",
    "ADD UNIQUE CONSTRAINT": "ADD CONSTRAINT",
    "CREATE ENUM": "CREATE TYPE",
    "ADD ENUM": "CREATE TYPE",
    "ALTER ENUM": "ALTER TYPE",
    "DATA": "DATA MIGRATION",
    "DATA FIX": "DATA MIGRATION",
    "BACKFILL": "DATA MIGRATION",
}
_NOTHING = {"", "none", "n/a", "na", "-", "no", "nothing"}


@dataclass(frozen=True)
class Disagreement:
    """One contradiction; an error when it hides lost data, else a warning."""

    level: Literal["error", "warning"]
    text: Text


def check(
    entry: DocEntry | None, analysis: MigrationAnalysis, is_merge: bool
) -> tuple[Disagreement, ...]:
    """What the entry says that the code contradicts, and what the code alone shows
    (without an entry, only the latter)."""
    if analysis.error:
        if entry is None:
            return ()
        text = f"The migration is not valid Python ({analysis.error}), so the entry went unchecked."
        return (Disagreement("warning", Text(text)),)
    if entry is None:
        return tuple(_code(analysis))
    return (
        *_type(entry, analysis, is_merge),
        *_tables(entry, analysis),
        *_losses(entry, analysis),
        *_code(analysis),
    )


def _value(entry: DocEntry, name: str) -> str | None:
    """A field's text, or None when it is absent or still the template's placeholder."""
    text = " ".join((entry.field(name) or "").split())
    placeholder = DEFAULT_TEMPLATE.placeholder(name) or ""
    if not text or PLACEHOLDER.search(text) or text.casefold() == placeholder.casefold():
        return None
    return text


def _covers(written: str, done: str) -> bool:
    return written == done or (
        "ALTER TABLE" in (written, done) and {written, done} - {"ALTER TABLE"} <= _IN_A_TABLE
    )


def _where(analysis: MigrationAnalysis, kind: str) -> Text:
    """The tables the upgrade's operations of a kind act on: " (`a`, `b`)"."""
    tables = dict.fromkeys(op.table for op in analysis.upgrade if op.kind == kind and op.table)
    return Text(" (", _quoted(list(tables)), ")") if tables else Text()


def _without_parentheses(text: str, instead: str) -> str:
    r"""`text` with each `(` up to the first `)` after it replaced by `instead`.

    What `re.sub(r"\([^)]*\)", instead, text)` does, in one pass: that pattern rescans the
    rest of the text from every `(` that has no `)` after it.
    """
    out: list[str] = []
    at = 0
    while (start := text.find("(", at)) >= 0 and (end := text.find(")", start)) >= 0:
        out += [text[at:start], instead]
        at = end + 1
    out.append(text[at:])
    return "".join(out)


def _without_table_word(name: str) -> str:
    """`orders table` and `orders tables` name `orders`."""
    words = name.rsplit(None, 1)
    if len(words) == 2 and words[1].casefold() in {"table", "tables"}:
        return words[0].rstrip()
    return name


def _type(entry: DocEntry, analysis: MigrationAnalysis, is_merge: bool) -> list[Disagreement]:
    value = _value(entry, "Type")
    if value is None:
        return []
    written: dict[str, str] = {}
    for word in re.split(r"[,|/;+&]|\band\b", _without_parentheses(value, "")):
        words = " ".join(re.sub(r"[^A-Za-z ]", " ", word).upper().split())
        kind = _SYNONYMS.get(words, words)
        if kind in TYPES:
            written.setdefault(kind, words)
    done = analysis.kinds
    unsaid = [
        kind
        for kind in TYPES
        if kind in (done & _MAIN_KINDS or done) and not any(_covers(w, kind) for w in written)
    ]
    undone = [
        words
        for kind, words in written.items()
        if not any(_covers(kind, d) for d in done) and not (kind == "MERGE" and is_merge)
    ]
    if not unsaid and not undone:
        return []
    parts = [Text(f"does no {', '.join(undone)}")] if undone else []
    if unsaid:
        does = Text.join(", ", (Text(kind, _where(analysis, kind)) for kind in unsaid))
        parts.append(Text("it does " if undone else "also does ", does))
    loses = any(op.destroys and op.kind in unsaid for op in analysis.upgrade)
    text = Text(f"Type says {value}, but the upgrade ", Text.join("; ", parts), ".")
    return [Disagreement("error" if loses else "warning", text)]


def _tables(entry: DocEntry, analysis: MigrationAnalysis) -> list[Disagreement]:
    value = _value(entry, "Tables Affected")
    if value is None:
        return []
    plain = _without_parentheses(value, " ")
    names = re.findall(r"`([^`]+)`", plain) or re.split(r"[,;]|\band\b", plain)
    cleaned = (_without_table_word(n.strip(' "*_')) for n in names)
    written = list(dict.fromkeys(n for n in cleaned if n.casefold() not in _NOTHING))
    found = []
    unlisted = [t for t in analysis.tables if not any(_same_table(w, t) for w in written)]
    if unlisted:
        text = Text(
            "Tables Affected does not list ", _quoted(unlisted), ", which the upgrade touches."
        )
        found.append(Disagreement("warning", text))
    # A table given by code may be one the entry lists: say nothing rather than guess.
    guessing = any(not op.resolved for op in analysis.upgrade)
    untouched = [w for w in written if not any(_same_table(w, t) for t in analysis.tables)]
    if untouched and not guessing:
        text = Text(
            "Tables Affected lists ", _quoted(untouched), ", which the upgrade does not touch."
        )
        found.append(Disagreement("warning", text))
    return found


def _same_table(written: str, table: str) -> bool:
    """`posts`, `public.posts` and `posts.visibility` all name table posts."""
    parts = written.casefold().split(".")
    return table.casefold() in (written.casefold(), parts[0], parts[-1])


def _quoted(names: list[str]) -> Text:
    return Text.join(", ", (Code(name) for name in names))


def _losses(entry: DocEntry, analysis: MigrationAnalysis) -> list[Disagreement]:
    """Destructive operations an entry calls harmless, or leaves without a way back.

    Entries under Current are history in the compact form, without a Rollback Plan.
    """
    if not analysis.destructive:
        return []
    what = "; ".join(
        dict.fromkeys(f"{op.destroys} (line {op.line})" for op in analysis.destructive)
    )
    found = []
    breaking = _value(entry, "Breaking Changes")
    if breaking is not None and re.match(r"(no|none|n/?a)\b", breaking, re.IGNORECASE):
        text = Text(f"Breaking Changes says No, but the upgrade {what}.")
        found.append(Disagreement("error", text))
    rollback = _value(entry, "Rollback Plan") or ""
    if entry.section != "current" and rollback.casefold().strip(" .") in _NOTHING:
        text = Text(f"The upgrade {what}, and there is no Rollback Plan.")
        found.append(Disagreement("error", text))
    return found


def _code(analysis: MigrationAnalysis) -> list[Disagreement]:
    """What the code alone tells reviewers to check: no way back, tables it hides."""
    found = []
    if analysis.empty_downgrade and analysis.upgrade:
        text = Text(
            "No way back: ",
            Code("downgrade()"),
            " does nothing, so ",
            Code("alembic downgrade"),
            " cannot undo it.",
        )
        found.append(Disagreement("warning", text))
    for op in analysis.upgrade:
        if op.resolved:
            continue
        if op.call.endswith(("execute", "exec_driver_sql")):
            sql = " ".join((op.sql or "").split())
            excerpt = f"{sql[:60]}{'...' if len(sql) > 60 else ''}"
            shown = Text(" (", Code(excerpt), ")") if sql else Text()
            text = Text(f"Line {op.line}: raw SQL", shown, " whose tables schemabot could not read")
        else:
            text = Text(f"Line {op.line}: ", Code(op.call), " takes its table or column from code")
        found.append(Disagreement("warning", text + "; check Tables Affected by hand."))
    return found
