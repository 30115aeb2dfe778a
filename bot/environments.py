"""The environments a revision goes through (`[environments.<name>]` in schemabot.toml).

Without the table, SCHEMABOT_DATABASE_URL is the one environment, `production`, and
everything works as it did. With it, each table names a database and how schemabot may
treat it: only read (a developers' database), or migrate once the revision has been in
another environment (`requires`) for a while (`soak_minutes`).

    [environments.dev]
    database_url_env = "DEV_DATABASE_URL"
    read_only = true
    ticks = ["tested in dev"]

    [environments.staging]
    database_url_env = "STAGING_DATABASE_URL"
    migration_env_file = "staging.env"

    [environments.production]
    requires = "staging"
    soak_minutes = 60
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot.config import (
    ConfigError,
    Settings,
    _bool,
    _database_url,
    _file,
    _user_ids,
    _whole,
    read_env_file,
)
from bot.core.checklist import EnvironmentTicks
from bot.core.records import PRODUCTION
from bot.errors import SchemabotError
from bot.redact import secrets_in_url

TABLE = "environments"
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
KEYS = frozenset(
    {
        "database_url",
        "database_url_env",
        "migration_env_file",
        "read_only",
        "requires",
        "soak_minutes",
        "appliers",
        "ticks",
        "drift_url",
    }
)


@dataclass(frozen=True)
class Environment:
    """One database a revision goes to, as configured."""

    name: str
    database_url: str | None
    url_source: str = "SCHEMABOT_DATABASE_URL"
    """Where the URL came from, for messages (the URL itself is never shown)."""
    migration_env_file: Path | None = None
    read_only: bool = False
    requires: str | None = None
    soak_minutes: int = 0
    appliers: frozenset[str] | None = None
    """Who may apply here; None: SCHEMABOT_APPLIERS."""
    ticks: tuple[str, ...] = ()
    """Phrases of checklist items the bot ticks once this environment has the revision."""
    drift_url: str | None = None
    """The server where drift checks make their scratch database; None: SCHEMABOT_DRIFT_URL,
    else this environment's own server."""

    @property
    def is_production(self) -> bool:
        return self.name == PRODUCTION

    @property
    def lock_name(self) -> str:
        """Its apply lock in the store (production's keeps the name it always had)."""
        return "apply" if self.is_production else f"apply:{self.name}"

    def migration_settings(self) -> dict[str, str]:
        """The variables of its env file, for Alembic's process on apply and rollback."""
        return read_env_file(self.migration_env_file) if self.migration_env_file else {}

    def secrets(self) -> list[str]:
        found = [*_url_secrets(self.database_url), *_url_secrets(self.drift_url)]
        found += [value for value in self.migration_settings().values() if value]
        return found


def _url_secrets(url: str | None) -> list[str]:
    if not url:
        return []
    password = make_url(url).password
    return [*([str(password)] if password else []), *secrets_in_url(url)]


def environments_of(settings: Settings) -> tuple[Environment, ...]:
    """The configured environments, or production alone (SCHEMABOT_DATABASE_URL)."""
    if settings.environments:
        return settings.environments
    return (
        Environment(
            PRODUCTION,
            settings.database_url,
            migration_env_file=settings.migration_env_file,
        ),
    )


def environment_ticks(environments: Iterable[Environment]) -> EnvironmentTicks:
    """The checklist phrases environments tick, each with the environment that ticks it."""
    return tuple((phrase, e.name) for e in environments for phrase in e.ticks)


def environment_named(settings: Settings, name: str | None) -> Environment:
    """The environment called `name` (production when None); a clear refusal otherwise."""
    wanted = (name or PRODUCTION).strip().lower()
    known = environments_of(settings)
    for environment in known:
        if environment.name == wanted:
            return environment
    names = ", ".join(e.name for e in known)
    raise SchemabotError(f"No environment `{wanted}`: the environments are {names}.")


def parse_environments(
    table: object,
    source: Path,
    environ: Mapping[str, str],
    database_url: str | None,
    migration_env_file: Path | None,
) -> tuple[Environment, ...]:
    """The `[environments.<name>]` tables of `source`, checked; production's URL and env
    file default to SCHEMABOT_DATABASE_URL and SCHEMABOT_MIGRATION_ENV_FILE."""
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{source}: [{TABLE}] must hold one table per environment")
    found = [
        _environment(name, values, source, environ, database_url, migration_env_file)
        for name, values in table.items()
    ]
    names = {environment.name for environment in found}
    if PRODUCTION not in names:
        raise ConfigError(f"{source}: [{TABLE}] needs a [{TABLE}.{PRODUCTION}] table")
    for environment in found:
        if environment.requires is not None and environment.requires not in names:
            raise ConfigError(
                f"{source}: [{TABLE}.{environment.name}] requires {environment.requires!r}, "
                "which is not an environment"
            )
    _no_cycle({e.name: e.requires for e in found}, source)
    # Production last, the others in the order of the file: the order the card shows.
    return tuple(sorted(found, key=lambda e: e.is_production))


def _environment(
    name: object,
    values: object,
    source: Path,
    environ: Mapping[str, str],
    database_url: str | None,
    migration_env_file: Path | None,
) -> Environment:
    if not isinstance(name, str) or not NAME.match(name):
        raise ConfigError(
            f"{source}: environment names are lower-case letters, digits, - and _ "
            f"(32 at most); not {name!r}"
        )
    where = f"{source}: [{TABLE}.{name}]"
    if not isinstance(values, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(values) - KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}")
    key = _keyed(where, values)
    read_only = key("read_only", _bool, False)
    url, url_source = _url(name, where, values, environ, database_url)
    requires = key("requires", lambda k, raw: raw.strip().lower(), None)
    soak = key("soak_minutes", _whole(0), 0)
    if requires == name:
        raise ConfigError(f"{where} cannot require itself")
    if soak and requires is None:
        raise ConfigError(f"{where}: soak_minutes needs requires (the environment to soak in)")
    env_file = key("migration_env_file", _file, None)
    if env_file is None and name == PRODUCTION:
        env_file = migration_env_file
    appliers = key("appliers", _user_ids, None)
    if read_only and (name == PRODUCTION or env_file is not None or appliers is not None):
        raise ConfigError(
            f"{where}: a read_only environment is never migrated, so it cannot be production "
            "nor have migration_env_file or appliers"
        )
    ticks = values.get("ticks", [])
    if not isinstance(ticks, list) or not all(isinstance(t, str) and t.strip() for t in ticks):
        raise ConfigError(f"{where}: ticks must be a list of checklist phrases")
    return Environment(
        name=name,
        database_url=url,
        url_source=url_source,
        migration_env_file=env_file,
        read_only=read_only,
        requires=requires,
        soak_minutes=soak,
        appliers=appliers,
        ticks=tuple(t.strip() for t in ticks),
        drift_url=key("drift_url", _database_url, None),
    )


def _keyed(
    where: str, values: dict[str, Any]
) -> Callable[[str, Callable[[str, str], Any], Any], Any]:
    """Read one key of an environment's table through a settings parser, or its default."""

    def read(key: str, parse: Callable[[str, str], Any], default: Any) -> Any:
        if key not in values:
            return default
        value = values[key]
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, list):
            value = ",".join(str(item) for item in value)
        elif isinstance(value, dict):
            raise ConfigError(f"{where}: {key} must be a single value, not a table")
        return parse(f"{where} {key}", str(value))

    return read


def _url(
    name: str,
    where: str,
    values: dict[str, Any],
    environ: Mapping[str, str],
    database_url: str | None,
) -> tuple[str | None, str]:
    """The environment's database URL and where it came from."""
    if "database_url" in values and "database_url_env" in values:
        raise ConfigError(f"{where}: set database_url or database_url_env, not both")
    if "database_url_env" in values:
        variable = str(values["database_url_env"]).strip()
        raw = environ.get(variable, "")
        if not raw.strip():
            raise ConfigError(f"{where} database_url_env: the variable {variable} is not set")
        return _database_url(f"{where} database_url_env ({variable})", raw), variable
    if "database_url" in values:
        url = _database_url(f"{where} database_url", str(values["database_url"]))
        if name == PRODUCTION and database_url and url != database_url:
            raise ConfigError(
                f"{where} database_url and SCHEMABOT_DATABASE_URL name different databases: "
                "set one of them"
            )
        return url, f"[{TABLE}.{name}] database_url"
    if name == PRODUCTION and database_url:
        return database_url, "SCHEMABOT_DATABASE_URL"
    raise ConfigError(f"{where} needs database_url or database_url_env")


def _no_cycle(requires: Mapping[str, str | None], source: Path) -> None:
    for start in requires:
        seen: list[str] = [start]
        step = requires[start]
        while step is not None:
            if step in seen:
                chain = " -> ".join([*seen, step])
                raise ConfigError(f"{source}: [{TABLE}] requires go in a circle: {chain}")
            seen.append(step)
            step = requires.get(step)
