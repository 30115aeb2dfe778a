"""The "Template for New Entries" block: read from the document, filled in for drafts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.core.doc_text import FIELD, Field, Scan, content, field_prefix, fields_in, normalize_name

# The seed document's own template, used when a document has none.
_BUILTIN_TEMPLATE = """\
### [Migration ID] - [Brief Description]
- **Date**: YYYY-MM-DD
- **Author**: Your Name
- **Migration File**: `versions/xxxxx_description.py`
- **Type**: [CREATE TABLE | ALTER TABLE | DROP TABLE | ADD COLUMN | MODIFY COLUMN | etc.]
- **Description**: Detailed description of the change
- **Tables Affected**: List of tables modified
- **Breaking Changes**: Yes/No - If yes, describe impact
- **Rollback Plan**: How to rollback if needed
- **Tested in Dev**: Yes/No
- **Applied to Prod**: Yes/No - Date if yes
- **Notes**: Any additional notes or considerations
"""
_TEMPLATE_HEADING = re.compile(
    r"^(?P<hashes>[ \t]*#+[ \t]+)\[[^\]]*\](?P<sep>[^\[]*)\[[^\]]*\][ \t]*$"
)
MISSING_TEMPLATE = "No 'Template for New Entries' code block; using the built-in template."


@dataclass(frozen=True)
class Template:
    """The template's lines (without endings), its heading line and its fields."""

    lines: tuple[str, ...]
    heading: str
    fields: tuple[Field, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def placeholder(self, name: str) -> str | None:
        """The template's text for field `name`, compared case-insensitively."""
        wanted = normalize_name(name)
        return next((f.value for f in self.fields if normalize_name(f.name) == wanted), None)

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> Template:
        contents = tuple(content(line) for line in lines)
        heading = next((c for c in contents if c.lstrip().startswith("#")), "")
        return cls(contents, heading, tuple(fields_in(contents)))


DEFAULT_TEMPLATE = Template.from_lines(_BUILTIN_TEMPLATE.splitlines())


def find_template(scan: Scan) -> Template | None:
    """The first code block under a heading naming a template, if it has fields."""
    heading = next(
        ((i, level) for i, (level, text) in scan.headings.items() if "template" in text.lower()),
        None,
    )
    if heading is None:
        return None
    at, level = heading
    below = (j for j, (lv, _) in scan.headings.items() if j > at and lv <= level)
    limit = next(below, len(scan.lines))
    opening, closing = next(((o, c) for o, c in scan.fences if at < o < limit), (None, None))
    if opening is None:
        return None
    template = Template.from_lines(scan.lines[opening + 1 : closing or len(scan.lines)])
    return template if template.fields else None


def render_entry_template(
    fields: Mapping[str, str],
    revision_id: str,
    title: str,
    template: Template = DEFAULT_TEMPLATE,
) -> str:
    """A new entry in the template's exact shape, with `fields` (by name) filled in.

    Template fields not in `fields` keep their placeholder text, so the entry shows
    what is left to write; names in `fields` the template lacks follow its last field.
    A multi-line value continues on indented lines, which the parser reads back.
    """
    values = {normalize_name(name): value for name, value in fields.items()}
    out: list[str] = []
    after_fields, style = 0, None
    for text in template.lines:
        match = FIELD.match(text)
        if text == template.heading:
            out.append(_heading(text, revision_id, title))
        elif match:
            value = values.pop(normalize_name(match["name"]), None)
            out.extend(
                [text]
                if value is None
                else _field_lines(field_prefix(match, match["name"].strip()), value)
            )
            after_fields, style = len(out), match
        else:
            out.append(text)
    extra = [
        line
        for name, value in fields.items()
        if normalize_name(name) in values
        for line in _field_lines(field_prefix(style, name) if style else f"- **{name}**: ", value)
    ]
    out[after_fields:after_fields] = extra
    return "".join(line + "\n" for line in out)


def _heading(text: str, revision_id: str, title: str) -> str:
    match = _TEMPLATE_HEADING.match(text)
    hashes, sep = (match["hashes"], match["sep"]) if match else ("### ", " - ")
    return f"{hashes}{revision_id}{sep}{title}" if title else f"{hashes}{revision_id}"


def _field_lines(prefix: str, value: str) -> list[str]:
    lines = [line.strip() for line in value.splitlines() if line.strip()] or [""]
    return [(prefix + lines[0]).rstrip(), *(f"  {line}" for line in lines[1:])]
