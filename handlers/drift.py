"""`/schema drift [environment]` and `/schema override-drift <rev> <reason>`: a scratch
database is built for each, so both answer from a worker."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.apply.environment_facts import accept_drift
from bot.core.drift import drift_report
from bot.core.text import Code, Text, User
from bot.environments import environment_named
from bot.errors import SchemabotError
from bot.wiring import Services
from handlers.replies import PrivateReply

log = logging.getLogger(__name__)


def show(services: Services, environment: str | None, reply: PrivateReply) -> None:
    where = environment_named(services.settings, environment)
    reply(Text("Checking ", Code(where.name), " for drift: building its migrations…"))
    services.drift_workers.submit(
        _answer, services, reply, lambda: drift_text(services, where.name)
    )


def override(services: Services, ident: str, user: str, reason: str, reply: PrivateReply) -> None:
    revision = services.reviews.resolve(ident)

    def accepted() -> Text:
        accept_drift(services.apply_parts, revision, user, reason)
        services.refresh_card(revision)
        return Text(
            "Recorded: the drift in production is accepted for ",
            Code(revision),
            " by ",
            User(user),
            ".",
        )

    services.drift_workers.submit(_answer, services, reply, accepted)


def drift_text(services: Services, environment: str) -> Text:
    """The drift of one environment as `/schema drift` and `schemabot drift` show it."""
    where = environment_named(services.settings, environment)
    assert services.drift is not None
    report = services.drift.check(where)
    if report.error is not None:
        return Text("Drift in ", Code(where.name), " could not be checked: ", report.error)
    return drift_report(where.name, sorted(report.versions), report.differences)


def _answer(services: Services, reply: PrivateReply, work: Callable[[], Text]) -> None:
    try:
        text = work()
    except SchemabotError as exc:
        text = exc.text
    except Exception:
        log.exception("/schema drift failed")
        text = Text("Something went wrong on schemabot's side; the details are in its log.")
    reply(services.redact.text(Text(text)))
