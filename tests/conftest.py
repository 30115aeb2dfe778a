import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from storage.store import Store
from tests.support.paths import SHARED

if TYPE_CHECKING:
    from tests.support.applyteam import Team
from tests.support.slackbot import SlackBot


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 3, 14, 9, 30, tzinfo=UTC))


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    """Where the `store` fixture keeps its state file (its folder does not exist yet)."""
    return tmp_path / "state" / "state.db"


@pytest.fixture
def store(state_path: Path, clock: FixedClock) -> Iterator[Store]:
    """A Store on a fresh state file, on the fixed clock."""
    with Store.open(state_path, clock) as opened:
        yield opened


def shared_folder(name: str) -> Path:
    """`../shared/<name>` beside the clone: skipped where it is absent (a fresh clone), but
    required where `CORPUS_REQUIRED=1` (CI sets it)."""
    folder = SHARED / name
    if folder.is_dir():
        return folder
    if os.environ.get("CORPUS_REQUIRED") == "1":
        pytest.fail(f"../shared/{name} is missing beside the clone (expected at {folder})")
    pytest.skip(f"needs ../shared/{name} beside the clone (the public corpus); CI requires it")


@pytest.fixture(scope="session")
def corpus() -> Path:
    """Real Alembic histories kept beside the repository, in `../shared/corpus`; read-only."""
    return shared_folder("corpus")


@pytest.fixture(scope="session")
def shared_seed() -> Path:
    """The team's own SCHEMA_CHANGES.md, in `../shared/seed`; read-only."""
    return shared_folder("seed") / "SCHEMA_CHANGES.md"


@pytest.fixture(scope="session")
def pg_template() -> None:
    from tests.support import pg

    try:
        pg.ensure_template()
    except Exception as exc:  # the suite needs the server: say so plainly
        pytest.fail(f"PostgreSQL is not reachable at {pg.SERVER}: {exc}")


@pytest.fixture
def pg_url(pg_template: None) -> Iterator[str]:
    """A throwaway PostgreSQL database for one test, as a SQLAlchemy URL."""
    from tests.support import pg

    name = pg.create_database()
    try:
        yield pg.url(name)
    finally:
        pg.drop_database(name)


@pytest.fixture
def slackbot_factory(tmp_path: Path) -> Iterator[Callable[..., SlackBot]]:
    """Starts SlackBots (see tests/support/slackbot.py) with the given options; stops them after.

    A test fails if the bot logged an error it did not expect (clear them with
    `bot.forget_errors()` where an error is the point).
    """
    started: list[SlackBot] = []

    def start(**options: Any) -> SlackBot:
        folder = tmp_path / f"slackbot{len(started)}"
        folder.mkdir()
        bot = SlackBot(folder, **options).start()
        started.append(bot)
        return bot

    yield start
    for bot in started:
        bot.stop()
    for bot in started:
        assert bot.errors() == [], "the bot logged errors"


@pytest.fixture
def slackbot(slackbot_factory: Callable[..., SlackBot]) -> SlackBot:
    """The bot serving HTTP, with FakeSlack, a git origin, a developer and reviewers."""
    return slackbot_factory()


@pytest.fixture
def team(tmp_path: Path, pg_url: str) -> Iterator["Team"]:
    """A real origin, a PostgreSQL production at the seed's history, a pending revision."""
    from tests.support.applyteam import make_team

    yield from make_team(tmp_path, pg_url)
