"""Who people are, as Slack says: names for the status commit's trailers, cards' links."""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient

from bot.slack.client import SLACK_FAILURES, slack_failure
from bot.slack.publisher import CardPublisher

log = logging.getLogger(__name__)


class SlackDirectory:
    """Names by user id (`users.info`, remembered) and cards' permalinks (the publisher's)."""

    def __init__(self, client: WebClient, publisher: CardPublisher) -> None:
        self.client = client
        self.publisher = publisher
        self._names: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def user_name(self, user: str) -> str | None:
        with self._lock:
            if user in self._names:
                return self._names[user]
        try:
            found = self.client.users_info(user=user)["user"]
        except SLACK_FAILURES as exc:
            log.warning("users.info failed for a trailer: %s", slack_failure(exc))
            return None
        profile = found.get("profile") or {}
        name = profile.get("real_name") or found.get("real_name") or found.get("name")
        with self._lock:
            self._names[user] = str(name) if name else None
        return self._names[user]

    def permalink(self, revision: str) -> str | None:
        try:
            return self.publisher.permalink(revision)
        except SLACK_FAILURES as exc:
            log.warning("no permalink for %s: %s", revision, slack_failure(exc))
            return None
