"""Settings from the environment and schemabot.toml: defaults, validation, masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, GitAuthor, load_settings

NO_TOML = Path("/nonexistent/schemabot.toml")


def test_defaults_are_the_contracts() -> None:
    settings = load_settings({}, NO_TOML)

    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.alembic_ini == "alembic.ini"
    assert settings.doc == "SCHEMA_CHANGES.md"
    assert settings.workdir == Path(".schemabot")
    assert settings.state_db_path == Path(".schemabot/state.db")
    assert settings.approvers == frozenset() and settings.appliers == frozenset()
    assert settings.required_approvals == 1
    assert settings.poll_seconds == 30
    assert settings.git_author == GitAuthor("schemabot", "schemabot@localhost")
    assert not settings.socket_mode


def test_environment_values_are_parsed() -> None:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
            "SLACK_APP_TOKEN": "xapp-1-A1-xyz",
            "SCHEMABOT_CHANNEL": "C0123ABCD",
            "SCHEMABOT_APPROVERS": "U01AAAA, U02BBBB",
            "SCHEMABOT_REQUIRED_APPROVALS": "2",
            "SCHEMABOT_POLL_SECONDS": "0.5",
            "SCHEMABOT_GIT_AUTHOR": "Schema Bot <bot@example.com>",
            "SCHEMABOT_SLACK_API_URL": "http://127.0.0.1:9/api",
            "SCHEMABOT_REQUIRED_CHECKLIST": "code-review-completed,rollback-plan-documented",
            "UNRELATED": "ignored",
        },
        NO_TOML,
    )

    assert settings.socket_mode
    assert settings.approvers == frozenset({"U01AAAA", "U02BBBB"})
    assert settings.required_approvals == 2 and settings.poll_seconds == 0.5
    assert settings.git_author == GitAuthor("Schema Bot", "bot@example.com")
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.required_checklist == {"code-review-completed", "rollback-plan-documented"}


def test_the_toml_file_sets_keys_in_lower_case_and_the_environment_wins(tmp_path: Path) -> None:
    toml = tmp_path / "schemabot.toml"
    toml.write_text(
        'channel = "C0FILE001"\napprovers = ["U0AAA01", "U0BBB02"]\nrequired_approvals = 3\n'
    )

    settings = load_settings({"SCHEMABOT_REQUIRED_APPROVALS": "2"}, toml)

    assert settings.channel == "C0FILE001"
    assert settings.approvers == frozenset({"U0AAA01", "U0BBB02"})
    assert settings.required_approvals == 2


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SCHEMABOT_REQUIRED_APPROVALS": "0"}, "SCHEMABOT_REQUIRED_APPROVALS must be at least 1"),
        ({"SCHEMABOT_POLL_SECONDS": "soon"}, "SCHEMABOT_POLL_SECONDS must be a number"),
        ({"SCHEMABOT_CHANNEL": "#schema"}, "SCHEMABOT_CHANNEL must be a channel ID"),
        ({"SCHEMABOT_APPROVERS": "alice"}, "SCHEMABOT_APPROVERS takes Slack user IDs"),
        ({"SLACK_BOT_TOKEN": "xoxp-user"}, "SLACK_BOT_TOKEN must start with 'xoxb-'"),
        ({"SCHEMABOT_DATABASE_URL": "not a url"}, "SCHEMABOT_DATABASE_URL is not a SQLAlchemy"),
        ({"SCHEMABOT_GIT_AUTHOR": "schemabot"}, "SCHEMABOT_GIT_AUTHOR must look like"),
        ({"SCHEMABOT_REPO_URL": "--upload-pack=evil"}, "SCHEMABOT_REPO_URL must be a URL"),
        ({"SCHEMABOT_POLSECONDS": "3"}, "unknown setting SCHEMABOT_POLSECONDS"),
    ],
)
def test_malformed_or_unknown_values_name_the_key(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ, NO_TOML)


def test_a_toml_file_that_does_not_parse_names_itself(tmp_path: Path) -> None:
    toml = tmp_path / "schemabot.toml"
    toml.write_text("channel = \n")

    with pytest.raises(ConfigError, match=r"schemabot\.toml is not valid TOML"):
        load_settings({}, toml)


def test_required_keys_are_named_when_missing() -> None:
    settings = load_settings({}, NO_TOML)

    with pytest.raises(ConfigError, match="SCHEMABOT_CHANNEL is required"):
        settings.require("channel")


def test_describe_masks_every_secret() -> None:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-1-2-topsecret",
            "SLACK_SIGNING_SECRET": "signsecret123",
            "SCHEMABOT_DATABASE_URL": "postgresql://app:pa55w0rd@db/app",
            "SCHEMABOT_REPO_URL": "https://bot:gh-token-1@git.example.com/team/app.git",
        },
        NO_TOML,
    )

    shown = str(settings.describe())

    for secret in ("topsecret", "signsecret123", "pa55w0rd"):
        assert secret not in shown
    assert "postgresql://app:***@db/app" in shown
    assert set(settings.secrets()) >= {"signsecret123", "pa55w0rd", "gh-token-1"}
