"""A team with a real git origin, a real PostgreSQL production database and an applier."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from git import Repo
from sqlalchemy import create_engine, inspect, text

from bot.apply.applier import Applier
from bot.config import Settings
from bot.core.checklist import manual_keys
from bot.core.doc_update import add_entry
from bot.core.text import Text
from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY, MigrationSpec
from bot.wiring import Services, build_services
from tests.support.gitrepos import Developer, make_origin

APPLIER = "U0APPLIER1"
REVIEWER = "U0REVIEW01"
TODAY = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
BASELINE = "merge_enum_fix_and_photo_urls"


@dataclass
class Notes:
    """What an apply told the card and its thread (the ApplyNotifier the Slack layer implements)."""

    lines: list[str] = field(default_factory=list)
    cards: list[str] = field(default_factory=list)

    def card_changed(self, revision: str) -> None:
        self.cards.append(revision)

    def progress(self, revision: str, said: Text) -> None:
        self.lines.append(str(said))


@dataclass
class Team:
    dev: Developer
    services: Services
    applier: Applier
    notes: Notes
    production: str


def production_versions(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT version_num FROM alembic_version"))
        versions = {str(row[0]) for row in rows}
    engine.dispose()
    return versions


def columns(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        names = {column["name"] for column in inspect(connection).get_columns(table)}
    engine.dispose()
    return names


def origin_doc(dev: Developer) -> str:
    with Repo(dev.origin) as origin:
        return (origin.commit("main").tree / "SCHEMA_CHANGES.md").data_stream.read().decode()


def push_pending(dev: Developer, spec: MigrationSpec, entry: str | None) -> None:
    dev.pull()
    dev.add_migration(spec)
    if entry is not None:
        doc = (dev.root / "SCHEMA_CHANGES.md").read_text(encoding="utf-8")
        dev.write("SCHEMA_CHANGES.md", add_entry(doc, entry), message=f"Document {spec.revision}")
    dev.push()


def make_team(tmp_path: Path, pg_url: str) -> Iterator[Team]:
    dev = make_origin(tmp_path)
    config = Config(str(dev.root / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", pg_url)
    command.upgrade(config, BASELINE)
    push_pending(dev, DEMO_PENDING, DEMO_PENDING_ENTRY)
    settings = Settings(
        repo_url=str(dev.origin),
        workdir=tmp_path / "bot",
        database_url=pg_url,
        appliers=frozenset({APPLIER}),
    )
    services = build_services(settings, clock=lambda: TODAY)
    services.scanner.run()
    notes = Notes()
    yield Team(dev, services, Applier(services.apply_parts, notes), notes, pg_url)
    services.store.close()


def approve_and_tick(team: Team, revision: str) -> None:
    services = team.services
    services.reviews.approve(revision, REVIEWER, authors=())
    doc = services.repository.doc("main")
    assert doc is not None
    keys = manual_keys(doc.checklist())
    services.reviews.set_checklist(revision, REVIEWER, (), shown=keys, selected=keys)
