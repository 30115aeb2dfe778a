import textwrap

import pytest

from bot.core import consistency
from bot.core.doc import DocEntry, SchemaDoc
from bot.core.doc_update import add_entry
from bot.core.operations import MigrationAnalysis, analyze
from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY, SEED_HISTORY, seed_document
from tests.support.migration_files import read

ADD_BIO = 'op.add_column("users", sa.Column("bio", sa.Text()))'
DROP_BIO = 'op.drop_column("users", "bio")'


def entry(fields: str, section: str = "Pending Migrations (Not Yet Applied to Prod)") -> DocEntry:
    """The one entry of a small document whose `section` holds it."""
    text = f"## {section}\n\n### 1a2b3c4d5e6f - A change\n{textwrap.dedent(fields).strip()}\n"
    (found,) = SchemaDoc.parse(text).entries
    return found


Said = tuple[str, str]


def said(level: str, text: str) -> Said:
    return (level, text)


def check(entry: DocEntry | None, analysis: MigrationAnalysis, is_merge: bool) -> tuple[Said, ...]:
    """The disagreements as the words a card shows them, with their level."""
    return tuple((d.level, str(d.text)) for d in consistency.check(entry, analysis, is_merge))


def texts(found: tuple[Said, ...]) -> list[str]:
    return [text for _, text in found]


ALTER_COLUMN_WARNING = said(
    "warning",
    "Type says ALTER COLUMN, but the upgrade does no ALTER COLUMN;"
    " it does DATA MIGRATION (`connections`).",
)


def test_the_seed_document_agrees_with_the_sandbox_history() -> None:
    """Only fix_connection_status_enum_case disagrees: its entry calls a data fix ALTER COLUMN.

    Its code lower-cases values with a raw UPDATE and leaves the column's definition alone,
    which reviewers weigh differently from a schema change: a warning, not an error.
    """
    doc = SchemaDoc.parse(add_entry(seed_document(), DEMO_PENDING_ENTRY))
    found = {}
    for spec in (*SEED_HISTORY, DEMO_PENDING):
        analysis = analyze(spec.source(), spec.path)
        found[spec.revision] = check(doc.entry_for(spec.revision), analysis, analysis.is_merge)
    assert found == {
        "3f1c2a9d7b10": (),
        "ae8fcb7881c7": (),
        "e734d765d3ad": (),
        "fix_connection_status_enum_case": (ALTER_COLUMN_WARNING,),
        "add_photo_urls_to_posts": (),
        "merge_enum_fix_and_photo_urls": (),
        "b41f7a2c9e15": (),
    }


def test_without_an_entry_only_what_the_code_shows() -> None:
    assert check(None, read('op.drop_table("users")', 'op.create_table("users")'), False) == ()
    assert check(None, read('op.drop_table("users")', "pass"), False) == (
        said(
            "warning",
            "No way back: `downgrade()` does nothing, so `alembic downgrade` cannot undo it.",
        ),
    )
    assert check(None, analyze("def upgrade(:\n", "versions/broken.py"), False) == ()


def test_a_type_contradicted_by_what_the_code_destroys() -> None:
    analysis = read('op.drop_table("follows")', 'op.create_table("follows")')
    found = check(
        entry("""
        - **Type**: ADD COLUMN
        - **Tables Affected**: `follows`
        - **Breaking Changes**: Yes - follows are gone
        - **Rollback Plan**: `alembic downgrade -1`, data restored from backup
        """),
        analysis,
        False,
    )
    assert found == (
        said(
            "error",
            "Type says ADD COLUMN, but the upgrade does no ADD COLUMN; it does DROP TABLE"
            " (`follows`).",
        ),
    )


@pytest.mark.parametrize(
    "written",
    [
        "ADD COLUMN",
        "ALTER TABLE",
        "add column",
        "`ADD COLUMN`",
        "ADD COLUMN, CREATE INDEX",
        "ADD COLUMN | CREATE INDEX",
        "ADD COLUMN and ADD INDEX",
        "ALTER TABLE (adds bio)",
        "[CREATE TABLE | ALTER TABLE | DROP TABLE | ADD COLUMN | MODIFY COLUMN | etc.]",
    ],
)
def test_types_are_compared_loosely(written: str) -> None:
    analysis = read(f'{ADD_BIO}\nop.create_index("ix_users_bio", "users", ["bio"])', DROP_BIO)
    fields = f"- **Type**: {written}\n- **Tables Affected**: users"
    assert check(entry(fields), analysis, False) == ()


def test_a_type_that_leaves_out_a_main_change_or_names_one_not_made() -> None:
    analysis = read(f'{ADD_BIO}\nop.drop_column("users", "nickname")', DROP_BIO)
    fields = "- **Type**: ADD COLUMN\n- **Rollback Plan**: `alembic downgrade -1`"
    left_out = check(entry(fields), analysis, False)
    assert left_out == (
        said("error", "Type says ADD COLUMN, but the upgrade also does DROP COLUMN (`users`)."),
    )
    fields = fields.replace("ADD COLUMN", "ADD COLUMN, DROP COLUMN, CREATE TABLE")
    made_up = check(entry(fields), analysis, False)
    assert texts(made_up) == [
        "Type says ADD COLUMN, DROP COLUMN, CREATE TABLE, but the upgrade does no CREATE TABLE."
    ]
    assert made_up[0][0] == "warning"


def test_an_index_only_migration_must_say_so() -> None:
    analysis = read(
        'op.create_index("ix_users_bio", "users", ["bio"])', 'op.drop_index("ix_users_bio")'
    )
    assert check(entry("- **Type**: CREATE INDEX"), analysis, False) == ()
    assert texts(check(entry("- **Type**: ADD COLUMN"), analysis, False)) == [
        "Type says ADD COLUMN, but the upgrade does no ADD COLUMN; it does CREATE INDEX (`users`)."
    ]


def test_merge_types() -> None:
    merge = MigrationAnalysis("versions/m.py", (), (), True, True)
    assert check(entry("- **Type**: MERGE"), merge, True) == ()
    assert texts(check(entry("- **Type**: MERGE"), read(ADD_BIO, DROP_BIO), False)) == [
        "Type says MERGE, but the upgrade does no MERGE; it does ADD COLUMN (`users`)."
    ]
    merging_with_a_change = read(ADD_BIO, DROP_BIO)
    assert check(entry("- **Type**: MERGE, ADD COLUMN"), merging_with_a_change, True) == ()


def test_tables_affected_compared_with_the_tables_touched() -> None:
    analysis = read(f'{ADD_BIO}\nop.drop_table("legacy")\nop.execute("UPDATE posts SET x = 1")')
    fields = "- **Tables Affected**: `users`, `legacy` (dropped), `comments`"
    assert texts(check(entry(fields), analysis, False))[:2] == [
        "Tables Affected does not list `posts`, which the upgrade touches.",
        "Tables Affected lists `comments`, which the upgrade does not touch.",
    ]
    plain = "- **Tables Affected**: users, legacy table and public.posts"
    assert [d for d in check(entry(plain), analysis, False) if "Tables" in d[1]] == []
    assert check(entry("- **Tables Affected**: None"), read("pass"), False) == ()


def test_listed_tables_are_not_questioned_when_code_hides_some() -> None:
    analysis = read(f"{ADD_BIO}\nfor table in TABLES:\n    op.drop_column(table, 'x')", "pass")
    found = texts(check(entry("- **Tables Affected**: `users`, `posts`"), analysis, False))
    assert not any("does not touch" in text for text in found)


def test_destructive_upgrades_must_be_called_breaking_and_have_a_way_back() -> None:
    analysis = read('op.drop_column("users", "bio")', ADD_BIO)
    found = check(
        entry("""
        - **Type**: DROP COLUMN
        - **Tables Affected**: `users`
        - **Breaking Changes**: No
        - **Rollback Plan**: How to rollback if needed
        """),
        analysis,
        False,
    )
    assert found == (
        said(
            "error",
            "Breaking Changes says No, but the upgrade drops column `bio` of `users` (line 13).",
        ),
        said(
            "error",
            "The upgrade drops column `bio` of `users` (line 13), and there is no Rollback Plan.",
        ),
    )
    honest = entry("""
        - **Breaking Changes**: Yes - bios are lost
        - **Rollback Plan**: `alembic downgrade -1`, then restore bios from the backup
        """)
    assert check(honest, analysis, False) == ()


def test_history_entries_are_not_asked_for_a_rollback_plan() -> None:
    analysis = read('op.drop_column("users", "bio")', ADD_BIO)
    history = entry("- **Breaking Changes**: Yes", section="Current Migrations")
    assert check(history, analysis, False) == ()
    claims_harmless = entry("- **Breaking Changes**: No", section="Current Migrations")
    assert [level for level, _ in check(claims_harmless, analysis, False)] == ["error"]


def test_an_empty_downgrade_is_no_way_back() -> None:
    found = check(entry("- **Type**: ADD COLUMN"), read(ADD_BIO, '"""Irreversible."""'), False)
    assert found == (
        said(
            "warning",
            "No way back: `downgrade()` does nothing, so `alembic downgrade` cannot undo it.",
        ),
    )


def test_raw_sql_whose_tables_cannot_be_read() -> None:
    analysis = read('op.execute("VACUUM ANALYZE")\nop.execute(f"UPDATE {name} SET x = 1")', "pass")
    found = check(entry("- **Breaking Changes**: No"), analysis, False)
    assert found[1:] == (
        said(
            "warning",
            "Line 13: raw SQL (`VACUUM ANALYZE`) whose tables schemabot could not read;"
            " check Tables Affected by hand.",
        ),
        said(
            "warning",
            "Line 14: raw SQL whose tables schemabot could not read;"
            " check Tables Affected by hand.",
        ),
    )


def test_an_unreadable_migration_is_not_compared() -> None:
    analysis = analyze("def upgrade(:\n", "versions/broken.py")
    (found,) = check(entry("- **Type**: ADD COLUMN"), analysis, False)
    assert found[0] == "warning"
    assert found[1] == (
        "The migration is not valid Python (line 1: invalid syntax), so the entry went unchecked."
    )
