"""Applying to a real PostgreSQL production database from a real git origin."""

from __future__ import annotations

import pytest
from git import Repo

from bot.core.doc_update import mark_applied
from bot.core.gates import GateFailed
from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY, MigrationSpec
from tests.support.applyteam import (
    APPLIER,
    BASELINE,
    REVIEWER,
    TODAY,
    Team,
    approve_and_tick,
    columns,
    origin_doc,
    production_versions,
    push_pending,
)


def test_apply_migrates_production_verifies_and_pushes_the_document(team: Team) -> None:
    approve_and_tick(team, DEMO_PENDING.revision)
    before = origin_doc(team.dev)

    run = team.applier.execute(team.applier.request("b41f", APPLIER))

    assert run.state == "succeeded", run.error
    assert production_versions(team.production) == {DEMO_PENDING.revision}
    assert "visibility" in columns(team.production, "posts")
    assert origin_doc(team.dev) == mark_applied(
        before, DEMO_PENDING.revision, DEMO_PENDING.path, TODAY.date()
    )
    with Repo(team.dev.origin) as origin:
        head = origin.commit("main")
        assert run.doc_commit == head.hexsha
        assert list(head.stats.files) == ["SCHEMA_CHANGES.md"]
        assert (head.author.name, head.author.email) == ("schemabot", "schemabot@localhost")
    assert "Applied to Prod**: Yes - 2026-11-25" in origin_doc(team.dev)
    state = team.services.reviews.state(DEMO_PENDING.revision)
    assert state.status_line == "Applied"
    assert {"applied", "verified", "status-updated"} <= {
        k for k, t in state.ticks.items() if t.ticked
    }
    assert any("Running upgrade" in line for line in team.notes.lines)


def test_every_unmet_gate_is_listed_and_nothing_runs(team: Team) -> None:
    with pytest.raises(GateFailed) as refused:
        team.applier.request(DEMO_PENDING.revision, REVIEWER)

    message = str(refused.value)
    assert "may not apply" in message
    assert "0 of the 1 approval" in message
    assert "checklist items not ticked" in message
    assert production_versions(team.production) == {BASELINE}
    assert team.services.store.get_lock("apply") is None


def test_a_revision_whose_parent_is_not_in_production_names_what_is_missing(team: Team) -> None:
    child = MigrationSpec(
        "d00d1e5f0a11",
        DEMO_PENDING.revision,
        "Add bio to users",
        "add_bio_to_users",
        upgrade='op.add_column("users", sa.Column("bio", sa.Text))',
        downgrade='op.drop_column("users", "bio")',
    )
    push_pending(team.dev, child, DEMO_PENDING_ENTRY.replace(DEMO_PENDING.revision, child.revision))
    team.services.scanner.run()
    approve_and_tick(team, child.revision)

    with pytest.raises(GateFailed, match=f"apply first, in order: `{DEMO_PENDING.revision}`"):
        team.applier.request(child.revision, APPLIER)


def test_a_migration_failing_half_way_leaves_production_and_the_document_as_they_were(
    team: Team,
) -> None:
    broken = MigrationSpec(
        "bad0c0ffee00",
        DEMO_PENDING.revision,
        "Add score, then fail",
        "add_score_then_fail",
        upgrade="""
        op.add_column("posts", sa.Column("score", sa.Integer))
        op.execute("UPDATE no_such_table SET x = 1")
        """,
        downgrade='op.drop_column("posts", "score")',
    )
    approve_and_tick(team, DEMO_PENDING.revision)
    team.applier.execute(team.applier.request(DEMO_PENDING.revision, APPLIER))
    push_pending(
        team.dev, broken, DEMO_PENDING_ENTRY.replace(DEMO_PENDING.revision, broken.revision)
    )
    team.services.scanner.run()
    approve_and_tick(team, broken.revision)
    before = origin_doc(team.dev)

    run = team.applier.execute(team.applier.request(broken.revision, APPLIER))

    assert run.state == "failed"
    assert "no_such_table" in (run.error or "")
    assert production_versions(team.production) == {DEMO_PENDING.revision}
    assert "score" not in columns(team.production, "posts")
    assert origin_doc(team.dev) == before
    assert (
        "Rollback Procedures" in team.notes.lines[-1]
        or "rollback procedure" in team.notes.lines[-1]
    )
    assert team.services.reviews.state(broken.revision).status_line == "Failed"
    assert team.services.store.get_lock("apply") is None


def test_a_teammate_push_during_the_apply_is_kept_and_the_edit_redone_on_top(team: Team) -> None:
    approve_and_tick(team, DEMO_PENDING.revision)
    doc = (team.dev.root / "SCHEMA_CHANGES.md").read_text(encoding="utf-8")
    teammate = doc.replace(
        "6. **Monitor after deployment**", "6. **Monitor dashboards after deployment**"
    )
    team.dev.switch("teammate", create=True)
    team.dev.write("SCHEMA_CHANGES.md", teammate, message="Clarify monitoring")
    team.dev.push("teammate")
    hook = team.dev.origin / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\n"
        'marker="$GIT_DIR/bounced"\n'
        '[ -e "$marker" ] && exit 0\n'
        'touch "$marker"\n'
        "env -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY -u GIT_ALTERNATE_OBJECT_DIRECTORIES "
        "git update-ref refs/heads/main refs/heads/teammate\n"
        'echo "a teammate pushed first" >&2\n'
        "exit 1\n"
    )
    hook.chmod(0o755)

    run = team.applier.execute(team.applier.request(DEMO_PENDING.revision, APPLIER))

    assert run.state == "succeeded", run.error
    final = origin_doc(team.dev)
    assert "Monitor dashboards after deployment" in final
    assert final == mark_applied(teammate, DEMO_PENDING.revision, DEMO_PENDING.path, TODAY.date())
    with Repo(team.dev.origin) as origin:
        head = origin.commit("main")
        assert head.parents[0].message.startswith("Clarify monitoring")
