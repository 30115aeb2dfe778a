"""A repository written by someone hostile, through the real bot and the Slack stand-in.

Mallory can push branches. Every string she controls carries what Slack would make live
(`<!channel>`, `<!here>`, `<@U…>`, `<https://…|…>`), `a <> b`, code fences and
10,000-character lines: branch names, docstrings, the entry's every field, the
checklist, the git author's name, the SQL. One branch links `alembic.ini` to a secrets
file, one holds a pathological megabyte of SCHEMA_CHANGES.md, one a document past the
size bound, one a SQL file too big for a Slack view. The stand-in is told which strings
are hers and records any `<…>` of hers that reaches Slack unescaped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from git import Actor

from bot.core.doc_limits import DOC_SIZE_LIMIT
from bot.core.doc_update import add_entry
from bot.demo.project import DEMO_PENDING, MigrationSpec
from bot.slack.sql_views import DRAFT_ENTRY, SHOW_SQL
from bot.standin.mrkdwn import displayed
from bot.standin.workspace import Message
from tests.support.slackbot import REVIEWER, SlackBot, card_text

# Git keeps `<` and `>` out of author names; `&` is Slack's third control character.
MALLORY = Actor("Mallory &lt;!channel&gt; & co", "mallory@example.com")
PING = "<!channel>"
HERE = "<!here>"
EVERYONE = "<!everyone>"
EVIL_USER = "<@U0EVIL0001>"
LINK = "<https://evil.example|click here>"
OPERATOR = "a <> b"
LONG = "y" * 10_000
SECRET = "TOP-SECRET-LINE=hunter2"
PARENT = DEMO_PENDING.down_revision
DOC = "SCHEMA_CHANGES.md"


def spec(revision: str, message: str, upgrade: str, downgrade: str = "pass") -> MigrationSpec:
    return MigrationSpec(revision, PARENT, message, "hostile", upgrade, downgrade)


FIELDS = MigrationSpec(
    "c0ffee000001",
    PARENT,
    f"Add {LINK} {HERE}",
    "hostile",
    upgrade=f"""
    op.add_column("users", sa.Column("nickname", sa.Text))
    op.execute("UPDATE users SET nickname = 'x' WHERE {OPERATOR} -- ``` {PING} {LONG}")
    """,
    downgrade='op.drop_column("users", "nickname")',
)
ENTRY = f"""### c0ffee000001 - {LINK} {HERE}
- **Date**: 2026-01-05
- **Author**: {PING} Mallory
- **Migration File**: `migrations/versions/c0ffee000001_hostile.py`
- **Type**: ADD COLUMN {EVERYONE}
- **Description**: {PING} sees {OPERATOR} & more ``` not a fence ``` {LONG}
- **Tables Affected**: {EVIL_USER}, users
- **Breaking Changes**: Yes {HERE} {OPERATOR}
- **Rollback Plan**: ``` {PING} ``` then `{EVIL_USER}`
- **Tested in Dev**: {LINK}
"""
CHECKLIST_ITEM = f"- [ ] {PING} signed off by {EVIL_USER} at {LINK}\n"
UNDOCUMENTED = spec(
    "c0ffee000002",
    f"Fix ``` {PING} with {OPERATOR}",
    f"op.execute(\"DELETE FROM users WHERE {OPERATOR} AND note = '```{HERE}'\")",
)
LINKED = spec("c0ffee000003", "Linked ini", 'op.add_column("users", sa.Column("x", sa.Text))')
PATHOLOGICAL = spec("c0ffee000004", "Big document", 'op.create_index("ix", "users", ["id"])')
OVERSIZED = spec("c0ffee000005", "Oversized document", 'op.create_index("iy", "users", ["id"])')
HUGE_SQL = spec(
    "c0ffee000006",
    "Huge SQL",
    "\n".join(
        f"op.execute(\"UPDATE users SET name = '{n:05}' WHERE {OPERATOR}\")" for n in range(6000)
    ),
)
BRANCHES = {
    f"feat/{PING}{EVIL_USER}": FIELDS,
    f"fix/{HERE}&{EVERYONE}": UNDOCUMENTED,
    "links/ini": LINKED,
    "big/document": PATHOLOGICAL,
    "big/oversized": OVERSIZED,
    "big/sql": HUGE_SQL,
}
HERS = (PING, HERE, EVERYONE, EVIL_USER, LINK, OPERATOR, MALLORY.name or "", *BRANCHES)


@dataclass
class Hostile:
    bot: SlackBot
    outside: Path
    before: dict[str, bytes]


def files_outside(bot: SlackBot) -> dict[str, bytes]:
    """Every file under the test's folder but the bot's work dir and the git repositories,
    with its content."""
    root = bot.tmp_path.parent
    skipped = {bot.settings.workdir, bot.dev.origin, bot.dev.root}
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if Path(folder, d) not in skipped]
        for name in files:
            path = Path(folder, name)
            found[str(path.relative_to(root))] = path.read_bytes()
    return found


def push(bot: SlackBot, branch: str, revision: MigrationSpec, doc: str | None = None) -> None:
    dev = bot.dev
    dev.switch("main")
    dev.switch(branch, create=True)
    dev.add_migration(revision, author=MALLORY)
    if doc is not None:
        dev.write(DOC, doc, author=MALLORY, message="Document it")
    dev.push()


def link_ini(bot: SlackBot, target: Path) -> None:
    ini = bot.dev.root / "alembic.ini"
    ini.unlink()
    os.symlink(target, ini)
    bot.dev.repo.git.add("alembic.ini")
    bot.dev.repo.index.commit("Point the ini elsewhere", author=MALLORY, committer=MALLORY)
    bot.dev.push()


@pytest.fixture
def hostile(slackbot: SlackBot) -> Iterator[Hostile]:
    bot = slackbot
    bot.scan()
    outside = bot.tmp_path.parent / "secrets.env"
    outside.write_text(SECRET + "\n")
    bot.fake.from_repository(*HERS)
    seed = (bot.dev.root / DOC).read_text()

    documented = add_entry(seed, ENTRY)
    heading = "## Migration Checklist\n\nBefore applying a migration to production:\n\n"
    push(
        bot,
        f"feat/{PING}{EVIL_USER}",
        FIELDS,
        documented.replace(heading, heading + CHECKLIST_ITEM),
    )
    push(bot, f"fix/{HERE}&{EVERYONE}", UNDOCUMENTED)
    push(bot, "links/ini", LINKED)
    link_ini(bot, outside)
    padded = ("# a" + " " * 40_000 + "x\n") * 25
    push(bot, "big/document", PATHOLOGICAL, seed + padded)
    push(bot, "big/oversized", OVERSIZED, seed + "z" * DOC_SIZE_LIMIT)
    push(bot, "big/sql", HUGE_SQL)
    before = files_outside(bot)

    bot.scan()
    yield Hostile(bot, outside, before)


def everything_slack_received(bot: SlackBot) -> str:
    return "\n".join(json.dumps(call.args) for call in bot.fake.calls())


def found_text(card: Message) -> str:
    return displayed(card_text(card))


def opened_view(bot: SlackBot, revision: str, action: str) -> dict[str, Any]:
    before = len(bot.fake.views_opened)
    bot.click(action, REVIEWER, revision)
    view: dict[str, Any] = bot.wait_for(lambda: bot.fake.views_opened[before:])[0]
    return view


def test_every_revision_gets_its_card_and_none_of_hers_goes_live(hostile: Hostile) -> None:
    bot = hostile.bot

    cards = {revision.revision: bot.card(revision.revision) for revision in BRANCHES.values()}

    assert len(bot.cards()) == len(BRANCHES)
    assert all(call.ok for call in bot.fake.calls() if call.method.startswith("chat."))
    fields = found_text(cards[FIELDS.revision])
    assert f"Yes {HERE} {OPERATOR}" in fields
    assert f"on branch `feat/{PING}{EVIL_USER}`" in fields
    assert MALLORY.name in displayed(cards[FIELDS.revision].blocks[1]["text"]["text"])
    assert "No way back" in found_text(cards[UNDOCUMENTED.revision])
    assert "`alembic.ini` on `links/ini` is a symbolic link" in found_text(cards[LINKED.revision])
    assert "more than the 2 MiB schemabot reads" in found_text(cards[OVERSIZED.revision])
    assert bot.fake.live_markup() == []


def test_her_sql_is_shown_as_written_and_a_huge_one_fits_a_view(hostile: Hostile) -> None:
    bot = hostile.bot

    view = opened_view(bot, FIELDS.revision, SHOW_SQL)
    shown = displayed("\n".join(str(b.get("text", {}).get("text", "")) for b in view["blocks"]))
    assert f"WHERE {OPERATOR} -- `\u200b`\u200b` {PING}" in shown

    huge = opened_view(bot, HUGE_SQL.revision, SHOW_SQL)
    note = huge["blocks"][-1]["elements"][0]["text"]
    assert "longer than a Slack view holds" in note and HUGE_SQL.path in note
    assert len(json.dumps(huge)) < 250_000
    assert all(call.ok for call in bot.fake.calls("views.open"))
    assert bot.fake.live_markup() == []


def test_a_linked_ini_leaks_nothing_and_nothing_outside_the_work_dir_changes(
    hostile: Hostile,
) -> None:
    bot = hostile.bot
    sql = bot.card(LINKED.revision)

    assert "not rendered" in found_text(sql)
    assert SECRET not in everything_slack_received(bot)
    assert hostile.outside.read_text() == SECRET + "\n"
    assert files_outside(bot) == hostile.before


def test_answers_modals_drafts_and_the_home_tab_stay_plain(hostile: Hostile) -> None:
    bot = hostile.bot

    for revision in BRANCHES.values():
        assert revision.revision in displayed(
            bot.command(f"status {revision.revision}", REVIEWER).text
        )
    listed = displayed(bot.command("list", REVIEWER).text)
    assert f"{LINK} {HERE}" in listed
    bot.command(f"rollback {FIELDS.revision}", REVIEWER)
    asked = len(bot.fake.calls("response_url"))
    bot.command(f"apply {FIELDS.revision}", REVIEWER)
    refusal = bot.wait_for(lambda: bot.fake.calls("response_url")[asked + 1 :])[0]
    assert f"Can't apply `{FIELDS.revision}` yet" in displayed(str(refusal.args["text"]))
    opened_view(bot, FIELDS.revision, "request_changes")
    bot.submit_request_changes(f"Please drop {PING} and {LINK}", REVIEWER)
    bot.wait_for_card(lambda text: "requested changes" in text, FIELDS.revision)
    bot.click(DRAFT_ENTRY, REVIEWER, UNDOCUMENTED.revision)
    draft = bot.wait_for(lambda: bot.card(UNDOCUMENTED.revision).replies)[0].text
    assert (
        draft.count("```") == 2
        and f"Fix `\u200b`\u200b` {PING.replace('<', '&lt;').replace('>', '&gt;')}" in draft
    )
    bot.home(REVIEWER)
    bot.wait_for(lambda: REVIEWER in bot.fake.home_views)

    assert bot.fake.live_markup() == []
    assert files_outside(bot) == hostile.before


TRAVERSAL = "x/../../../../outside"


def test_a_revision_id_that_walks_out_of_the_work_dir_removes_and_writes_nothing_there(
    slackbot: SlackBot,
) -> None:
    """The id reaches the bot as a string; no path is built from it."""
    bot = slackbot
    bot.scan()
    kept = bot.tmp_path.parent / "outside" / "keep.txt"
    kept.parent.mkdir()
    kept.write_text("kept\n")
    bot.fake.from_repository(TRAVERSAL)
    revision = MigrationSpec(TRAVERSAL, PARENT, "Walk out", "walk_out", "pass")
    bot.dev.switch("walk/out", create=True)
    bot.dev.write("migrations/versions/walk_out.py", revision.source(), author=MALLORY)
    bot.dev.add_migration(FIELDS, author=MALLORY)
    bot.dev.push()
    before = files_outside(bot)

    bot.scan()

    errors = bot.errors()
    bot.forget_errors()
    bot.card(FIELDS.revision)
    assert files_outside(bot) == before
    assert kept.read_text() == "kept\n"
    assert bot.fake.live_markup() == []
    assert errors == []
