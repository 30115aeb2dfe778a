"""`/schema apply` and `/schema rollback`: acknowledged at once, the work done by a worker.

The person who asked gets the gate check's answer privately; the run's progress and its
outcome go to the card's thread, where the whole team sees them.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.core.records import RunKind
from bot.core.text import Code, Text
from bot.errors import SchemabotError
from bot.slack.dialogs import ROLLBACK_CONFIRM, rollback_confirmation
from bot.slack.limits import MESSAGE_TEXT_LIMIT
from bot.slack.markup import render
from bot.wiring import Services
from handlers.actions import known_revision

log = logging.getLogger(__name__)


def start(services: Services, kind: RunKind, ident: str, user: str, respond: Respond) -> None:
    """Check the gates and run, in a worker; `respond` reaches the person who asked."""
    services.workers.submit(_run, services, kind, ident, user, respond)


def _run(services: Services, kind: RunKind, ident: str, user: str, respond: Respond) -> None:
    applier = services.applier
    assert applier is not None
    try:
        run = applier.request(ident, user, kind)
    except SchemabotError as exc:
        respond(
            text=render(services.redact.text(exc.text), MESSAGE_TEXT_LIMIT),
            response_type="ephemeral",
            replace_original=False,
        )
        return
    except Exception:
        log.exception("/schema %s %s failed before it started", kind, ident)
        respond(text="schemabot failed before starting; nothing was changed. See its log.")
        return
    verb = "Applying" if kind == "apply" else "Rolling back"
    respond(
        text=render(Text(f"{verb} ", Code(run.revision), ": follow it in the card's thread.")),
        response_type="ephemeral",
        replace_original=False,
    )
    try:
        applier.execute(run)
    except Exception:
        log.exception("%s of %s failed unexpectedly", kind, run.revision)


def ask_rollback(services: Services, ident: str, respond: Respond) -> None:
    """Answer `/schema rollback` with a confirm button; nothing runs until it is clicked."""
    revision = services.reviews.resolve(ident)
    graph = services.repository.graph(services.builder.main_branch)
    parsed = graph.revisions.get(revision)
    down = ", ".join(parsed.down_revisions) if parsed and parsed.down_revisions else "base"
    message = rollback_confirmation(revision, down)
    respond(
        text=message.text,
        blocks=[block.to_dict() for block in message.blocks],
        response_type="ephemeral",
    )


def register(app: App, services: Services) -> None:
    def rollback_confirm_callback(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        revision = known_revision(services, str(body["actions"][0]["value"]))
        user = str(body["user"]["id"])
        respond(
            text=render(Text("Rolling back ", Code(revision), ": checking first…")),
            replace_original=True,
        )
        start(services, "rollback", revision, user, respond)

    app.action(ROLLBACK_CONFIRM)(rollback_confirm_callback)
