"""Secrets never reach a Slack message or a log line."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest

from bot.core.text import Code, Text
from bot.redact import MASK, Redactor, install_log_redaction, secrets_in_url
from bot.slack.markup import render


def test_known_secrets_tokens_and_url_credentials_are_masked() -> None:
    redact = Redactor(["pa55w0rd", "signsecret123"])

    text = redact(
        "connect postgresql://app:pa55w0rd@db/app failed; token xoxb-123-456-abc; "
        "remote https://bot:gh-token@git.example.com/x.git; secret signsecret123"
    )

    assert "pa55w0rd" not in text and "signsecret123" not in text
    assert "xoxb-123" not in text and "gh-token" not in text
    assert f"https://bot:{MASK}@git.example.com/x.git" in text
    assert "postgresql://app:" in text


def test_log_records_and_tracebacks_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    redact = Redactor(["pa55w0rd"])
    handler = logging.StreamHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        install_log_redaction(redact)
        caplog.handler.addFilter(handler.filters[0])
        log = logging.getLogger("schemabot.test")
        log.error("login with %s", "pa55w0rd")
        try:
            raise RuntimeError("password pa55w0rd rejected")
        except RuntimeError:
            log.exception("failed")
    finally:
        root.removeHandler(handler)

    assert "pa55w0rd" not in caplog.text
    assert MASK in caplog.text


def test_credentials_in_query_parameters_and_key_value_strings_are_masked() -> None:
    redact = Redactor()

    text = redact(
        "cannot connect to postgresql://app@db:5432/app?sslmode=require&password=hunter22"
        " (dsn: host=db user=app password=hunter22 dbname=app); retry with ?token=abc123&x=1"
    )

    assert "hunter22" not in text and "abc123" not in text
    assert f"&password={MASK}" in text and f"password={MASK} dbname=app" in text
    assert f"?token={MASK}&x=1" in text and "sslmode=require" in text


def test_a_password_with_an_at_sign_is_masked_whole() -> None:
    text = Redactor()("postgresql://app:p@ss@w0rd@db.internal/app is down")
    assert text == f"postgresql://app:{MASK}@db.internal/app is down"


def test_the_database_urls_credentials_are_secrets_wherever_they_appear() -> None:
    url = "postgresql://app:s3cr%40t@db/app?password=qu3ry-pass"
    redact = Redactor(secrets_in_url(url))

    assert redact("auth failed for s3cr@t and qu3ry-pass") == f"auth failed for {MASK} and {MASK}"
    assert secrets_in_url("not a url") == []
    assert secrets_in_url(None) == []


def test_secrets_added_later_are_masked_from_then_on() -> None:
    redact = Redactor()
    assert redact("DATABASE_PASSWORD is envfile-secret") == "DATABASE_PASSWORD is envfile-secret"
    redact.add(["envfile-secret", "abc"])
    assert redact("DATABASE_PASSWORD is envfile-secret, abc") == (
        f"DATABASE_PASSWORD is {MASK}, abc"
    )


def test_text_is_redacted_before_it_is_escaped_for_slack() -> None:
    redact = Redactor(["p<&>ss"])
    said = Text("connect failed: ", Code("postgresql://u:p<&>ss@db/x"), " password p<&>ss")

    shown = render(redact.text(said))

    assert "p&lt;&amp;&gt;ss" not in shown and "p<&>ss" not in shown
    assert MASK in shown


def test_long_runs_of_letters_are_redacted_in_linear_time() -> None:
    """The URL pattern is anchored on `://`: a run of letters is not rescanned from each
    of its characters (as `[a-z][a-z0-9+.-]*://` did)."""
    redact = Redactor()
    small = best_of_three(lambda: redact("a" * 100_000))
    large = best_of_three(lambda: redact("a" * 400_000))
    # Four times the text: about four times the time, where a rescan would take sixteen.
    assert large / small < 10


def best_of_three(work: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return max(min(times), 1e-6)


def test_the_start_of_an_env_file_value_is_masked_as_an_apps_own_error_prints_it() -> None:
    redact = Redactor(prefixed=["sk-AbCdEfGhIjKlMnOp"])

    shown = redact("1 validation error: input_value={'SECRET_KEY': 'sk-AbCdEf...', 'n': 'sk-Ab'}")

    assert "sk-AbCdEf" not in shown and "'sk-Ab'" in shown, "six characters or more"
    assert redact("sk-AbCdEfGhIjKlMnOp") == "********"
