"""A backend laid out as real projects are (backend/alembic.ini, an env.py that imports the
application and takes its URL from the app's settings, a dependency only the app's
virtualenv has), reviewed and applied through Slack requests with two settings:
SCHEMABOT_MIGRATION_PYTHON and SCHEMABOT_MIGRATION_ENV_FILE.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from bot.standin.mrkdwn import displayed
from tests.support import pg
from tests.support.backend_app import (
    INITIAL,
    PENDING,
    PENDING_ENTRY,
    PENDING_PATH,
    PENDING_SOURCE,
    AppInterpreter,
    make_app_interpreter,
    make_backend_origin,
    write_env_file,
)
from tests.support.card_reading import REVIEWED, TESTED
from tests.support.chaos import thread_of
from tests.support.slackbot import REVIEWER, SECOND_REVIEWER, SlackBot, card_text, origin_doc

APPLIER = SECOND_REVIEWER
SECRET_KEY = "sk-9f8e7d6c5b4a39281706"
REQUIRED = [
    TESTED,
    REVIEWED,
    "breaking-changes-identified-and-documented",
    "rollback-plan-documented",
    "migration-tested-on-production-like-data-if-possible",
]


@pytest.fixture(scope="session")
def app_python(tmp_path_factory: pytest.TempPathFactory) -> AppInterpreter:
    return make_app_interpreter(tmp_path_factory.mktemp("app-venv") / "venv")


def at_initial(url: str) -> None:
    """Production as the team left it: the first revision applied (by their own tooling)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE posts (id integer PRIMARY KEY, body text NOT NULL)"))
        connection.execute(text("CREATE TABLE alembic_version (version_num varchar(32))"))
        connection.execute(text(f"INSERT INTO alembic_version VALUES ('{INITIAL}')"))
    engine.dispose()


def versions(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = {str(row[0]) for row in connection.execute(text("SELECT * FROM alembic_version"))}
    engine.dispose()
    return found


def columns(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = {column["name"] for column in inspect(connection).get_columns("posts")}
    engine.dispose()
    return found


@pytest.fixture
def other_database(pg_template: None) -> Iterator[str]:
    name = pg.create_database()
    yield pg.url(name)
    pg.drop_database(name)


Start = Callable[..., SlackBot]


@pytest.fixture
def backend_bot(
    slackbot_factory: Callable[..., SlackBot],
    app_python: AppInterpreter,
    pg_url: str,
    tmp_path: Path,
) -> Start:
    """The bot watching the backend, production at its first revision; `env` are the
    settings the app reads on apply (its env file)."""
    at_initial(pg_url)
    preview = write_env_file(
        tmp_path / "preview.env",
        DATABASE_URL="postgresql+psycopg://preview@localhost/preview",
        SECRET_KEY="placeholder",
    )

    def start(python: Path | None = app_python.python, **env: str) -> SlackBot:
        env_file = write_env_file(tmp_path / "backend.env", **env)
        bot = slackbot_factory(
            origin=make_backend_origin,
            alembic_ini="backend/alembic.ini",
            migration_python=python,
            migration_env_file=env_file,
            preview_env_file=preview,
            database_url=pg_url,
            appliers=frozenset({APPLIER}),
        )
        bot.scan()
        bot.dev.write(PENDING_PATH, PENDING_SOURCE, message="Add visibility")
        doc = (bot.dev.root / "SCHEMA_CHANGES.md").read_text(encoding="utf-8")
        from bot.core.doc_update import add_entry

        bot.dev.write("SCHEMA_CHANGES.md", add_entry(doc, PENDING_ENTRY), message="Document it")
        bot.dev.push()
        bot.scan()
        return bot

    return start


def approve_and_apply(bot: SlackBot) -> None:
    bot.click("approve", REVIEWER, PENDING)
    bot.tick(REQUIRED, REVIEWER, PENDING)
    bot.wait_for(lambda: len(bot.services.store.checklist_for(PENDING)) == len(REQUIRED))
    bot.command(f"apply {PENDING}", APPLIER)


def test_a_backend_that_imports_its_app_is_previewed_applied_and_verified(
    backend_bot: Start, pg_url: str
) -> None:
    bot = backend_bot(DATABASE_URL=pg_url, SECRET_KEY=SECRET_KEY)
    card = card_text(bot.card(PENDING))
    assert "ALTER TABLE posts ADD COLUMN visibility VARCHAR(16)" in displayed(card)

    approve_and_apply(bot)

    bot.wait_for_card(lambda text: "*Applied*" in text, PENDING, timeout=60)
    assert versions(pg_url) == {PENDING} and "visibility" in columns(pg_url)
    assert f"{PENDING} - Add Visibility to Posts" in origin_doc(bot)
    assert "Applied to Prod**: Yes" in origin_doc(bot).split(PENDING, 1)[1]


def test_an_env_file_without_a_setting_the_app_needs_fails_naming_it(
    backend_bot: Start, pg_url: str
) -> None:
    bot = backend_bot(DATABASE_URL=pg_url)
    approve_and_apply(bot)

    bot.wait_for(lambda: "Field required" in thread_of(bot, PENDING), timeout=60)
    thread = displayed(thread_of(bot, PENDING))
    assert "SECRET_KEY" in thread and "Nothing was committed" in thread
    # The app's error printed the start of the URL it got: none of it reaches Slack.
    assert pg_url[:9] not in thread
    assert versions(pg_url) == {INITIAL} and "visibility" not in columns(pg_url)
    bot.forget_errors()


def test_a_value_edited_into_the_env_file_after_the_start_is_masked_too(
    backend_bot: Start, pg_url: str, tmp_path: Path
) -> None:
    bot = backend_bot(DATABASE_URL=pg_url)
    # Someone rotates the credentials in the env file while schemabot runs.
    write_env_file(tmp_path / "backend.env", DATABASE_URL="mysql+pymysql://rotated:pw@db/prod")
    approve_and_apply(bot)

    bot.wait_for(lambda: "Field required" in thread_of(bot, PENDING), timeout=60)
    thread = displayed(thread_of(bot, PENDING))
    assert "SECRET_KEY" in thread and "mysql+pym" not in thread
    bot.forget_errors()


def test_an_env_py_pointed_at_another_database_is_a_failed_verification(
    backend_bot: Start, pg_url: str, other_database: str
) -> None:
    at_initial(other_database)
    bot = backend_bot(DATABASE_URL=other_database, SECRET_KEY=SECRET_KEY)
    approve_and_apply(bot)

    bot.wait_for(lambda: "afterwards" in thread_of(bot, PENDING), timeout=60)
    thread = displayed(thread_of(bot, PENDING))
    assert f"production (SCHEMABOT_DATABASE_URL) is at `{INITIAL}` afterwards" in thread
    assert f"is at `{PENDING}`" in thread and "make them the same" in thread
    assert versions(pg_url) == {INITIAL}
    assert "Applied to Prod**: Yes" not in origin_doc(bot).split(PENDING, 1)[1]
    bot.forget_errors()


def test_without_the_apps_interpreter_the_card_names_the_missing_module(
    backend_bot: Start, pg_url: str
) -> None:
    bot = backend_bot(python=None, DATABASE_URL=pg_url, SECRET_KEY=SECRET_KEY)

    card = displayed(card_text(bot.card(PENDING)))

    assert "No module named 'teamsettings'" in card
