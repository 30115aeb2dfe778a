"""`/schema override-locks` and `/schema allow-index-drop`: an approver's audited decisions
about a revision's locks (see bot/core/lock_review.py). Called from handlers/commands.py."""

from __future__ import annotations

from bot.core.lock_review import ALLOW_INDEX_DROP, LOCK_OVERRIDE
from bot.core.text import Code, Text, User
from bot.lock_impact import record_decision
from bot.wiring import Services

USAGE = {
    "override-locks": "/schema override-locks <rev> <why the lock risk is acceptable>",
    "allow-index-drop": "/schema allow-index-drop <rev> <why the INVALID index may go>",
}
ACTIONS = {"override-locks": LOCK_OVERRIDE, "allow-index-drop": ALLOW_INDEX_DROP}
SUBCOMMANDS = frozenset(ACTIONS)


def answer(services: Services, sub: str, args: list[str], user: str) -> Text:
    if len(args) < 2:
        return Text("Usage: ", Code(USAGE[sub]))
    revision = services.reviews.resolve(args[0])
    record_decision(
        services.store,
        services.reviews,
        ACTIONS[sub],
        revision,
        user,
        services.authors_of(revision),
        " ".join(args[1:]),
    )
    services.refresh_card(revision)
    if sub == "override-locks":
        return Text(
            "Recorded: the lock risk of ", Code(revision), " is accepted by ", User(user), "."
        )
    return Text(
        "Recorded: the next apply of ",
        Code(revision),
        " drops the INVALID indexes its last run left, as allowed by ",
        User(user),
        ".",
    )
