"""The git trailers of a status commit: the audit trail that lives in the repository.

    Approved-by: Rita Reviewer <U0RITA0002>
    Applied-by: Ross Reviewer <U0ROSS0003>
    Environment: production
    Reviewed-at: https://example.slack.com/archives/C0REVIEW01/p1700000000000100
    Schemabot-Run: 7

`git interpret-trailers --parse` reads them. Names come from Slack profiles, which their
owners type: each value is made one line of printable text, so no name can end the block
or add a trailer of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

VALUE_LIMIT = 200
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


@dataclass(frozen=True)
class Trailer:
    key: str
    value: str


def one_line(value: str) -> str:
    """`value` as one line of printable text, cut to VALUE_LIMIT characters."""
    flat = " ".join(_UNPRINTABLE.sub(" ", value).split())
    return flat if len(flat) <= VALUE_LIMIT else flat[: VALUE_LIMIT - 1] + "…"


def person(user_id: str, name: str | None) -> str:
    """`Name <U0123>`, as git writes people; the id alone when Slack gave no name."""
    shown = one_line((name or "").replace("<", "").replace(">", ""))
    return f"{shown} <{one_line(user_id)}>" if shown else one_line(user_id)


@dataclass(frozen=True)
class StatusCommit:
    """Who and what a status commit records."""

    kind: str
    """`apply` or `rollback`."""
    approvers: tuple[str, ...]
    """Each approver as `person()` wrote them."""
    applier: str
    environment: str
    run_id: int
    permalink: str | None


def status_trailers(commit: StatusCommit) -> tuple[Trailer, ...]:
    trailers = [Trailer("Approved-by", approver) for approver in commit.approvers]
    doer = "Applied-by" if commit.kind == "apply" else "Rolled-back-by"
    trailers += [Trailer(doer, commit.applier), Trailer("Environment", commit.environment)]
    if commit.permalink:
        trailers.append(Trailer("Reviewed-at", commit.permalink))
    trailers.append(Trailer("Schemabot-Run", str(commit.run_id)))
    return tuple(trailers)


def with_trailers(message: str, trailers: Iterable[Trailer]) -> str:
    """The commit message with the trailers as its last paragraph."""
    block = "\n".join(f"{t.key}: {one_line(t.value)}" for t in trailers)
    return f"{message.rstrip()}\n\n{block}\n" if block else message
