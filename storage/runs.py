"""Running things exactly once: apply runs and named locks."""

from collections.abc import Callable
from typing import cast

from bot.core.bundle import Bundle
from bot.core.records import (
    BOT_ACTOR,
    FINISHED_RUN_STATES,
    PRODUCTION,
    RUN_STATES,
    ApplyRun,
    JsonValue,
    LockRecord,
    RunKind,
    RunState,
)
from storage.base import Row, StoreBase, from_text, inserted_id, maybe_from_text
from storage.errors import RecordNotFound

# States worth a line in the audit log: the request, the moment the database changed, the end.
_AUDITED_STATES: frozenset[RunState] = FINISHED_RUN_STATES | {"requested", "applied_doc_pending"}


def _run(row: Row) -> ApplyRun:
    return ApplyRun(
        id=row["id"],
        revision=row["revision"],
        kind=cast(RunKind, row["kind"]),
        state=cast(RunState, row["state"]),
        requested_by=row["requested_by"],
        channel=row["channel"],
        thread_ts=row["thread_ts"],
        started_at=from_text(row["started_at"]),
        updated_at=from_text(row["updated_at"]),
        finished_at=maybe_from_text(row["finished_at"]),
        error=row["error"],
        doc_commit=row["doc_commit"],
        bundle=Bundle.from_json(row["bundle"]) if row["bundle"] else None,
        environment=row["environment"],
    )


def _lock(row: Row) -> LockRecord:
    return LockRecord(
        name=row["name"], holder=row["holder"], acquired_at=from_text(row["acquired_at"])
    )


class RunQueries(StoreBase):
    def create_run(
        self,
        revision: str,
        kind: RunKind,
        requested_by: str,
        *,
        channel: str | None = None,
        thread_ts: str | None = None,
        bundle: Bundle | None = None,
        environment: str = PRODUCTION,
        detail: dict[str, JsonValue] | None = None,
    ) -> ApplyRun:
        """Record a requested apply or rollback of `environment`; `channel`/`thread_ts` say
        where to report, `bundle` the bytes it may run, `detail` what else the audit log
        keeps of the request (who approved it, the SQL's hash)."""
        now = self._now()
        with self._db.atomic():
            self._require_revision(revision)
            cursor = self._execute(
                "INSERT INTO apply_runs (revision, kind, state, requested_by, channel, "
                "thread_ts, started_at, updated_at, bundle, environment) "
                "VALUES (?, ?, 'requested', ?, ?, ?, ?, ?, ?, ?)",
                [
                    revision,
                    kind,
                    requested_by,
                    channel,
                    thread_ts,
                    now,
                    now,
                    bundle.to_json() if bundle else None,
                    environment,
                ],
            )
            run = self._stored_run(inserted_id(cursor))
            audited: dict[str, JsonValue] = dict(detail or {})
            if bundle:
                audited["bundle"] = dict(bundle.files)
            if environment != PRODUCTION:
                audited["environment"] = environment
            self.audit(requested_by, f"{kind}_requested", revision, run_id=run.id, **audited)
        return run

    def create_locked_run(
        self,
        revision: str,
        kind: RunKind,
        requested_by: str,
        lock: str,
        holder: Callable[[ApplyRun], str],
        *,
        channel: str | None = None,
        thread_ts: str | None = None,
        bundle: Bundle | None = None,
        environment: str = PRODUCTION,
        detail: dict[str, JsonValue] | None = None,
    ) -> ApplyRun | None:
        """Record a requested run and take `lock` for it (as `holder(run)`), both or neither.

        None, with nothing recorded, when the lock is held: a request that lost the race
        for the lock leaves no run behind to show on the revision's card.
        """
        with self._db.atomic():
            if self.get_lock(lock) is not None:
                return None
            run = self.create_run(
                revision,
                kind,
                requested_by,
                channel=channel,
                thread_ts=thread_ts,
                bundle=bundle,
                environment=environment,
                detail=detail,
            )
            self._execute(
                "INSERT INTO locks (name, holder, acquired_at) VALUES (?, ?, ?)",
                [lock, holder(run), self._now()],
            )
        return run

    def advance_run(
        self,
        run_id: int,
        new_state: RunState,
        *,
        error: str | None = None,
        doc_commit: str | None = None,
    ) -> ApplyRun:
        """Move a run to `new_state`, setting `error`/`doc_commit` when given.

        Which transitions are allowed is the apply core's business; the store only records.
        A finished state (succeeded, failed, interrupted) sets `finished_at`.
        """
        if new_state not in RUN_STATES:
            raise ValueError(f"unknown run state {new_state!r}")
        now = self._now()
        finished_at = now if new_state in FINISHED_RUN_STATES else None
        with self._db.atomic():
            updated = self._execute(
                "UPDATE apply_runs SET state = ?, updated_at = ?, "
                "finished_at = COALESCE(?, finished_at), error = COALESCE(?, error), "
                "doc_commit = COALESCE(?, doc_commit) WHERE id = ?",
                [new_state, now, finished_at, error, doc_commit, run_id],
            ).rowcount
            if not updated:
                raise RecordNotFound(f"No apply run #{run_id} is known to schemabot.")
            run = self._stored_run(run_id)
            if new_state in _AUDITED_STATES:
                where: dict[str, JsonValue] = (
                    {} if run.environment == PRODUCTION else {"environment": run.environment}
                )
                self.audit(
                    BOT_ACTOR,
                    f"{run.kind}_{new_state}",
                    run.revision,
                    run_id=run_id,
                    error=run.error,
                    doc_commit=run.doc_commit,
                    **where,
                )
        return run

    def claim_run(
        self, run_id: int, from_states: frozenset[RunState], to_state: RunState
    ) -> ApplyRun | None:
        """Move the run to `to_state` only if it is in one of `from_states`: the caller that
        gets the run back owns the step that state names, and nobody else does."""
        with self._db.atomic():
            claimed = self._execute(
                f"UPDATE apply_runs SET state = ?, updated_at = ? WHERE id = ? "
                f"AND state IN ({', '.join('?' * len(from_states))})",
                [to_state, self._now(), run_id, *sorted(from_states)],
            ).rowcount
        return self.get_run(run_id) if claimed else None

    def get_run(self, run_id: int) -> ApplyRun | None:
        row = self._row("SELECT * FROM apply_runs WHERE id = ?", [run_id])
        return None if row is None else _run(row)

    def runs_for(self, revision: str) -> list[ApplyRun]:
        """The revision's runs, oldest first."""
        rows = self._rows("SELECT * FROM apply_runs WHERE revision = ? ORDER BY id", [revision])
        return [_run(row) for row in rows]

    def applied_runs(self) -> list[ApplyRun]:
        """Every apply that changed a database (in any environment), oldest first."""
        rows = self._rows(
            "SELECT * FROM apply_runs WHERE kind = 'apply' AND state IN "
            "('succeeded', 'applied_doc_pending', 'committing') ORDER BY id"
        )
        return [_run(row) for row in rows]

    def last_applied_run(self, revision: str) -> ApplyRun | None:
        """The latest apply of `revision` that changed a database, in any environment."""
        row = self._row(
            "SELECT * FROM apply_runs WHERE revision = ? AND kind = 'apply' AND state IN "
            "('succeeded', 'applied_doc_pending', 'committing') ORDER BY id DESC LIMIT 1",
            [revision],
        )
        return None if row is None else _run(row)

    def unfinished_runs(self) -> list[ApplyRun]:
        """Runs not yet finished: at start-up, the ones a crash interrupted."""
        rows = self._rows("SELECT * FROM apply_runs WHERE finished_at IS NULL ORDER BY id")
        return [_run(row) for row in rows]

    def try_acquire_lock(self, name: str, holder: str) -> bool:
        """Take the lock if nobody holds it, `holder` included; True when taken."""
        with self._db.atomic():
            taken = self._execute(
                "INSERT INTO locks (name, holder, acquired_at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO NOTHING",
                [name, holder, self._now()],
            ).rowcount
        return taken == 1

    def release_lock(self, name: str, holder: str) -> bool:
        """Release the lock if `holder` holds it; False when it did not."""
        with self._db.atomic():
            released = self._execute(
                "DELETE FROM locks WHERE name = ? AND holder = ?", [name, holder]
            ).rowcount
        return released == 1

    def break_lock(self, name: str, actor: str) -> LockRecord | None:
        """Release a lock whoever holds it (a user clearing a stuck lock); audited."""
        with self._db.atomic():
            lock = self.get_lock(name)
            if lock is None:
                return None
            self._execute("DELETE FROM locks WHERE name = ?", [name])
            self.audit(actor, "lock_broken", None, lock=name, holder=lock.holder)
        return lock

    def get_lock(self, name: str) -> LockRecord | None:
        row = self._row("SELECT * FROM locks WHERE name = ?", [name])
        return None if row is None else _lock(row)

    def list_locks(self) -> list[LockRecord]:
        return [_lock(row) for row in self._rows("SELECT * FROM locks ORDER BY name")]

    def _stored_run(self, run_id: int) -> ApplyRun:
        run = self.get_run(run_id)
        if run is None:
            raise RecordNotFound(f"No apply run #{run_id} is known to schemabot.")
        return run
