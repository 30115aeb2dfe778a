"""Secrets never reach a Slack message or a log line."""

from __future__ import annotations

import logging

import pytest

from bot.redact import MASK, Redactor, install_log_redaction


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
