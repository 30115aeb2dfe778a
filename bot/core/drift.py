"""Drift: where a database's schema differs from what its migrations make.

bot/migrations/schema_shape.py reads a schema into the values below (tables, columns with
their types, nullability and defaults, and every index and constraint); `compare` holds the
schema the chain of migrations builds in a scratch database against the environment's own.
Before a production apply, drift on the tables the revision touches is a gate, which an
applier may override with a reason (kept in the audit log).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.core.text import Bold, Code, Text

DRIFT_OVERRIDE = "drift_override"
UNCHECKED = "unchecked"
"""The fingerprint of a drift check that could not run."""


@dataclass(frozen=True)
class ColumnShape:
    name: str
    type: str
    nullable: bool
    default: str | None

    def describe(self) -> str:
        null = "NULL" if self.nullable else "NOT NULL"
        default = f" DEFAULT {self.default}" if self.default is not None else ""
        return f"{self.type} {null}{default}"


@dataclass(frozen=True)
class Feature:
    """An index or a constraint of a table: its kind, name and definition as text."""

    kind: str
    name: str
    definition: str


@dataclass(frozen=True)
class TableShape:
    name: str
    columns: tuple[ColumnShape, ...]
    features: tuple[Feature, ...]


@dataclass(frozen=True)
class SchemaShape:
    tables: Mapping[str, TableShape]


@dataclass(frozen=True)
class Difference:
    """One way the environment differs from its migrations, on one table."""

    table: str
    subject: str
    expected: str | None
    """What the migrations make (None: nothing)."""
    actual: str | None
    """What the environment has (None: nothing)."""

    @property
    def fingerprint(self) -> str:
        """The same difference found again has the same one (posted once, overridden once)."""
        text = "\x00".join([self.table, self.subject, self.expected or "", self.actual or ""])
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def text(self) -> Text:
        where = Text(Code(self.table), " ", self.subject)
        if self.expected is None:
            return Text(where, " is there (", Code(self.actual or ""), "), not in the migrations")
        if self.actual is None:
            return Text(where, " is missing (the migrations make ", Code(self.expected), ")")
        return Text(where, " is ", Code(self.actual), "; the migrations make ", Code(self.expected))


def compare(expected: SchemaShape, actual: SchemaShape) -> tuple[Difference, ...]:
    """Every difference, table by table (sorted), columns first."""
    found: list[Difference] = []
    for name in sorted(set(expected.tables) | set(actual.tables)):
        made, have = expected.tables.get(name), actual.tables.get(name)
        if made is None or have is None:
            found.append(Difference(name, "(the table)", _table(made), _table(have)))
            continue
        found += _compare_parts(
            name,
            {f"column {c.name}": c.describe() for c in made.columns},
            {f"column {c.name}": c.describe() for c in have.columns},
        )
        found += _compare_parts(
            name,
            {f"{f.kind} {f.name}": f.definition for f in made.features},
            {f"{f.kind} {f.name}": f.definition for f in have.features},
        )
    return tuple(found)


def _table(shape: TableShape | None) -> str | None:
    if shape is None:
        return None
    return f"{len(shape.columns)} columns: " + ", ".join(c.name for c in shape.columns)


def _compare_parts(
    table: str, expected: Mapping[str, str], actual: Mapping[str, str]
) -> list[Difference]:
    return [
        Difference(table, subject, expected.get(subject), actual.get(subject))
        for subject in sorted(set(expected) | set(actual))
        if expected.get(subject) != actual.get(subject)
    ]


def fingerprint_of(differences: Iterable[Difference]) -> str:
    """One fingerprint for a set of differences (what an override covers)."""
    keys = sorted(d.fingerprint for d in differences)
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:32] if keys else ""


@dataclass(frozen=True)
class DriftOverride:
    actor: str
    reason: str
    fingerprint: str


@dataclass(frozen=True)
class DriftFacts:
    """What the drift gate of a production apply looks at."""

    revision: str
    environment: str
    tables: tuple[str, ...]
    """The tables the revision touches; empty when its code does not say (all count)."""
    differences: tuple[Difference, ...]
    error: str | None = None
    """Why drift could not be checked."""
    override: DriftOverride | None = None

    @property
    def relevant(self) -> tuple[Difference, ...]:
        if not self.tables:
            return self.differences
        return tuple(d for d in self.differences if d.table in self.tables)

    @property
    def fingerprint(self) -> str:
        return UNCHECKED if self.error is not None else fingerprint_of(self.relevant)


def drift_gate(facts: DriftFacts) -> tuple[bool, Text]:
    """Met when the tables the revision touches are as the migrations made them, or an
    applier accepted exactly the drift there is now."""
    if facts.error is None and not facts.relevant:
        return True, Text()
    if facts.override is not None and facts.override.fingerprint == facts.fingerprint:
        return True, Text()
    how = Text(
        ": fix it, or an applier runs ",
        Code(f"/schema override-drift {facts.revision} <why it is safe>"),
    )
    if facts.error is not None:
        return False, Text(
            "drift in ", Code(facts.environment), " could not be checked (", facts.error, ")", how
        )
    shown = Text.join("; ", (d.text() for d in facts.relevant[:5]))
    more = f" and {len(facts.relevant) - 5} more" if len(facts.relevant) > 5 else ""
    return False, Text(
        Code(facts.environment),
        " has drifted from its migrations on the tables it touches: ",
        shown,
        more,
        how,
    )


def drift_report(environment: str, at: Iterable[str], differences: tuple[Difference, ...]) -> Text:
    """The differences as `/schema drift` and `schemabot drift` show them, by table."""
    versions = Text.join(", ", (Code(v) for v in at)) or Text("no revision")
    if not differences:
        return Text(
            Bold(environment), " (at ", versions, ") is as its migrations make it: no drift."
        )
    lines = [
        Text(
            Bold(environment),
            " (at ",
            versions,
            f") differs from its migrations in {len(differences)} way"
            f"{'s' if len(differences) > 1 else ''}:",
        )
    ]
    lines += [Text("• ", difference.text()) for difference in differences]
    return Text.lines(lines)
