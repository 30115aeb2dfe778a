"""What a raw SQL literal in a migration does, read from its text: matched, never parsed.

Each statement is known by its verb and the table it opens with, and an ALTER TABLE by its
first clause: whether a column, a constraint or the table's name changes. A statement no
pattern fits is kept as an unresolved DATA MIGRATION.
"""

from __future__ import annotations

import re

from bot.core.migration_op import Operation

# Raw SQL is matched with its whitespace collapsed to single spaces.
_SQL_NAME = r"(?P<name>[\w$]+|\"[^\"]+\"|`[^`]+`)"
_SQL_TABLE = re.compile(
    r"(?P<verb>UPDATE|INSERT INTO|DELETE FROM|ALTER TABLE|DROP TABLE|TRUNCATE|CREATE (?:\w+ )?TABLE"
    r"|CREATE (?:UNIQUE )?INDEX .*? ON) (?:TABLE |IF (?:NOT )?EXISTS |ONLY )*"
    rf"(?:[\w$]+\.|\"[^\"]+\"\.)?{_SQL_NAME}",
    re.IGNORECASE,
)
_SQL_KINDS = {"DROP": "DROP TABLE", "CREATE": "CREATE TABLE", "ALTER": "ALTER TABLE"}
_SQL_CLAUSE = re.compile(
    r"\b(?P<clause>(?:ADD|DROP|ALTER|RENAME) COLUMN|RENAME TO|(?:ADD|DROP) CONSTRAINT)"
    rf"(?: IF (?:NOT )?EXISTS)?(?: {_SQL_NAME})?",
    re.IGNORECASE,
)
# Statements on objects that belong to no one table; an index name is unique in its schema.
_SQL_TABLELESS = re.compile(
    r"(?P<kind>(?:CREATE|ALTER|DROP) TYPE|DROP INDEX)(?: CONCURRENTLY)? (?:IF (?:NOT )?EXISTS )?"
    rf"(?:[\w$]+\.)?{_SQL_NAME}",
    re.IGNORECASE,
)
_CLAUSE_KINDS = {"ALTER COLUMN": "MODIFY COLUMN", "RENAME COLUMN": "MODIFY COLUMN"}
_SQL_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


def sql_operations(sql: str, call: str, line: int) -> list[Operation]:
    """A raw SQL literal's statements as operations, leaving out queries, which change nothing.

    A data-changing CTE (`WITH ... UPDATE`) is kept, with its table unknown.
    """
    found = []
    for statement in _SQL_COMMENT.sub(" ", sql).split(";"):
        text = " ".join(statement.split())
        verb = text.split(" ", 1)[0].upper()
        if not text or verb in ("SELECT", "SHOW", "EXPLAIN"):
            continue
        if tableless := _SQL_TABLELESS.match(text):
            kind, name = tableless["kind"].upper(), tableless["name"].strip('"`')
            found.append(Operation(kind, call, None, None, line, name, sql=text))
        elif target := _SQL_TABLE.match(text):
            found.append(_sql_operation(text, target, call, line))
        else:
            unknown = Operation("DATA MIGRATION", call, None, None, line, sql=text, resolved=False)
            found.append(unknown)
    return found


def _sql_operation(sql: str, target: re.Match[str], call: str, line: int) -> Operation:
    table, column, name = target["name"].strip('"`'), None, None
    verb = target["verb"].split(" ", 1)[0].upper()
    kind = "CREATE INDEX" if "INDEX" in target["verb"].upper() else _SQL_KINDS.get(verb)
    clause = _SQL_CLAUSE.search(sql) if verb == "ALTER" else None
    if clause is not None:
        words, named = clause["clause"].upper(), (clause["name"] or "").strip('"`') or None
        kind = _CLAUSE_KINDS.get(words, "RENAME TABLE" if words == "RENAME TO" else words)
        column, name = (named, None) if "COLUMN" in words else (None, named)
    destroys = {
        "DROP TABLE": f"drops table `{table}`",
        "DROP COLUMN": f"drops column `{column}` of `{table}`",
        "DROP CONSTRAINT": f"drops constraint `{name}` of `{table}`",
    }.get(kind or "")
    if verb == "TRUNCATE":
        destroys = f"empties table `{table}`"
    elif kind == "MODIFY COLUMN" and re.search(r"\bTYPE\b", sql, re.IGNORECASE):
        destroys = f"changes the type of column `{column}` of `{table}`"
    kind = kind or "DATA MIGRATION"
    return Operation(kind, call, table, column, line, name, sql=sql, destroys=destroys)
