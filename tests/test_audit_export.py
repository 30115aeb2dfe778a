"""`schemabot audit`: every event as a JSON line with the hash of the one before, and
`--verify`, which finds a row edited in the state file behind the bot's back."""

from __future__ import annotations

import json
import sqlite3
from itertools import pairwise
from pathlib import Path

from bot.core.audit_chain import GENESIS, check_lines
from storage.db import STEPS, audit_chain, open_db
from storage.store import Store
from tests.conftest import FixedClock
from tests.support.stored import REV, add
from tests.test_cli import run


def history(path: Path, clock: FixedClock) -> None:
    with Store.open(path, clock) as store:
        add(store)
        store.record_verdict(REV, "U0RITA0002", "approve", None, "blob-1")
        clock.advance(days=2)
        run_ = store.create_run(REV, "apply", "U0ROSS0003", detail={"sql_sha256": "ab" * 32})
        store.advance_run(run_.id, "succeeded", doc_commit="c0ffee")


def lines(path: Path, tmp_path: Path, *options: str) -> list[dict[str, object]]:
    done = run(["audit", "--json", *options], tmp_path, SCHEMABOT_STATE_DB=str(path))
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_every_event_is_a_json_line_chained_to_the_one_before(
    tmp_path: Path, clock: FixedClock
) -> None:
    path = tmp_path / "state.db"
    history(path, clock)

    exported = lines(path, tmp_path)

    assert [line["action"] for line in exported] == [
        "revision_seen",
        "approve",
        "apply_requested",
        "apply_succeeded",
    ]
    assert exported[0]["prev"] == GENESIS
    assert all(later["prev"] == earlier["hash"] for earlier, later in pairwise(exported))
    assert check_lines(exported) is None
    requested = next(line for line in exported if line["action"] == "apply_requested")
    assert requested["actor"] == "U0ROSS0003"
    assert requested["detail"] == {"run_id": 1, "sql_sha256": "ab" * 32}
    since = lines(path, tmp_path, "--since", "2025-03-15")
    assert [line["action"] for line in since] == ["apply_requested", "apply_succeeded"]
    assert since[0]["prev"] == exported[-3]["hash"]
    assert check_lines(since) is None


def test_an_edited_line_of_an_export_breaks_the_chain(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    history(path, clock)
    exported = lines(path, tmp_path)

    exported[1]["actor"] = "U0MALLORY9"

    broken = check_lines(exported)
    assert broken is not None and broken.where.startswith("line 2")


def test_verify_finds_a_row_edited_in_the_state_file(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    history(path, clock)
    assert (
        "ok: the audit chain holds"
        in run(["audit", "--verify"], tmp_path, SCHEMABOT_STATE_DB=str(path)).stdout
    )
    editor = sqlite3.connect(path)
    editor.execute("DROP TRIGGER audit_log_no_update")
    approve_id = editor.execute("SELECT id FROM audit_log WHERE action = 'approve'").fetchone()[0]
    editor.execute("UPDATE audit_log SET actor = 'U0MALLORY9' WHERE id = ?", [approve_id])
    editor.commit()
    editor.close()

    done = run(["audit", "--verify"], tmp_path, SCHEMABOT_STATE_DB=str(path))

    assert done.returncode == 1
    assert f"the audit chain breaks at event {approve_id}" in done.stdout


def test_events_written_before_the_chain_are_chained_when_the_file_is_upgraded(
    tmp_path: Path, clock: FixedClock
) -> None:
    path = tmp_path / "state.db"
    older = Store(open_db(path, steps=STEPS[: STEPS.index(audit_chain)]), clock)
    add(older)
    older.record_verdict(REV, "U0RITA0002", "approve", None, "blob-1")
    older.close()

    with Store.open(path, clock) as upgraded:
        upgraded.audit("U0RITA0002", "withdraw", REV)
        checked, broken = upgraded.verify_audit()

    assert broken is None and checked >= 3
