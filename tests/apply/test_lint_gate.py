"""With SCHEMABOT_LINT_GATE, squawk's errors block an apply until an approver accepts them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.apply.applier import Applier
from bot.core.gates import GateFailed
from bot.core.review import ReviewError
from bot.demo.project import DEMO_PENDING
from bot.wiring import build_services
from tests.support.applyteam import (
    APPLIER,
    REVIEWER,
    Notes,
    Team,
    approve_and_tick,
    production_versions,
)


def test_lint_errors_block_until_an_approver_overrides_them_with_a_reason(team: Team) -> None:
    services = build_services(replace(team.services.settings, lint_gate=True))
    applier = Applier(services.apply_parts, Notes())
    approve_and_tick(team, DEMO_PENDING.revision)

    with pytest.raises(GateFailed, match="not been linted yet"):
        applier.request(DEMO_PENDING.revision, APPLIER)
    services.review_sql([DEMO_PENDING.revision])
    with pytest.raises(GateFailed, match="`require-concurrent-index-creation`"):
        applier.request(DEMO_PENDING.revision, APPLIER)
    with pytest.raises(ReviewError, match="approver other than the author"):
        services.reviews.override_lint(DEMO_PENDING.revision, "U0DANA0001", {"U0DANA0001"}, "fine")

    state = services.reviews.override_lint(
        DEMO_PENDING.revision, REVIEWER, (), "posts is small; the index builds in ms"
    )
    run = applier.execute(applier.request(DEMO_PENDING.revision, APPLIER))

    assert state.lint_override is not None and state.lint_override.actor == REVIEWER
    assert run.state == "succeeded", run.error
    assert production_versions(team.production) == {DEMO_PENDING.revision}
    [event] = [
        e for e in services.store.audit_for(DEMO_PENDING.revision) if e.action == "lint_override"
    ]
    assert event.detail["reason"] == "posts is small; the index builds in ms"
    services.store.close()


def test_without_the_gate_lint_errors_do_not_block(team: Team) -> None:
    approve_and_tick(team, DEMO_PENDING.revision)
    team.services.review_sql([DEMO_PENDING.revision])

    run = team.applier.execute(team.applier.request(DEMO_PENDING.revision, APPLIER))

    assert run.state == "succeeded", run.error


def test_an_override_holds_for_the_bytes_it_was_given_on_env_py_included(team: Team) -> None:
    services = build_services(replace(team.services.settings, lint_gate=True))
    approve_and_tick(team, DEMO_PENDING.revision)
    services.review_sql([DEMO_PENDING.revision])
    services.reviews.override_lint(DEMO_PENDING.revision, REVIEWER, (), "posts is small")

    env_py = (team.dev.root / "migrations" / "env.py").read_text(encoding="utf-8")
    team.dev.write("migrations/env.py", env_py + "\n# run anything here\n")
    team.dev.push()
    services.scanner.run()

    assert services.reviews.state(DEMO_PENDING.revision).lint_override is None
    services.store.close()
