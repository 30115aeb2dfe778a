"""Modal submissions."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.errors import SchemabotError
from bot.slack.dialogs import REASON_BLOCK, REASON_INPUT, REQUEST_CHANGES_VIEW
from bot.wiring import Services
from handlers.replies import tell


def register(app: App, services: Services) -> None:
    def request_changes_view_callback(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        values = view["state"]["values"]
        reason = str((values.get(REASON_BLOCK, {}).get(REASON_INPUT) or {}).get("value") or "")
        if not reason.strip():
            ack(response_action="errors", errors={REASON_BLOCK: "Say what should change."})
            return
        ack()
        revision = str(view["private_metadata"])
        user = str(body["user"]["id"])
        authors = services.authors_of(revision)
        try:
            services.reviews.request_changes(revision, user, authors, reason)
        except SchemabotError as exc:
            tell(client, services.settings.channel, user, str(exc))
            return
        services.refresh_card(revision)

    app.view(REQUEST_CHANGES_VIEW)(request_changes_view_callback)
