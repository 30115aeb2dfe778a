"""[environments.<name>] in schemabot.toml: read, checked, and masked like every secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.environments import environment_named, environments_of
from bot.errors import SchemabotError
from bot.redact import Redactor

STAGES = """
[environments.dev]
database_url_env = "DEV_DATABASE_URL"
read_only = true
ticks = ["tested in dev"]

[environments.staging]
database_url = "postgresql+psycopg://app:st4ging-pw@staging.example/app"
migration_env_file = "{env_file}"
appliers = ["U0STAGE001"]

[environments.production]
requires = "staging"
soak_minutes = 90
"""


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schemabot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_three_environments_are_read_in_order_with_their_keys(tmp_path: Path) -> None:
    env_file = tmp_path / "staging.env"
    env_file.write_text("DATABASE_URL=postgresql://app:from-the-file@staging/app\n")
    settings = load_settings(
        {
            "DEV_DATABASE_URL": "postgresql+psycopg://dev@dev.example/app",
            "SCHEMABOT_DATABASE_URL": "postgresql+psycopg://app:pr0d-pw@prod.example/app",
        },
        toml(tmp_path, STAGES.format(env_file=env_file)),
    )

    dev, staging, production = environments_of(settings)
    assert (dev.name, dev.read_only, dev.ticks, dev.url_source) == (
        "dev",
        True,
        ("tested in dev",),
        "DEV_DATABASE_URL",
    )
    assert staging.appliers == frozenset({"U0STAGE001"})
    assert staging.migration_settings() == {
        "DATABASE_URL": "postgresql://app:from-the-file@staging/app"
    }
    assert (production.requires, production.soak_minutes) == ("staging", 90)
    assert production.database_url == settings.database_url
    assert staging.lock_name == "apply:staging" and production.lock_name == "apply"
    assert environment_named(settings, None) is production
    said = Redactor(settings.secrets())(
        "st4ging-pw pr0d-pw postgresql://app:from-the-file@staging/app"
    )
    assert "st4ging-pw" not in said and "pr0d-pw" not in said and "from-the-file" not in said
    assert settings.describe()["environments"] == "dev (read-only), staging, production"


def test_without_the_table_production_is_schemabot_database_url() -> None:
    settings = load_settings(
        {"SCHEMABOT_DATABASE_URL": "postgresql://prod/app"}, Path("/nonexistent/x.toml")
    )

    [production] = environments_of(settings)
    assert (production.name, production.database_url) == ("production", "postgresql://prod/app")
    with pytest.raises(
        SchemabotError, match="No environment `staging`: the environments are production"
    ):
        environment_named(settings, "staging")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[environments.staging]\ndatabase_url = 'sqlite://'\n",
            "needs a \\[environments.production\\]",
        ),
        (
            "[environments.production]\ndatabase_url = 'sqlite://'\ncolour = 'red'\n",
            "unknown key 'colour'",
        ),
        (
            "[environments.production]\ndatabase_url_env = 'NOWHERE'\n",
            "the variable NOWHERE is not set",
        ),
        (
            "[environments.production]\ndatabase_url = 'sqlite://'\nread_only = true\n",
            "cannot be production",
        ),
        (
            "[environments.production]\ndatabase_url = 'sqlite://'\nrequires = 'qa'\n",
            "requires 'qa', which is not an environment",
        ),
        (
            "[environments.a]\ndatabase_url = 'sqlite://'\nrequires = 'production'\n"
            "[environments.production]\ndatabase_url = 'sqlite://'\nrequires = 'a'\n",
            "requires go in a circle",
        ),
        (
            "[environments.Prod]\ndatabase_url = 'sqlite://'\n",
            "environment names are lower-case",
        ),
        (
            "[environments.production]\ndatabase_url = 'sqlite://'\nsoak_minutes = 5\n",
            "soak_minutes needs requires",
        ),
        (
            "[environments.staging]\n[environments.production]\ndatabase_url = 'sqlite://'\n",
            "needs database_url",
        ),
    ],
)
def test_a_malformed_environment_stops_the_bot_naming_it(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({}, toml(tmp_path, text))


def test_production_and_schemabot_database_url_must_agree(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="name different databases"):
        load_settings(
            {"SCHEMABOT_DATABASE_URL": "postgresql://one/app"},
            toml(tmp_path, "[environments.production]\ndatabase_url = 'postgresql://two/app'\n"),
        )


def test_the_drift_check_takes_intervals_and_cron_lines() -> None:
    nowhere = Path("/nonexistent/x.toml")
    assert load_settings({"SCHEMABOT_DRIFT_CHECK": "6h"}, nowhere).drift_check is not None
    assert load_settings({"SCHEMABOT_DRIFT_CHECK": "0 3 * * *"}, nowhere).drift_check is not None
    assert load_settings({"SCHEMABOT_DRIFT_CHECK": "off"}, nowhere).drift_check is None
    with pytest.raises(ConfigError, match="SCHEMABOT_DRIFT_CHECK takes an interval"):
        load_settings({"SCHEMABOT_DRIFT_CHECK": "nightly"}, nowhere)
