"""Every card, Home tab and modal the bot renders is one Slack accepts, however long the text.

Snapshots come from the real services on a sandbox repository (git, the document, the
store); the Block Kit checks are FakeSlack's, written from Slack's reference.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.core.doc_update import add_entry
from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY, SEED_HISTORY, seed_document
from bot.slack.cards import review_card
from bot.slack.dialogs import request_changes_modal
from bot.slack.home import HomeItem, home_view
from bot.standin.blockkit import LIMITS, message_errors, view_errors
from bot.wiring import Services, build_services
from tests.support.gitrepos import Developer, make_origin
from tests.support.slackbot import REVIEWER, SECOND_REVIEWER, texts

REVISION = DEMO_PENDING.revision
DOC = "SCHEMA_CHANGES.md"
POINTER = f"(see `{DOC}`)"


@pytest.fixture
def dev(tmp_path: Path) -> Developer:
    return make_origin(tmp_path)


@pytest.fixture
def services(tmp_path: Path, dev: Developer) -> Iterator[Services]:
    """The bot's services without Slack, on the sandbox origin, after its first scan."""
    settings = Settings(repo_url=str(dev.origin), workdir=tmp_path / "bot")
    built = build_services(settings)
    built.scanner.run()
    yield built
    built.workers.shutdown(wait=True)
    built.store.close()


def blocks_of(snapshot_card: Any) -> list[dict[str, Any]]:
    return [block.to_dict() for block in snapshot_card.blocks]


def push(services: Services, dev: Developer, doc: str | None) -> None:
    """DEMO_PENDING pushed, with the document as `doc` (unchanged if None), and scanned."""
    dev.add_migration(DEMO_PENDING)
    if doc is not None:
        dev.write(DOC, doc, message="Document it")
    dev.push()
    services.scanner.run()


def test_a_card_for_every_entry_of_the_seed_document(services: Services) -> None:
    doc = services.repository.doc("main")
    assert doc is not None
    entries = [e for e in doc.entries if services.store.get_revision(e.ref) is not None]
    assert len(entries) == len(SEED_HISTORY) - 1  # the initial schema has no entry

    for entry in entries:
        message = review_card(services.snapshot(entry.ref))

        blocks = blocks_of(message)
        assert message_errors(blocks) == [], entry.ref
        assert texts(blocks[0]) == [f"{entry.ref} - {entry.title}"]
        assert f"*Type*\n{entry.field('Type')}" in texts(blocks)


def test_a_breaking_entry_is_flagged(services: Services) -> None:
    message = review_card(services.snapshot("ae8fcb7881c7"))

    shown = texts(blocks_of(message))
    assert ":rotating_light: *Breaking change:* Yes - Data migration required" in shown
    assert "*Breaking Changes*\n:rotating_light: *Yes - Data migration required*" in shown


def test_a_revision_without_an_entry(services: Services, dev: Developer) -> None:
    push(services, dev, doc=None)

    message = review_card(services.snapshot(REVISION))

    blocks = blocks_of(message)
    assert message_errors(blocks) == []
    assert texts(blocks[0]) == [f"{REVISION} - Add visibility to posts"]
    shown = "\n".join(texts(blocks))
    assert f"No entry for this revision in `{DOC}` on `main`." in shown
    assert ":white_large_square: Migration documented in this file" in shown
    assert "*Description*" not in shown and "*Type*" not in shown


def _long_document() -> str:
    """The seed with a 10,000-character entry and a 23-item checklist."""
    description = ("Adds a column. " * 700)[:9_999] + "."
    entry = (
        DEMO_PENDING_ENTRY.replace(
            "Add Visibility to Posts", "Add visibility to posts, " + "and more, " * 30
        )
        .replace(
            "Adds a `visibility` column (public, connections, private) to posts, indexed",
            description,
        )
        .replace("`posts`", ", ".join(f"`table_{i}`" for i in range(300)))
        .replace("**Breaking Changes**: No", "**Breaking Changes**: Yes - " + "<careful> " * 500)
    )
    extra = "".join(
        f"- [ ] Extra check {i}: "
        + "confirm the dashboards still load after the change " * 2
        + "\n"
        for i in range(12)
    )
    doc = add_entry(seed_document(), entry)
    anchor = "- [ ] Updated status in this document\n"
    return doc.replace(anchor, anchor + extra)


def test_long_text_is_cut_within_block_kit_limits(services: Services, dev: Developer) -> None:
    push(services, dev, _long_document())
    snapshot = services.snapshot(REVISION)
    assert len(snapshot.checklist) == 23
    assert len(snapshot.field("Description") or "") == 10_000

    message = review_card(snapshot)

    blocks = blocks_of(message)
    assert message_errors(blocks) == []
    assert len(blocks) <= LIMITS["message.blocks"] and len(message.text) <= 3000
    by_id = {block.get("block_id"): block for block in blocks}
    description = by_id["description"]["text"]["text"]
    assert len(description) <= LIMITS["section.text"]
    assert description.startswith("*Description*\nAdds a column. Adds a column.")
    assert description.endswith(f"… {POINTER}")
    breaking = by_id["breaking"]["text"]["text"]
    assert len(breaking) <= LIMITS["section.text"] and breaking.endswith(f"… {POINTER}")
    assert "&lt;careful&gt;" in breaking and "<careful>" not in breaking
    assert len(texts(by_id["title"])[0]) <= LIMITS["header.text"]
    assert all(len(f) <= LIMITS["section.field"] for f in texts(by_id["facts"]))
    # 17 of the 23 items are ticked by people: two checkboxes of at most ten options.
    elements = by_id[f"checklist:{REVISION}"]["elements"]
    assert [len(e["options"]) for e in elements] == [10, 7]
    assert [e["action_id"] for e in elements] == ["checklist_0", "checklist_1"]
    options = [o for e in elements for o in e["options"]]
    assert all(len(o["text"]["text"]) <= LIMITS["option.text"] for o in options)
    assert len({o["value"] for o in options}) == 17


def test_ticks_and_verdicts_on_a_long_card_stay_valid(services: Services, dev: Developer) -> None:
    push(services, dev, _long_document())
    manual = [line.entry.key for line in services.snapshot(REVISION).manual_items]
    services.reviews.set_checklist(REVISION, REVIEWER, (), manual, [manual[0], manual[15]])
    for user in (REVIEWER, SECOND_REVIEWER, "U0THIRD003"):
        services.reviews.request_changes(REVISION, user, (), "Split it up. " * 150)

    message = review_card(services.snapshot(REVISION))

    blocks = blocks_of(message)
    assert message_errors(blocks) == []
    by_id = {block.get("block_id"): block for block in blocks}
    elements = by_id[f"checklist:{REVISION}"]["elements"]
    assert [[o["value"] for o in e.get("initial_options", [])] for e in elements] == [
        [manual[0]],
        [manual[15]],
    ]
    verdicts = by_id["verdicts"]["text"]["text"]
    assert len(verdicts) <= LIMITS["section.text"] and verdicts.endswith("…")


def test_the_home_tab_and_the_modal_are_valid_views(services: Services, dev: Developer) -> None:
    push(services, dev, _long_document())
    snapshot = services.snapshot(REVISION)
    link = "https://schemabot-test.slack.com/archives/C0REVIEW01/p1700000000000100"
    items = [HomeItem(snapshot, ("1 more approval", "17 checklist item(s) ticked"), link)] * 40

    empty = home_view([], None).to_dict()
    full = home_view(items, None, first_open=True).to_dict()
    modal = request_changes_modal(REVISION).to_dict()

    assert view_errors(empty, expected_type="home") == []
    assert "Nothing is pending. :tada:" in texts(empty["blocks"])
    assert view_errors(full, expected_type="home") == []
    assert len(full["blocks"]) <= LIMITS["view.blocks"]
    assert "/schema list" in texts(full["blocks"])[-2]
    assert texts(full["blocks"])[0] == "Welcome to schemabot"
    assert view_errors(modal, expected_type="modal") == []
    assert (modal["callback_id"], modal["private_metadata"]) == ("request_changes", REVISION)
