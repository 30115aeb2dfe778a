"""Buttons and checkboxes on the review card."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core.text import Bold, Code, Fenced, Text, User
from bot.errors import SchemabotError
from bot.slack.cards import APPROVE, CHECKLIST, REQUEST_CHANGES, WITHDRAW
from bot.slack.dialogs import request_changes_modal
from bot.slack.limits import revision_of_ref
from bot.slack.sql_views import DRAFT_ENTRY, SHOW_SQL, sql_modal
from bot.wiring import Services
from handlers.replies import tell

CHECKLIST_ACTION = re.compile(rf"^{CHECKLIST}_\d+$")


def register(app: App, services: Services) -> None:
    def approve_callback(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        revision, user, channel = _who_what(body, services)
        authors = services.authors_of(revision)
        _act(
            services,
            client,
            channel,
            user,
            revision,
            lambda: services.reviews.approve(revision, user, authors),
        )

    def request_changes_callback(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        revision, user, channel = _who_what(body, services)
        try:
            services.reviews.resolve(revision)
        except SchemabotError as exc:
            tell(client, channel, user, exc.text)
            return
        client.views_open(trigger_id=body["trigger_id"], view=request_changes_modal(revision))

    def withdraw_callback(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        revision, user, channel = _who_what(body, services)
        _act(
            services,
            client,
            channel,
            user,
            revision,
            lambda: services.reviews.withdraw(revision, user),
        )

    def checklist_callback(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        revision = known_revision(services, str(action["block_id"]).removeprefix(f"{CHECKLIST}:"))
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id")
        shown = _options_shown(body, action["action_id"])
        selected = {option["value"] for option in action.get("selected_options", [])}
        _act(
            services,
            client,
            channel,
            user,
            revision,
            lambda: services.reviews.set_checklist(
                revision, user, services.authors_of(revision), shown, selected
            ),
        )

    def show_sql_callback(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        revision, user, channel = _who_what(body, services)
        record = services.store.get_revision(revision)
        review = services.sql_review_of(revision)
        if record is None or review is None or review.sql is None:
            tell(client, channel, user, Text("The SQL of ", Code(revision), " is not ready yet."))
            return
        client.views_open(trigger_id=body["trigger_id"], view=sql_modal(review, record.path))

    def draft_entry_callback(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        revision, user, channel = _who_what(body, services)
        try:
            text, _ = services.draft(revision)
        except SchemabotError as exc:
            tell(client, channel, user, exc.text)
            return
        if services.publisher is not None:
            services.publisher.reply(
                revision,
                Text(
                    User(user),
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


def _who_what(body: dict[str, Any], services: Services) -> tuple[str, str, str | None]:
    action = body["actions"][0]
    channel = (body.get("channel") or {}).get("id")
    return known_revision(services, str(action["value"])), str(body["user"]["id"]), channel


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
    services: Services,
    client: WebClient,
    channel: str | None,
    user: str,
    revision: str,
    change: Callable[[], object],
) -> None:
    """Run a review change; refusals go to the clicker only and the card stays as it was."""
    try:
        change()
    except SchemabotError as exc:
        tell(client, channel, user, exc.text)
        return
    services.refresh_card(revision)
