"""Settings from the environment and `schemabot.toml`, validated once at start.

Every key of the contract is an environment variable; the TOML file may set the same
keys in lower case without the `SCHEMABOT_` prefix. The environment wins over the file.
Unknown keys and malformed values stop the bot with a message naming the key.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.layout import AlembicLayout
from bot.errors import SchemabotError
from bot.redact import Redactor, secrets_in_url
from bot.schedule import Schedule, parse_schedule

if TYPE_CHECKING:
    from bot.environments import Environment

PREFIX = "SCHEMABOT_"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_GIT_AUTHOR = "schemabot <schemabot@localhost>"
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
GIT_AUTHOR = re.compile(r"^(?P<name>[^<>]+?)\s*<(?P<email>[^<>\s]+)>$")
ENV_LINE = re.compile(r"^(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=(?P<value>.*)$")


class ConfigError(SchemabotError):
    """A setting is missing or malformed; the message names the key."""


@dataclass(frozen=True)
class GitAuthor:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


def _text(key: str, raw: str) -> str:
    return raw.strip()


def _whole(minimum: int) -> Callable[[str, str], int]:
    def parse(key: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{key} must be a whole number, got {raw!r}") from None
        if value < minimum:
            raise ConfigError(f"{key} must be at least {minimum}, got {value}")
        return value

    return parse


def _positive_float(key: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{key} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{key} must be more than 0, got {raw!r}")
    return value


def _user_ids(key: str, raw: str) -> frozenset[str]:
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    bad = [user for user in ids if not SLACK_USER_ID.match(user)]
    if bad:
        raise ConfigError(f"{key} takes Slack user IDs like U0123ABCD; not one: {', '.join(bad)}")
    return frozenset(ids)


def _folders(key: str, raw: str) -> tuple[str, ...]:
    """Repository folders, comma-separated; `folder/**` means the folder and all below."""
    folders = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    bad = [f for f in folders if f.startswith("/") or ".." in f.split("/")]
    if bad:
        raise ConfigError(f"{key} takes folders inside the repository; not: {bad[0]}")
    return folders


def _names(key: str, raw: str) -> frozenset[str]:
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def _phrases(key: str, raw: str) -> frozenset[str]:
    """Comma-separated phrases, compared without regard to case."""
    return frozenset(part.strip().casefold() for part in raw.split(",") if part.strip())


def _channel(key: str, raw: str) -> str:
    value = raw.strip()
    if not CHANNEL_ID.match(value):
        raise ConfigError(f"{key} must be a channel ID like C0123ABCD (not a #name), got {value!r}")
    return value


def _token(prefix: str) -> Callable[[str, str], str]:
    def parse(key: str, raw: str) -> str:
        value = raw.strip()
        if not value.startswith(prefix):
            raise ConfigError(f"{key} must start with {prefix!r}")
        return value

    return parse


def _url(key: str, raw: str) -> str:
    value = raw.strip()
    if not re.match(r"^https?://", value):
        raise ConfigError(f"{key} must be an http(s) URL, got {value!r}")
    return value if value.endswith("/") else value + "/"


def _repo_url(key: str, raw: str) -> str:
    value = raw.strip()
    if not value or value.startswith("-"):
        raise ConfigError(f"{key} must be a URL or path git can fetch")
    return value


def _database_url(key: str, raw: str) -> str:
    # SQLAlchemy is imported where it is needed: `schemabot --help` should start at once.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    value = raw.strip()
    try:
        make_url(value)
    except ArgumentError:
        raise ConfigError(f"{key} is not a SQLAlchemy database URL") from None
    return value


def _git_author(key: str, raw: str) -> GitAuthor:
    match = GIT_AUTHOR.match(raw.strip())
    if not match:
        raise ConfigError(f"{key} must look like 'Name <email>', got {raw!r}")
    return GitAuthor(match["name"], match["email"])


def _bool(key: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{key} must be true or false, got {raw!r}")


def _choice(*choices: str) -> Callable[[str, str], str]:
    def parse(key: str, raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ConfigError(f"{key} must be one of {', '.join(choices)}, got {raw!r}")
        return value

    return parse


def _file(key: str, raw: str) -> Path:
    path = Path(raw.strip()).expanduser()
    if not path.is_file():
        raise ConfigError(f"{key}: {path} is not a file")
    return path


def _schedule(key: str, raw: str) -> Schedule | None:
    try:
        return parse_schedule(raw)
    except ValueError as exc:
        raise ConfigError(f"{key} takes {exc}") from None


def _checklist_keys(key: str, raw: str) -> frozenset[str]:
    """Checklist item keys (as `/schema status` shows them), or `none` for no ticks at all."""
    if raw.strip().lower() == "none":
        return frozenset()
    keys = _names(key, raw)
    bad = [item for item in keys if not re.match(r"^[a-z0-9-]+$", item)]
    if bad:
        raise ConfigError(
            f"{key} takes checklist keys like rollback-plan-documented; not: {bad[0]}"
        )
    return keys


@dataclass(frozen=True)
class Setting:
    """One configuration key: its variable name, parser, and whether it is a secret."""

    env: str
    parse: Callable[[str, str], Any]
    secret: bool = False

    @property
    def toml_key(self) -> str:
        return self.env.removeprefix(PREFIX).lower()


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    channel: str | None = None
    repo_url: str | None = None
    branch: str | None = None
    alembic_ini: str = "alembic.ini"
    alembic_section: str = "alembic"
    script_location: str | None = None
    version_locations: tuple[str, ...] = ()
    doc: str = "SCHEMA_CHANGES.md"
    database_url: str | None = None
    workdir: Path = Path(".schemabot")
    state_db: Path | None = None
    approvers: frozenset[str] = frozenset()
    appliers: frozenset[str] = frozenset()
    required_approvals: int = 1
    poll_seconds: float = 30.0
    git_author: GitAuthor = field(default_factory=lambda: _git_author("", DEFAULT_GIT_AUTHOR))
    backup_command: str | None = None
    lock_timeout_seconds: int = 10
    migration_timeout_seconds: int = 900
    required_checklist: frozenset[str] | None = None
    squawk_exclude: frozenset[str] = frozenset()
    lint_gate: bool = False
    sql_preview: str = "all"
    migration_python: Path | None = None
    migration_env_file: Path | None = None
    preview_env_file: Path | None = None
    require_signed_commits: bool = False
    allowed_signers: Path | None = None
    drift_check: Schedule | None = None
    drift_url: str | None = None
    environments: tuple[Environment, ...] = ()
    """The `[environments.<name>]` tables of schemabot.toml (see bot/environments.py);
    empty: SCHEMABOT_DATABASE_URL is the one environment, production."""
    # Lock safety (issue 17).
    statement_timeout_seconds: int = 0
    lock_retries: int = 3
    lock_retry_seconds: float = 5.0
    large_table_rows: int = 1_000_000
    lock_trace: bool = True
    lock_trace_ticks: frozenset[str] = frozenset()

    @property
    def state_db_path(self) -> Path:
        return self.state_db if self.state_db is not None else self.workdir / "state.db"

    @property
    def clone_dir(self) -> Path:
        return self.workdir / "repo"

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def require(self, *names: str) -> None:
        """Stop with a message naming the first unset key among `names` (attribute names)."""
        for name in names:
            if getattr(self, name) is None:
                raise ConfigError(f"{SETTINGS[name].env} is required for this command")

    def secrets(self) -> list[str]:
        """Every secret value in force, for redaction: tokens, passwords, URL credentials."""
        found: list[str] = []
        for name, setting in SETTINGS.items():
            value = getattr(self, name)
            if setting.secret and value:
                found.append(str(value))
        if self.database_url:
            from sqlalchemy.engine import make_url

            password = make_url(self.database_url).password
            if password:
                found.append(str(password))
            found.extend(secrets_in_url(self.database_url))
        if self.repo_url:
            credentials = re.match(r"^[a-z+]+://([^@/]+)@", self.repo_url)
            if credentials:
                found.extend(part for part in credentials.group(1).split(":") if part)
        if self.migration_env_file is not None:
            found.extend(value for value in self.migration_settings().values() if value)
        if self.drift_url:
            found.extend(secrets_in_url(self.drift_url))
        for environment in self.environments:
            found.extend(environment.secrets())
        return found

    def redactor(self) -> Redactor:
        """What masks every secret in force: the values above, and the values of every
        migration env file even where an app's error prints only their start."""
        env_files = [*self.migration_settings().values()]
        for environment in self.environments:
            env_files += environment.migration_settings().values()
        return Redactor(self.secrets(), env_files)

    def migration_settings(self) -> dict[str, str]:
        """The variables of SCHEMABOT_MIGRATION_ENV_FILE (empty when it is not set)."""
        if self.migration_env_file is None:
            return {}
        return read_env_file(self.migration_env_file)

    def preview_settings(self) -> dict[str, str]:
        """The variables of SCHEMABOT_PREVIEW_ENV_FILE: placeholders an `env.py` needs to
        render offline (a preview runs unapproved code: they are no secrets, and not masked)."""
        return {} if self.preview_env_file is None else read_env_file(self.preview_env_file)

    @property
    def alembic_layout(self) -> AlembicLayout:
        return AlembicLayout(
            self.alembic_ini, self.alembic_section, self.script_location, self.version_locations
        )

    @property
    def migration_interpreter(self) -> str:
        """The Python that runs Alembic: the team's, else schemabot's own."""
        return str(self.migration_python) if self.migration_python else sys.executable

    def describe(self) -> dict[str, str]:
        """The settings in force, secrets masked, keyed by variable name."""
        shown: dict[str, str] = {}
        for name, setting in SETTINGS.items():
            value = getattr(self, name)
            if value is None:
                continue
            if setting.secret:
                shown[setting.env] = "********"
            elif isinstance(value, frozenset | tuple):
                shown[setting.env] = ",".join(sorted(value))
            elif name in {"database_url", "drift_url"}:
                from sqlalchemy.engine import make_url

                shown[setting.env] = make_url(value).render_as_string(hide_password=True)
            else:
                shown[setting.env] = str(value)
        if self.environments:
            shown["environments"] = ", ".join(
                e.name + (" (read-only)" if e.read_only else "") for e in self.environments
            )
        return shown


SETTINGS: dict[str, Setting] = {
    "slack_bot_token": Setting("SLACK_BOT_TOKEN", _token("xoxb-"), secret=True),
    "slack_signing_secret": Setting("SLACK_SIGNING_SECRET", _text, secret=True),
    "slack_app_token": Setting("SLACK_APP_TOKEN", _token("xapp-"), secret=True),
    "slack_api_url": Setting("SCHEMABOT_SLACK_API_URL", _url),
    "channel": Setting("SCHEMABOT_CHANNEL", _channel),
    "repo_url": Setting("SCHEMABOT_REPO_URL", _repo_url),
    "branch": Setting("SCHEMABOT_BRANCH", _text),
    "alembic_ini": Setting("SCHEMABOT_ALEMBIC_INI", _text),
    "alembic_section": Setting("SCHEMABOT_ALEMBIC_SECTION", _text),
    "script_location": Setting("SCHEMABOT_SCRIPT_LOCATION", _text),
    "version_locations": Setting("SCHEMABOT_VERSION_LOCATIONS", _folders),
    "doc": Setting("SCHEMABOT_DOC", _text),
    "database_url": Setting("SCHEMABOT_DATABASE_URL", _database_url),
    "workdir": Setting("SCHEMABOT_WORKDIR", lambda key, raw: Path(raw.strip())),
    "state_db": Setting("SCHEMABOT_STATE_DB", lambda key, raw: Path(raw.strip())),
    "approvers": Setting("SCHEMABOT_APPROVERS", _user_ids),
    "appliers": Setting("SCHEMABOT_APPLIERS", _user_ids),
    "required_approvals": Setting("SCHEMABOT_REQUIRED_APPROVALS", _whole(1)),
    "poll_seconds": Setting("SCHEMABOT_POLL_SECONDS", _positive_float),
    "git_author": Setting("SCHEMABOT_GIT_AUTHOR", _git_author),
    "backup_command": Setting("SCHEMABOT_BACKUP_COMMAND", _text),
    "lock_timeout_seconds": Setting("SCHEMABOT_LOCK_TIMEOUT", _whole(0)),
    "migration_timeout_seconds": Setting("SCHEMABOT_MIGRATION_TIMEOUT", _whole(1)),
    "required_checklist": Setting("SCHEMABOT_REQUIRED_CHECKLIST", _checklist_keys),
    "squawk_exclude": Setting("SCHEMABOT_SQUAWK_EXCLUDE", _names),
    "lint_gate": Setting("SCHEMABOT_LINT_GATE", _bool),
    "sql_preview": Setting("SCHEMABOT_SQL_PREVIEW", _choice("all", "main", "off")),
    "migration_python": Setting("SCHEMABOT_MIGRATION_PYTHON", _file),
    "migration_env_file": Setting("SCHEMABOT_MIGRATION_ENV_FILE", _file),
    "preview_env_file": Setting("SCHEMABOT_PREVIEW_ENV_FILE", _file),
    "require_signed_commits": Setting("SCHEMABOT_REQUIRE_SIGNED_COMMITS", _bool),
    "allowed_signers": Setting("SCHEMABOT_ALLOWED_SIGNERS", _file),
    "drift_check": Setting("SCHEMABOT_DRIFT_CHECK", _schedule),
    "drift_url": Setting("SCHEMABOT_DRIFT_URL", _database_url),
    "statement_timeout_seconds": Setting("SCHEMABOT_STATEMENT_TIMEOUT", _whole(0)),
    "lock_retries": Setting("SCHEMABOT_LOCK_RETRIES", _whole(0)),
    "lock_retry_seconds": Setting("SCHEMABOT_LOCK_RETRY_SECONDS", _positive_float),
    "large_table_rows": Setting("SCHEMABOT_LARGE_TABLE_ROWS", _whole(1)),
    "lock_trace": Setting("SCHEMABOT_LOCK_TRACE", _bool),
    "lock_trace_ticks": Setting("SCHEMABOT_LOCK_TRACE_TICKS", _phrases),
}
# `environments` comes from schemabot.toml's tables only (bot/environments.py).
assert set(SETTINGS) | {"environments"} == {f.name for f in fields(Settings)}


def read_env_file(path: Path) -> dict[str, str]:
    """A dotenv file's variables: `KEY=VALUE` lines, `export KEY=VALUE`, `#` comments,
    values optionally in single or double quotes. A line that is none of these stops with
    the line's number (never its text: it may hold a secret)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the env file {path}: {exc.__class__.__name__}") from None
    found: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        match = ENV_LINE.match(text)
        if match is None:
            raise ConfigError(f"the env file {path}, line {number}, is not KEY=VALUE")
        value = match["value"].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = value.split(" #", 1)[0].strip()
        found[match["key"]] = value
    return found


def _read_toml(path: Path) -> tuple[dict[str, str], object]:
    """The file's settings, and its `[environments]` table (None when it has none)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    by_toml_key = {setting.toml_key: setting for setting in SETTINGS.values()}
    values: dict[str, str] = {}
    environments = data.pop("environments", None)
    for key, value in data.items():
        if key not in by_toml_key:
            raise ConfigError(f"{path}: unknown key {key!r}")
        if isinstance(value, list):
            value = ",".join(str(item) for item in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, dict):
            raise ConfigError(f"{path}: {key} must be a single value, not a table")
        values[by_toml_key[key].env] = str(value)
    return values, environments


def load_settings(
    environ: Mapping[str, str] | None = None, toml_path: Path | None = None
) -> Settings:
    """Read and validate the settings; raises ConfigError naming the key at fault."""
    environ = os.environ if environ is None else environ
    toml_path = Path("schemabot.toml") if toml_path is None else toml_path
    raw, environments = _read_toml(toml_path) if toml_path.is_file() else ({}, None)
    known = {setting.env for setting in SETTINGS.values()}
    unknown = sorted(key for key in environ if key.startswith(PREFIX) and key not in known)
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]} (see the README's settings table)")
    raw.update({key: value for key, value in environ.items() if key in known})
    values: dict[str, Any] = {}
    for name, setting in SETTINGS.items():
        if setting.env in raw and raw[setting.env].strip() != "":
            values[name] = setting.parse(setting.env, raw[setting.env])
    if environments is not None:
        from bot.core.records import PRODUCTION
        from bot.environments import parse_environments

        values["environments"] = parse_environments(
            environments,
            toml_path,
            environ,
            values.get("database_url"),
            values.get("migration_env_file"),
        )
        # Everything that reads production (the first scan, doctor, backups) reads it here.
        production = next(e for e in values["environments"] if e.name == PRODUCTION)
        values["database_url"] = production.database_url
    return Settings(**values)
