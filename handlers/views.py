"""Modal submissions."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.errors import SchemabotError
from bot.slack.dialogs import REASON_BLOCK, REASON_INPUT, REQUEST_CHANGES_VIEW
from bot.wiring import Services
from handlers.actions import known_revision
from handlers.replies import tell


def register(app: App, services: Services) -> None:
    def request_changes_view_callback(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        reason = _entered(view, REASON_BLOCK, REASON_INPUT)
        if not reason.strip():
            ack(response_action="errors", errors={REASON_BLOCK: "Say what should change."})
            return
        ack()
        revision = known_revision(services, str(view["private_metadata"]))
        user = str(body["user"]["id"])
        authors = services.authors_of(revision)
        try:
            services.reviews.request_changes(revision, user, authors, reason)
        except SchemabotError as exc:
            tell(client, services.settings.channel, user, exc.text)
            return
        services.refresh_card(revision)

    app.view(REQUEST_CHANGES_VIEW)(request_changes_view_callback)


def _entered(view: dict[str, Any], block_id: str, action_id: str) -> str:
    """What was typed in an input of a submitted view ("" when Slack sent no such value)."""
    values = (view.get("state") or {}).get("values")
    block = values.get(block_id) if isinstance(values, dict) else None
    element = block.get(action_id) if isinstance(block, dict) else None
    value = element.get("value") if isinstance(element, dict) else None
    return value if isinstance(value, str) else ""
