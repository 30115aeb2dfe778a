"""One change a migration makes, and the Type words SCHEMA_CHANGES.md names changes with."""

from __future__ import annotations

from dataclasses import dataclass

# The Type vocabulary, in the order a drafted entry lists it.
TYPES = (
    *("CREATE TABLE", "ALTER TABLE", "RENAME TABLE", "DROP TABLE"),
    *("ADD COLUMN", "MODIFY COLUMN", "DROP COLUMN", "CREATE INDEX", "DROP INDEX"),
    *("ADD CONSTRAINT", "DROP CONSTRAINT", "CREATE TYPE", "ALTER TYPE", "DROP TYPE"),
    *("DATA MIGRATION", "MERGE"),
)


@dataclass(frozen=True)
class Operation:
    """One change a migration makes.

    `kind` is a Type word ("ADD COLUMN"); `call` the callee as written ("batch_op.add_column");
    `name` the index, constraint or enum name, or the new name of a renamed table or column;
    `sql` one statement of a raw SQL literal; `changes` what an alter_column changes ("type",
    "not null", "server default", "rename"); `destroys` what it loses, if it loses anything.
    """

    kind: str
    call: str
    table: str | None
    column: str | None
    line: int
    name: str | None = None
    sql: str | None = None
    changes: tuple[str, ...] = ()
    concurrently: bool = False
    autocommit: bool = False
    """It runs inside `with op.get_context().autocommit_block():`, outside a transaction."""
    destroys: str | None = None
    resolved: bool = True
