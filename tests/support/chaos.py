"""Faults injected from outside the bot, for the tests in tests/chaos/.

A bot process killed mid-apply, PostgreSQL tables held locked by someone else, the state
file read behind the bot's back, requests sent raw over HTTP. Nothing of the bot is patched.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from git import Repo
from sqlalchemy import create_engine, text

from bot.config import Settings
from bot.core.review import ReviewStatus
from bot.slack.app import EVENTS_PATH
from bot.waiting import wait_for
from tests.support.paths import REPO_ROOT
from tests.support.slackbot import REVIEWER, SlackBot, card_text


def wait_until(condition: Callable[[], object], timeout: float = 30.0) -> None:
    wait_for(condition, "the condition", timeout)


# -- a second bot process, killed on purpose ----------------------------------------------


def start_crash_apply(
    settings: Settings, revision: str, user: str, folder: Path
) -> subprocess.Popen[str]:
    """Another bot process, on the same state file and clone, applying `revision` for
    `user` and reporting to Slack when `settings` name it (see tests/support/crash_apply.py)."""
    config = folder / "crash-settings.json"
    config.write_text(
        json.dumps(
            {
                "repo_url": settings.repo_url,
                "workdir": str(settings.workdir),
                "database_url": settings.database_url,
                "appliers": sorted(settings.appliers),
                "slack_bot_token": settings.slack_bot_token,
                "slack_api_url": settings.slack_api_url,
                "channel": settings.channel,
            }
        )
    )
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.crash_apply", str(config), revision, user],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ),
    )


# -- PostgreSQL, as another client sees it ------------------------------------------------


@contextmanager
def tables_locked(url: str, *tables: str) -> Iterator[None]:
    """Hold ACCESS EXCLUSIVE locks on `tables`, as a long report query or a DBA would,
    so a migration touching them waits until the block ends."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            for table in tables:
                connection.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                connection.rollback()
    finally:
        engine.dispose()


def _count(url: str, query: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(query)).scalar() or 0)
    finally:
        engine.dispose()


def migrations_waiting(url: str) -> int:
    """Statements of a migration waiting for a table lock on this database."""
    return _count(
        url,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND query ILIKE 'ALTER TABLE%'",
    )


def gate_checks_waiting(url: str) -> int:
    """Reads of `alembic_version` (an apply's gate check) waiting for a table lock."""
    return _count(
        url,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND query ILIKE 'SELECT version_num%'",
    )


def other_sessions(url: str) -> int:
    """Sessions on this database besides the one asking (a killed bot's linger a moment)."""
    return _count(
        url,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
    )


# -- what the team sees -------------------------------------------------------------------


def approve_in_slack(bot: SlackBot, revision: str) -> None:
    """The reviewer approves `revision` on its card and ticks every checklist box."""
    bot.click("approve", REVIEWER, revision)
    bot.wait_for_card(lambda shown: "Approved 1/1" in shown, revision)
    card = bot.card(revision)
    for block in card.blocks:
        if block.get("block_id") != f"checklist:{revision}":
            continue
        for element in block["elements"]:
            keys = [option["value"] for option in element["options"]]
            before = len(bot.fake.calls("chat.update"))
            bot.tick(keys, REVIEWER, revision, element["action_id"])
            bot.wait_for(lambda before=before: len(bot.fake.calls("chat.update")) > before)


def thread_of(bot: SlackBot, revision: str) -> str:
    return "\n".join(reply.text for reply in bot.card(revision).replies)


_STATUS = re.compile(
    r"\*((?:" + "|".join(re.escape(status.value) for status in ReviewStatus) + r")[^*]*)\*"
)


def status_of(bot: SlackBot, revision: str) -> str:
    """The status the card shows in bold, e.g. "Applied" or "Approved 1/1"."""
    found = _STATUS.search(card_text(bot.card(revision)))
    assert found is not None, "the card shows no status"
    return found.group(1)


def said_to(bot: SlackBot, user: str) -> list[str]:
    """What the bot told `user` privately, oldest first."""
    return [ephemeral.text for ephemeral in bot.fake.ephemerals(user)]


def doc_commits(bot: SlackBot, revision: str) -> int:
    """The bot's commits on the origin's main branch recording `revision` as applied."""
    with Repo(bot.dev.origin) as origin:
        messages = [str(commit.message) for commit in origin.iter_commits("main")]
    return sum(message.startswith(f"Mark {revision} applied") for message in messages)


# -- the state file and the HTTP door, from outside ---------------------------------------


def state_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the state file, read through a connection of our own."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        tables = [
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        return {table: db.execute(f'SELECT * FROM "{table}"').fetchall() for table in tables}


def raw_post(port: int, body: bytes, headers: dict[str, str]) -> int:
    """POST `body` to /slack/events as is; the HTTP status of the answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", EVENTS_PATH, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()
