"""A database's schema as plain values (bot/core/drift.py), read with SQLAlchemy's inspector.

Tables of the default schema but Alembic's own `alembic_version`; for each: columns (type
as the dialect writes it, nullability, server default), primary key, indexes, unique, foreign
key and check constraints. Only read: nothing is written to the database.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError

from bot.core.drift import ColumnShape, Feature, SchemaShape, TableShape
from bot.errors import SchemabotError
from bot.migrations.versions import VERSION_TABLE
from bot.redact import Redactor


class ShapeUnreadable(SchemabotError):
    """The schema could not be read."""


def read_shape(database_url: str, redact: Redactor, name: str) -> SchemaShape:
    """The schema of the database at `database_url` (`name` says which, in errors)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            tables = [t for t in inspector.get_table_names() if t != VERSION_TABLE]
            return SchemaShape(
                {table: _table(inspector, table, engine.dialect) for table in sorted(tables)}
            )
    except SQLAlchemyError as exc:
        reason = redact(str(getattr(exc, "orig", None) or exc)).strip().splitlines()[:1]
        raise ShapeUnreadable(
            f"the schema of {name} could not be read: {' '.join(reason)}"
        ) from None
    finally:
        engine.dispose()


def _table(inspector: Any, table: str, dialect: Dialect) -> TableShape:
    columns = tuple(
        ColumnShape(
            column["name"],
            column["type"].compile(dialect=dialect),
            bool(column["nullable"]),
            None if column.get("default") is None else str(column["default"]),
        )
        for column in inspector.get_columns(table)
    )
    features: list[Feature] = []
    key = inspector.get_pk_constraint(table)
    if key.get("constrained_columns"):
        features.append(
            Feature("primary key", key.get("name") or "", _cols(key["constrained_columns"]))
        )
    for index in inspector.get_indexes(table):
        if index.get("duplicates_constraint"):
            continue  # a unique constraint's own index: the constraint is compared below
        unique = "UNIQUE " if index.get("unique") else ""
        features.append(
            Feature("index", index["name"] or "", unique + _cols(index["column_names"]))
        )
    for unique in inspector.get_unique_constraints(table):
        features.append(
            Feature("unique constraint", unique["name"] or "", _cols(unique["column_names"]))
        )
    for foreign in inspector.get_foreign_keys(table):
        options = " ".join(f"{k}={v}" for k, v in sorted((foreign.get("options") or {}).items()))
        target = f"{foreign['referred_table']}{_cols(foreign['referred_columns'])}"
        definition = f"{_cols(foreign['constrained_columns'])} -> {target} {options}".strip()
        features.append(Feature("foreign key", foreign.get("name") or "", definition))
    for check in inspector.get_check_constraints(table):
        features.append(Feature("check constraint", check.get("name") or "", str(check["sqltext"])))
    return TableShape(table, columns, tuple(sorted(features, key=lambda f: (f.kind, f.name))))


def _cols(names: list[str | None]) -> str:
    return "(" + ", ".join(str(name) for name in names) + ")"
