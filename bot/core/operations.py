"""What a migration does, read from its syntax tree: migration code is unreviewed and never run.

Every `op.*` call in `upgrade()` and `downgrade()` (and in the module's own functions they
call) becomes an Operation named in SCHEMA_CHANGES.md's Type vocabulary. A table or column
that only running the code would tell (a loop variable, an f-string) is left None and the
operation marked unresolved, never guessed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from bot.core.migration_ast import Module
from bot.core.migration_op import TYPES, Operation
from bot.core.revision_file import RevisionFileError, parse_revision_source

__all__ = ["TYPES", "MigrationAnalysis", "Operation", "analyze"]


@dataclass(frozen=True)
class MigrationAnalysis:
    """The operations of a revision file's `upgrade()` and `downgrade()`, in the order they run.

    `error` says why the file is not valid Python, when it is not: nothing else is then known.
    """

    path: str
    upgrade: tuple[Operation, ...]
    downgrade: tuple[Operation, ...]
    is_merge: bool
    empty_downgrade: bool
    error: str | None = None

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables the upgrade touches, sorted; a renamed table under both names."""
        renamed = {op.name for op in self.upgrade if op.kind == "RENAME TABLE"}
        return tuple(sorted(t for t in {op.table for op in self.upgrade} | renamed if t))

    @property
    def kinds(self) -> frozenset[str]:
        """The upgrade's Types; a merge revision whose upgrade does nothing is a MERGE."""
        if self.is_merge and not self.upgrade:
            return frozenset({"MERGE"})
        return frozenset(op.kind for op in self.upgrade)

    @property
    def destructive(self) -> tuple[Operation, ...]:
        """Upgrade operations that lose data or schema; each says what in `destroys`."""
        return tuple(op for op in self.upgrade if op.destroys)

    @property
    def unresolved(self) -> tuple[Operation, ...]:
        """Operations (upgrade, then downgrade) whose table or column only code could tell."""
        return tuple(op for op in (*self.upgrade, *self.downgrade) if not op.resolved)


def analyze(source: str, path: str) -> MigrationAnalysis:
    """Read what a revision file's upgrade and downgrade do; never raises."""

    try:
        tree = ast.parse(source, filename=path)
        module = Module(tree)
        upgrade, downgrade = module.read("upgrade"), module.read("downgrade")
    except SyntaxError as e:
        return MigrationAnalysis(path, (), (), False, False, f"line {e.lineno}: {e.msg}")
    except (ValueError, RecursionError) as e:
        return MigrationAnalysis(path, (), (), False, False, str(e) or "too deeply nested")
    try:
        is_merge = parse_revision_source(source, path).is_merge
    except RevisionFileError:
        is_merge = False
    body = module.functions["downgrade"].body if "downgrade" in module.functions else []
    empty = all(_does_nothing(stmt) for stmt in body)
    return MigrationAnalysis(path, upgrade, downgrade, is_merge, empty)


def _does_nothing(stmt: ast.stmt) -> bool:
    """`pass`, a docstring or `...`, or a `raise`: a downgrade of only these has no way back."""
    return isinstance(stmt, ast.Pass | ast.Raise) or (
        isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
    )
