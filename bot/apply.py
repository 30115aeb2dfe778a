"""The apply state machine: lock, backup, migrate, verify, commit the document, push.

Every step is recorded in the store before it starts, so after a crash `recover()` knows
how far a run got and reconciles it with production's `alembic_version`: a migration that
landed gets its document update (once), one that did not is marked interrupted. One apply
at a time: a lock in the store here, and a PostgreSQL advisory lock in the child process.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from bot.checklist import BotCheck, manual_keys
from bot.config import Settings
from bot.doc_push import DocPusher, worktree
from bot.doc_update import mark_applied
from bot.errors import SchemabotError
from bot.gates import ApplyFacts, GateFailed, GateReport, check_apply
from bot.migrate import MigrationRunner
from bot.production import DatabaseUnavailable, current_versions
from bot.progress import Throttle
from bot.redact import Redactor
from bot.repository import RepositoryView
from bot.review import Reviews
from bot.scan import MAIN_BRANCH, Scanner
from bot.watcher import Clone
from storage.records import BOT_ACTOR, ApplyRun, RunState
from storage.store import Store

log = logging.getLogger(__name__)

APPLY_LOCK = "apply"
RUN_DIR = "runs"
NOT_STARTED: frozenset[RunState] = frozenset({"requested", "locked", "backing_up"})
MAYBE_APPLIED: frozenset[RunState] = frozenset({"migrating", "verifying"})
DB_DONE: frozenset[RunState] = frozenset({"committing", "applied_doc_pending"})


class ApplyNotifier(Protocol):
    """Where an apply reports: the card (its status) and the card's thread (its progress)."""

    def card_changed(self, revision: str) -> None: ...

    def progress(self, revision: str, text: str) -> None: ...


@dataclass(frozen=True)
class ApplyParts:
    settings: Settings
    store: Store
    reviews: Reviews
    repository: RepositoryView
    scanner: Scanner
    clone: Clone
    redact: Redactor
    clock: Callable[[], datetime]


class Applier:
    def __init__(self, parts: ApplyParts, notifier: ApplyNotifier) -> None:
        self.parts = parts
        self.notifier = notifier
        settings = parts.settings
        self.runner = MigrationRunner(
            settings.database_url or "",
            parts.redact,
            settings.lock_timeout_seconds,
            settings.migration_timeout_seconds,
        )

    def main_branch(self) -> str:
        stored = self.parts.store.get_meta(MAIN_BRANCH)
        return stored or self.parts.settings.branch or "main"

    def gates(self, revision: str, user: str) -> GateReport:
        """Fetch, then check every gate of applying `revision` for `user`."""
        parts = self.parts
        parts.scanner.run()
        state = parts.reviews.state(revision)
        main = self.main_branch()
        doc = parts.repository.doc(main)
        entry = doc.entry_for(revision, state.record.path) if doc is not None else None
        items = {item.key: item.text for item in (doc.checklist() if doc else ())}
        required = {key: items[key] for key in manual_keys(doc.checklist())} if doc else {}
        production: frozenset[str] | None = None
        database_error = None
        if not parts.settings.database_url:
            database_error = "no production database is configured (SCHEMABOT_DATABASE_URL)"
        else:
            try:
                production = current_versions(parts.settings.database_url, parts.redact)
            except DatabaseUnavailable as exc:
                database_error = str(exc)
        return check_apply(
            ApplyFacts(
                revision=revision,
                user=user,
                appliers=parts.settings.appliers,
                state=state,
                on_main=state.record.on_main,
                main_branch=main,
                has_entry=entry is not None,
                doc_path=parts.settings.doc,
                required_items=required,
                graph=parts.repository.graph(main),
                production=production,
                database_error=database_error,
                lock=parts.store.get_lock(APPLY_LOCK),
            )
        )

    def request(self, ident: str, user: str) -> ApplyRun:
        """Check the gates and, when all pass, take the lock and record the run."""
        parts = self.parts
        revision = parts.reviews.resolve(ident)
        report = self.gates(revision, user)
        if not report.passed:
            parts.store.audit(user, "apply_refused", revision, unmet=[g.name for g in report.unmet])
            raise GateFailed(report)
        card = parts.store.get_card(revision)
        run = parts.store.create_run(
            revision,
            "apply",
            user,
            channel=card.channel if card else None,
            thread_ts=card.ts if card else None,
        )
        if not parts.store.try_acquire_lock(APPLY_LOCK, _holder(run)):
            parts.store.advance_run(run.id, "failed", error="another apply started first")
            lock = parts.store.get_lock(APPLY_LOCK)
            raise SchemabotError(
                f"Another apply is running ({lock.holder if lock else 'just finished'}): "
                "try again when it is done."
            )
        return run

    def execute(self, run: ApplyRun) -> ApplyRun:
        """Run an apply to its end; never raises for failures users should see in the thread."""
        parts = self.parts
        revision = run.revision
        try:
            run = parts.store.advance_run(run.id, "locked")
            self.notifier.card_changed(revision)
            self.notifier.progress(
                revision,
                f":gear: Applying `{revision}` to production, as asked by <@{run.requested_by}>.",
            )
            main = self.main_branch()
            tip = parts.repository.tip(main)
            if tip is None:
                return self._fail(run, f"the remote has no branch `{main}`")
            with worktree(parts.clone, tip, self._run_dir(run)) as checkout:
                if parts.settings.backup_command:
                    run = parts.store.advance_run(run.id, "backing_up")
                    error = self._backup()
                    if error:
                        return self._fail(
                            run, f"the backup failed, so nothing was migrated: {error}"
                        )
                    parts.store.set_checklist(revision, BotCheck.BACKUP.value, True, BOT_ACTOR)
                    self.notifier.progress(revision, ":floppy_disk: Backup created.")
                run = parts.store.advance_run(run.id, "migrating")
                throttle = Throttle(lambda text: self.notifier.progress(revision, f"```{text}```"))
                result = self.runner.upgrade(
                    checkout,
                    parts.settings.alembic_ini,
                    parts.settings.script_location,
                    revision,
                    throttle.add,
                )
                throttle.close()
            if not result.ok:
                return self._fail(run, result.error or "the migration failed", rollback_help=True)
            run = parts.store.advance_run(run.id, "verifying")
            versions = current_versions(parts.settings.database_url or "", parts.redact)
            if revision not in versions:
                shown = ", ".join(sorted(versions)) or "nothing"
                return self._fail(
                    run, f"production is at {shown}, not at `{revision}`", rollback_help=True
                )
            parts.store.set_checklist(revision, BotCheck.APPLIED.value, True, BOT_ACTOR)
            parts.store.set_checklist(revision, BotCheck.VERIFIED.value, True, BOT_ACTOR)
            run = parts.store.advance_run(run.id, "applied_doc_pending")
            self.notifier.progress(
                revision,
                f":white_check_mark: Production is at `{revision}`. "
                f"Updating `{parts.settings.doc}`…",
            )
            return self.finish_document(run)
        except SchemabotError as exc:
            return self._fail(run, str(exc))
        finally:
            parts.store.release_lock(APPLY_LOCK, _holder(run))
            self.notifier.card_changed(revision)

    def finish_document(self, run: ApplyRun) -> ApplyRun:
        """Commit and push the document update of an applied run; retried until it lands."""
        parts = self.parts
        revision = run.revision
        record = parts.store.get_revision(revision)
        path = record.path if record else None
        today = parts.clock().date()
        pusher = DocPusher(
            parts.clone, parts.settings.doc, parts.settings.git_author, self._run_dir(run, "doc")
        )
        try:
            commit = pusher.push_edit(
                self.main_branch(),
                lambda text: mark_applied(text, revision, path, today),
                f"Mark {revision} applied to production\n\n"
                f"Applied by schemabot at the request of {run.requested_by}.",
            )
        except SchemabotError as exc:
            message = parts.redact(str(exc))
            if run.error != message:
                self.notifier.progress(
                    revision,
                    ":warning: Production is migrated, but the document update is pending: "
                    f"{message}. schemabot keeps retrying.",
                )
            return parts.store.advance_run(run.id, "applied_doc_pending", error=message)
        parts.store.set_checklist(revision, BotCheck.STATUS_UPDATED.value, True, BOT_ACTOR)
        run = parts.store.advance_run(run.id, "succeeded", doc_commit=commit)
        where = f"commit `{commit[:12]}`" if commit else "the document already said so"
        self.notifier.progress(
            revision,
            f":rocket: `{revision}` is applied and verified; "
            f"`{parts.settings.doc}` updated ({where}).",
        )
        self.notifier.card_changed(revision)
        return run

    def retry_pending_documents(self) -> None:
        for run in self.parts.store.unfinished_runs():
            if run.state == "applied_doc_pending":
                self.finish_document(run)

    def recover(self) -> None:
        """After a restart: finish or close every run the last process left in flight."""
        parts = self.parts
        for run in parts.store.unfinished_runs():
            if run.state in DB_DONE:
                self.finish_document(run)
            elif run.state in MAYBE_APPLIED | NOT_STARTED:
                try:
                    versions = current_versions(parts.settings.database_url or "", parts.redact)
                except DatabaseUnavailable as exc:
                    log.warning("cannot reconcile run %d yet: %s", run.id, exc)
                    continue
                applied = (
                    run.revision in versions
                    if run.kind == "apply"
                    else run.revision not in versions
                )
                if applied and run.state in MAYBE_APPLIED:
                    run = parts.store.advance_run(run.id, "applied_doc_pending")
                    self.notifier.progress(
                        run.revision,
                        "schemabot restarted: production has the migration, "
                        "so the document update goes on.",
                    )
                    self.finish_document(run)
                else:
                    parts.store.advance_run(
                        run.id,
                        "interrupted",
                        error="schemabot stopped before the migration ran; "
                        "production was not changed",
                    )
                    self.notifier.progress(
                        run.revision,
                        ":warning: schemabot restarted during this apply. "
                        "Production was not changed; run `/schema apply` again.",
                    )
            parts.store.release_lock(APPLY_LOCK, _holder(run))
            self.notifier.card_changed(run.revision)

    def _backup(self) -> str | None:
        parts = self.parts
        env = dict(os.environ, SCHEMABOT_DATABASE_URL=parts.settings.database_url or "")
        try:
            done = subprocess.run(
                parts.settings.backup_command or "",
                shell=True,
                env=env,
                capture_output=True,
                text=True,
                timeout=parts.settings.migration_timeout_seconds,
            )
        except subprocess.TimeoutExpired:
            return "the backup command timed out"
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return parts.redact(f"exit code {done.returncode}: " + " / ".join(tail))
        return None

    def _fail(self, run: ApplyRun, error: str, rollback_help: bool = False) -> ApplyRun:
        parts = self.parts
        error = parts.redact(error)
        run = parts.store.advance_run(run.id, "failed", error=error)
        text = (
            f":x: Applying `{run.revision}` failed: {error}\n"
            f"Nothing was committed to `{parts.settings.doc}`."
        )
        if rollback_help:
            doc = parts.repository.doc(self.main_branch())
            procedure = doc.rollback_procedure() if doc else ""
            if procedure:
                text += f"\n\n*The team's rollback procedure*\n{procedure}"
        self.notifier.progress(run.revision, text[:3900])
        return run

    def _run_dir(self, run: ApplyRun, suffix: str = "migrate") -> Path:
        return self.parts.settings.workdir / RUN_DIR / f"{run.id}-{suffix}"


def _holder(run: ApplyRun) -> str:
    return f"run {run.id} ({run.kind} {run.revision})"
