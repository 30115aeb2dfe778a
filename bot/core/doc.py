"""SCHEMA_CHANGES.md as data: sections, entries, the template, the checklist.

The document is kept as its original lines, endings included, and everything else is a
view on line indices, so `render()` is a join of those lines: parse-then-render is the
identity for any text, by construction. Parsing is total; what it could not make sense
of is listed in `warnings` for the card.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import PurePosixPath

from bot.core.doc_template import (
    DEFAULT_TEMPLATE,
    MISSING_TEMPLATE,
    Template,
    find_template,
    render_entry_template,
)
from bot.core.doc_text import (
    BREAK,
    ENTRY_HEADING,
    LAST_UPDATED,
    PLACEHOLDER,
    VALUE_AND_TRAIL,
    Field,
    Scan,
    Slugs,
    content,
    fields_in,
    is_blank,
    normalize_name,
    split_lines,
)

__all__ = [
    "DEFAULT_TEMPLATE",
    "ChecklistItem",
    "DocEntry",
    "Field",
    "SchemaDoc",
    "Section",
    "Template",
    "render_entry_template",
]

_CHECKLIST_ITEM = re.compile(
    r"^[ \t]*[-*+][ \t]+\[(?P<mark>[ xX])\][ \t]+" + VALUE_AND_TRAIL.replace("value", "text")
)
_MIN_PREFIX = 4
_KNOWN_SECTION = re.compile(r"(current|pending)\b")


@dataclass(frozen=True)
class Section:
    """A `## ` section: lines `start` (its heading) up to `end`, exclusive."""

    key: str
    title: str
    start: int
    end: int


@dataclass(frozen=True)
class DocEntry:
    """A `### <id> - <title>` entry: lines `start` (its heading) up to `end`, exclusive.

    `ref` is the id as written, `section` the key of its `## ` section ("" above any),
    `free_text` its other non-blank lines. It ends before the next heading of level 3
    or less, a `---` rule or the `Last Updated` line, trailing blank lines excluded.
    """

    ref: str
    title: str
    section: str
    fields: tuple[Field, ...]
    free_text: tuple[str, ...]
    start: int
    end: int

    def find(self, name: str) -> Field | None:
        """The first field called `name`, compared case-insensitively."""
        wanted = normalize_name(name)
        return next((f for f in self.fields if normalize_name(f.name) == wanted), None)

    def field(self, name: str) -> str | None:
        """The text of the field called `name`, compared case-insensitively."""
        found = self.find(name)
        return None if found is None else found.text

    def missing_fields(
        self, required: Iterable[str], template: Template | None = None
    ) -> tuple[str, ...]:
        """Required fields that are absent, empty or still hold placeholder text.

        Entries in Current are history in the compact form (`[Previous]` dates, no
        Author...), so they are never reported as incomplete.
        """
        if self.section == "current":
            return ()
        return tuple(name for name in required if self._is_missing(name, template))

    def _is_missing(self, name: str, template: Template | None) -> bool:
        value = (self.field(name) or "").strip()
        if not value or PLACEHOLDER.search(value):
            return True
        placeholder = template.placeholder(name) if template else None
        return placeholder is not None and value.casefold() == placeholder.casefold()


@dataclass(frozen=True)
class ChecklistItem:
    """A `- [ ] text` line; `key` is a slug fit for a Slack action value."""

    text: str
    key: str
    checked: bool
    line: int


@dataclass(frozen=True)
class SchemaDoc:
    """The document's lines and what they hold; `last_updated` is a line index."""

    lines: tuple[str, ...]
    sections: tuple[Section, ...]
    entries: tuple[DocEntry, ...]
    template: Template
    last_updated: int | None
    fenced: tuple[bool, ...] = field(repr=False)
    warnings: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> SchemaDoc:
        """Read any text; never fails, and what makes no sense ends up in `warnings`."""
        lines = split_lines(text)
        scan = Scan.of(lines)
        sections = _sections(scan)
        found = find_template(scan)
        template = found or DEFAULT_TEMPLATE
        last_updated = next(
            (i for i in reversed(range(len(lines))) if scan.plain(i, LAST_UPDATED)), None
        )
        doc = cls(lines, sections, _entries(scan, sections), template, last_updated, scan.fenced)
        warnings = (
            *scan.warnings,
            *([] if found else [MISSING_TEMPLATE]),
            *doc._structure_warnings(),
        )
        return replace(doc, warnings=warnings)

    def render(self) -> str:
        return "".join(self.lines)

    def section(self, key: str) -> Section | None:
        """The first section with this key ("current", "pending", or its lower-cased title)."""
        return next((s for s in self.sections if s.key == key), None)

    def _section_containing(self, word: str) -> Section | None:
        return next((s for s in self.sections if word in s.key), None)

    def checklist(self) -> tuple[ChecklistItem, ...]:
        """The "Migration Checklist" section's `- [ ]` items, in order."""
        return self._checklist

    @cached_property
    def _checklist(self) -> tuple[ChecklistItem, ...]:
        section = self._section_containing("checklist")
        if section is None:
            return ()
        items: list[ChecklistItem] = []
        keys = Slugs()
        for i in range(section.start + 1, section.end):
            match = _CHECKLIST_ITEM.match(content(self.lines[i]))
            if match and not self.fenced[i]:
                key = keys.key(match["text"])
                items.append(ChecklistItem(match["text"], key, match["mark"] != " ", i))
        return tuple(items)

    def rollback_procedure(self) -> str:
        """The "Rollback Procedures" section's body with `\\n` endings, for posting."""
        section = self._section_containing("rollback")
        if section is None:
            return ""
        body = [content(line) for line in self.lines[section.start + 1 : section.end]]
        while body and (is_blank(body[-1]) or BREAK.match(body[-1])):
            body.pop()
        return "\n".join(body).strip("\n")

    def entry_for(self, revision_id: str, path: str | None = None) -> DocEntry | None:
        """The entry for a revision: by exact id, by id prefix, then by Migration File."""
        claims = self._claims(revision_id, path)
        return claims[0] if claims else None

    def duplicate_entries(self, revision_id: str, path: str | None = None) -> tuple[DocEntry, ...]:
        """Every entry claiming the revision when more than one does, else nothing."""
        claims = self._claims(revision_id, path)
        return claims if len(claims) > 1 else ()

    def _claims(self, revision_id: str, path: str | None) -> tuple[DocEntry, ...]:
        exact = self._by_ref.get(revision_id, [])
        prefix = sorted(
            (
                entry
                for length in range(_MIN_PREFIX, len(revision_id))
                for entry in self._by_ref.get(revision_id[:length], [])
            ),
            key=lambda entry: entry.start,
        )
        by_file = self._by_file.get(_file_name(path), []) if path else []
        unique: dict[int, DocEntry] = {}
        for entry in (*exact, *prefix, *by_file):
            unique.setdefault(entry.start, entry)
        return tuple(unique.values())

    @cached_property
    def _by_ref(self) -> dict[str, list[DocEntry]]:
        """Entries by the id their heading gives, for lookups that do not walk them all."""
        index: dict[str, list[DocEntry]] = {}
        for entry in self.entries:
            index.setdefault(entry.ref, []).append(entry)
        return index

    @cached_property
    def _by_file(self) -> dict[str, list[DocEntry]]:
        """Entries by the file name their Migration File field gives."""
        index: dict[str, list[DocEntry]] = {}
        for entry in self.entries:
            name = _named_file(entry)
            if name:
                index.setdefault(name, []).append(entry)
        return index

    def _structure_warnings(self) -> list[str]:
        warnings: list[str] = []
        if not self.sections:
            warnings.append("The document has no '## ' sections.")
        if self.section("current") is None:
            warnings.append("No '## Current Migrations' section.")
        if self.section("pending") is None:
            warnings.append("No '## Pending Migrations' section.")
        if self._section_containing("checklist") is None:
            warnings.append("No '## Migration Checklist' section.")
        elif not self.checklist():
            warnings.append("The Migration Checklist has no '- [ ]' items.")
        seen: dict[str, DocEntry] = {}
        for entry in self.entries:
            first = seen.setdefault(entry.ref, entry)
            if first is not entry:
                warnings.append(
                    f"Duplicate entries for {entry.ref} (lines {first.start + 1}"
                    f" and {entry.start + 1})."
                )
        return warnings


def _named_file(entry: DocEntry) -> str:
    """The file name an entry's Migration File field gives ("" when none)."""
    value = (entry.field("Migration File") or "").strip()
    quoted = re.search(r"`([^`]+)`", value)
    named = (quoted[1] if quoted else value).strip()
    return _file_name(named) if named else ""


def _file_name(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).name


def _sections(scan: Scan) -> tuple[Section, ...]:
    """Each `## ` heading up to the next heading of level 2 or less, in one pass."""
    bounds = [i for i, (level, _) in scan.headings.items() if level <= 2]
    sections = []
    for i, end in zip(bounds, [*bounds[1:], len(scan.lines)][: len(bounds)], strict=True):
        level, title = scan.headings[i]
        if level == 2:
            sections.append(Section(_section_key(title), title, i, end))
    return tuple(sections)


def _section_key(title: str) -> str:
    lowered = title.strip().lower()
    known = _KNOWN_SECTION.match(lowered)
    return known[1] if known else lowered


def _entries(scan: Scan, sections: tuple[Section, ...]) -> tuple[DocEntry, ...]:
    entries = []
    starts = [section.start for section in sections]
    for start, (level, text) in scan.headings.items():
        match = ENTRY_HEADING.match(text)
        if level != 3 or match is None:
            continue
        end = start + 1
        while end < len(scan.lines) and not _ends_entry(scan, end):
            end += 1
        while end > start + 1 and is_blank(scan.lines[end - 1]):
            end -= 1
        body = range(start + 1, end)
        fields = tuple(fields_in(scan.lines, body, scan.fenced))
        ref = match["ref"]
        if not (fields or any(c.isdigit() or c == "_" for c in ref)):
            continue
        covered = {i for f in fields for i in range(f.start, f.end)}
        free = tuple(
            content(scan.lines[i]) for i in body if i not in covered and not is_blank(scan.lines[i])
        )
        at = bisect.bisect_left(starts, start) - 1
        section = sections[at].key if at >= 0 and start < sections[at].end else ""
        entries.append(DocEntry(ref, match["title"] or "", section, fields, free, start, end))
    return tuple(entries)


def _ends_entry(scan: Scan, index: int) -> bool:
    heading = scan.headings.get(index)
    return (heading is not None and heading[0] <= 3) or bool(
        scan.plain(index, BREAK) or scan.plain(index, LAST_UPDATED)
    )
