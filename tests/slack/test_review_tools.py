"""What the card shows beyond the entry: the SQL, its lint, the code against the entry, a draft."""

from __future__ import annotations

from typing import Any

from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY, MigrationSpec
from bot.slack.sql_views import DRAFT_ENTRY, SHOW_SQL
from bot.standin.workspace import Message
from tests.support.slackbot import REVIEWER, SlackBot, card_text

DROPS_TAGS = MigrationSpec(
    "d7095f00d001",
    DEMO_PENDING.revision,
    "Drop tag tables",
    "drop_tag_tables",
    upgrade="""
    op.drop_table("post_audience_tags")
    op.drop_table("connection_tags")
    """,
)
SIBLING = MigrationSpec(
    "5ib1in9e0002",
    DEMO_PENDING.down_revision,
    "Add bio to users",
    "add_bio_to_users",
    upgrade='op.add_column("users", sa.Column("bio", sa.Text))',
    downgrade='op.drop_column("users", "bio")',
)


def block_ids(card: Message) -> list[str]:
    return [str(b.get("block_id")) for b in card.blocks]


def buttons(card: Message, block_id: str) -> list[str]:
    found = [b for b in card.blocks if b.get("block_id") == block_id]
    return [e["action_id"] for b in found for e in b["elements"]]


def test_the_card_shows_the_sql_it_runs_and_squawks_findings(slackbot: SlackBot) -> None:
    card = slackbot.review_pending()

    text = card_text(card)
    assert "*SQL it runs* (postgresql, offline)" in text
    assert "ALTER TABLE posts ADD COLUMN visibility VARCHAR(16) DEFAULT 'public' NOT NULL;" in text
    assert "`require-concurrent-index-creation`" in text
    assert "CREATE INDEX ix_posts_visibility ON posts (visibility);" in text
    assert buttons(card, f"tools:{DEMO_PENDING.revision}") == [SHOW_SQL]


def test_show_sql_opens_a_modal_with_all_of_it(slackbot: SlackBot) -> None:
    slackbot.review_pending()

    slackbot.click(SHOW_SQL, REVIEWER)

    view: dict[str, Any] = slackbot.wait_for(lambda: slackbot.fake.views_opened)[0]
    assert [call.ok for call in slackbot.fake.calls("views.open")] == [True]
    shown = "\n".join(str(b.get("text", {}).get("text", "")) for b in view["blocks"])
    assert "UPDATE alembic_version SET version_num='b41f7a2c9e15'" in shown
    assert "require-concurrent-index-creation" in shown
    # The timeouts an apply sets come first, as on the card.
    assert "```SET lock_timeout = '10s';" in shown
    assert "the whole migration is stopped after" in shown


def test_show_sql_opens_while_a_fetch_holds_the_clone(slackbot: SlackBot) -> None:
    slackbot.review_pending()

    # A `git fetch` of the watcher holds the clone for as long as the network takes.
    with slackbot.services.clone.lock:
        slackbot.click(SHOW_SQL, REVIEWER)
        slackbot.wait_for(lambda: slackbot.fake.views_opened)


def test_a_revision_without_an_entry_offers_a_draft_in_its_thread(slackbot: SlackBot) -> None:
    slackbot.scan()
    slackbot.push_revision(DEMO_PENDING, None)
    slackbot.scan()
    card = slackbot.card(DEMO_PENDING.revision)
    assert buttons(card, f"tools:{DEMO_PENDING.revision}") == [SHOW_SQL, DRAFT_ENTRY]

    slackbot.click(DRAFT_ENTRY, REVIEWER)

    reply = slackbot.wait_for(lambda: slackbot.card(DEMO_PENDING.revision).replies)[0]
    assert f"### {DEMO_PENDING.revision} - Add Visibility to Posts" in reply.text
    assert "- **Tables Affected**: `posts`" in reply.text
    assert "- **Author**: Dana Developer" in reply.text


def test_an_entry_that_disagrees_with_the_code_is_flagged(slackbot: SlackBot) -> None:
    slackbot.scan()
    entry = DEMO_PENDING_ENTRY.replace(DEMO_PENDING.revision, DROPS_TAGS.revision)
    slackbot.push_revision(DEMO_PENDING, DEMO_PENDING_ENTRY)
    slackbot.push_revision(DROPS_TAGS, entry)
    slackbot.scan()

    text = card_text(slackbot.card(DROPS_TAGS.revision))

    assert ":red_circle:" in text
    assert "Breaking Changes" in text and "No" in text
    assert "connection_tags" in text
    assert "no way back" in text.lower()
    assert "`ban-drop-table`" in text


def test_two_heads_on_main_are_shown_with_the_merge_command(slackbot: SlackBot) -> None:
    slackbot.scan()
    slackbot.push_revision(DEMO_PENDING, DEMO_PENDING_ENTRY)
    slackbot.scan()
    slackbot.push_revision(SIBLING, None)
    slackbot.scan()

    text = card_text(slackbot.card(SIBLING.revision))

    assert "has 2 heads" in text
    assert f'alembic merge -m "merge heads" {SIBLING.revision} {DEMO_PENDING.revision}' in text
