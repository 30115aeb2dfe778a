"""Three PostgreSQL databases on the local server, as a team's dev, staging and production.

dev is read-only (developers upgrade it by hand) and ticks "tested in dev"; staging ticks
"production-like data"; production requires staging, where a revision must soak for
SOAK_MINUTES. The clock is the test's: the soak passes when the test says so.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from git import Repo

from bot.apply.applier import Applier
from bot.config import Settings
from bot.core.checklist import manual_keys
from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY
from bot.environments import Environment
from bot.wiring import Services, build_services
from tests.support import pg
from tests.support.applyteam import APPLIER, BASELINE, REVIEWER, Notes, push_pending
from tests.support.gitrepos import Developer, make_origin

SOAK_MINUTES = 60
STAGES = ("dev", "staging", "production")


@dataclass
class Stages:
    dev: Developer
    services: Services
    applier: Applier
    notes: Notes
    urls: dict[str, str]

    def upgrade_by_hand(self, stage: str, target: str) -> None:
        """What a developer does: `alembic upgrade <target>` from their checkout."""
        config = Config(str(self.dev.root / "alembic.ini"))
        config.set_main_option("sqlalchemy.url", self.urls[stage])
        command.upgrade(config, target)

    def tick_what_people_tick(self, revision: str) -> None:
        services = self.services
        services.reviews.approve(revision, REVIEWER, authors=())
        doc = services.repository.doc("main")
        assert doc is not None
        keys = manual_keys(doc.checklist(), services.builder.ticks)
        services.reviews.set_checklist(revision, REVIEWER, (), shown=keys, selected=keys)


def three_databases() -> Iterator[dict[str, str]]:
    names = {stage: pg.create_database() for stage in STAGES}
    try:
        yield {stage: pg.url(name) for stage, name in names.items()}
    finally:
        for name in names.values():
            pg.drop_database(name)


def environments(urls: dict[str, str]) -> tuple[Environment, ...]:
    return (
        Environment("dev", urls["dev"], "DEV_URL", read_only=True, ticks=("tested in dev",)),
        Environment("staging", urls["staging"], "STAGING_URL", ticks=("production-like data",)),
        Environment(
            "production",
            urls["production"],
            requires="staging",
            soak_minutes=SOAK_MINUTES,
        ),
    )


def make_stages(tmp_path: Path, urls: dict[str, str], clock: object) -> Iterator[Stages]:
    dev = make_origin(tmp_path)
    for url in urls.values():
        config = Config(str(dev.root / "alembic.ini"))
        config.set_main_option("sqlalchemy.url", url)
        command.upgrade(config, BASELINE)
    push_pending(dev, DEMO_PENDING, DEMO_PENDING_ENTRY)
    settings = Settings(
        repo_url=str(dev.origin),
        workdir=tmp_path / "bot",
        database_url=urls["production"],
        appliers=frozenset({APPLIER}),
        environments=environments(urls),
    )
    services = build_services(settings, clock=clock)  # type: ignore[arg-type]
    services.scanner.run()
    assert services.environment_watch is not None
    services.environment_watch.cycle()
    notes = Notes()
    yield Stages(dev, services, Applier(services.apply_parts, notes), notes, urls)
    services.environment_watch.stop()
    services.store.close()


def trailers(origin: Path, commit: str) -> list[tuple[str, str]]:
    """The commit's trailers as `git interpret-trailers --parse` reads them."""
    with Repo(origin) as repo:
        message = repo.commit(commit).message
    parsed = subprocess.run(
        ["git", "interpret-trailers", "--parse"],
        input=str(message),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [tuple(line.split(": ", 1)) for line in parsed.splitlines()]  # type: ignore[misc]
