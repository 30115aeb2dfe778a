"""A SCHEMA_CHANGES.md entry drafted from the migration itself, for a revision that has none.

Everything the code can tell is filled in; what only the author knows (Tested in Dev, Notes)
keeps the template's placeholder, so the entry shows what is left to write.
"""

from __future__ import annotations

import datetime
import re
from pathlib import PurePosixPath

from bot.core.doc_template import Template, render_entry_template
from bot.core.operations import TYPES, MigrationAnalysis, Operation
from bot.core.revision_file import Revision

# Words a title keeps in lower case unless they open or close it, as in "Replace Follows with
# Connections".
_SMALL_WORDS = frozenset(
    {"a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "nor", "of"}
    | {"on", "or", "per", "the", "to", "via", "vs", "with"}
)
_CONSTRAINTS = {
    "create_unique_constraint": "unique constraint",
    "create_foreign_key": "foreign key",
    "create_check_constraint": "check constraint",
    "create_primary_key": "primary key",
}
_ROWS = {"UPDATE": "updates rows of", "INSERT": "inserts rows into", "DELETE": "deletes rows from"}


def draft_entry(
    revision: Revision,
    analysis: MigrationAnalysis,
    author_name: str,
    path: str,
    template: Template,
    today: datetime.date,
) -> str:
    """The revision's entry in the template's shape, ready for `bot.core.doc_update.add_entry`."""
    fields = {
        "Date": today.isoformat(),
        "Author": author_name.strip(),
        "Migration File": f"`{script_path(path)}`",
        "Type": ", ".join(kind for kind in TYPES if kind in analysis.kinds),
        "Description": _description(revision, analysis),
        "Tables Affected": ", ".join(f"`{table}`" for table in analysis.tables) or "None",
        "Breaking Changes": _breaking(analysis),
        "Rollback Plan": _rollback(revision, analysis),
        "Applied to Prod": "No",
    }
    filled = {name: value for name, value in fields.items() if value}
    return render_entry_template(filled, revision.revision, title(revision), template)


def script_path(path: str) -> str:
    """The file as the document names it: `versions/<file>` when it sits in `versions/`."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    return "/".join(parts[-2:]) if len(parts) >= 2 and parts[-2] == "versions" else path


def title(revision: Revision) -> str:
    """The message's first line in Title Case; the file name's slug when there is no message."""
    line = (revision.message or "").strip().split("\n")[0].strip()
    if not line:
        stem = PurePosixPath(revision.path).stem
        line = stem.removeprefix(revision.revision).strip("_")
    if " " not in line:
        line = line.replace("_", " ")
    words = line.split()
    return " ".join(
        word
        if any(c.isupper() for c in word) or (word in _SMALL_WORDS and 0 < i < len(words) - 1)
        else word[:1].upper() + word[1:]
        for i, word in enumerate(words)
    )


def describe(operation: Operation) -> str:
    """What one operation does, as a clause: "adds column `visibility` to `posts`"."""
    op = operation
    table, column, name = (f"`{value or '?'}`" for value in (op.table, op.column, op.name))
    changes = ", ".join(f"renamed to {name}" if c == "rename" else c for c in op.changes)
    concurrently = " concurrently" if op.concurrently else ""
    constraint = _CONSTRAINTS.get(op.call.rsplit(".", 1)[-1], "constraint")
    phrases = {
        "CREATE TABLE": f"creates table {table}",
        "ALTER TABLE": f"alters table {table}",
        "RENAME TABLE": f"renames table {table} to {name}",
        "ADD COLUMN": f"adds column {column} to {table}",
        "MODIFY COLUMN": f"changes column {column} of {table}"
        + (f" ({changes})" if changes else ""),
        "CREATE INDEX": f"creates index {name}{concurrently}",
        "DROP INDEX": f"drops index {name}{concurrently}",
        "ADD CONSTRAINT": f"adds {constraint} {name} to {table}",
        "CREATE TYPE": f"creates type {name}",
        "ALTER TYPE": f"alters type {name}",
        "DROP TYPE": f"drops type {name}",
    }
    if op.kind in phrases:
        return phrases[op.kind]
    if op.destroys:
        return op.destroys
    if op.table is None:
        return "runs SQL schemabot could not read"
    if op.call.endswith("bulk_insert"):
        return f"inserts rows into {table}"
    return f"{_ROWS.get((op.sql or '').split(' ', 1)[0].upper(), 'changes rows of')} {table}"


def _clauses(operations: tuple[Operation, ...]) -> str:
    """The operations' clauses, each once, in order: "adds column `x` to `t`; creates ..."."""
    return "; ".join(dict.fromkeys(describe(op) for op in operations))


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _description(revision: Revision, analysis: MigrationAnalysis) -> str:
    message = _capitalized(" ".join((revision.message or "").split()))
    if message and not re.search(r"[.!?]$", message):
        message += "."
    if analysis.upgrade:
        does = _capitalized(_clauses(analysis.upgrade)) + "."
    elif revision.is_merge:
        does = f"Merges {' and '.join(f'`{r}`' for r in revision.down_revisions)}."
    else:
        does = "The upgrade changes nothing schemabot can read."
    return f"{message} {does}".strip()


def _breaking(analysis: MigrationAnalysis) -> str:
    losses = list(dict.fromkeys(op.destroys for op in analysis.destructive if op.destroys))
    return f"Yes - {'; '.join(losses)}" if losses else "No"


def _rollback(revision: Revision, analysis: MigrationAnalysis) -> str:
    parents = revision.down_revisions
    target = parents[0] if len(parents) == 1 else "base" if not parents else "-1"
    command = f"`alembic downgrade {target}`"
    if analysis.empty_downgrade:
        if analysis.upgrade:
            return "No downgrade: write a rollback migration"
        return f"{command}: nothing to undo"
    if not analysis.downgrade:
        return f"{command}: runs `downgrade()`, which schemabot could not read"
    lost = " (data the upgrade dropped is not restored)" if analysis.destructive else ""
    return f"{command}: {_clauses(analysis.downgrade)}{lost}"
