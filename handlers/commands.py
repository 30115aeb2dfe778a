"""`/schema` and its subcommands: parse, call the core, answer the person who asked."""

from __future__ import annotations

from logging import Logger
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core.review import ACTIVE_RUN_STATES
from bot.core.status_report import list_text, status_text
from bot.core.text import Code, Text, User
from bot.environments import environment_named
from bot.errors import SchemabotError
from bot.wiring import Services
from handlers import apply, drift, lock_commands
from handlers.replies import PrivateReply

HELP = """*`/schema`* — schema-change reviews, from the team's SCHEMA_CHANGES.md
• `/schema list` — pending revisions, their status and what each still needs
• `/schema status <rev>` — approvals, checklist, findings and history of one revision
• `/schema apply <rev> [environment]` — migrate production (or another environment) when ready
• `/schema rollback <rev> [environment]` — downgrade it to the revision's down revision
• `/schema drift [environment]` — where its schema differs from what its migrations make
• `/schema override-lint <rev> <reason>` — accept squawk's errors on this version of the SQL
• `/schema override-drift <rev> <reason>` — accept production's drift on the tables it touches
• `/schema override-locks <rev> <reason>` — accept the lock risk of this version
• `/schema allow-index-drop <rev> <reason>` — the next apply drops the INVALID indexes left
• `/schema unlock [environment]` — release an apply lock that no running apply holds
• `/schema help` — this message
A unique prefix of a revision id is enough: `/schema status b41f`."""


def register(app: App, services: Services) -> None:
    def schema_command_callback(
        ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, logger: Logger
    ) -> None:
        ack()
        user = str(command["user_id"])
        reply = PrivateReply(respond, client, command.get("channel_id"), user)
        words = str(command.get("text") or "").split()
        sub, args = (words[0].lower(), words[1:]) if words else ("help", [])
        text: Text | str
        try:
            text = answer(services, sub, args, user, reply)
        except SchemabotError as exc:
            text = exc.text
        except Exception:
            logger.exception("/schema %s failed", sub)
            text = "Something went wrong on schemabot's side; the details are in its log."
        if text:
            reply(services.redact.text(Text(text)))

    app.command("/schema")(schema_command_callback)


def answer(
    services: Services, sub: str, args: list[str], user: str, reply: PrivateReply
) -> Text | str:
    """The immediate answer to `/schema <sub> <args>`; apply and rollback go on in a worker."""
    if sub == "help":
        return HELP
    if sub == "list":
        return list_text(services.pending(), services.store.list_locks())
    if sub == "status":
        if not args:
            return list_text(services.pending(), services.store.list_locks())
        revision = services.reviews.resolve(args[0])
        return status_text(services.snapshot(revision), services.store.audit_for(revision))
    if sub == "unlock":
        return unlock(services, user, args[0] if args else None)
    if sub == "drift":
        drift.show(services, args[0] if args else None, reply)
        return ""
    if sub == "override-drift":
        if len(args) < 2:
            return Text("Usage: ", Code("/schema override-drift <rev> <why the drift is safe>"))
        drift.override(services, args[0], user, " ".join(args[1:]), reply)
        return ""
    if sub == "override-lint":
        if len(args) < 2:
            return Text(
                "Usage: ", Code("/schema override-lint <rev> <why the lint errors are safe>")
            )
        revision = services.reviews.resolve(args[0])
        services.reviews.override_lint(
            revision, user, services.authors_of(revision), " ".join(args[1:])
        )
        services.refresh_card(revision)
        return Text(
            "Recorded: the lint errors of ", Code(revision), " are accepted by ", User(user), "."
        )
    if sub in lock_commands.SUBCOMMANDS:
        return lock_commands.answer(services, sub, args, user)
    if sub in {"apply", "rollback"}:
        if not args:
            return Text("Which revision? ", Code(f"/schema {sub} <rev>"))
        environment = args[1] if len(args) > 1 else None
        if sub == "rollback":
            apply.ask_rollback(services, args[0], reply, environment)
            return ""
        revision = services.reviews.resolve(args[0])
        where = environment_named(services.settings, environment)
        elsewhere = "" if where.is_production else f" in {where.name}"
        reply(Text("Checking every gate for ", Code(revision), f"{elsewhere}…"))
        apply.start(services, "apply", revision, user, reply, where.name)
        return ""
    return Text("I don't know ", Code(f"/schema {sub}"), ".\n", HELP)


def unlock(services: Services, user: str, environment: str | None = None) -> Text | str:
    """Release an environment's apply lock when no run holds it any more (its appliers
    only; audited)."""
    where = environment_named(services.settings, environment)
    appliers = where.appliers if where.appliers is not None else services.settings.appliers
    if user not in appliers:
        return "Only the configured appliers can release the apply lock (SCHEMABOT_APPLIERS)."
    lock = services.store.get_lock(where.lock_name)
    if lock is None:
        return "No apply lock is held."
    running = [
        run
        for run in services.store.unfinished_runs()
        if run.state in ACTIVE_RUN_STATES and run.environment == where.name
    ]
    if running:
        return Text(
            f"Run {running[0].id} ({running[0].kind} ",
            Code(running[0].revision),
            ") is still going: the lock is released when it ends.",
        )
    services.store.break_lock(where.lock_name, user)
    return f"Released the apply lock held by {lock.holder} since {lock.acquired_at:%H:%M} UTC."
