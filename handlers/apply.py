"""`/schema apply` and `/schema rollback`: acknowledged at once, the work done by a worker.

The person who asked gets the gate check's answer privately; the run's progress and its
outcome go to the card's thread, where the whole team sees them.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core.records import PRODUCTION, RunKind
from bot.core.text import Code, Text
from bot.environments import environment_named
from bot.errors import SchemabotError
from bot.slack.dialogs import ROLLBACK_CONFIRM, rollback_confirmation
from bot.wiring import Services
from handlers.actions import click_reply, known_revision
from handlers.replies import PrivateReply

log = logging.getLogger(__name__)


def start(
    services: Services,
    kind: RunKind,
    ident: str,
    user: str,
    reply: PrivateReply,
    environment: str | None = None,
) -> None:
    """Check the gates and run, in a worker; `reply` reaches the person who asked."""
    services.workers.submit(_run, services, kind, ident, user, reply, environment)


def _run(
    services: Services,
    kind: RunKind,
    ident: str,
    user: str,
    reply: PrivateReply,
    environment: str | None,
) -> None:
    applier = services.applier
    assert applier is not None
    try:
        run = applier.request(ident, user, kind, environment)
    except SchemabotError as exc:
        reply(services.redact.text(exc.text))
        return
    except Exception:
        log.exception("/schema %s %s failed before it started", kind, ident)
        reply("schemabot failed before starting; nothing was changed. See its log.")
        return
    verb = "Applying" if kind == "apply" else "Rolling back"
    elsewhere = "" if run.environment == PRODUCTION else f" in {run.environment}"
    reply(Text(f"{verb} ", Code(run.revision), f"{elsewhere}: follow it in the card's thread."))
    try:
        applier.execute(run)
    except Exception:
        log.exception("%s of %s failed unexpectedly", kind, run.revision)


def ask_rollback(
    services: Services, ident: str, reply: PrivateReply, environment: str | None = None
) -> None:
    """Answer `/schema rollback` with a confirm button; nothing runs until it is clicked."""
    revision = services.reviews.resolve(ident)
    where = environment_named(services.settings, environment)
    if where.read_only:
        raise SchemabotError(Text(Code(where.name), " is read-only: schemabot never migrates it."))
    graph = services.repository.graph(services.builder.main_branch)
    parsed = graph.revisions.get(revision)
    down = ", ".join(parsed.down_revisions) if parsed and parsed.down_revisions else "base"
    message = rollback_confirmation(revision, down, where.name)
    reply.message(message)


def register(app: App, services: Services) -> None:
    def rollback_confirm_callback(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        ref, _, environment = str(body["actions"][0]["value"]).partition("@")
        revision = known_revision(services, ref)
        reply = click_reply(body, respond, client)
        reply(Text("Rolling back ", Code(revision), ": checking first…"), replace_original=True)
        start(services, "rollback", revision, reply.user, reply, environment or None)

    app.action(ROLLBACK_CONFIRM)(rollback_confirm_callback)
