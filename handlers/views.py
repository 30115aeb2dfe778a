"""Modal submissions."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core.text import Fenced, Text
from bot.errors import SchemabotError
from bot.slack.dialogs import REASON_BLOCK, REASON_INPUT, REQUEST_CHANGES_VIEW, field_errors
from bot.slack.limits import revision_of_ref
from bot.wiring import Services
from handlers.actions import known_revision
from handlers.replies import tell


def register(app: App, services: Services) -> None:
    def request_changes_view_callback(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        # The ack may carry a refusal, so this runs before it: memory only, nothing slow.
        reason = _entered(view, REASON_BLOCK, REASON_INPUT)
        user = str(body["user"]["id"])
        ref = str(view["private_metadata"])
        remembered = revision_of_ref(ref, services.reviews.remembered()) or ref
        refusal = services.change_request_refusal(remembered, user, reason)
        if refusal is not None:
            # The modal stays open with the reason in it, the refusal under it.
            ack(response_action="errors", errors=field_errors(REASON_BLOCK, refusal))
            return
        ack()
        revision = known_revision(services, ref)
        try:
            services.reviews.request_changes(revision, user, services.authors_of(revision), reason)
        except SchemabotError as exc:
            # The review changed since the modal opened. The modal is closed by now, so the
            # reason goes back to its writer with the refusal.
            unrecorded = Text(exc.text, "\nYour reason, not recorded:", Fenced(reason))
            tell(client, services.settings.channel, user, unrecorded)
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
