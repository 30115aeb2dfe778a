import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.doc import DEFAULT_TEMPLATE, Field, SchemaDoc, render_entry_template
from bot.demo.project import seed_document

TEMPLATE_NAMES = (
    "Date",
    "Author",
    "Migration File",
    "Type",
    "Description",
    "Tables Affected",
    "Breaking Changes",
    "Rollback Plan",
    "Tested in Dev",
    "Applied to Prod",
    "Notes",
)


@pytest.fixture(scope="module")
def seed() -> str:
    return seed_document().encode().decode("utf-8")


def doc_of(*lines: str) -> SchemaDoc:
    return SchemaDoc.parse("".join(line + "\n" for line in lines))


def test_the_seed_round_trips_byte_for_byte() -> None:
    raw = seed_document().encode()
    assert SchemaDoc.parse(raw.decode("utf-8")).render().encode("utf-8") == raw


def test_the_seed_has_five_entries_all_in_current(seed: str) -> None:
    doc = SchemaDoc.parse(seed)
    assert [(e.ref, e.title, e.section) for e in doc.entries] == [
        ("merge_enum_fix_and_photo_urls", "Merge Migration", "current"),
        ("add_photo_urls_to_posts", "Add Photo URLs Support", "current"),
        ("fix_connection_status_enum_case", "Fix Connection Status Enum", "current"),
        ("e734d765d3ad", "Add Tag System Tables", "current"),
        ("ae8fcb7881c7", "Replace Follows with Connections", "current"),
    ]
    assert doc.warnings == ()


def test_seed_entries_carry_their_fields_and_line_spans(seed: str) -> None:
    doc = SchemaDoc.parse(seed)
    merge, *_, follows = doc.entries
    assert merge.fields == (
        Field("Date", "[Previous]"),
        Field("Type", "MERGE"),
        Field("Description", "Merged two migration branches (enum fix and photo URLs)"),
        Field("Status", "Applied to prod"),
    )
    assert merge.field("Tables Affected") is None
    assert follows.field("breaking changes") == "Yes - Data migration required"
    assert follows.field("TABLES AFFECTED") == "`follows` (dropped), `connections` (created)"
    assert doc.lines[merge.start] == "### merge_enum_fix_and_photo_urls - Merge Migration\n"
    assert doc.lines[merge.end - 1] == "- **Status**: Applied to prod\n"
    assert doc.lines[follows.end] == "\n" and doc.lines[follows.end + 1] == "---\n"


def test_the_template_heading_in_its_code_fence_is_not_an_entry(seed: str) -> None:
    doc = SchemaDoc.parse(seed)
    assert all("Migration ID" not in e.ref for e in doc.entries)
    fenced = doc_of("## Pending Migrations", "", "```markdown", "### abc123 - Example", "```")
    assert fenced.entries == ()


def test_the_sections_are_keyed_by_role_or_title(seed: str) -> None:
    doc = SchemaDoc.parse(seed)
    assert [s.key for s in doc.sections] == [
        "purpose",
        "review process",
        "schema change log",
        "current",
        "pending",
        "migration checklist",
        "rollback procedures",
        "best practices",
        "migration commands reference",
    ]
    pending = doc.section("pending")
    assert pending is not None
    assert pending.title == "Pending Migrations (Not Yet Applied to Prod)"


def test_the_template_comes_from_the_document(seed: str) -> None:
    doc = SchemaDoc.parse(seed)
    assert doc.template.names == TEMPLATE_NAMES
    assert doc.template.heading == "### [Migration ID] - [Brief Description]"
    assert doc.template.placeholder("author") == "Your Name"
    assert doc.template == DEFAULT_TEMPLATE


def test_a_document_of_its_own_template_uses_it() -> None:
    doc = doc_of(
        "### Template for New Entries",
        "~~~",
        "### [ID]: [Title]",
        "* **Owner:** Someone",
        "* **Ticket:** ABC-0",
        "~~~",
    )
    assert doc.template.names == ("Owner", "Ticket")
    assert doc.template.heading == "### [ID]: [Title]"


def test_without_a_template_the_builtin_one_is_used_and_reported() -> None:
    doc = doc_of("## Current Migrations", "", "### Template for New Entries", "None yet.")
    assert doc.template == DEFAULT_TEMPLATE
    assert any("Template" in warning for warning in doc.warnings)


@pytest.mark.parametrize(
    ("heading", "ref", "title"),
    [
        ("### abc123 - Add users", "abc123", "Add users"),
        ("### abc123 \u2013 Add users", "abc123", "Add users"),
        ("### abc123 \u2014 Add users", "abc123", "Add users"),
        ("### abc123: Add users", "abc123", "Add users"),
        ("### abc123", "abc123", ""),
        ("### `abc123` - Add users", "abc123", "Add users"),
        ("### 0001-initial - First schema", "0001-initial", "First schema"),
        ("### add_users_table - Add users - and more", "add_users_table", "Add users - and more"),
    ],
)
def test_entry_headings_in_their_written_forms(heading: str, ref: str, title: str) -> None:
    (entry,) = doc_of("## Pending Migrations", "", heading, "- **Date**: 2024-01-02").entries
    assert (entry.ref, entry.title, entry.section) == (ref, title, "pending")


@pytest.mark.parametrize(
    "heading",
    ["### Dev Environment", "### If Migration Fails in Production", "### Notes: see below"],
)
def test_prose_headings_are_not_entries(heading: str) -> None:
    assert doc_of("## Migration Commands Reference", heading, "Some prose.").entries == ()


def test_a_plain_word_heading_with_fields_is_an_entry() -> None:
    (entry,) = doc_of(
        "## Current Migrations", "### baseline - Initial", "- **Type**: CREATE"
    ).entries
    assert entry.ref == "baseline"


def test_field_styles_continuations_and_free_text() -> None:
    doc = SchemaDoc.parse(
        "## Pending Migrations\r\n"
        "### abc123 - Add users\r\n"
        "- **Date**: 2024-01-02  \r\n"
        "* **Type:** CREATE TABLE\r\n"
        "- **Description**: Adds users\r\n"
        "  and their emails\r\n"
        "\tunique per tenant\r\n"
        "Reviewed by the DBA.\r\n"
        "#### Details\r\n"
        "\r\n"
        "- **Notes**:\r\n"
    )
    (entry,) = doc.entries
    assert entry.fields == (
        Field("Date", "2024-01-02"),
        Field("Type", "CREATE TABLE"),
        Field("Description", "Adds users", ("and their emails", "unique per tenant")),
        Field("Notes", ""),
    )
    assert entry.field("description") == "Adds users\nand their emails\nunique per tenant"
    assert entry.free_text == ("Reviewed by the DBA.", "#### Details")
    assert (entry.start, entry.end) == (1, 11)


def test_an_entry_ends_at_a_rule_a_heading_or_last_updated() -> None:
    doc = doc_of(
        "## Pending Migrations",
        "### aaaa1111 - One",
        "- **Date**: 2024-01-02",
        "",
        "---",
        "### bbbb2222 - Two",
        "### cccc3333 - Three",
        "",
        "**Last Updated**: 2024-01-02",
    )
    assert [(e.start, e.end) for e in doc.entries] == [(1, 3), (5, 6), (6, 7)]
    assert doc.last_updated == 8


def test_the_checklist_has_eleven_items_with_slack_keys(seed: str) -> None:
    items = SchemaDoc.parse(seed).checklist()
    assert len(items) == 11
    assert items[0].text == "Migration created and tested in dev environment"
    assert items[0].key == "migration-created-and-tested-in-dev-environment"
    assert items[5].key == "database-backup-created-for-prod"
    assert not any(item.checked for item in items)
    assert len({item.key for item in items}) == 11


def test_checklist_keys_are_short_unique_and_cut_at_a_word() -> None:
    long_text = "Confirm " + " ".join(["the replica lag is under a second"] * 4)
    doc = doc_of("## Migration Checklist", f"- [x] {long_text}", f"- [ ] {long_text}", "* [X] ✅")
    first, second, third = doc.checklist()
    assert first.checked and third.checked and not second.checked
    assert (
        first.key == "confirm-the-replica-lag-is-under-a-second-the-replica-lag-is-under-a-second"
    )
    assert second.key == "confirm-the-replica-lag-is-under-a-second-the-replica-lag-is-under-a-2"
    assert third.key == "item"


def test_the_rollback_procedure_is_the_section_text(seed: str) -> None:
    text = SchemaDoc.parse(seed).rollback_procedure()
    assert text.startswith("### If Migration Fails in Production\n\n1. **Stop the application**")
    assert "3. **Rollback if needed**: `docker compose exec backend alembic downgrade -1`" in text
    assert text.endswith("Then manually edit the migration file to reverse the changes.")


def test_missing_parts_give_empty_fallbacks_and_warnings() -> None:
    doc = SchemaDoc.parse("Just some notes\r\nabout the schema")
    assert doc.entries == () and doc.checklist() == () and doc.rollback_procedure() == ""
    assert doc.warnings == (
        "No 'Template for New Entries' code block; using the built-in template.",
        "The document has no '## ' sections.",
        "No '## Current Migrations' section.",
        "No '## Pending Migrations' section.",
        "No '## Migration Checklist' section.",
    )


def test_an_unclosed_fence_is_reported() -> None:
    doc = doc_of("## Current Migrations", "```sql", "### abc123 - not an entry")
    assert doc.entries == ()
    assert "The code fence opened on line 2 is never closed." in doc.warnings


MATCHING = doc_of(
    "## Current Migrations",
    "### abc123def456 - Exact",
    "### abc123 - Short id",
    "### 9f8e - Prefix",
    "### add_users - By file",
    "- **Migration File**: `alembic/versions/77aa_add_users.py`",
)


@pytest.mark.parametrize(
    ("revision", "path", "title"),
    [
        ("abc123def456", None, "Exact"),
        ("abc123ffffff", None, "Short id"),
        ("9f8e7d6c5b4a", None, "Prefix"),
        ("77aa00000000", "migrations/versions/77aa_add_users.py", "By file"),
        ("77aa00000000", "77aa_add_users.py", "By file"),
    ],
)
def test_entries_match_revisions(revision: str, path: str | None, title: str) -> None:
    entry = MATCHING.entry_for(revision, path)
    assert entry is not None and entry.title == title


def test_entries_do_not_match_short_or_reversed_prefixes() -> None:
    short = doc_of("## Current Migrations", "### abc - Too short", "- **Date**: 2024-01-02")
    assert short.entry_for("abc123def456") is None
    assert MATCHING.entry_for("abc1") is None
    assert MATCHING.entry_for("77aa00000000", "versions/other.py") is None


def test_two_entries_claiming_a_revision_are_reported() -> None:
    exact = MATCHING.entry_for("abc123def456")
    assert [e.title for e in MATCHING.duplicate_entries("abc123def456")] == ["Exact", "Short id"]
    assert exact is not None and exact.title == "Exact"
    assert MATCHING.duplicate_entries("9f8e7d6c5b4a") == ()
    doubled = doc_of("## Current Migrations", "### abc123 - One", "", "### abc123 - Two")
    assert "Duplicate entries for abc123 (lines 2 and 4)." in doubled.warnings


def test_missing_fields_are_absent_or_placeholders(seed: str) -> None:
    draft = render_entry_template(
        {"Date": "2024-05-01", "Author": "Your Name", "Description": "Adds users", "Notes": ""},
        "abc123def456",
        "Add users",
    )
    (entry,) = SchemaDoc.parse("## Pending Migrations\n" + draft).entries
    template = SchemaDoc.parse(seed).template
    assert entry.missing_fields(TEMPLATE_NAMES, template) == (
        "Author",
        "Migration File",
        "Type",
        "Tables Affected",
        "Breaking Changes",
        "Rollback Plan",
        "Tested in Dev",
        "Applied to Prod",
        "Notes",
    )
    assert entry.missing_fields(["Date", "Description", "Owner"]) == ("Owner",)


def test_current_entries_in_the_compact_form_are_not_incomplete(seed: str) -> None:
    doc = SchemaDoc.parse(seed)
    assert all(e.missing_fields(TEMPLATE_NAMES, doc.template) == () for e in doc.entries)


def test_a_drafted_entry_has_the_template_shape(seed: str) -> None:
    template = SchemaDoc.parse(seed).template
    fields = {
        "date": "2024-05-01",
        "Author": "Ann Lee",
        "Migration File": "`versions/abc123def456_add_users.py`",
        "Type": "CREATE TABLE",
        "Description": "Adds the users table\nwith a unique email",
        "Ticket": "DB-42",
    }
    assert render_entry_template(fields, "abc123def456", "Add users", template) == (
        "### abc123def456 - Add users\n"
        "- **Date**: 2024-05-01\n"
        "- **Author**: Ann Lee\n"
        "- **Migration File**: `versions/abc123def456_add_users.py`\n"
        "- **Type**: CREATE TABLE\n"
        "- **Description**: Adds the users table\n"
        "  with a unique email\n"
        "- **Tables Affected**: List of tables modified\n"
        "- **Breaking Changes**: Yes/No - If yes, describe impact\n"
        "- **Rollback Plan**: How to rollback if needed\n"
        "- **Tested in Dev**: Yes/No\n"
        "- **Applied to Prod**: Yes/No - Date if yes\n"
        "- **Notes**: Any additional notes or considerations\n"
        "- **Ticket**: DB-42\n"
    )


PIECES = st.sampled_from(
    [
        "# Database Schema Changes Tracking",
        "## Current Migrations",
        "## Pending Migrations (Not Yet Applied to Prod)",
        "## Migration Checklist",
        "## Rollback Procedures",
        "### Template for New Entries",
        "### abc123def456 - Add users",
        "### abc123 \u2013 Ünïcode tïtle 🙂",
        "### fedcba987654: Colon form",
        "### 0a1b2c3d",
        "### [Migration ID] - [Brief Description]",
        "- **Date**: 2024-05-01",
        "* **Type:** CREATE TABLE",
        "- **Applied to Prod**: Yes/No - Date if yes",
        "- **Migration File**: `versions/abc123def456_add_users.py`",
        "- **Status**: Applied to prod",
        "  continued value",
        "```markdown",
        "```",
        "~~~",
        "````",
        "---",
        "- [ ] Code review completed",
        "- [x] Verified in production",
        "_Add new migrations here before applying to production_",
        "**Last Updated**: 2024-05-01",
        "",
        "日本語のメモ",
    ]
)
LINE = st.tuples(
    PIECES | st.text(max_size=30),
    st.sampled_from(["", " ", "  ", "\t"]),
    st.sampled_from(["\n", "\r\n", "\r", ""]),
)
DOCUMENTS = st.lists(LINE, max_size=40).map(lambda lines: "".join("".join(x) for x in lines))


@settings(max_examples=300, deadline=None)
@given(DOCUMENTS)
def test_parse_then_render_is_the_identity(text: str) -> None:
    doc = SchemaDoc.parse(text)
    assert doc.render() == text
    for entry in doc.entries:
        assert not doc.fenced[entry.start]
        assert 0 <= entry.start < entry.end <= len(doc.lines)
    assert all(len(item.key) <= 75 for item in doc.checklist())
    doc.rollback_procedure()
    doc.entry_for("abc123def456", "versions/abc123def456_add_users.py")


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_parses_and_renders_back(text: str) -> None:
    assert SchemaDoc.parse(text).render() == text
