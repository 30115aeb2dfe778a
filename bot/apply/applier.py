"""The apply state machine: lock, backup, migrate, verify, commit the document, push.

Every step is recorded in the store before it starts, so after a crash `recover()` knows
how far a run got and reconciles it with production's `alembic_version`: a migration that
landed gets its document update (once), one that did not is marked interrupted. One apply
at a time: a lock in the store here, and a PostgreSQL advisory lock in the child process.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial
from pathlib import Path
from typing import Protocol

from bot.apply.checkout import approved_checkout
from bot.apply.facts import ApplyParts, apply_facts, main_branch, rollback_facts
from bot.apply.patient import PatientMigration
from bot.apply.progress import Throttle
from bot.apply.trailers import Directory, run_trailers
from bot.core.bundle import Bundle, version_key
from bot.core.checklist import BotCheck
from bot.core.doc_update import mark_applied, record_rollback
from bot.core.gates import (
    GateFailed,
    GateReport,
    check_apply,
    check_rollback,
    rollback_bundle,
)
from bot.core.records import (
    BOT_ACTOR,
    FINISHED_RUN_STATES,
    ApplyRun,
    JsonValue,
    RunKind,
    RunState,
)
from bot.core.revisions import RevisionGraph
from bot.core.text import Bold, Code, Fenced, Text, User, as_text
from bot.core.trailers import with_trailers
from bot.environments import Environment, environment_named
from bot.errors import SchemabotError
from bot.git.doc_push import DocPusher
from bot.migrations.backup import run_backup
from bot.migrations.runner import Checkout, MigrationResult, MigrationRunner
from bot.migrations.versions import current_versions

log = logging.getLogger(__name__)

RUN_DIR = "runs"
NOT_STARTED: frozenset[RunState] = frozenset({"requested", "locked", "backing_up"})
MAYBE_APPLIED: frozenset[RunState] = frozenset({"migrating", "verifying"})
DB_DONE: frozenset[RunState] = frozenset({"committing", "applied_doc_pending"})
DOCUMENT_PENDING: frozenset[RunState] = frozenset({"applied_doc_pending"})


class ApplyNotifier(Protocol):
    """Where an apply reports: the card (its status) and the card's thread (its progress)."""

    def card_changed(self, revision: str) -> None: ...

    def progress(self, revision: str, text: Text) -> None: ...


class Applier:
    def __init__(
        self, parts: ApplyParts, notifier: ApplyNotifier, directory: Directory | None = None
    ) -> None:
        """`directory`: people's names and the cards' links for the status commit's
        trailers (without it, ids and the stored links)."""
        self.parts = parts
        self.notifier = notifier
        self.directory = directory

    def runner(self, environment: Environment) -> MigrationRunner:
        """Alembic against one environment, with that environment's own env file, read now:
        a value edited in since the start is masked from here on, as the others are."""
        settings = self.parts.settings
        env = environment.migration_settings()
        self.parts.redact.add_prefixed(env.values())
        return MigrationRunner(
            environment.database_url or "",
            self.parts.redact,
            settings.lock_timeout_seconds,
            settings.migration_timeout_seconds,
            python=settings.migration_interpreter,
            layout=self.parts.layout,
            settings_env=env,
            statement_timeout_seconds=settings.statement_timeout_seconds,
        )

    def environment(self, name: str | None) -> Environment:
        return environment_named(self.parts.settings, name)

    def main_branch(self) -> str:
        return main_branch(self.parts)

    def gates(
        self, revision: str, user: str, kind: RunKind, environment: str | None = None
    ) -> tuple[GateReport, Bundle | None]:
        """Fetch, then check every gate of applying (or rolling back) `revision` in
        `environment` (production by default) for `user`; with the report, the bytes the
        run would be allowed to run."""
        where = self.environment(environment)
        self.parts.scanner.run()
        if kind == "apply":
            facts = apply_facts(self.parts, revision, user, where)
            return check_apply(facts), facts.state.bundle
        back = rollback_facts(self.parts, revision, user, where)
        return check_rollback(back), rollback_bundle(back)[0]

    def request(
        self, ident: str, user: str, kind: RunKind = "apply", environment: str | None = None
    ) -> ApplyRun:
        """Check the gates and, when all pass, take the environment's lock and record the
        run with the bytes it may run: checked and recorded in one step, so a push after
        the check changes nothing of what runs."""
        parts = self.parts
        revision = parts.reviews.resolve(ident)
        where = self.environment(environment)
        if where.read_only:
            raise SchemabotError(
                Text(
                    Code(where.name),
                    " is read-only: schemabot reads its revisions and never migrates it.",
                )
            )
        report, bundle = self.gates(revision, user, kind, where.name)
        if not report.passed:
            parts.store.audit(
                user,
                f"{kind}_refused",
                revision,
                unmet=[g.name for g in report.unmet],
                environment=where.name,
            )
            raise GateFailed(report, "apply" if kind == "apply" else "roll back")
        card = parts.store.get_card(revision)
        # The run and the lock together: a request that passed the gates just as another
        # took the lock must leave no failed run, or the card would show "Failed".
        run = parts.store.create_locked_run(
            revision,
            kind,
            user,
            where.lock_name,
            _holder,
            channel=card.channel if card else None,
            thread_ts=card.ts if card else None,
            bundle=bundle,
            environment=where.name,
            detail=self._request_detail(revision, bundle),
        )
        if run is None:
            lock = parts.store.get_lock(where.lock_name)
            parts.store.audit(
                user,
                f"{kind}_refused",
                revision,
                unmet=["no apply running"],
                environment=where.name,
            )
            raise SchemabotError(
                f"Another apply is running in {where.name} "
                f"({lock.holder if lock else 'just finished'}): try again when it is done."
            )
        return run

    def _request_detail(self, revision: str, bundle: Bundle | None) -> dict[str, JsonValue]:
        """What the audit log keeps of a request beyond the bytes: who approved them, and
        the hash of the SQL reviewers saw."""
        store = self.parts.store
        state = self.parts.reviews.state(revision)
        detail: dict[str, JsonValue] = {"approved_by": [v.user_id for v in state.approvals]}
        review = store.sql_review(revision, version_key(state.record.blob_sha, bundle))
        if review is not None and review.sql is not None:
            detail["sql_sha256"] = hashlib.sha256(review.sql.encode()).hexdigest()
        if bundle is not None:
            detail["revision_blob"] = bundle.revision_blob
        return detail

    def execute(self, run: ApplyRun) -> ApplyRun:
        """Run an apply or rollback to its end; failures are reported in the thread."""
        parts = self.parts
        revision = run.revision
        verb = "Applying" if run.kind == "apply" else "Rolling back"
        try:
            where = self.environment(run.environment)
            production = where.is_production
            run = parts.store.advance_run(run.id, "locked")
            self.notifier.card_changed(revision)
            self.notifier.progress(
                revision,
                Text(
                    f":gear: {verb} ",
                    Code(revision),
                    f" in {where.name}, as asked by ",
                    User(run.requested_by),
                    ".",
                ),
            )
            bundle = run.bundle
            if bundle is None or bundle.commit is None:
                return self._fail(run, Text("the run has no approved bytes recorded: ask again"))
            graph = parts.repository.graph_at(bundle.commit, self.main_branch())
            url = where.database_url or ""
            before = current_versions(url, parts.redact, name=where.name)
            with fresh_folder(self._run_dir(run)) as folder:
                checkout = approved_checkout(
                    parts.clone,
                    bundle,
                    graph,
                    before,
                    revision,
                    parts.settings.alembic_ini,
                    folder,
                )
                if parts.settings.backup_command:
                    run = parts.store.advance_run(run.id, "backing_up")
                    error = self._backup(where)
                    if error:
                        return self._fail(
                            run, Text(f"the backup failed, so nothing was migrated: {error}")
                        )
                    if production:
                        parts.store.set_checklist(revision, BotCheck.BACKUP.value, True, BOT_ACTOR)
                    self.notifier.progress(revision, Text(":floppy_disk: Backup created."))
                run = parts.store.advance_run(run.id, "migrating")
                throttle = Throttle(
                    lambda text: self.notifier.progress(revision, Text(Fenced(text)))
                )
                result = self._migrate(run, where, checkout, graph, throttle.add)
                throttle.close()
            if not result.ok:
                return self._fail(run, result.error or "the migration failed", rollback_help=True)
            run = parts.store.advance_run(run.id, "verifying")
            versions = current_versions(url, parts.redact, name=where.name)
            if not _landed(run, versions):
                return self._fail(run, _not_landed(where, versions, result), rollback_help=True)
            verified = Text(
                ":white_check_mark: Verified in production. Updating ",
                Code(parts.settings.doc),
                "…",
            )
            return self._landed_in(where, run, verified)
        except SchemabotError as exc:
            return self._fail(run, exc.text)
        except Exception:
            log.exception("%s of %s failed unexpectedly", run.kind, revision)
            return self._settle_unexpected(run)
        finally:
            parts.store.release_lock(_lock_name(run), _holder(run))
            self.notifier.card_changed(revision)

    def _settle_unexpected(self, run: ApplyRun) -> ApplyRun:
        """A run an unexpected error stopped, ended as what the environment shows: failed
        if it does not have the change, carried on to the document if it does. Only when
        the environment cannot be read is it left in flight, for the next start's recovery
        to settle."""
        run = self.parts.store.get_run(run.id) or run
        if run.state in DOCUMENT_PENDING:
            return self.finish_document(run)
        if run.state in DB_DONE | FINISHED_RUN_STATES:
            return run  # ended, or someone else is committing the document
        unexpected = "an unexpected error (the details are in schemabot's log)"
        if run.state in NOT_STARTED:
            return self._fail(run, Text(f"{unexpected}, before anything was migrated"))
        try:
            where = self.environment(run.environment)
            versions = current_versions(
                where.database_url or "", self.parts.redact, name=where.name
            )
        except SchemabotError as exc:
            log.warning("run %d is left for the next start to settle: %s", run.id, exc)
            self.notifier.progress(
                run.revision,
                Text(
                    f":warning: {unexpected.capitalize()} stopped this run, and schemabot "
                    "cannot tell yet whether the database changed; it checks again when "
                    "it next starts."
                ),
            )
            return run
        if not _landed(run, versions):
            text = Text(f"{unexpected}; {where.name} does not have it")
            return self._fail(run, text, rollback_help=True)
        return self._landed_in(
            where, run, Text("Production has the migration, so the document update goes on.")
        )

    def _landed_in(self, where: Environment, run: ApplyRun, said: Text) -> ApplyRun:
        """The end of a run `where` shows landed: recorded there; outside production that is
        all, in production the bot's checks are ticked and the document is updated, after
        `said` in the thread."""
        parts = self.parts
        parts.store.record_presence(where.name, run.revision, run.id, run.kind == "apply")
        if not where.is_production:
            return self._finish_elsewhere(run, where)
        for check in (BotCheck.APPLIED, BotCheck.VERIFIED):
            parts.store.set_checklist(run.revision, check.value, run.kind == "apply", BOT_ACTOR)
        run = parts.store.advance_run(run.id, "applied_doc_pending")
        self.notifier.progress(run.revision, said)
        return self.finish_document(run)

    def _finish_elsewhere(self, run: ApplyRun, where: Environment) -> ApplyRun:
        """The end of a run outside production: verified, and no document to update (the
        document says where production is)."""
        run = self.parts.store.advance_run(run.id, "succeeded")
        if self.parts.watch is not None:
            # What it ticks, ticked now rather than next cycle, and shown on the cards.
            for changed in self.parts.watch.cycle():
                self.notifier.card_changed(changed)
        done = "applied and verified" if run.kind == "apply" else "rolled back"
        self.notifier.progress(
            run.revision,
            Text(":white_check_mark: ", Code(run.revision), f" is {done} in {where.name}."),
        )
        return run

    def _migrate(
        self,
        run: ApplyRun,
        where: Environment,
        checkout: Checkout,
        graph: RevisionGraph,
        on_line: Callable[[str], None],
    ) -> MigrationResult:
        say = partial(self.notifier.progress, run.revision)
        migrate = PatientMigration(self.parts, self.runner(where), run, say).migrate
        if run.kind == "apply":
            return migrate("upgrade", checkout, run.revision, on_line)
        downs = graph.revisions[run.revision].down_revisions
        return migrate("downgrade", checkout, downs[0] if downs else "base", on_line)

    def finish_document(
        self, run: ApplyRun, owned: frozenset[RunState] = DOCUMENT_PENDING
    ) -> ApplyRun:
        """Commit and push the document update of a run that changed production.

        One owner at a time: the run is claimed (moved to `committing`) from one of the
        `owned` states first, and a run someone else is committing is left to them, so the
        apply's worker and the watcher's retry never share the run's worktree. Retried (by
        `retry_pending_documents`) until it lands; an update that is already in the
        document makes no second commit.
        """
        parts = self.parts
        claimed = parts.store.claim_run(run.id, owned, "committing")
        if claimed is None:
            return parts.store.get_run(run.id) or run
        run = claimed
        revision = run.revision
        record = parts.store.get_revision(revision)
        path = record.path if record else None
        today = parts.clock().date()
        edit, message = _document_edit(run, path, today)
        pusher = DocPusher(
            parts.clone, parts.settings.doc, parts.settings.git_author, self._run_dir(run, "doc")
        )
        message = f"{message}\n\nCommitted by schemabot for {run.requested_by} (run {run.id})."
        try:
            trailers = run_trailers(parts.store, run, self.directory)
            commit = pusher.push_edit(
                self.main_branch(), edit, parts.redact(with_trailers(message, trailers))
            )
        except SchemabotError as exc:
            reason = parts.redact.text(exc.text)
            message = str(reason)
            if run.error != message:
                self.notifier.progress(
                    revision,
                    Text(
                        ":warning: Production is changed, but the document update is pending: ",
                        reason,
                        ". schemabot keeps retrying.",
                    ),
                )
            return parts.store.advance_run(run.id, "applied_doc_pending", error=message)
        except BaseException:
            # Not ours to decide what went wrong: the next cycle tries again.
            parts.store.advance_run(run.id, "applied_doc_pending")
            raise
        parts.store.set_checklist(
            revision, BotCheck.STATUS_UPDATED.value, run.kind == "apply", BOT_ACTOR
        )
        run = parts.store.advance_run(run.id, "succeeded", doc_commit=commit)
        where = (
            Text("commit ", Code(commit[:12])) if commit else Text("the document already said so")
        )
        done = "applied and verified" if run.kind == "apply" else "rolled back"
        self.notifier.progress(
            revision,
            Text(
                ":rocket: ",
                Code(revision),
                f" is {done}; ",
                Code(parts.settings.doc),
                " updated (",
                where,
                ").",
            ),
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
                # Nobody else runs yet: a step a crash left `committing` is ours again.
                self.finish_document(run, DB_DONE)
            elif run.state in MAYBE_APPLIED | NOT_STARTED:
                self._reconcile(run)
            parts.store.release_lock(_lock_name(run), _holder(run))
            self.notifier.card_changed(run.revision)

    def _reconcile(self, run: ApplyRun) -> None:
        """A run stopped before or during its migration: finished if the environment shows
        it landed, else marked interrupted."""
        parts = self.parts
        try:
            where = self.environment(run.environment)
            versions = current_versions(where.database_url or "", parts.redact, name=where.name)
        except SchemabotError as exc:
            log.warning("cannot reconcile run %d yet: %s", run.id, exc)
            return
        if _landed(run, versions) and run.state in MAYBE_APPLIED:
            said = Text(
                "schemabot restarted: production has the migration, so the document update goes on."
            )
            self._landed_in(where, run, said)
            return
        parts.store.advance_run(
            run.id,
            "interrupted",
            error=f"schemabot stopped before the migration ran; {where.name} was not changed",
        )
        self.notifier.progress(
            run.revision,
            Text(
                f":warning: schemabot restarted during this apply. {where.name.capitalize()} "
                "was not changed; run ",
                Code("/schema apply"),
                " again.",
            ),
        )

    def _backup(self, where: Environment) -> str | None:
        settings = self.parts.settings
        return run_backup(
            settings.backup_command or "",
            where.database_url or "",
            settings.migration_timeout_seconds,
            self.parts.redact,
        )

    def _fail(self, run: ApplyRun, error: str | Text, rollback_help: bool = False) -> ApplyRun:
        parts = self.parts
        reason = parts.redact.text(as_text(error))
        run = parts.store.advance_run(run.id, "failed", error=str(reason))
        text = Text(
            ":x: Applying ",
            Code(run.revision),
            " failed: ",
            reason,
            "\nNothing was committed to ",
            Code(parts.settings.doc),
            ".",
        )
        if rollback_help:
            doc = parts.repository.doc(self.main_branch())
            procedure = doc.rollback_procedure() if doc else ""
            if procedure:
                text += Text("\n\n", Bold("The team's rollback procedure"), "\n", procedure)
        self.notifier.progress(run.revision, text)
        return run

    def _run_dir(self, run: ApplyRun, suffix: str = "migrate") -> Path:
        return self.parts.settings.workdir / RUN_DIR / f"{run.id}-{suffix}"


@contextmanager
def fresh_folder(path: Path) -> Iterator[Path]:
    """An empty folder at `path` (one a crash left behind is cleared first), removed after."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, mode=0o700)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _holder(run: ApplyRun) -> str:
    return f"run {run.id} ({run.kind} {run.revision})"


def _lock_name(run: ApplyRun) -> str:
    return Environment(run.environment, None).lock_name


def _not_landed(where: Environment, versions: frozenset[str], result: MigrationResult) -> Text:
    """Why the verification failed, with the database env.py really migrated when it was
    another one than the environment's."""
    shown = Text.join(", ", (Code(v) for v in sorted(versions))) or Text("no revision")
    text = Text(f"{where.name} ({where.url_source}) is at ", shown, " afterwards")
    other = result.env_database
    if other is None or other.url is None:
        return text
    theirs = Text.join(", ", (Code(v) for v in other.versions)) or Text("no revision")
    return Text(
        text,
        "; the database env.py connected to (",
        Code(other.url),
        ") is at ",
        theirs,
        ". The team's env.py reads its own URL (its settings, or SCHEMABOT_MIGRATION_ENV_FILE), "
        f"and it names another database than {where.url_source}: make them the same",
    )


def _landed(run: ApplyRun, versions: frozenset[str]) -> bool:
    """Whether production shows the run's change: the revision present, or gone for a rollback."""
    return (run.revision in versions) == (run.kind == "apply")


def _document_edit(
    run: ApplyRun, path: str | None, today: date
) -> tuple[Callable[[str], str], str]:
    """The change a run makes to the document, and its commit message's first line."""
    if run.kind == "apply":
        return partial(mark_applied, revision_id=run.revision, path=path, on=today), (
            f"Mark {run.revision} applied to production"
        )
    note = f"rolled back by schemabot at the request of {run.requested_by}"
    return partial(record_rollback, revision_id=run.revision, path=path, on=today, note=note), (
        f"Record the rollback of {run.revision} in production"
    )
