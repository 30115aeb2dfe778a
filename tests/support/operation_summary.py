"""Operations as tuples, for comparing what a migration does with what a test expects."""

from bot.core.operations import Operation

Summary = tuple[str, str | None, str | None, str | None, int]


def summary(operations: tuple[Operation, ...]) -> list[Summary]:
    """Each operation as (kind, table, column, name, line)."""
    return [(op.kind, op.table, op.column, op.name, op.line) for op in operations]
