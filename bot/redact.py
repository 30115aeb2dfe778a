"""Keeps secrets out of text that leaves the bot: Slack messages, log lines, state rows."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "********"
# Credentials inside any URL-looking string: scheme://user:password@host
URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^@/\s]+)@")
SLACK_TOKEN = re.compile(r"\bx(?:ox[abprse]|app)-[A-Za-z0-9-]+")


class Redactor:
    """Replaces known secret values, Slack tokens and URL credentials with a mask."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        text = SLACK_TOKEN.sub(MASK, text)
        return URL_CREDENTIALS.sub(_mask_userinfo, text)


def _mask_userinfo(match: re.Match[str]) -> str:
    user, _, password = match["userinfo"].partition(":")
    if not password:
        return match.group(0)
    return f"{match['scheme']}{user}:{MASK}@"


class RedactingFilter(logging.Filter):
    """A logging filter that renders each record's message and redacts it."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self._redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def install_log_redaction(redact: Redactor) -> None:
    """Redact every record reaching the root logger's handlers."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter(redact))
