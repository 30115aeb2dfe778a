"""Which repository files a module imports, read from its syntax tree without running it.

Used to find the application code `env.py` pulls in (`from app.models import Base`), so an
approval covers it too. Only what the syntax says is followed: `importlib` calls, imports
built from strings and `sys.path` edits are beyond a static reading, and the README says so.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import PurePosixPath


def imported_modules(source: str, module_path: str) -> tuple[str, ...]:
    """The dotted module names a file imports, with relative imports made absolute
    (given the file's path relative to an import root). Unparseable source imports nothing."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ()
    package = _package_of(module_path)
    found: dict[str, None] = {}
    for node in ast.walk(tree):
        for name in _names(node, package):
            found[name] = None
    return tuple(found)


def candidate_files(module: str) -> tuple[str, ...]:
    """The files (relative to an import root) that importing `module` may run, outermost
    package first: `a.b.c` -> `a/__init__.py`, `a/b/__init__.py`, `a/b/c.py`,
    `a/b/c/__init__.py`."""
    parts = module.split(".")
    if not all(part.isidentifier() for part in parts):
        return ()
    files = ["/".join(parts[:depth]) + "/__init__.py" for depth in range(1, len(parts))]
    files += ["/".join(parts) + ".py", "/".join(parts) + "/__init__.py"]
    return tuple(files)


def module_name(path: str) -> str:
    """The dotted name of a file relative to an import root (`a/b/__init__.py` -> `a.b`)."""
    parts = list(PurePosixPath(path).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package_of(module_path: str) -> list[str]:
    parts = list(PurePosixPath(module_path).parts)
    return parts[:-1]


def _names(node: ast.AST, package: list[str]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            if node.level - 1 > len(package):
                return
            base = package[: len(package) - (node.level - 1)]
            prefix = ".".join([*base, *([node.module] if node.module else [])])
        else:
            prefix = node.module or ""
        if not prefix:
            return
        yield prefix
        # `from a.b import c` may import the submodule a.b.c.
        yield from (f"{prefix}.{alias.name}" for alias in node.names if alias.name != "*")
