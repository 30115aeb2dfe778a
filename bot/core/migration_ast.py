"""The Operations in a migration's syntax tree: `op.*` calls, SQL run, enum types made.

The reading is static: a name stands for the value of its last plain assignment above it, and
a call into the module's own functions is followed once. What only running the code would tell
is left None, never guessed.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import TypeGuard

from bot.core.migration_op import Operation
from bot.core.raw_sql import sql_operations

# Alembic's operations: their Type and positional parameters. Inside a batch_alter_table
# block the table parameter is absent and the others move up.
_OPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "create_table": ("CREATE TABLE", ("table_name",)),
    "drop_table": ("DROP TABLE", ("table_name",)),
    "rename_table": ("RENAME TABLE", ("old_table_name", "new_table_name")),
    "add_column": ("ADD COLUMN", ("table_name", "column")),
    "drop_column": ("DROP COLUMN", ("table_name", "column_name")),
    "alter_column": ("MODIFY COLUMN", ("table_name", "column_name")),
    "create_index": ("CREATE INDEX", ("index_name", "table_name")),
    "drop_index": ("DROP INDEX", ("index_name", "table_name")),
    "create_unique_constraint": ("ADD CONSTRAINT", ("constraint_name", "table_name")),
    "create_primary_key": ("ADD CONSTRAINT", ("constraint_name", "table_name")),
    "create_check_constraint": ("ADD CONSTRAINT", ("constraint_name", "table_name")),
    "create_foreign_key": ("ADD CONSTRAINT", ("constraint_name", "source_table")),
    "drop_constraint": ("DROP CONSTRAINT", ("constraint_name", "table_name")),
    "bulk_insert": ("DATA MIGRATION", ("table",)),
    "execute": ("DATA MIGRATION", ("sqltext",)),
}
_TABLE_PARAMS = ("table_name", "source_table", "old_table_name", "table")
_COLUMN_PARAMS = ("column_name", "column")
_NAME_PARAMS = ("index_name", "constraint_name", "new_table_name", "new_column_name")
_OLD_KEYWORDS = {"index_name": "name", "constraint_name": "name", "source_table": "source"}
_ALTERATIONS = (
    ("type", "type_"),
    ("not null", "nullable"),
    ("server default", "server_default"),
    ("rename", "new_column_name"),
)
# Calls whose first argument names what they make: op.f("ix"), sa.table("t"), sa.Column("c").
_NAMING_CALLS = {"f", "conv", "text", "table", "Table", "create_table", "Column", "quoted_name"}
_DML = {"update", "insert", "delete"}

_Function = ast.FunctionDef | ast.AsyncFunctionDef
# Each name's bindings by line: the value of a plain `name = value`, else None.
_Scope = dict[str, list[tuple[int, ast.expr | None]]]


def _bindings(nodes: list[ast.AST]) -> _Scope:
    scope: _Scope = {}
    plain: set[int] = set()
    for assign in (node for node in nodes if isinstance(node, ast.Assign)):
        for target in assign.targets:
            if isinstance(target, ast.Name):
                plain.add(id(target))
                scope.setdefault(target.id, []).append((assign.lineno, assign.value))
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and id(node) not in plain:
            scope.setdefault(node.id, []).append((node.lineno, None))
        elif isinstance(node, ast.arg):
            scope.setdefault(node.arg, []).append((node.lineno, None))
    for bound in scope.values():
        bound.sort(key=lambda binding: binding[0])
    return scope


def _callee(node: ast.AST | None) -> str:
    """The last name of what is called: `sa.Column(...)` -> "Column"."""
    func = node.func if isinstance(node, ast.Call) else node
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _keyword(call: ast.AST | None, name: str) -> ast.expr | None:
    keywords = call.keywords if isinstance(call, ast.Call) else []
    return next((k.value for k in keywords if k.arg == name), None)


def _argument(call: ast.Call, params: tuple[str, ...], param: str) -> ast.expr | None:
    """An argument by keyword (or its older Alembic keyword), else by position."""
    found = _keyword(call, param) or _keyword(call, _OLD_KEYWORDS.get(param, param))
    if found is not None or param not in params:
        return found
    at = params.index(param)
    if at >= len(call.args) or any(isinstance(a, ast.Starred) for a in call.args[: at + 1]):
        return None
    return call.args[at]


def _is_enum(node: ast.AST | None) -> TypeGuard[ast.Call]:
    return isinstance(node, ast.Call) and _callee(node) in ("Enum", "ENUM")


def _is_constant(node: ast.AST | None, value: bool) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


class Module:
    """What a file's functions are read against: op's names, module bindings, helpers."""

    def __init__(self, tree: ast.Module) -> None:
        self.functions = {s.name: s for s in tree.body if isinstance(s, _Function)}
        imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
        self.op_names = {
            alias.asname or alias.name
            for node in imports
            for alias in node.names
            if (
                isinstance(node, ast.ImportFrom) and node.module == "alembic" and alias.name == "op"
            )
            or (alias.name == "alembic.op" and alias.asname)
        } or {"op"}
        top = [s for s in tree.body if not isinstance(s, _Function | ast.ClassDef)]
        self.scope = _bindings([node for stmt in top for node in ast.walk(stmt)])

    def read(self, name: str) -> tuple[Operation, ...]:
        """The operations of the function `name`, in the order they run; none if it is absent."""
        reader = _Reader(self)
        if name in self.functions:
            reader.read_function(self.functions[name])
        return tuple(reader.ops)


class _Reader(ast.NodeVisitor):
    """Walks one function, and the module's functions it calls, collecting operations."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.ops: list[Operation] = []
        self.scopes: list[_Scope] = []
        self.batches: list[dict[str, str | None]] = []
        self.seen: set[str] = set()
        self.autocommit = 0
        """How many `autocommit_block()`s the walk is inside."""

    def read_function(self, function: _Function) -> None:
        if function.name not in self.seen:
            self.seen.add(function.name)
            self.scopes.append(_bindings(list(ast.walk(function))))
            for stmt in function.body:
                self.visit(stmt)
            self.scopes.pop()

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        """`with op.batch_alter_table("t") as batch_op:` makes `batch_op.*` act on table t."""
        aliases = {
            item.optional_vars.id: self._text(_argument(context, ("table_name",), "table_name"))
            for item in node.items
            if isinstance(context := item.context_expr, ast.Call)
            and isinstance(context.func, ast.Attribute)
            and context.func.attr == "batch_alter_table"
            and self._is_op(context.func.value)
            and isinstance(item.optional_vars, ast.Name)
        }
        autocommit = any(
            isinstance(item.context_expr, ast.Call)
            and _callee(item.context_expr) == "autocommit_block"
            for item in node.items
        )
        self.batches.append(aliases)
        self.autocommit += autocommit
        self.generic_visit(node)
        self.autocommit -= autocommit
        self.batches.pop()

    visit_AsyncWith = visit_With

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        target = func.value if isinstance(func, ast.Attribute) else None
        batch = [
            b[target.id] for b in self.batches if isinstance(target, ast.Name) and target.id in b
        ]
        if isinstance(func, ast.Name) and func.id in self.module.functions:
            self.read_function(self.module.functions[func.id])
        elif isinstance(func, ast.Attribute) and (self._is_op(func.value) or batch):
            self._alembic(node, func.attr, (batch[-1],) if batch else None)
        elif _callee(func) in ("execute", "exec_driver_sql") and self._is_connection(target):
            self._execute(node, node.args[0] if node.args else None)
        elif _callee(func) in ("create", "drop") and _is_enum(enum := self._resolve(target)):
            self._enum(node, enum, f"{_callee(func).upper()} TYPE", None)
        self.generic_visit(node)

    def _resolve(self, node: ast.AST | None, local: bool = True, depth: int = 0) -> ast.AST | None:
        """What a name stands for: its function's last binding above it, else the module's last.

        A static reading, so loops and branches can fool it; that is why a name bound any way
        but a plain assignment stands for nothing known.
        """
        if not isinstance(node, ast.Name) or depth > 8:
            return node
        bound = self.scopes[-1].get(node.id) if local else None
        if bound is not None:
            earlier = [value for line, value in bound if line < node.lineno]
            return self._resolve(earlier[-1], True, depth + 1) if earlier else None
        bound = self.module.scope.get(node.id)
        return self._resolve(bound[-1][1], False, depth + 1) if bound else None

    def _text(self, node: ast.AST | None) -> str | None:
        """A literal name or SQL, also through `op.f(...)`, `sa.table(...)`, `sa.text(...)`."""
        node = self._resolve(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Call) and _callee(node) in _NAMING_CALLS and node.args:
            return self._text(node.args[0])
        return None

    def _is_op(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Attribute):
            return node.attr == "op" and _callee(node.value) == "alembic"
        return isinstance(node, ast.Name) and node.id in self.module.op_names

    def _is_connection(self, node: ast.AST | None) -> bool:
        """Whether `node` is (or is built from) `op.get_bind()`, so its `.execute` runs SQL."""
        resolved = self._resolve(node)
        return resolved is not None and any(
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == "get_bind"
            and self._is_op(n.func.value)
            for n in ast.walk(resolved)
        )

    def _alembic(self, node: ast.Call, method: str, batch: tuple[str | None] | None) -> None:
        """`op.<method>(...)`, or `batch_op.<method>(...)` acting on the batch's table."""
        if method not in _OPS:
            return
        kind, params = _OPS[method]
        if batch is not None:
            params = tuple(p for p in params if p not in _TABLE_PARAMS)
        if method == "execute":
            self._execute(node, _argument(node, params, "sqltext"))
            return
        given = next((a for p in _TABLE_PARAMS if (a := _argument(node, params, p))), None)
        table = batch[0] if batch is not None else self._text(given)
        column = next(
            (self._text(a) for p in _COLUMN_PARAMS if (a := _argument(node, params, p))), None
        )
        name = next(
            (self._text(a) for p in _NAME_PARAMS if (a := _argument(node, params, p))), None
        )
        # drop_index may leave out its table: the index name alone says which.
        resolved = (
            table is not None or (given is None and method == "drop_index" and not batch)
        ) and (column is not None or not kind.endswith("COLUMN"))
        changes = tuple(
            change
            for change, keyword in _ALTERATIONS
            if method == "alter_column"
            and (value := _keyword(node, keyword)) is not None
            and (change != "not null" or _is_constant(value, False))
        )
        destroys = {
            "DROP TABLE": f"drops table `{table or '?'}`",
            "DROP COLUMN": f"drops column `{column or '?'}` of `{table or '?'}`",
            "DROP CONSTRAINT": f"drops constraint `{name or '?'}` of `{table or '?'}`",
        }.get(kind)
        if "type" in changes:
            old, new = _keyword(node, "existing_type"), _keyword(node, "type_")
            since = f" from {ast.unparse(old)}" if old is not None else ""
            to = f" to {ast.unparse(new)}" if new is not None else ""
            destroys = f"changes the type of column `{column}` of `{table}`{since}{to}"
        concurrently = _is_constant(_keyword(node, "postgresql_concurrently"), True)
        call, line = ast.unparse(node.func), node.lineno
        self.ops.append(
            Operation(
                kind,
                call,
                table,
                column,
                line,
                name=name,
                changes=changes,
                concurrently=concurrently,
                autocommit=self.autocommit > 0,
                destroys=destroys,
                resolved=resolved,
            )
        )
        if method == "create_table":
            # SQLAlchemy creates a column's enum type with the table, unless told not to.
            for part in ast.walk(node):
                enum = self._resolve(part)
                if _is_enum(enum) and not _is_constant(_keyword(enum, "create_type"), False):
                    self._enum(enum, enum, "CREATE TYPE", table)

    def _enum(self, node: ast.Call, enum: ast.AST | None, kind: str, table: str | None) -> None:
        """An enum type created or dropped, once per name: SQLAlchemy checks before creating."""
        name = self._text(_keyword(enum, "name"))
        if name is None or not any(op.kind == kind and op.name == name for op in self.ops):
            self.ops.append(Operation(kind, ast.unparse(node.func), table, None, node.lineno, name))

    def _execute(self, node: ast.Call, statement: ast.AST | None) -> None:
        """SQL run by `op.execute` or a connection: a literal, a table's DML, or unknown."""
        call, line = ast.unparse(node.func), node.lineno
        query = self._resolve(statement)
        while isinstance(query, ast.Call) and _callee(query) not in _NAMING_CALLS:
            if _callee(query) == "select":
                return
            if _callee(query) in _DML:
                table = self._text(
                    query.args[0] if query.args else getattr(query.func, "value", None)
                )
                self.ops.append(
                    Operation("DATA MIGRATION", call, table, None, line, resolved=bool(table))
                )
                return
            query = (
                self._resolve(query.func.value) if isinstance(query.func, ast.Attribute) else None
            )
        sql = self._text(query)
        if sql is None:
            self.ops.append(Operation("DATA MIGRATION", call, None, None, line, resolved=False))
        else:
            self.ops.extend(
                replace(
                    op,
                    concurrently=" CONCURRENTLY " in f" {(op.sql or '').upper()} ",
                    autocommit=self.autocommit > 0,
                )
                for op in sql_operations(sql, call, line)
            )
