import datetime
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.doc import DEFAULT_TEMPLATE, DocEntry, SchemaDoc, render_entry_template
from bot.core.doc_text import content, ending, is_blank
from bot.core.doc_update import (
    DocEntryExists,
    DocEntryNotFound,
    DocFormatError,
    add_entry,
    mark_applied,
    record_rollback,
)
from bot.demo.project import seed_document
from bot.errors import SchemabotError
from tests.core.test_doc import DOCUMENTS

DAY = datetime.date(2024, 5, 3)
CHANGED_FIELDS = {"applied to prod", "status", "notes"}

SMALL = """\
# Schema changes

## Current Migrations

### e734d765d3ad - Add Tag System Tables
- **Date**: [Previous]
- **Status**: Applied to prod

---

## Pending Migrations (Not Yet Applied to Prod)

_Add new migrations here before applying to production_

### 1a2b3c4d5e6f - Add audit log
- **Date**: 2024-05-01
- **Author**: Ann Lee
- **Applied to Prod**: No
- **Notes**: Backfill runs separately

### 9f9f9f9f9f9f - Drop legacy flags
- **Date**: 2024-05-02

---

**Last Updated**: 2024-04-30
"""


def test_mark_applied_moves_the_entry_to_the_top_of_current() -> None:
    assert (
        mark_applied(SMALL, "1a2b3c4d5e6f", None, DAY)
        == """\
# Schema changes

## Current Migrations

### 1a2b3c4d5e6f - Add audit log
- **Date**: 2024-05-01
- **Author**: Ann Lee
- **Applied to Prod**: Yes - 2024-05-03
- **Notes**: Backfill runs separately

### e734d765d3ad - Add Tag System Tables
- **Date**: [Previous]
- **Status**: Applied to prod

---

## Pending Migrations (Not Yet Applied to Prod)

_Add new migrations here before applying to production_

### 9f9f9f9f9f9f - Drop legacy flags
- **Date**: 2024-05-02

---

**Last Updated**: 2024-05-03
"""
    )


def test_the_seed_with_a_drafted_entry_applied() -> None:
    seed = seed_document().encode().decode("utf-8")
    fields = {"Date": "2024-05-01", "Author": "Ann Lee", "Applied to Prod": "No"}
    drafted = render_entry_template(fields, "1a2b3c4d5e6f", "Add audit log")
    added = add_entry(seed, drafted)
    hint = "_Add new migrations here before applying to production_\n\n"
    assert added == seed.replace(hint, hint + drafted + "\n")

    applied = mark_applied(added, "1a2b3c4d5e6f", None, DAY)
    moved = drafted.replace("Applied to Prod**: No", "Applied to Prod**: Yes - 2024-05-03")
    assert applied == seed.replace(
        "## Current Migrations\n\n", "## Current Migrations\n\n" + moved + "\n"
    ).replace(
        "**Last Updated**: [Update this date when adding new entries]",
        "**Last Updated**: 2024-05-03",
    )
    assert mark_applied(applied, "1a2b3c4d5e6f", None, DAY) == applied


def test_a_crlf_document_stays_crlf() -> None:
    text = SMALL.replace("\n", "\r\n")
    after = mark_applied(text, "1a2b3c4d5e6f", None, DAY)
    assert after.count("\n") == after.count("\r\n")
    assert_only_the_entry_changed(text, after, "1a2b3c4d5e6f", "Yes - 2024-05-03")


def test_an_entry_keeps_its_own_line_endings_and_trailing_spaces() -> None:
    entry = "### 1a2b3c4d5e6f - Add audit log\r\n- **Applied to Prod**: No  \r\n"
    text = SMALL.replace(
        "### 9f9f9f9f9f9f", entry.replace("1a2b3c4d5e6f", "0c0c0c0c0c0c") + "\n### 9f9f9f9f9f9f"
    )
    after = mark_applied(text, "0c0c0c0c0c0c", None, DAY)
    assert "- **Applied to Prod**: Yes - 2024-05-03  \r\n\r\n### e734d765d3ad" in after
    assert_only_the_entry_changed(text, after, "0c0c0c0c0c0c", "Yes - 2024-05-03")


def test_a_status_line_becomes_applied_to_prod() -> None:
    text = SMALL.replace(
        "- **Author**: Ann Lee\n", "- **Author**: Ann Lee\n- **Status**: Pending\n"
    )
    after = mark_applied(text, "1a2b3c4d5e6f", None, DAY)
    entry = SchemaDoc.parse(after).entry_for("1a2b3c4d5e6f")
    assert entry is not None and entry.field("Status") == "Applied to prod"
    assert_only_the_entry_changed(text, after, "1a2b3c4d5e6f", "Yes - 2024-05-03")


def test_a_missing_applied_to_prod_line_is_added_in_the_entry_style() -> None:
    after = mark_applied(
        SMALL.replace("- **Date**: 2024-05-02\n", "* **Date:** 2024-05-02\n  and later\n"),
        "9f9f9f9f9f9f",
        None,
        DAY,
    )
    assert (
        "### 9f9f9f9f9f9f - Drop legacy flags\n"
        "* **Date:** 2024-05-02\n"
        "  and later\n"
        "* **Applied to Prod:** Yes - 2024-05-03\n"
        "\n"
        "### e734d765d3ad"
    ) in after


def test_an_entry_already_in_current_stays_in_place() -> None:
    after = mark_applied(SMALL, "e734d765d3ad", None, DAY)
    assert after == SMALL.replace(
        "- **Status**: Applied to prod\n",
        "- **Status**: Applied to prod\n- **Applied to Prod**: Yes - 2024-05-03\n",
    ).replace("2024-04-30", "2024-05-03")


def test_an_entry_is_found_by_prefix_or_migration_file() -> None:
    text = SMALL.replace("- **Date**: 2024-05-02", "- **Migration File**: `versions/9f9f_drop.py`")
    by_prefix = mark_applied(SMALL, "1a2b3c4d5e6f00", None, DAY)
    assert by_prefix == mark_applied(SMALL, "1a2b3c4d5e6f", None, DAY)
    by_file = mark_applied(text, "77777777", "app/db/versions/9f9f_drop.py", DAY)
    assert_only_the_entry_changed(text, by_file, "9f9f9f9f9f9f", "Yes - 2024-05-03")


def test_the_last_entry_of_a_document_without_a_final_newline() -> None:
    text = "## Current Migrations\n\n## Pending Migrations\n\n### 1a2b3c4d5e6f - A\n- **Date**: x"
    assert mark_applied(text, "1a2b3c4d5e6f", None, DAY) == (
        "## Current Migrations\n\n"
        "### 1a2b3c4d5e6f - A\n- **Date**: x\n- **Applied to Prod**: Yes - 2024-05-03\n\n"
        "## Pending Migrations"
    )


def test_refusals_name_what_is_missing() -> None:
    with pytest.raises(DocEntryNotFound, match="no entry for revision 123456789abc"):
        mark_applied(SMALL, "123456789abc", None, DAY)
    without_current = SMALL.replace("## Current Migrations", "## Applied")
    with pytest.raises(DocFormatError, match="'## Current Migrations' section"):
        mark_applied(without_current, "1a2b3c4d5e6f", None, DAY)
    with pytest.raises(DocFormatError, match="'## Pending Migrations' section"):
        add_entry("# Notes\n", "### 1a2b3c4d5e6f - A\n")
    with pytest.raises(DocEntryExists, match="already has an entry for 1a2b3c4d5e6f"):
        add_entry(SMALL, "### 1a2b3c4d5e6f - Again\n")
    with pytest.raises(DocFormatError, match="exactly one"):
        add_entry(SMALL, "Just a note\n")
    assert issubclass(DocEntryNotFound, SchemabotError)
    assert issubclass(DocFormatError, SchemabotError)


def test_add_entry_without_a_hint_line_goes_below_the_heading() -> None:
    text = "## Pending Migrations\r\n### 9f9f9f9f9f9f - B\r\n\r\n---\r\n"
    assert add_entry(text, "\n### 1a2b3c4d5e6f - A\n- **Date**: x\n\n") == (
        "## Pending Migrations\r\n\r\n### 1a2b3c4d5e6f - A\r\n- **Date**: x\r\n\r\n"
        "### 9f9f9f9f9f9f - B\r\n\r\n---\r\n"
    )


def test_record_rollback_notes_the_reason_and_the_state() -> None:
    applied = mark_applied(SMALL, "1a2b3c4d5e6f", None, DAY)
    after = record_rollback(applied, "1a2b3c4d5e6f", None, DAY, "lock\n timeout on audit_log")
    assert after == applied.replace(
        "- **Applied to Prod**: Yes - 2024-05-03\n- **Notes**: Backfill runs separately\n",
        "- **Applied to Prod**: No - rolled back 2024-05-03\n"
        "- **Notes**: Backfill runs separately; "
        "Rolled back on 2024-05-03: lock timeout on audit_log\n",
    )
    assert record_rollback(after, "1a2b3c4d5e6f", None, DAY, "lock timeout on audit_log") == after


def test_record_rollback_adds_notes_and_updates_a_status() -> None:
    after = record_rollback(SMALL, "e734d765d3ad", None, DAY, "bad index")
    assert (
        "- **Status**: Rolled back 2024-05-03\n"
        "- **Applied to Prod**: No - rolled back 2024-05-03\n"
        "- **Notes**: Rolled back on 2024-05-03: bad index\n"
    ) in after


def rest_of(doc: SchemaDoc, entry: DocEntry) -> list[str]:
    """The document without the entry, the blank lines after it and Last Updated."""
    after = entry.end
    while after < len(doc.lines) and is_blank(doc.lines[after]):
        after += 1
    kept = [*doc.lines[: entry.start], *doc.lines[after:]]
    return [line for line in kept if not line.lstrip().startswith("**Last Updated**")]


def unchanged_lines(doc: SchemaDoc, entry: DocEntry) -> list[str]:
    """The entry's lines but those of the fields an update may change."""
    changed = {
        i for f in entry.fields if f.name.lower() in CHANGED_FIELDS for i in range(f.start, f.end)
    }
    return [doc.lines[i] for i in range(entry.start, entry.end) if i not in changed]


def assert_only_the_entry_changed(before: str, after: str, revision: str, applied: str) -> None:
    old, new = SchemaDoc.parse(before), SchemaDoc.parse(after)
    old_entry, new_entry = old.entry_for(revision), new.entry_for(revision)
    assert old_entry is not None and new_entry is not None
    assert new_entry.field("Applied to Prod") == applied
    assert rest_of(old, old_entry) == rest_of(new, new_entry)
    assert unchanged_lines(old, old_entry) == unchanged_lines(new, new_entry)
    endings = {ending(line) for line in old.lines[old_entry.start : old_entry.end]} - {""}
    assert {ending(line) for line in new.lines[new_entry.start : new_entry.end]} <= (
        endings or {"\n", "\r\n"}
    )
    if applied.startswith("Yes") and old_entry.section != "current":
        first_current = next(e for e in new.entries if e.section == "current")
        assert (new_entry.section, new_entry.start) == ("current", first_current.start)
    if old.last_updated is not None and new.last_updated is not None:
        assert content(new.lines[new.last_updated]).rstrip().endswith(DAY.isoformat())


WORDS = st.text(st.sampled_from("abcXYZ019 ,.()éü日🙂"), min_size=1, max_size=12).map(str.strip)
NAMES = st.sampled_from(
    ["Date", "Author", "Migration File", "Description", "Applied to Prod", "Status", "Notes"]
)


@st.composite
def entry_lines(draw: st.DrawFn, ref: str) -> list[str]:
    style = draw(st.sampled_from(["- **{}**: ", "* **{}**: ", "- **{}:** "]))
    sep = draw(st.sampled_from([" - ", " \u2013 ", ": "]))
    lines = [f"### {ref}{sep}{draw(WORDS) or 'Title'}"]
    for name in draw(st.lists(NAMES, unique=True, max_size=5)):
        lines.append(style.format(name) + draw(WORDS))
        if draw(st.integers(0, 4)) == 0:
            lines.append("  " + (draw(WORDS) or "more"))
    lines += draw(
        st.sampled_from([[], ["Reviewed by the DBA."], ["```sql", "### 0123456789ab - x", "```"]])
    )
    return lines


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, list[str]]:
    ids = draw(
        st.lists(
            st.text("0123456789abcdef", min_size=12, max_size=12),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    split = draw(st.integers(0, len(ids)))

    def section(heading: list[str], refs: list[str]) -> list[str]:
        body = [line for ref in refs for line in [*draw(entry_lines(ref)), ""]]
        return [*heading, "", *body, "---", ""]

    current = section(["## Current Migrations"], ids[:split])
    hint = ["", "_Add new migrations here before applying to production_"]
    pending = section(["## Pending Migrations", *draw(st.sampled_from([[], hint]))], ids[split:])
    template = ["### Template for New Entries", "```markdown", *DEFAULT_TEMPLATE.lines, "```", ""]
    middle = current + pending if draw(st.booleans()) else pending + current
    last = draw(st.sampled_from([[], ["", "**Last Updated**: [Update this date]"]]))
    lines = [
        "# Schema Changes",
        "",
        *template,
        *middle,
        "## Migration Checklist",
        "- [ ] Done",
        *last,
    ]
    eols = st.sampled_from(["\n", "\r\n"])
    text = "".join(line + draw(st.sampled_from(["", " ", "  "])) + draw(eols) for line in lines)
    return (content(text) if draw(st.booleans()) else text), ids


@settings(max_examples=150, deadline=None)
@given(documents(), st.data())
def test_mark_applied_changes_only_the_entry_its_place_and_the_date(
    document: tuple[str, list[str]], data: st.DataObject
) -> None:
    text, ids = document
    revision = data.draw(st.sampled_from(ids))
    after = mark_applied(text, revision, None, DAY)
    assert_only_the_entry_changed(text, after, revision, "Yes - 2024-05-03")
    assert mark_applied(after, revision, None, DAY) == after
    assert after.endswith("\n") == text.endswith("\n")


@settings(max_examples=100, deadline=None)
@given(documents(), st.data())
def test_record_rollback_changes_only_the_entry_and_the_date(
    document: tuple[str, list[str]], data: st.DataObject
) -> None:
    text, ids = document
    revision = data.draw(st.sampled_from(ids))
    after = record_rollback(text, revision, None, DAY, "it broke")
    assert_only_the_entry_changed(text, after, revision, "No - rolled back 2024-05-03")
    assert record_rollback(after, revision, None, DAY, "it broke") == after


@settings(max_examples=100, deadline=None)
@given(documents())
def test_add_then_apply_restores_the_pending_section(document: tuple[str, list[str]]) -> None:
    text, _ = document
    added = add_entry(text, "### 1a2b3c4d5e6f - New\n- **Applied to Prod**: No\n")
    applied = mark_applied(added, "1a2b3c4d5e6f", None, DAY)
    assert_only_the_entry_changed(added, applied, "1a2b3c4d5e6f", "Yes - 2024-05-03")
    pending = SchemaDoc.parse(text).section("pending")
    after = SchemaDoc.parse(applied).section("pending")
    assert pending is not None and after is not None
    old_lines = SchemaDoc.parse(text).lines[pending.start : pending.end]
    assert SchemaDoc.parse(applied).lines[after.start : after.end] == old_lines


@settings(max_examples=150, deadline=None)
@given(DOCUMENTS, st.sampled_from(["abc123def456", "abc123", "0a1b2c3d"]))
def test_updates_on_any_document_give_a_document_or_a_refusal(text: str, revision: str) -> None:
    updates: list[Callable[[], str]] = [
        lambda: mark_applied(text, revision, "versions/abc123def456_add_users.py", DAY),
        lambda: record_rollback(text, revision, None, DAY, "it broke"),
        lambda: add_entry(text, "### 1a2b3c4d5e6f - New\n- **Date**: 2024-05-01\n"),
    ]
    for update in updates:
        try:
            after = update()
        except SchemabotError:
            continue
        assert after.endswith("\n") == text.endswith("\n") or not text
