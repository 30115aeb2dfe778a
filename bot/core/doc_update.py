"""Changes to SCHEMA_CHANGES.md as pure functions from text to text.

Each one touches only the lines it must (the entry, its position, `Last Updated`) and
keeps every other byte, line endings included. Each either returns the whole new text
or raises before producing any, and applying one twice gives the same text as once.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Sequence

from bot.core.doc import DocEntry, SchemaDoc
from bot.core.doc_text import (
    FIELD,
    LAST_UPDATED,
    Field,
    content,
    ending,
    field_prefix,
    is_blank,
    with_value,
)
from bot.errors import SchemabotError

# The Pending section's `_Add new migrations here before applying to production_`.
_ITALIC_LINE = re.compile(r"^[ \t]*([_*])[^_*].*\1[ \t]*$")

# A field's new value given the field as it is (None when absent); None leaves it out.
_FieldChange = tuple[str, Callable[[Field | None], str | None]]
# Lines [start, end) of the document are replaced by the new lines.
_Edit = tuple[int, int, list[str]]


class DocEntryNotFound(SchemabotError):
    """The document has no entry for the revision."""


class DocEntryExists(SchemabotError):
    """The document already has an entry for the revision."""


class DocFormatError(SchemabotError):
    """The document lacks a part the change needs."""


def mark_applied(text: str, revision_id: str, path: str | None, on: datetime.date) -> str:
    """Record the revision as applied on `on` and move its entry to the top of Current."""
    doc = SchemaDoc.parse(text)
    entry = _entry(doc, revision_id, path)
    current = doc.section("current")
    if current is None:
        raise DocFormatError(
            "SCHEMA_CHANGES.md has no '## Current Migrations' section to move the entry to."
        )
    date = on.isoformat()
    changes: list[_FieldChange] = [
        ("Applied to Prod", lambda _: f"Yes - {date}"),
        ("Status", lambda found: "Applied to prod" if found else None),
    ]
    if entry.section == "current":
        return _rewrite(doc, entry, changes, date)
    return _rewrite(doc, entry, changes, date, move_below=current.start)


def record_rollback(
    text: str, revision_id: str, path: str | None, on: datetime.date, note: str
) -> str:
    """Record in the revision's entry that it was rolled back on `on`, and why.

    The entry stays where it is: the rollback is history of that entry, and a later
    `mark_applied` moves or updates it as usual.
    """
    doc = SchemaDoc.parse(text)
    entry = _entry(doc, revision_id, path)
    date = on.isoformat()
    remark = f"Rolled back on {date}: {' '.join(note.split())}"
    changes: list[_FieldChange] = [
        ("Applied to Prod", lambda _: f"No - rolled back {date}"),
        ("Status", lambda found: f"Rolled back {date}" if found else None),
        ("Notes", lambda found: _with_remark(found, remark, doc)),
    ]
    return _rewrite(doc, entry, changes, date)


def add_entry(text: str, entry_markdown: str) -> str:
    """Insert a new entry at the top of the Pending section, below its italic hint line."""
    doc = SchemaDoc.parse(text)
    pending = doc.section("pending")
    if pending is None:
        raise DocFormatError("SCHEMA_CHANGES.md has no '## Pending Migrations' section.")
    new = SchemaDoc.parse(entry_markdown)
    if len(new.entries) != 1:
        raise DocFormatError(
            "A new entry must be exactly one '### <revision> - <title>' heading and its fields."
        )
    ref = new.entries[0].ref
    if any(e.ref == ref for e in doc.entries):
        raise DocEntryExists(f"SCHEMA_CHANGES.md already has an entry for {ref}.")
    lines, final_eol = _terminated(doc)
    eol = ending(lines[pending.start])
    block = [content(line) + eol for line in new.lines]
    while block and is_blank(block[-1]):
        block.pop()
    while block and is_blank(block[0]):
        block.pop(0)
    hint = next(
        (
            i
            for i in range(pending.start + 1, pending.end)
            if not doc.fenced[i] and _ITALIC_LINE.match(content(lines[i]))
        ),
        pending.start,
    )
    if any(e.start < hint for e in doc.entries if e.section == "pending"):
        hint = pending.start
    return _join(_splice(lines, [_insert_below(lines, hint, block, eol)]), final_eol)


def _entry(doc: SchemaDoc, revision_id: str, path: str | None) -> DocEntry:
    entry = doc.entry_for(revision_id, path)
    if entry is None:
        raise DocEntryNotFound(f"SCHEMA_CHANGES.md has no entry for revision {revision_id}.")
    return entry


def _with_remark(found: Field | None, remark: str, doc: SchemaDoc) -> str:
    """Notes with `remark` added: on its own line when the notes already span several."""
    if found is None:
        return remark
    if remark in found.text:
        return found.text
    if found.continuation:
        return f"{found.text}\n{remark}"
    value = found.value.rstrip()
    if value.lower() in {"", "none", "n/a", "-"} or value == doc.template.placeholder("Notes"):
        return remark
    return value + (" " if value.endswith((".", "!", "?", ";")) else "; ") + remark


def _rewrite(
    doc: SchemaDoc,
    entry: DocEntry,
    changes: Sequence[_FieldChange],
    date: str,
    move_below: int | None = None,
) -> str:
    """Apply `changes` to the entry, move it under line `move_below`, set Last Updated."""
    lines, final_eol = _terminated(doc)
    eol = ending(lines[entry.start])
    block = _changed_entry(lines, entry, changes)
    edits: list[_Edit] = []
    if move_below is None:
        edits.append((entry.start, entry.end, block))
    else:
        after = entry.end
        while after < len(lines) and is_blank(lines[after]):
            after += 1
        before = entry.start
        while after == entry.end == len(lines) and before > 0 and is_blank(lines[before - 1]):
            before -= 1
        edits.append((before, after, []))
        edits.append(_insert_below(lines, move_below, block, eol))
    if doc.last_updated is not None:
        at = doc.last_updated
        edits.append((at, at + 1, [with_value(lines[at], LAST_UPDATED, date)]))
    return _join(_splice(lines, edits), final_eol)


def _changed_entry(lines: list[str], entry: DocEntry, changes: Sequence[_FieldChange]) -> list[str]:
    """The entry's lines with each change applied; new fields follow its last field."""
    block = lines[entry.start : entry.end]
    after_fields = (entry.fields[-1].end if entry.fields else entry.start + 1) - entry.start
    style = FIELD.match(content(lines[entry.fields[-1].start])) if entry.fields else None
    eol = ending(block[after_fields - 1])
    added: list[str] = []
    replaced: list[tuple[Field, str]] = []
    for name, change in changes:
        found = entry.find(name)
        text = change(found)
        if text is not None and found is None:
            prefix = field_prefix(style, name) if style else f"- **{name}**: "
            added.append(prefix + text + eol)
        elif text is not None and found is not None:
            replaced.append((found, text))
    block[after_fields:after_fields] = added
    # Bottom-up, so each field's line indices still hold when it is rewritten.
    for found, text in sorted(replaced, key=lambda item: -item[0].start):
        at, end = found.start - entry.start, found.end - entry.start
        block[at:end] = _field_lines(block[at:end], text)
    return block


def _field_lines(old: list[str], text: str) -> list[str]:
    """A field's lines holding `text`, keeping each old line whose text stays the same."""
    first, *rest = text.split("\n")
    lines = [with_value(old[0], FIELD, first)]
    continuation = old[1:]
    for i, part in enumerate(rest):
        if i < len(continuation) and continuation[i].strip() == part:
            lines.append(continuation[i])
        else:
            like = continuation[min(i, len(continuation) - 1)] if continuation else "  "
            indent = like[: len(like) - len(like.lstrip())]
            lines.append(indent + part + ending(old[0]))
    return lines


def _insert_below(lines: list[str], anchor: int, block: list[str], eol: str) -> _Edit:
    """Put `block` after line `anchor` and the blank lines below it, one blank line apart."""
    at = anchor + 1
    while at < len(lines) and is_blank(lines[at]):
        at += 1
    lead = [] if at > anchor + 1 else [eol]
    trail = [eol] if at < len(lines) else []
    return (at, at, [*lead, *block, *trail])


def _terminated(doc: SchemaDoc) -> tuple[list[str], bool]:
    """The lines, each with an ending, and whether the text had a final one to begin with."""
    lines = list(doc.lines)
    if not lines or ending(lines[-1]):
        return lines, True
    crlf = sum(line.endswith("\r\n") for line in lines)
    lines[-1] += "\r\n" if crlf * 2 > len(lines) - 1 else "\n"
    return lines, False


def _join(lines: list[str], final_eol: bool) -> str:
    text = "".join(lines)
    return text if final_eol else content(text)


def _splice(lines: list[str], edits: list[_Edit]) -> list[str]:
    out: list[str] = []
    cursor = 0
    for start, end, new in sorted(edits, key=lambda edit: (edit[0], edit[1])):
        out += lines[cursor:start] + new
        cursor = end
    return out + lines[cursor:]
