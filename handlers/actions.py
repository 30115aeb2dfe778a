"""Buttons and checkboxes on the review card."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core.text import Bold, Code, Fenced, Text, User
from bot.errors import SchemabotError
from bot.slack.cards import APPROVE, REQUEST_CHANGES, WITHDRAW
from bot.slack.checklist_view import CHECKLIST, checklist_ref
from bot.slack.dialogs import request_changes_modal
from bot.slack.limits import revision_of_ref
from bot.slack.sql_views import DRAFT_ENTRY, SHOW_SQL, sql_modal
from bot.wiring import Services
from handlers.replies import PrivateReply

CHECKLIST_ACTION = re.compile(rf"^{CHECKLIST}_\d+$")


def register(app: App, services: Services) -> None:
    def approve_callback(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        revision, reply = _who_what(body, respond, client, services)
        authors = services.authors_of(revision)
        _act(
            services,
            reply,
            revision,
            lambda: services.reviews.approve(revision, reply.user, authors),
        )

    def request_changes_callback(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        revision, reply = _who_what(body, respond, client, services)
        # Checked before the modal opens, so nobody writes a reason that cannot count; this
        # also reads the review and its authors into memory, where the submission, answered
        # before anything slow, is checked again (Services.change_request_refusal).
        try:
            services.reviews.may_request_changes(
                revision, reply.user, services.authors_of(revision)
            )
        except SchemabotError as exc:
            reply(exc.text)
            return
        client.views_open(trigger_id=body["trigger_id"], view=request_changes_modal(revision))

    def withdraw_callback(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        revision, reply = _who_what(body, respond, client, services)
        _act(services, reply, revision, lambda: services.reviews.withdraw(revision, reply.user))

    def checklist_callback(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        client: WebClient,
    ) -> None:
        ack()
        revision = known_revision(services, checklist_ref(str(action["block_id"])))
        reply = click_reply(body, respond, client)
        shown = _options_shown(body, action["action_id"])
        selected = {option["value"] for option in action.get("selected_options", [])}
        changed = _act(
            services,
            reply,
            revision,
            lambda: services.reviews.set_checklist(
                revision, reply.user, services.authors_of(revision), shown, selected
            ),
        )
        if not changed:
            # The clicker's Slack shows the box as they left it until the card is sent again
            # with new block ids; the same content would be skipped as unchanged.
            services.refresh_card(revision, reset_checklist=True)

    def show_sql_callback(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        revision, reply = _who_what(body, respond, client, services)
        record = services.store.get_revision(revision)
        review = services.sql_review_of(revision)
        if record is None or review is None or review.sql is None:
            reply(Text("The SQL of ", Code(revision), " is not ready yet."))
            return
        modal = sql_modal(review, record.path, services.builder.run_settings)
        client.views_open(trigger_id=body["trigger_id"], view=modal)

    def draft_entry_callback(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        revision, reply = _who_what(body, respond, client, services)
        try:
            text, _ = services.draft(revision)
        except SchemabotError as exc:
            reply(exc.text)
            return
        if services.publisher is not None:
            services.publisher.reply(
                revision,
                Text(
                    User(reply.user),
                    " asked for a draft of the missing entry. Paste it under ",
                    Bold("Pending Migrations"),
                    " in ",
                    Code(services.settings.doc),
                    " and fill in what it leaves open:\n",
                    Fenced(text),
                ),
            )

    app.action(APPROVE)(approve_callback)
    app.action(SHOW_SQL)(show_sql_callback)
    app.action(DRAFT_ENTRY)(draft_entry_callback)
    app.action(REQUEST_CHANGES)(request_changes_callback)
    app.action(WITHDRAW)(withdraw_callback)
    app.action(CHECKLIST_ACTION)(checklist_callback)


def _who_what(
    body: dict[str, Any], respond: Respond, client: WebClient, services: Services
) -> tuple[str, PrivateReply]:
    """The revision a button names, and the way back to the person who clicked it."""
    revision = known_revision(services, str(body["actions"][0]["value"]))
    return revision, click_reply(body, respond, client)


def click_reply(body: dict[str, Any], respond: Respond, client: WebClient) -> PrivateReply:
    """The clicker's private answers go to the click's response_url, which reaches them
    even where they are not a member of the card's channel."""
    channel = (body.get("channel") or {}).get("id")
    return PrivateReply(respond, client, channel, str(body["user"]["id"]))


def known_revision(services: Services, ref: str) -> str:
    """The revision a card's button or block names (long ids are named by their hash)."""
    if not ref.startswith("#"):
        return ref
    known = (record.revision for record in services.store.list_revisions())
    return revision_of_ref(ref, known) or ref


def _options_shown(body: dict[str, Any], action_id: str) -> set[str]:
    """The values of every option of the clicked checkboxes element, as the card showed it."""
    for block in (body.get("message") or {}).get("blocks", []):
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return {option["value"] for option in element.get("options", [])}
    return set()


def _act(
    services: Services, reply: PrivateReply, revision: str, change: Callable[[], object]
) -> bool:
    """Run a review change; refusals go to the clicker only and the card stays as it was.
    Whether the change was made."""
    try:
        change()
    except SchemabotError as exc:
        reply(exc.text)
        return False
    services.refresh_card(revision)
    return True
