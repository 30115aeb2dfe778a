"""Drift made by hand on a real PostgreSQL production: found, a gate on the tables a revision
touches, overridden with a reason (audited), and told to the channel once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from bot.apply.applier import Applier
from bot.apply.environment_facts import accept_drift
from bot.core.drift import DRIFT_OVERRIDE
from bot.core.gates import GateFailed
from bot.core.text import Text, plain
from bot.demo.project import DEMO_PENDING
from bot.drift_schedule import DriftSchedule
from bot.environments import environment_named
from bot.errors import SchemabotError
from bot.schedule import parse_schedule
from bot.wiring import build_services
from tests.conftest import FixedClock
from tests.support.applyteam import (
    APPLIER,
    REVIEWER,
    TODAY,
    Team,
    approve_and_tick,
    production_versions,
)

REVISION = DEMO_PENDING.revision


def by_hand(url: str, sql: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(sql))
    engine.dispose()


def with_drift_checks(team: Team) -> Applier:
    """The team's bot with SCHEMABOT_DRIFT_CHECK set: drift gates its production applies."""
    services = team.services
    services.settings = replace(services.settings, drift_check=parse_schedule("1d"))
    return Applier(services.apply_parts, team.notes)


def test_no_drift_where_production_is_what_its_migrations_make(team: Team) -> None:
    assert team.services.drift is not None
    production = environment_named(team.services.settings, None)

    report = team.services.drift.check(production)

    assert report.error is None, report.error
    assert report.differences == ()
    assert report.versions == production_versions(team.production)


def test_a_column_added_by_hand_is_found_and_blocks_the_apply_on_that_table(team: Team) -> None:
    by_hand(team.production, "ALTER TABLE posts ADD COLUMN hand_made integer NOT NULL DEFAULT 0")
    by_hand(team.production, "CREATE INDEX ix_users_email_by_hand ON users (email)")
    assert team.services.drift is not None
    production = environment_named(team.services.settings, None)

    report = team.services.drift.check(production)

    shown = [plain(d.text()) for d in report.differences]
    assert (
        "`posts` column hand_made is there (`INTEGER NOT NULL DEFAULT 0`), not in the migrations"
        in shown
    )
    assert any(line.startswith("`users` index ix_users_email_by_hand is there") for line in shown)
    approve_and_tick(team, REVISION)
    with pytest.raises(GateFailed) as refused:
        with_drift_checks(team).request(REVISION, APPLIER)
    message = str(refused.value)
    assert "`production` has drifted from its migrations on the tables it touches" in message
    assert "hand_made" in message and "ix_users_email_by_hand" not in message
    assert "/schema override-drift b41f7a2c9e15 <why it is safe>" in message


def test_the_override_is_audited_and_lets_the_apply_through_while_the_drift_stays(
    team: Team,
) -> None:
    by_hand(team.production, "ALTER TABLE posts ADD COLUMN hand_made integer")
    approve_and_tick(team, REVISION)
    applier = with_drift_checks(team)
    parts = team.services.apply_parts
    with pytest.raises(SchemabotError, match="Only the appliers of production"):
        accept_drift(parts, REVISION, REVIEWER, "we added it for the export job")

    accept_drift(parts, REVISION, APPLIER, "we added it for the export job")

    [event] = [e for e in team.services.store.audit_for(REVISION) if e.action == DRIFT_OVERRIDE]
    assert event.actor == APPLIER
    assert event.detail["reason"] == "we added it for the export job"
    assert any("hand_made" in str(line) for line in event.detail["differences"])  # type: ignore[union-attr]
    by_hand(team.production, "ALTER TABLE posts ADD COLUMN another integer")
    with pytest.raises(GateFailed, match="another"):
        applier.request(REVISION, APPLIER)
    by_hand(team.production, "ALTER TABLE posts DROP COLUMN another")

    run = applier.execute(applier.request(REVISION, APPLIER))

    assert run.state == "succeeded", run.error


def test_without_environments_or_drift_checks_applies_go_as_they_did(team: Team) -> None:
    by_hand(team.production, "ALTER TABLE posts ADD COLUMN hand_made integer")
    approve_and_tick(team, REVISION)

    run = team.applier.execute(team.applier.request(REVISION, APPLIER))

    assert run.state == "succeeded", run.error


def test_new_drift_is_posted_to_the_channel_once(team: Team, clock: FixedClock) -> None:
    assert team.services.drift is not None
    posted: list[Text] = []
    schedule = DriftSchedule(
        team.services.settings, team.services.store, team.services.drift, clock, posted.append
    )
    assert schedule.run_once() == {}

    by_hand(team.production, "ALTER TABLE posts ADD COLUMN hand_made integer")
    first = schedule.run_once()
    again = schedule.run_once()
    by_hand(team.production, "ALTER TABLE posts DROP COLUMN hand_made")
    schedule.run_once()
    by_hand(team.production, "ALTER TABLE posts ADD COLUMN hand_made integer")
    back = schedule.run_once()

    assert [d.subject for d in first["production"]] == ["column hand_made"]
    assert again == {}
    assert "production" in back
    assert len(posted) == 2
    assert "has drifted from its migrations (1 new difference)" in plain(posted[0])


def test_drift_runs_no_byte_nobody_approved(team: Team, tmp_path: Path) -> None:
    """The scratch database sits on production's server with production's credentials:
    an env.py changed on main since, or a file nobody applied, must not run there."""
    marker = tmp_path / "ran.txt"
    env = (team.dev.root / "migrations" / "env.py").read_text(encoding="utf-8")
    team.dev.write(
        "migrations/env.py",
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n" + env,
        message="Touch env.py on main",
    )
    team.dev.push()
    team.services.scanner.run()
    assert team.services.drift is not None

    report = team.services.drift.check(environment_named(team.services.settings, None))

    assert report.error is None, report.error
    assert not marker.exists()


def test_a_revision_pending_at_the_first_scan_and_migrated_by_hand_is_not_vouched_for(
    team: Team,
) -> None:
    """The first scan vouches for production's history only: a revision that was waiting
    for review then, and that someone ran on the database by hand since, has no bytes
    schemabot may build a chain from."""
    config = Config(str(team.dev.root / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", team.production)
    command.upgrade(config, REVISION)
    assert team.services.drift is not None

    report = team.services.drift.check(environment_named(team.services.settings, None))

    assert report.error is not None and REVISION in plain(Text(report.error))
    assert "vouch" in plain(Text(report.error))


def test_checks_asked_at_once_share_one_build(team: Team, tmp_path: Path) -> None:
    """Fifty `/schema drift` at once must not make fifty scratch databases: whoever asks
    while a check runs gets its report. The team's env.py (as the bot first saw it) notes
    the process it runs in: a build is one child."""
    runs = tmp_path / "env-runs.txt"
    env = (team.dev.root / "migrations" / "env.py").read_text(encoding="utf-8")
    team.dev.write(
        "migrations/env.py",
        f"import os\nopen({str(runs)!r}, 'a').write('%d\\n' % os.getpid())\n" + env,
        message="env.py notes each run",
    )
    team.dev.push()
    settings = replace(team.services.settings, workdir=tmp_path / "fresh")
    services = build_services(settings, clock=lambda: TODAY)
    services.scanner.run()
    assert services.drift is not None
    drift = services.drift
    production = environment_named(settings, None)

    with ThreadPoolExecutor(max_workers=6) as pool:
        reports = list(pool.map(lambda _: drift.check(production), range(6)))
    services.store.close()

    assert all(report.error is None and report.differences == () for report in reports)
    assert len(set(runs.read_text().split())) == 1  # one child: one build
