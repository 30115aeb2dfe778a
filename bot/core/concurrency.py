"""`CONCURRENTLY` done right: an index built or dropped concurrently must run outside a
transaction, which in Alembic means inside `op.get_context().autocommit_block()`.

PostgreSQL refuses CREATE INDEX CONCURRENTLY and DROP INDEX CONCURRENTLY inside a
transaction block, and Alembic runs a revision in one unless told otherwise: such a
revision fails in production. Read from the file's syntax tree, never run.
"""

from __future__ import annotations

from bot.core.card import Finding, Level
from bot.core.operations import MigrationAnalysis
from bot.core.text import Code, Text

CONCURRENT_KINDS = frozenset({"CREATE INDEX", "DROP INDEX"})


def concurrency_findings(analysis: MigrationAnalysis | None) -> tuple[Finding, ...]:
    """One error per concurrent index operation of `upgrade()` or `downgrade()` that runs
    inside a transaction."""
    if analysis is None:
        return ()
    found = []
    for where, operations in (("upgrade()", analysis.upgrade), ("downgrade()", analysis.downgrade)):
        for op in operations:
            if op.kind in CONCURRENT_KINDS and op.concurrently and not op.autocommit:
                what = Code(op.name) if op.name else Text("an index")
                found.append(
                    Finding(
                        Level.ERROR,
                        Text(
                            f"{where} line {op.line}: ",
                            Code(op.call),
                            f" {op.kind.split()[0].lower()}s ",
                            what,
                            " CONCURRENTLY inside the migration's transaction, which "
                            "PostgreSQL refuses: wrap it in ",
                            Code("with op.get_context().autocommit_block():"),
                            ".",
                        ),
                    )
                )
    return tuple(found)
