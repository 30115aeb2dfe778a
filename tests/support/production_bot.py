"""The bot beside a PostgreSQL production at the seed's history, and a second pending revision."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.config import Config

from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY, MigrationSpec
from tests.support.applyteam import BASELINE
from tests.support.chaos import (
    said_to,
)
from tests.support.slackbot import (
    OUTSIDER,
    SECOND_REVIEWER,
    SlackBot,
)

REVISION = DEMO_PENDING.revision
APPLIER = SECOND_REVIEWER
OTHER_APPLIER = OUTSIDER
OTHER = MigrationSpec(
    "c0ffee1d2e3f",
    BASELINE,
    "Add nickname to users",
    "add_nickname_to_users",
    upgrade='op.add_column("users", sa.Column("nickname", sa.String(40)))',
    downgrade='op.drop_column("users", "nickname")',
)
OTHER_ENTRY = (
    DEMO_PENDING_ENTRY.replace(DEMO_PENDING.revision, OTHER.revision)
    .replace(DEMO_PENDING.filename, OTHER.filename)
    .replace("Add Visibility to Posts", "Add Nickname to Users")
)


def production_bot(factory: Callable[..., SlackBot], pg_url: str) -> SlackBot:
    """The bot with a PostgreSQL production at the seed's history and two appliers.

    The migration's lock timeout is long: tests hold tables locked to catch it mid-way.
    """
    bot = factory(
        database_url=pg_url,
        appliers=frozenset({APPLIER, OTHER_APPLIER}),
        lock_timeout_seconds=60,
    )
    config = Config(str(bot.dev.root / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", pg_url)
    command.upgrade(config, BASELINE)
    return bot


def answered(bot: SlackBot, user: str) -> str:
    """The bot's last private answer to `user` about an apply (after "Checking…")."""
    bot.wait_for(lambda: [t for t in said_to(bot, user) if not t.startswith("Checking")])
    return [t for t in said_to(bot, user) if not t.startswith("Checking")][-1]
