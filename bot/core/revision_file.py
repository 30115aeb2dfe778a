"""One Alembic revision file, read with `ast`: migration files are unreviewed code, never run.

A value only running the file would tell (an imported constant, a call) is reported as unresolved
rather than guessed.
"""

import ast
import importlib.util
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from bot.errors import SchemabotError

_FIELDS = ("revision", "down_revision", "branch_labels", "depends_on", "__doc__")
_LEGACY_FILE = re.compile(r"([a-f0-9]+)\.py$")
# Ids are hex from `alembic revision` or words people type (`merge_enum_fix`): nothing
# Alembic reads as an operator (@ + - :), no path, space, markup or control character.
_ID_CHARS = re.compile(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*")
# Words Alembic reads as commands, not ids: `upgrade heads` would apply every head.
_RESERVED_IDS = frozenset({"head", "heads", "base"})
MAX_ID_LENGTH = 64
REVISION_FILE_LIMIT = 512 * 1024
"""Bytes of a revision file schemabot parses at most: a syntax tree takes some sixty times
its source in memory, and the largest real revision files are tens of KiB."""
_CREATE_DATE = re.compile(r"^Create Date:[ \t]*(.*?)[ \t]*$", re.MULTILINE)


class RevisionFileError(SchemabotError):
    """A file in a versions folder that cannot be read as a revision."""

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path, self.line, self.reason = path, line, reason
        self.detail = f"line {line}: {reason}" if line else reason
        super().__init__(f"{path}, {self.detail}" if line else f"{path}: {reason}")


@dataclass(frozen=True)
class Revision:
    """One revision file as Alembic reads it; `message` is None only when code sets `__doc__`."""

    revision: str
    down_revisions: tuple[str, ...]
    branch_labels: tuple[str, ...]
    depends_on: tuple[str, ...]
    path: str
    message: str | None
    create_date: str | None
    unresolved: tuple[str, ...] = ()

    @property
    def is_merge(self) -> bool:
        return len(self.down_revisions) > 1

    @property
    def is_base(self) -> bool:
        """No down revision; one set by code might be anything, so it is no base."""
        return not self.down_revisions and "down_revision" not in self.unresolved

    def to_json(self) -> dict[str, str | list[str] | None]:
        return {
            "revision": self.revision,
            "down_revisions": list(self.down_revisions),
            "branch_labels": list(self.branch_labels),
            "depends_on": list(self.depends_on),
            "path": self.path,
            "message": self.message,
            "create_date": self.create_date,
            "unresolved": list(self.unresolved),
        }


def parse_revision_source(source: str, path: str) -> Revision:
    """Read a revision file's source as Alembic would see the module, without running it."""
    if len(source) > REVISION_FILE_LIMIT:
        raise RevisionFileError(path, None, too_large_to_parse(len(source)))
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as e:
        raise RevisionFileError(path, e.lineno, f"not valid Python ({e.msg})") from e
    except ValueError as e:
        raise RevisionFileError(path, None, f"not valid Python ({e})") from e
    found = _bindings(tree)
    revision = _revision_id(found.get("revision"), path)
    if "down_revision" not in found:
        raise RevisionFileError(path, None, "no `down_revision = ...` (None for a first revision)")
    values: dict[str, tuple[str, ...]] = {}
    unresolved: list[str] = []
    for name in ("down_revision", "branch_labels", "depends_on"):
        values[name], known = _strings(name, *found[name], path) if name in found else ((), True)
        if not known:
            unresolved.append(name)
    message, create_date = _doc(tree, found.get("__doc__"))
    if message is None:
        unresolved.append("message")
    return Revision(
        revision,
        values["down_revision"],
        values["branch_labels"],
        values["depends_on"],
        path,
        message,
        create_date,
        tuple(unresolved),
    )


_Binding = tuple[ast.expr | None, int]


def _bindings(tree: ast.Module) -> dict[str, _Binding]:
    """The last module-level binding of each field: its value, or None when only code can tell."""
    found: dict[str, _Binding] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                found.update(_assigned(target, stmt.value, stmt.lineno))
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                found.update(_assigned(stmt.target, stmt.value, stmt.lineno))
        else:
            found.update((n, (None, stmt.lineno)) for n in _bound_names(stmt) if n in _FIELDS)
    return found


def _assigned(target: ast.expr, value: ast.expr, line: int) -> Iterator[tuple[str, _Binding]]:
    if isinstance(target, ast.Name):
        if target.id in _FIELDS:
            yield target.id, (value, line)
    elif (
        isinstance(target, ast.Tuple | ast.List)
        and isinstance(value, ast.Tuple | ast.List)
        and len(target.elts) == len(value.elts)
        and not any(isinstance(e, ast.Starred) for e in [*target.elts, *value.elts])
    ):
        for t, v in zip(target.elts, value.elts, strict=True):
            yield from _assigned(t, v, line)
    else:
        yield from ((n, (None, line)) for n in _bound_names(target) if n in _FIELDS)


def _bound_names(node: ast.AST) -> Iterator[str]:
    """Names a module-level statement binds or deletes, without looking into nested scopes."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        yield node.name
        return
    if isinstance(node, ast.Lambda) or (isinstance(node, ast.AnnAssign) and node.value is None):
        return
    if isinstance(node, ast.Import | ast.ImportFrom):
        for alias in node.names:
            yield from _FIELDS if alias.name == "*" else [alias.asname or alias.name.split(".")[0]]
        return
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
        yield node.id
    elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
        yield node.name
    elif isinstance(node, ast.MatchMapping) and node.rest:
        yield node.rest
    for child in ast.iter_child_nodes(node):
        yield from _bound_names(child)


class _Unknown:
    """The value of an expression only running the file would tell."""


_UNKNOWN = _Unknown()


def _literal(node: ast.expr | None) -> object:
    if node is None:
        return _UNKNOWN
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _UNKNOWN


def _revision_id(binding: _Binding | None, path: str) -> str:
    if binding is None:
        # Alembic 0.1 took the id from the file name when the module had no `revision`.
        legacy = _LEGACY_FILE.match(PurePosixPath(path).name)
        if legacy is None:
            raise RevisionFileError(path, None, 'no `revision = "..."`: not an Alembic revision')
        return legacy.group(1)
    node, line = binding
    value = _literal(node)
    if isinstance(value, _Unknown):
        raise RevisionFileError(path, line, "`revision` is set by code, which schemabot never runs")
    if not isinstance(value, str):
        raise RevisionFileError(path, line, "`revision` must be a string")
    reason = id_problem(value)
    if reason is not None:
        raise RevisionFileError(path, line, reason)
    return value


def decode_revision(data: bytes, path: str) -> str:
    """A revision file's bytes as Python's import reads them: its coding cookie or UTF-8,
    universal newlines. Bytes that are not text in their declared encoding (or declare one
    that does not exist) are a RevisionFileError, like any file that cannot be read."""
    try:
        return importlib.util.decode_source(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as e:
        raise RevisionFileError(path, None, "not text in its declared encoding") from e


def too_large_to_parse(size: int) -> str:
    return f"{size:,} bytes long; schemabot parses revision files of up to {REVISION_FILE_LIMIT:,}"


def id_problem(value: str) -> str | None:
    """Why `value` cannot be a revision id schemabot will ever apply, or None.

    Ids reach Alembic's command line (`upgrade <id>`) and Slack: Alembic reads `heads` and
    `base` as commands and `@`, `+`, `:` as operators, and an id of any length or with
    path characters has no business in a message or a block id.
    """
    if not value:
        return "the revision id is empty"
    if len(value) > MAX_ID_LENGTH:
        return f"the revision id is {len(value)} characters long; at most {MAX_ID_LENGTH}"
    if value.lower() in _RESERVED_IDS:
        return f"the revision id is `{value}`, a word Alembic reads as a command"
    if not _ID_CHARS.fullmatch(value):
        return (
            f"the revision id {value!r} is not letters, digits and `_` with single dots "
            "between them, which is all schemabot accepts"
        )
    return None


def _strings(
    name: str, node: ast.expr | None, line: int, path: str
) -> tuple[tuple[str, ...], bool]:
    """The strings a field holds (None, a string or a sequence of them), and if all are known."""
    if node is None:
        return (), False
    elements = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    values: list[str] = []
    known = True
    for element in elements:
        value = _literal(element)
        if isinstance(value, _Unknown):
            known = False
        elif isinstance(value, str):
            values.append(value)
        elif value is None and element is node:
            continue
        else:
            raise RevisionFileError(path, line, f"`{name}` must be None, a string or strings")
    return tuple(values), known


def _doc(tree: ast.Module, binding: _Binding | None) -> tuple[str | None, str | None]:
    """Alembic's message (first paragraph of the stripped `__doc__`) and the Create Date line.

    Only a string opening the module is its docstring: one placed after the imports, as in
    neutron, is not, and Alembic's message is then "".
    """
    doc = ast.get_docstring(tree, clean=False) if binding is None else _literal(binding[0])
    if isinstance(doc, _Unknown) or (doc and not isinstance(doc, str)):
        return None, None
    longdoc = doc.strip() if isinstance(doc, str) else ""
    date = _CREATE_DATE.search(longdoc)
    return longdoc.split("\n\n")[0], (date.group(1) or None) if date else None


def function_body(source: str, name: str) -> str | None:
    """A module-level function's code as a syntax tree dump (None when it has none or the
    file does not parse): equal for two files whose function does the same, whatever their
    comments, blank lines or docstrings elsewhere."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    found = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name
    ]
    return ast.dump(ast.Module(body=list(found[-1].body), type_ignores=[])) if found else None
