"""The gates an apply must pass, each checked and all reported together (as Atlantis does).

A pure function of plain values, so every rule can be read and tested on its own; the
apply path gathers the values (git, the store, the production database) and calls it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.bundle import Bundle
from bot.core.drift import DriftFacts, drift_gate
from bot.core.promotion import PromotionFacts, promotion
from bot.core.records import PRODUCTION, LockRecord
from bot.core.review import ReviewState
from bot.core.revisions import RevisionGraph
from bot.core.text import Code, Text, User
from bot.errors import SchemabotError


@dataclass(frozen=True)
class Gate:
    name: str
    met: bool
    detail: Text = field(default_factory=Text)


@dataclass(frozen=True)
class GateReport:
    revision: str
    gates: tuple[Gate, ...]

    @property
    def unmet(self) -> tuple[Gate, ...]:
        return tuple(gate for gate in self.gates if not gate.met)

    @property
    def passed(self) -> bool:
        return not self.unmet

    def refusal(self, verb: str = "apply") -> Text:
        lines = [Text(f"Can't {verb} ", Code(self.revision), " yet:")]
        lines += [Text("• ", gate.detail) for gate in self.unmet]
        return Text.lines(lines)


class GateFailed(SchemabotError):
    """One or more gates are unmet; the message lists every one of them."""

    def __init__(self, report: GateReport, verb: str = "apply") -> None:
        super().__init__(report.refusal(verb))
        self.report = report


@dataclass(frozen=True)
class ApplyFacts:
    """What the gates look at, gathered by the apply path."""

    revision: str
    user: str
    appliers: frozenset[str]
    state: ReviewState
    on_main: bool
    main_branch: str
    has_entry: bool
    doc_path: str
    required_items: Mapping[str, str]
    graph: RevisionGraph
    production: frozenset[str] | None
    database_error: str | None
    lock: LockRecord | None
    lint_errors: tuple[str, ...] | None = ()
    """Rules squawk flags as errors; None when the SQL was not linted yet; () when clean."""
    lint_gate: bool = False
    unsigned: tuple[str, ...] | None = None
    """Commits of the revision file not signed by a known key; None when not required."""
    environment: str = PRODUCTION
    """The environment it would migrate; `production` and `database_error` are its own."""
    appliers_source: str = "SCHEMABOT_APPLIERS"
    promotion: PromotionFacts | None = None
    """With `requires`: where the revision must be first, and for how long."""
    drift: DriftFacts | None = None
    """Before a production apply: the environment's drift on the tables it touches."""
    lock_gates: tuple[Gate, ...] = ()
    """The lock-safety gates (bot/core/lock_review.py), checked like the others."""


def applied_closure(graph: RevisionGraph, production: frozenset[str]) -> frozenset[str]:
    """Every revision production has: its `alembic_version` rows and all their ancestors."""
    applied: set[str] = set()
    for revision in production:
        applied.add(revision)
        if revision in graph.revisions:
            applied.update(graph.ancestors(revision))
    return frozenset(applied)


def missing_dependencies(
    graph: RevisionGraph, revision: str, production: frozenset[str]
) -> tuple[str, ...]:
    """Revisions `revision` needs that production lacks, in the order they must be applied."""
    if revision not in graph.revisions:
        return ()
    needed = graph.ancestors(revision) - applied_closure(graph, production)
    return tuple(r.revision for r in graph.ordered() if r.revision in needed)


def check_apply(facts: ApplyFacts) -> GateReport:
    state = facts.state
    gates = [
        Gate(
            "permission",
            facts.user in facts.appliers,
            Text(User(facts.user), f" may not apply migrations ({facts.appliers_source})"),
        ),
        _approvals(state),
        Gate(
            "no change requests",
            not state.change_requests,
            Text(
                "changes were requested by ",
                Text.join(", ", (User(v.user_id) for v in state.change_requests)),
            ),
        ),
        _checklist(facts),
        Gate(
            "on main",
            facts.on_main,
            Text(
                "the revision is not on ",
                Code(facts.main_branch),
                " of the remote yet: merge it first",
            ),
        ),
        Gate("documented", facts.has_entry, Text("it has no entry in ", Code(facts.doc_path))),
        Gate(
            "in graph",
            facts.revision in facts.graph.revisions,
            Text(
                Code(facts.revision),
                " is not in the revision graph of ",
                Code(facts.main_branch),
            ),
        ),
        _one_file(facts),
        _approved_bytes(state),
    ]
    if facts.unsigned is not None:
        gates.append(
            Gate(
                "signed",
                not facts.unsigned,
                Text(
                    "commits of its file are not signed by a known key "
                    "(SCHEMABOT_REQUIRE_SIGNED_COMMITS): ",
                    Text.join(", ", (Code(sha[:12]) for sha in facts.unsigned[:5])),
                ),
            )
        )
    gates += _production(facts)
    if facts.promotion is not None:
        gates.append(Gate("promotion", *promotion(facts.promotion)))
    if facts.drift is not None:
        gates.append(Gate("drift", *drift_gate(facts.drift)))
    if facts.lint_gate:
        gates.append(_lint(facts))
    gates += facts.lock_gates
    lock = facts.lock
    gates.append(
        Gate(
            "no apply running",
            lock is None,
            Text(f"another apply is running ({lock.holder}, since {lock.acquired_at:%H:%M UTC})")
            if lock
            else Text(),
        )
    )
    return GateReport(facts.revision, tuple(gates))


MOMENT_GATES = frozenset(
    {
        "permission",
        "checklist",
        "database",
        "not applied",
        "dependencies",
        "promotion",
        "drift",
        "lint",
        "lock risk",
        "no apply running",
    }
)
"""The apply gates about the moment of applying, not about the bytes and their review: who
asks, the checklist (which the trace itself may tick), the environment's state and lock,
promotion, drift, and what the SQL does to production (lint and lock risk, which the trace
informs). A lock trace ignores these and needs every other gate of an apply."""


def check_trace(facts: ApplyFacts) -> GateReport:
    """Whether a lock trace may run the revision's bytes with production's credentials: every
    gate of `check_apply` but those of MOMENT_GATES, so a gate added to applies holds for
    traces too unless it is named there."""
    report = check_apply(facts)
    return GateReport(
        report.revision, tuple(gate for gate in report.gates if gate.name not in MOMENT_GATES)
    )


def _one_file(facts: ApplyFacts) -> Gate:
    paths = [
        problem.path
        for problem in facts.graph.problems
        if problem.kind == "duplicate_id" and problem.revision == facts.revision
    ]
    return Gate(
        "one file",
        not paths,
        Text(
            "another file on ",
            Code(facts.main_branch),
            " declares the same id (",
            Text.join(", ", (Code(path) for path in paths)),
            "): remove one of them",
        ),
    )


def _approved_bytes(state: ReviewState) -> Gate:
    """An apply runs the bundle the approvals were given on: it must be readable whole."""
    bundle = state.bundle
    if bundle is None:
        return Gate(
            "approved bytes", False, Text("its file and migration environment cannot be read")
        )
    return Gate(
        "approved bytes",
        bundle.complete,
        Text("its migration environment cannot be approved as it is: ", bundle.incomplete()),
    )


def _approvals(state: ReviewState) -> Gate:
    have, need = len(state.approvals), state.required_approvals
    detail = f"it has {have} of the {need} approval{'s' if need > 1 else ''} it needs"
    if state.stale_approvals:
        detail += f" ({len(state.stale_approvals)} went stale when the file changed)"
    return Gate("approvals", have >= need, Text(detail))


def _lint(facts: ApplyFacts) -> Gate:
    if facts.lint_errors is None:
        return Gate("lint", False, Text("its SQL has not been linted yet: try again in a moment"))
    if facts.state.lint_override is not None or not facts.lint_errors:
        return Gate("lint", True)
    rules = Text.join(", ", (Code(rule) for rule in dict.fromkeys(facts.lint_errors)))
    return Gate(
        "lint",
        False,
        Text(
            "squawk flags errors in its SQL (",
            rules,
            "): fix them, or an approver runs ",
            Code(f"/schema override-lint {facts.revision} <why it is safe>"),
        ),
    )


def _checklist(facts: ApplyFacts) -> Gate:
    unticked = [text for key, text in facts.required_items.items() if not facts.state.ticked(key)]
    return Gate(
        "checklist",
        not unticked,
        Text("checklist items not ticked: " + "; ".join(unticked)),
    )


def _production(facts: ApplyFacts) -> list[Gate]:
    where = facts.environment
    if facts.production is None:
        return [
            Gate(
                "database",
                False,
                Text(facts.database_error or f"the {where} database did not answer"),
            )
        ]
    applied = applied_closure(facts.graph, facts.production)
    missing = missing_dependencies(facts.graph, facts.revision, facts.production)
    return [
        Gate("database", True),
        Gate(
            "not applied",
            facts.revision not in applied,
            Text(Code(facts.revision), f" is already applied in {where}"),
        ),
        Gate(
            "dependencies",
            not missing,
            Text(
                f"{where} lacks what it builds on; apply first, in order: ",
                Text.join(", ", (Code(rev) for rev in missing)),
            ),
        ),
    ]


@dataclass(frozen=True)
class RollbackFacts:
    revision: str
    user: str
    appliers: frozenset[str]
    graph: RevisionGraph
    production: frozenset[str] | None
    database_error: str | None
    lock: LockRecord | None
    state: ReviewState
    downgrade_changed: bool = False
    """Its file's `downgrade()` differs from the one that was applied."""
    environment: str = PRODUCTION
    appliers_source: str = "SCHEMABOT_APPLIERS"


def rollback_bundle(facts: RollbackFacts) -> tuple[Bundle | None, Text]:
    """The bytes a rollback may run, or why there are none: the downgrade that was applied;
    or, when `downgrade()` changed since, the new version once approvals cover it."""
    state = facts.state
    applied, current = state.applied, state.bundle
    if applied is None:
        return None, Text(
            "schemabot did not apply ",
            Code(facts.revision),
            ", so it has no approved downgrade to run: roll it back by hand with ",
            Code("alembic downgrade"),
        )
    if current is None or not facts.downgrade_changed:
        return applied, Text()
    if len(state.approvals) >= state.required_approvals and current.complete:
        return current, Text()
    return None, Text(
        "its ",
        Code("downgrade()"),
        " changed since it was applied: approve the new version on its card first (or revert "
        "the change); the applied downgrade is not run in its place",
    )


def check_rollback(facts: RollbackFacts) -> GateReport:
    """Rolling back takes production from `revision` to its down revision, nothing more."""
    revision = facts.graph.revisions.get(facts.revision)
    gates = [
        Gate(
            "permission",
            facts.user in facts.appliers,
            Text(User(facts.user), f" may not roll back migrations ({facts.appliers_source})"),
        ),
        Gate(
            "in graph",
            revision is not None,
            Text(Code(facts.revision), " is not in the revision graph of the main branch"),
        ),
        Gate(
            "not a merge",
            revision is None or not revision.is_merge,
            Text("it is a merge revision: roll it back by hand with ", Code("alembic downgrade")),
        ),
    ]
    bundle, why_not = rollback_bundle(facts)
    gates.append(Gate("approved downgrade", bundle is not None, why_not))
    if facts.production is None:
        gates.append(
            Gate("database", False, Text(facts.database_error or "the database did not answer"))
        )
    else:
        gates.append(
            Gate(
                "current",
                facts.revision in facts.production,
                Text(
                    f"{facts.environment} is not at ",
                    Code(facts.revision),
                    f" (it is at {', '.join(sorted(facts.production)) or 'nothing'}): "
                    "only the newest applied revision can be rolled back",
                ),
            )
        )
    lock = facts.lock
    gates.append(
        Gate(
            "no apply running",
            lock is None,
            Text(f"another apply is running ({lock.holder})") if lock else Text(),
        )
    )
    return GateReport(facts.revision, tuple(gates))
