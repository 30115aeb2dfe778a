"""Which lock each statement of a revision's SQL takes, and what it does while it holds it.

Read statically from the offline SQL Alembic rendered for the card, statement by statement,
with PostgreSQL's documented lock levels (its "Explicit Locking" chapter and the notes of
ALTER TABLE, CREATE INDEX and friends): ALTER TABLE takes ACCESS EXCLUSIVE unless the
subcommand is one the documentation names as lighter, and the strictest subcommand wins;
ADD FOREIGN KEY takes SHARE ROW EXCLUSIVE on both tables; CREATE INDEX takes SHARE, and
CONCURRENTLY takes SHARE UPDATE EXCLUSIVE. What the statement does meanwhile is its `work`:
`brief` (a catalog change), `scan` (reads every row to check a constraint), `rewrite`
(writes a new copy of the table and its indexes), `index` (builds an index), `concurrent`
(builds or drops an index beside live traffic) or `rows` (changes rows). A statement the
reading does not know is kept with `known=False`, never guessed.

Offline SQL marks its transactions with `BEGIN;` and `COMMIT;`, so the reading knows which
statements share one: a lock is held until its transaction ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from bot.core.lock_modes import LockMode, TableLock
from bot.core.sql_statements import statements

Work = Literal["brief", "scan", "rewrite", "index", "concurrent", "rows", "none"]
SLOW_WORK: frozenset[Work] = frozenset({"scan", "rewrite", "index", "concurrent", "rows"})
WORK_WORDS: dict[Work, str] = {
    "brief": "a catalog change",
    "scan": "scans every row",
    "rewrite": "rewrites the table",
    "index": "builds an index",
    "concurrent": "builds the index beside live traffic",
    "rows": "changes rows",
    "none": "",
}
ALEMBIC_TABLES = frozenset({"alembic_version"})
_LEFT_OUT = frozenset(
    {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SET", "RESET", "SELECT", "SHOW"}
    | {"EXPLAIN"}
)
# Defaults PostgreSQL cannot store once for every row: a volatile function (the
# documentation's example is clock_timestamp()), a sequence, a generated column.
_VOLATILE = re.compile(
    r"\b(?:random|clock_timestamp|timeofday|gen_random_uuid|uuid_generate_v[14]|nextval)\s*\("
    r"|\bGENERATED\b|\b(?:BIG|SMALL)?SERIAL\b",
    re.IGNORECASE,
)

_IDENT = r'(?:"(?:[^"]|"")+"|[\w$]+)'
_NAME = rf"(?P<name>{_IDENT}(?:\s*\.\s*{_IDENT})?)"


@dataclass(frozen=True)
class StatementLocks:
    """One statement of the SQL and the locks it takes, read from its text."""

    number: int
    """Its place among the revision's statements (1-based, transaction markers left out)."""
    statement: str
    locks: tuple[TableLock, ...]
    work: Work
    on: str | None = None
    """The table the slow work is on (a foreign key scans its table, not the one it names)."""
    in_transaction: bool = True
    known: bool = True
    index: str | None = None
    """The index a CREATE or DROP INDEX names."""
    concurrently: bool = False
    creates: bool = False
    """It creates the table `on` names: nobody else uses that one yet."""

    @property
    def strongest(self) -> LockMode | None:
        return max((lock.mode for lock in self.locks), default=None)


def read_locks(sql: str) -> tuple[StatementLocks, ...]:
    """Every statement of the revision's SQL that locks something or that the reading cannot
    place; Alembic's own bookkeeping (`alembic_version`) and SET/transaction lines left out."""
    found: list[StatementLocks] = []
    in_transaction = False
    number = 0
    for statement in statements(sql):
        verb = statement.split(" ", 1)[0].upper()
        if verb in {"BEGIN", "START"}:
            in_transaction = True
            continue
        if verb in {"COMMIT", "END", "ROLLBACK", "ABORT"}:
            in_transaction = False
            continue
        reading = reading_of(statement)
        if reading is None:
            continue
        number += 1
        found.append(replace(reading, number=number, in_transaction=in_transaction))
    return tuple(found)


def reading_of(statement: str) -> StatementLocks | None:
    """One statement's reading (numbered 0, in a transaction); None for what `read_locks`
    leaves out: transaction markers, SET and queries, Alembic's own bookkeeping."""
    verb = statement.split(" ", 1)[0].upper()
    if verb in _LEFT_OUT:
        return None
    reading = _read(statement)
    if reading is None:
        reading = StatementLocks(0, statement, (), "none", known=False)
    if reading.on in ALEMBIC_TABLES or any(lock.table in ALEMBIC_TABLES for lock in reading.locks):
        return None
    return replace(reading, statement=statement)


def table_name(raw: str) -> str:
    """A table as written (`"Posts"`, `public.posts`, `audit . events`) as the card names it:
    unquoted names folded to lower case as PostgreSQL folds them, `public.` left out."""
    parts = [part.strip() for part in re.findall(_IDENT, raw)]
    names = [p[1:-1].replace('""', '"') if p.startswith('"') else p.lower() for p in parts]
    if len(names) == 2 and names[0] == "public":
        names = names[1:]
    return ".".join(names)


def _read(statement: str) -> StatementLocks | None:
    for pattern, reader in _READERS:
        match = pattern.match(statement)
        if match is not None:
            return reader(statement, match)
    return None


def _reading(
    locks: list[TableLock],
    work: Work,
    on: str | None = None,
    known: bool = True,
    index: str | None = None,
    concurrently: bool = False,
    creates: bool = False,
) -> StatementLocks:
    """A reading whose number and statement `read_locks` fills in."""
    return StatementLocks(0, "", tuple(locks), work, on, True, known, index, concurrently, creates)


_WORK_ORDER: tuple[Work, ...] = ("none", "brief", "rows", "concurrent", "scan", "index", "rewrite")


def slower(work: Work, than: Work) -> bool:
    """Whether `work` keeps its locks longer than `than` (a rewrite longer than a scan...)."""
    return _WORK_ORDER.index(work) > _WORK_ORDER.index(than)


def _alter_table(statement: str, match: re.Match[str]) -> StatementLocks:
    table = table_name(match.group("name"))
    locks: dict[str, LockMode] = {}
    work: Work = "none"
    known = True
    for action in _top_level_split(statement[match.end() :]):
        mode, action_work, referenced, action_known = _alter_action(action)
        known = known and action_known
        locks[table] = max(locks.get(table, mode), mode)
        if referenced is not None:
            locks[referenced] = max(
                locks.get(referenced, LockMode.SHARE_ROW_EXCLUSIVE), LockMode.SHARE_ROW_EXCLUSIVE
            )
        if slower(action_work, work):
            work = action_work
    return _reading(
        [TableLock(name, mode) for name, mode in locks.items()], work, table, known=known
    )


_ALTER_TYPE = re.compile(
    rf"ALTER (?:COLUMN {_IDENT}|(?!COLUMN ){_IDENT}) (?:SET DATA )?TYPE\b", re.IGNORECASE
)
_ADD_CONSTRAINT = re.compile(
    rf"ADD (?:CONSTRAINT {_IDENT} )?(?P<kind>FOREIGN KEY|CHECK|UNIQUE|PRIMARY KEY|EXCLUDE)\b",
    re.IGNORECASE,
)


def _alter_action(action: str) -> tuple[LockMode, Work, str | None, bool]:
    """One ALTER TABLE subcommand: its mode, its work, a table it references (a foreign key
    locks that one too), and whether the reading knows the subcommand."""
    upper = " ".join(action.upper().split())
    references = re.search(rf"\bREFERENCES\s+{_NAME}", action, re.IGNORECASE)
    referenced = table_name(references.group("name")) if references else None
    not_valid = upper.endswith("NOT VALID")
    constraint = _ADD_CONSTRAINT.match(upper)
    if constraint is not None:
        kind = constraint.group("kind")
        if kind == "FOREIGN KEY":
            return LockMode.SHARE_ROW_EXCLUSIVE, "brief" if not_valid else "scan", referenced, True
        if kind == "CHECK":
            return LockMode.ACCESS_EXCLUSIVE, "brief" if not_valid else "scan", None, True
        work: Work = "brief" if " USING INDEX " in f"{upper} " else "index"
        return LockMode.ACCESS_EXCLUSIVE, work, None, True
    if upper.startswith("ADD"):
        work = "brief"
        if re.search(r"\b(?:PRIMARY KEY|UNIQUE)\b", upper):
            work = "index"
        if _VOLATILE.search(action):
            work = "rewrite"
        elif referenced is not None and re.search(r"\bDEFAULT\b", upper):
            work = "scan"
        return LockMode.ACCESS_EXCLUSIVE, work, referenced, True
    if upper.startswith("VALIDATE CONSTRAINT"):
        return LockMode.SHARE_UPDATE_EXCLUSIVE, "scan", None, True
    if upper.startswith(("DROP", "RENAME", "OWNER TO", "SET SCHEMA")):
        return LockMode.ACCESS_EXCLUSIVE, "brief", None, True
    if upper.startswith("ALTER"):
        if _ALTER_TYPE.match(upper):
            return LockMode.ACCESS_EXCLUSIVE, "rewrite", None, True
        if upper.endswith("SET NOT NULL"):
            return LockMode.ACCESS_EXCLUSIVE, "scan", None, True
        if re.search(r" SET STATISTICS | SET \(| RESET \(", f"{upper} "):
            return LockMode.SHARE_UPDATE_EXCLUSIVE, "brief", None, True
        if re.search(r" (?:DROP NOT NULL|SET DEFAULT|DROP DEFAULT)\b", upper):
            return LockMode.ACCESS_EXCLUSIVE, "brief", None, True
        return LockMode.ACCESS_EXCLUSIVE, "brief", None, False
    if upper.startswith(("ENABLE", "DISABLE")) and " TRIGGER" in upper:
        return LockMode.SHARE_ROW_EXCLUSIVE, "brief", None, True
    if upper.startswith(("CLUSTER ON", "SET WITHOUT CLUSTER", "ATTACH PARTITION")):
        return LockMode.SHARE_UPDATE_EXCLUSIVE, "brief", None, True
    if upper.startswith(("SET TABLESPACE", "SET LOGGED", "SET UNLOGGED")):
        return LockMode.ACCESS_EXCLUSIVE, "rewrite", None, True
    # "An ACCESS EXCLUSIVE lock is acquired unless explicitly noted."
    return LockMode.ACCESS_EXCLUSIVE, "brief", None, False


def _top_level_split(text: str) -> list[str]:
    """ALTER TABLE's subcommands: the commas outside parentheses and quotes."""
    parts: list[str] = []
    depth, start, quote = 0, 0, ""
    for index, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]


def _create_index(statement: str, match: re.Match[str]) -> StatementLocks:
    table = table_name(match.group("name"))
    concurrently = match.group("concurrently") is not None
    index = match.group("index")
    return _reading(
        [TableLock(table, LockMode.SHARE_UPDATE_EXCLUSIVE if concurrently else LockMode.SHARE)],
        "concurrent" if concurrently else "index",
        table,
        index=table_name(index) if index else None,
        concurrently=concurrently,
    )


def _drop_index(statement: str, match: re.Match[str]) -> StatementLocks:
    # The index's table is not in the statement: the trace names it.
    concurrently = match.group("concurrently") is not None
    return _reading(
        [],
        "concurrent" if concurrently else "brief",
        index=table_name(match.group("name")),
        concurrently=concurrently,
    )


def _create_table(statement: str, match: re.Match[str]) -> StatementLocks:
    referenced = {
        table_name(found.group("name"))
        for found in re.finditer(rf"\bREFERENCES\s+{_NAME}", statement, re.IGNORECASE)
    }
    created = re.match(rf"[^(]*?\bTABLE\s+(?:IF NOT EXISTS\s+)?{_NAME}", statement, re.I)
    return _reading(
        [TableLock(name, LockMode.SHARE_ROW_EXCLUSIVE) for name in sorted(referenced)],
        "brief",
        table_name(created.group("name")) if created else None,
        creates=created is not None,
    )


_Reader = Callable[[str, re.Match[str]], StatementLocks]


def _on_table(mode: LockMode, work: Work) -> _Reader:
    def read(statement: str, match: re.Match[str]) -> StatementLocks:
        table = table_name(match.group("name"))
        return _reading([TableLock(table, mode)], work, table)

    return read


def _lock_table(statement: str, match: re.Match[str]) -> StatementLocks:
    table = table_name(match.group("name"))
    mode = LockMode.from_label(match.group("mode") or "") or LockMode.ACCESS_EXCLUSIVE
    return _reading([TableLock(table, mode)], "brief", table)


def _no_table(statement: str, match: re.Match[str]) -> StatementLocks:
    return _reading([], "brief")


def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text, re.IGNORECASE)


_OPT = r"(?:IF (?:NOT )?EXISTS\s+)?(?:ONLY\s+)?"
_READERS: tuple[tuple[re.Pattern[str], _Reader], ...] = (
    (_pattern(rf"ALTER TABLE\s+{_OPT}{_NAME}\s*\*?\s*"), _alter_table),
    (
        _pattern(
            r"CREATE (?:UNIQUE )?INDEX\s+(?P<concurrently>CONCURRENTLY\s+)?(?:IF NOT EXISTS\s+)?"
            rf"(?:(?P<index>{_IDENT}(?:\.{_IDENT})?)\s+)?ON\s+(?:ONLY\s+)?{_NAME}"
        ),
        _create_index,
    ),
    (
        _pattern(rf"DROP INDEX\s+(?P<concurrently>CONCURRENTLY\s+)?(?:IF EXISTS\s+)?{_NAME}"),
        _drop_index,
    ),
    (
        _pattern(r"CREATE (?:(?:GLOBAL |LOCAL )?(?:TEMP|TEMPORARY|UNLOGGED) )?TABLE\b"),
        _create_table,
    ),
    (
        _pattern(rf"DROP TABLE\s+(?:IF EXISTS\s+)?{_NAME}"),
        _on_table(LockMode.ACCESS_EXCLUSIVE, "brief"),
    ),
    (
        _pattern(rf"TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?{_NAME}"),
        _on_table(LockMode.ACCESS_EXCLUSIVE, "brief"),
    ),
    (
        _pattern(rf"(?:UPDATE|DELETE FROM|INSERT INTO)\s+(?:ONLY\s+)?{_NAME}"),
        _on_table(LockMode.ROW_EXCLUSIVE, "rows"),
    ),
    (
        _pattern(rf"LOCK (?:TABLE\s+)?(?:ONLY\s+)?{_NAME}(?:\s+IN (?P<mode>[A-Z ]+?) MODE)?"),
        _lock_table,
    ),
    (
        _pattern(rf"CREATE (?:OR REPLACE )?(?:CONSTRAINT )?TRIGGER .*? ON\s+{_NAME}"),
        _on_table(LockMode.SHARE_ROW_EXCLUSIVE, "brief"),
    ),
    (
        _pattern(rf"COMMENT ON TABLE\s+{_NAME}"),
        _on_table(LockMode.SHARE_UPDATE_EXCLUSIVE, "brief"),
    ),
    (
        _pattern(r"(?:CREATE|ALTER|DROP) (?:TYPE|SEQUENCE|EXTENSION|SCHEMA|FUNCTION|VIEW)\b"),
        _no_table,
    ),
)
