"""Keeps secrets out of text that leaves the bot: Slack messages, log lines, state rows."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, urlsplit

from bot.core.text import Text

MASK = "********"
# The password of a URL's user info: scheme://user:password@host. A password may hold an
# unencoded `@`, so it runs to the last `@` before the host's `/`. Anchored on `://` so
# long runs of letters are not rescanned from each of their characters.
URL_PASSWORD = re.compile(r"(?<=://)(?P<user>[^:/\s@]*):(?P<password>[^/\s]*)@")
# Query and connection-string parameters that carry credentials: `?password=…`,
# `&sslpassword=…`, `password=… host=…` (libpq's key=value form).
CREDENTIAL_KEYS = (
    "password",
    "passwd",
    "pwd",
    "pass",
    "sslpassword",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "refresh_token",
    "api_key",
    "apikey",
    "private_key",
)
CREDENTIAL_PARAMETER = re.compile(
    r"(?:(?<=[?&;\s])|^)(?P<key>(?:" + "|".join(CREDENTIAL_KEYS) + r")=)(?P<value>[^&;\s#'\"<>]+)",
    re.IGNORECASE,
)
SLACK_TOKEN = re.compile(r"\bx(?:ox[abprse]|app)-[A-Za-z0-9-]+")
SHORTEST_SECRET = 4
# An app's own error may print the start of a setting's value: from this many characters
# on, a start of an env file's value is masked too.
SHORTEST_PREFIX = 6
# Past this, a value's later characters are masked as part of the whole value only.
LONGEST_PREFIX = 80


def secrets_in_url(url: str | None) -> list[str]:
    """The credentials a URL carries (its password, credential query parameters), as
    written and decoded, so they are masked wherever they appear on their own."""
    if not url:
        return []
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return []
    found = [password] if password else []
    for key, value in parse_qsl(parts.query, keep_blank_values=False):
        if key.casefold() in CREDENTIAL_KEYS:
            found.append(value)
    return [*found, *(unquote(value) for value in found)]


class Redactor:
    """Replaces known secret values, Slack tokens and URL credentials with a mask."""

    def __init__(self, secrets: Iterable[str] = (), prefixed: Iterable[str] = ()) -> None:
        """`prefixed`: secrets also masked where only their start shows, from
        SHORTEST_PREFIX characters on (an app's error that prints `'sk-AbCdEf...`)."""
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self._prefixes: re.Pattern[str] | None = None
        self.add(secrets)
        self.add_prefixed(prefixed)

    def add_prefixed(self, secrets: Iterable[str]) -> None:
        """Mask these values, and every start of them SHORTEST_PREFIX characters or longer."""
        values = [s for s in secrets if len(s) >= SHORTEST_PREFIX]
        self.add(values)
        if not values:
            return
        patterns = [_prefix_pattern(value) for value in sorted(set(values), key=len, reverse=True)]
        with self._lock:
            known = [self._prefixes.pattern] if self._prefixes is not None else []
            self._prefixes = re.compile("|".join([*known, *patterns]))

    def add(self, secrets: Iterable[str]) -> None:
        """Mask these values too from now on (the values of a migration env file, say)."""
        with self._lock:
            known = {*self._secrets, *(s for s in secrets if len(s) >= SHORTEST_SECRET)}
            # Longest first, so a secret that contains another is masked whole.
            self._secrets = tuple(sorted(known, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        if self._prefixes is not None:
            text = self._prefixes.sub(MASK, text)
        text = SLACK_TOKEN.sub(MASK, text)
        text = URL_PASSWORD.sub(lambda match: f"{match['user']}:{MASK}@", text)
        return CREDENTIAL_PARAMETER.sub(lambda match: f"{match['key']}{MASK}", text)

    def text(self, text: Text) -> Text:
        """`text` with every string it shows redacted (before it is escaped for Slack,
        where a secret holding `&` or `<` would no longer be found)."""
        return text.map(self)


def _prefix_pattern(secret: str) -> str:
    """A pattern for any start of `secret` at least SHORTEST_PREFIX characters long, in
    linear size: `abcdef(?:g(?:h)?)?` for `abcdefgh`."""
    head, tail = secret[:SHORTEST_PREFIX], secret[SHORTEST_PREFIX:LONGEST_PREFIX]
    rest = ""
    for char in reversed(tail):
        rest = f"(?:{re.escape(char)}{rest})?"
    return re.escape(head) + rest


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
