import datetime

import pytest

from bot.core.doc import DEFAULT_TEMPLATE, SchemaDoc, Template
from bot.core.doc_update import add_entry
from bot.core.draft import draft_entry, script_path, title
from bot.core.operations import analyze
from bot.core.revision_file import Revision, parse_revision_source
from bot.demo.project import DEMO_PENDING, SEED_HISTORY, MigrationSpec, seed_document

TODAY = datetime.date(2026, 11, 21)
DROP_BIO = MigrationSpec(
    "c0ffee123456",
    DEMO_PENDING.revision,
    "remove user bios\n\nNobody filled them in.",
    "remove_user_bios",
    upgrade='op.drop_column("users", "bio")',
    downgrade='op.add_column("users", sa.Column("bio", sa.Text(), nullable=True))',
)


def drafted(spec: MigrationSpec, template: Template = DEFAULT_TEMPLATE) -> str:
    source = spec.source()
    revision = parse_revision_source(source, spec.path)
    analysis = analyze(source, spec.path)
    return draft_entry(revision, analysis, "Dana Developer", spec.path, template, TODAY)


def fields_of(markdown: str) -> dict[str, str]:
    (entry,) = SchemaDoc.parse(markdown).entries
    return {f.name: f.text for f in entry.fields}


def test_the_demo_revision_drafted() -> None:
    text = drafted(DEMO_PENDING, SchemaDoc.parse(seed_document()).template)
    assert text.startswith("### b41f7a2c9e15 - Add Visibility to Posts\n")
    assert fields_of(text) == {
        "Date": "2026-11-21",
        "Author": "Dana Developer",
        "Migration File": "`versions/b41f7a2c9e15_add_visibility_to_posts.py`",
        "Type": "ADD COLUMN, CREATE INDEX",
        "Description": "Add visibility to posts. Adds column `visibility` to `posts`;"
        " creates index `ix_posts_visibility`.",
        "Tables Affected": "`posts`",
        "Breaking Changes": "No",
        "Rollback Plan": "`alembic downgrade merge_enum_fix_and_photo_urls`:"
        " drops index `ix_posts_visibility`; drops column `visibility` of `posts`",
        "Tested in Dev": "Yes/No",
        "Applied to Prod": "No",
        "Notes": "Any additional notes or considerations",
    }


def test_a_drafted_entry_goes_under_pending_and_still_needs_its_author() -> None:
    seed = seed_document()
    text = drafted(DEMO_PENDING, SchemaDoc.parse(seed).template)
    doc = SchemaDoc.parse(add_entry(seed, text))
    entry = doc.entry_for(DEMO_PENDING.revision, DEMO_PENDING.path)
    assert entry is not None and entry.section == "pending"
    assert "".join(doc.lines[entry.start : entry.end]) == text
    required = ("Type", "Description", "Tables Affected", "Rollback Plan", "Tested in Dev")
    assert entry.missing_fields(required, doc.template) == ("Tested in Dev",)


def test_a_destructive_revision_drafted() -> None:
    fields = fields_of(drafted(DROP_BIO))
    assert fields["Type"] == "DROP COLUMN"
    assert fields["Description"] == "Remove user bios. Drops column `bio` of `users`."
    assert fields["Breaking Changes"] == "Yes - drops column `bio` of `users`"
    assert fields["Rollback Plan"] == (
        "`alembic downgrade b41f7a2c9e15`: adds column `bio` to `users`"
        " (data the upgrade dropped is not restored)"
    )
    assert add_entry(seed_document(), drafted(DROP_BIO)).count("### c0ffee123456 - ") == 1


def test_a_revision_with_no_way_back() -> None:
    irreversible = MigrationSpec(
        "0a1b2c3d4e5f",
        None,
        "Backfill slugs",
        "backfill_slugs",
        upgrade='op.execute("UPDATE posts SET slug = lower(title) WHERE slug IS NULL")',
        downgrade='"""Slugs stay."""',
    )
    fields = fields_of(drafted(irreversible))
    assert fields["Type"] == "DATA MIGRATION"
    assert fields["Description"] == "Backfill slugs. Updates rows of `posts`."
    assert fields["Rollback Plan"] == "No downgrade: write a rollback migration"


def test_a_revision_that_does_nothing_readable_keeps_the_type_placeholder() -> None:
    fields = fields_of(drafted(MigrationSpec("0a1b2c3d4e5f", None, "Nothing", "nothing")))
    assert fields["Type"] == DEFAULT_TEMPLATE.placeholder("Type")
    assert fields["Description"] == "Nothing. The upgrade changes nothing schemabot can read."
    assert fields["Rollback Plan"] == "`alembic downgrade base`: nothing to undo"


def test_a_merge_revision_drafted() -> None:
    merge = SEED_HISTORY[-1]
    fields = fields_of(drafted(merge))
    assert fields["Type"] == "MERGE"
    assert fields["Tables Affected"] == "None"
    assert fields["Description"] == (
        "Merge enum fix and photo URLs."
        " Merges `fix_connection_status_enum_case` and `add_photo_urls_to_posts`."
    )
    assert fields["Rollback Plan"] == "`alembic downgrade -1`: nothing to undo"


def test_a_template_of_the_documents_own() -> None:
    template = Template.from_lines(
        [
            "## [Migration ID]: [Title]",
            "* **Type:** what",
            "* **Owner:** who",
            "* **Tested in Dev:** ?",
        ]
    )
    text = drafted(DEMO_PENDING, template)
    lines = text.splitlines()
    assert lines[:4] == [
        "## b41f7a2c9e15: Add Visibility to Posts",
        "* **Type:** ADD COLUMN, CREATE INDEX",
        "* **Owner:** who",
        "* **Tested in Dev:** ?",
    ]
    assert "* **Rollback Plan:** `alembic downgrade merge_enum_fix_and_photo_urls`:" in text


@pytest.mark.parametrize(
    ("message", "path", "expected"),
    [
        ("Add photo URLs support", "versions/x_y.py", "Add Photo URLs Support"),
        ("Replace follows with connections", "versions/x.py", "Replace Follows with Connections"),
        ("add tags to the feed\n\nmore words", "versions/x.py", "Add Tags to the Feed"),
        ("add_pk_version_table", "versions/x.py", "Add Pk Version Table"),
        ("rename `photo_urls` to media", "versions/x.py", "Rename `photo_urls` to Media"),
        ("", "versions/929c968efe70_add_pk_version_table.py", "Add Pk Version Table"),
        (None, "versions/929c968efe70_with_a_view.py", "With a View"),
    ],
)
def test_titles_in_title_case(message: str | None, path: str, expected: str) -> None:
    revision = Revision("929c968efe70", (), (), (), path, message, None)
    assert title(revision) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("migrations/versions/b41f_add.py", "versions/b41f_add.py"),
        ("versions/b41f_add.py", "versions/b41f_add.py"),
        ("db\\versions\\b41f_add.py", "versions/b41f_add.py"),
        (
            "alembic/versions/newton/expand/b41f_add.py",
            "alembic/versions/newton/expand/b41f_add.py",
        ),
        ("b41f_add.py", "b41f_add.py"),
    ],
)
def test_the_migration_file_as_the_document_names_it(path: str, expected: str) -> None:
    assert script_path(path) == expected
