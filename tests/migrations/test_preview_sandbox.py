"""A branch's migration that tries to steal, call out and write: its preview gets nothing.

The migration is pushed to a feature branch nobody approved; the bot renders its card's SQL.
Its module body and `upgrade()` try every way out the issue names, and print what they got
into the SQL they emit, so the card itself shows what a preview could reach.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from urllib.parse import urlparse

import pytest

from bot.demo.project import VERSIONS
from tests.support.applyteam import BASELINE
from tests.support.slackbot import SlackBot, card_text

REVISION = "e5ca9e000001"
CANARY = "canary-7f3c9b2e4d1a"

HOSTILE = '''"""Harmless looking change

Revision ID: {revision}
Revises: {down}
"""
import os
import socket

from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None

found = {{}}


def attempt(name, get):
    try:
        found[name] = "GOT " + repr(get())[:300]
    except BaseException as exc:
        found[name] = "DENIED " + type(exc).__name__


def environment():
    return {{k: v for k, v in os.environ.items() if k.startswith(("SLACK", "SCHEMABOT", "CANARY"))}}


attempt("env", environment)
attempt("parent", lambda: open("/proc/%d/environ" % os.getppid(), "rb").read())
attempt("state", lambda: open({state!r}, "rb").read(64))
attempt("workdir", lambda: os.listdir({workdir!r}))
attempt("toml", lambda: open({toml!r}).read())
attempt("postgres", lambda: socket.create_connection(("127.0.0.1", 5432), timeout=3))
attempt("slack", lambda: socket.create_connection(("127.0.0.1", {slack_port}), timeout=3))
attempt("write", lambda: open({outside!r}, "w").write("pwned"))


def upgrade():
    attempt("env in upgrade", environment)
    for name, what in sorted(found.items()):
        op.execute("SELECT 1 -- %s: %s" % (name, what.replace("\\n", " ")))


def downgrade():
    pass
'''


def reached(sql: str) -> dict[str, str]:
    return dict(re.findall(r"-- ([a-z ]+): (\w+)", sql))


@pytest.fixture
def hostile_bot(
    slackbot_factory: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[SlackBot, Path]:
    # Secrets in the bot's own environment and configuration, as in production.
    monkeypatch.setenv("SLACK_SIGNING_SECRET", CANARY)
    monkeypatch.setenv("CANARY_PASSWORD", CANARY)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "schemabot.toml").write_text(f'channel = "C0REVIEW01"  # {CANARY}\n')
    bot: SlackBot = slackbot_factory()  # type: ignore[operator]
    bot.scan()
    return bot, tmp_path / "pwned.txt"


def test_a_branch_migration_reaches_no_secret_no_network_and_writes_nothing(
    hostile_bot: tuple[SlackBot, Path],
) -> None:
    bot, outside = hostile_bot
    settings = bot.settings
    source = HOSTILE.format(
        revision=REVISION,
        down=BASELINE,
        state=str(settings.state_db_path),
        workdir=str(settings.workdir),
        toml=str(Path("schemabot.toml").resolve()),
        slack_port=urlparse(settings.slack_api_url).port,
        outside=str(outside),
    )
    bot.dev.switch("feature/innocent", create=True)
    bot.dev.write(f"{VERSIONS}/{REVISION}_harmless.py", textwrap.dedent(source), message="x")
    bot.dev.push("feature/innocent")

    bot.scan()

    review = bot.services.sql_review_of(REVISION)
    assert review is not None and review.sql is not None, review
    got = reached(review.sql)
    assert sorted(got) == sorted(
        [
            "env",
            "env in upgrade",
            "parent",
            "postgres",
            "slack",
            "state",
            "toml",
            "workdir",
            "write",
        ]
    )
    assert {name: got[name] for name in ("postgres", "slack", "state", "write")} == dict.fromkeys(
        ("postgres", "slack", "state", "write"), "DENIED"
    )
    # Its environment holds the dialect and nothing else of schemabot's; what it may open
    # is empty: a covered file or folder, no parent process to read.
    only_the_dialect = "GOT {'SCHEMABOT_MIGRATE_URL': 'postgresql://'}"
    assert f"-- env: {only_the_dialect}" in review.sql
    assert f"-- env in upgrade: {only_the_dialect}" in review.sql
    for name in ("parent", "toml", "workdir"):
        assert got[name] == "DENIED" or re.search(rf"-- {name}: GOT (''|\[\]|b'')", review.sql)
    assert CANARY not in review.sql
    assert not outside.exists()
    card = bot.card(REVISION)
    assert "SELECT 1 -- env: GOT {'SCHEMABOT_MIGRATE_URL': 'postgresql://'}" in card_text(card)
    assert CANARY not in card_text(card)
    assert bot.request("GET", "/healthz").status == 200
