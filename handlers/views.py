"""Modal submissions."""

from __future__ import annotations

from logging import Logger
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.dialogs import REASON_BLOCK, REASON_INPUT, REQUEST_CHANGES_VIEW
from bot.errors import SchemabotError
from bot.services import Services
from handlers.replies import tell


def register(app: App, services: Services) -> None:
    def request_changes_view_callback(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, logger: Logger
    ) -> None:
        values = view["state"]["values"]
        reason = str((values.get(REASON_BLOCK, {}).get(REASON_INPUT) or {}).get("value") or "")
        if not reason.strip():
            ack(response_action="errors", errors={REASON_BLOCK: "Say what should change."})
            return
        ack()
        revision = str(view["private_metadata"])
        user = str(body["user"]["id"])
        record = services.store.get_revision(revision)
        author = (
            services.publisher.author_user(record)
            if services.publisher is not None and record is not None
            else None
        )
        try:
            services.reviews.request_changes(revision, user, author, reason)
        except SchemabotError as exc:
            tell(client, services.settings.channel, user, str(exc))
            return
        if services.publisher is not None:
            try:
                services.publisher.publish(revision)
            except Exception:
                logger.exception("could not update the card of %s", revision)

    app.view(REQUEST_CHANGES_VIEW)(request_changes_view_callback)
