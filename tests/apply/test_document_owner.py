"""One owner per run's document step: the apply's worker and the watcher's retry never work
in the same `runs/<id>-doc` worktree at once."""

from __future__ import annotations

import threading

from git import Repo

from bot.core.records import ApplyRun
from bot.demo.project import DEMO_PENDING
from tests.support.applyteam import APPLIER, Team, approve_and_tick

REVISION = DEMO_PENDING.revision


def document_pending(team: Team) -> ApplyRun:
    """An apply that changed production while the remote refused the status commit."""
    hook = team.dev.origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'closed for maintenance' >&2\nexit 1\n")
    hook.chmod(0o755)
    approve_and_tick(team, REVISION)
    run = team.applier.execute(team.applier.request(REVISION, APPLIER))
    assert run.state == "applied_doc_pending", run.error
    hook.unlink()
    return run


def commits_on_main(team: Team) -> int:
    with Repo(team.dev.origin) as origin:
        return sum(1 for _ in origin.iter_commits("main"))


def test_a_document_step_someone_owns_is_left_to_them(team: Team) -> None:
    run = document_pending(team)
    owned = team.services.store.claim_run(run.id, frozenset({"applied_doc_pending"}), "committing")
    assert owned is not None
    before = commits_on_main(team)

    team.applier.retry_pending_documents()
    left = team.applier.finish_document(run)

    assert left.state == "committing"
    assert commits_on_main(team) == before
    assert not (team.services.settings.workdir / "runs" / f"{run.id}-doc").exists()


def test_the_worker_and_the_watcher_at_once_make_one_commit_and_no_failure(team: Team) -> None:
    run = document_pending(team)
    before = commits_on_main(team)
    start = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def finish() -> None:
        start.wait()
        try:
            outcomes.append(team.applier.finish_document(run).state)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=finish) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert "succeeded" in outcomes
    assert commits_on_main(team) == before + 1
    final = team.services.store.get_run(run.id)
    assert final is not None and final.state == "succeeded" and final.doc_commit
    assert not any("failed" in line for line in team.notes.lines[-2:])
