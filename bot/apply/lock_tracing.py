"""Lock tracing: a revision's upgrade run on a schema-only copy of production, its locks read
from `pg_locks` statement by statement, kept per approved version and shown on the card.

The copy is made where drift checks make their scratch databases: production's `drift_url`,
else SCHEMABOT_DRIFT_URL, else production's own server, whose credentials the child's URL
then carries. So, whatever the server, a trace runs only bytes an apply would accept as
reviewed: every gate of an apply about the bytes and their review (approvals, no change
requests, on the main branch, documented, in the graph, one file, the approved bytes whole,
signed where required: `check_trace`), checked on the facts an apply reads; then exactly as
an apply runs them (the approved bundle, inert stand-ins for other revisions, checked just
before the child starts). Not the team's env file: the child gets
SCHEMABOT_PREVIEW_ENV_FILE's placeholders, as a preview does, since it migrates the copy its
URL names and needs no other secret. A revision is traced once it passes, and again
whenever its bytes change and pass again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.apply.applier import fresh_folder
from bot.apply.checkout import approved_checkout
from bot.apply.facts import ApplyParts, main_branch, review_facts
from bot.core.bundle import version_key
from bot.core.gates import GateReport, check_trace, missing_dependencies
from bot.core.lock_facts import LockTrace, TracedStatement
from bot.core.lock_modes import LockMode, TableLock
from bot.core.review import ReviewState
from bot.core.text import plain
from bot.errors import SchemabotError
from bot.migrations.runner import Checkout, MigrationRunner, last_line
from bot.migrations.schema_copy import copy_schema
from bot.migrations.scratch import throwaway_database
from bot.migrations.versions import DatabaseUnavailable, current_versions
from bot.redact import Redactor

log = logging.getLogger(__name__)

TRACE_DIR = "traces"


@dataclass(frozen=True)
class LockTracer:
    parts: ApplyParts
    database_url: str
    """The environment whose schema is copied (production unless told otherwise)."""
    scratch_server: str | None = None
    """Where the copy is made (a role that may create databases); None: `database_url`'s."""

    def due(self, state: ReviewState) -> bool:
        """Whether the revision's current bytes are pending and have no trace yet (whether
        they may be traced is `gates`' to say)."""
        bundle = state.bundle
        if bundle is None or not bundle.complete or bundle.commit is None:
            return False
        if state.record.history or state.record.removed_at is not None or state.applied:
            return False
        key = version_key(state.record.blob_sha, bundle)
        return self.parts.store.lock_trace(state.record.revision, key) is None

    def gates(self, revision: str) -> tuple[GateReport, ReviewState]:
        """The apply gates about the revision's bytes and their review, and the review they
        were checked on (its bundle is what a trace may run)."""
        facts = review_facts(self.parts, revision)
        return check_trace(facts), facts.state

    def trace(self, revision: str, state: ReviewState | None = None) -> LockTrace | None:
        """Trace `revision` if it is due and passes the gates; the trace is kept (a failure
        too, with why). None when nothing ran. `state`: its review as the caller just read
        it (read here otherwise); the gates read theirs again."""
        parts = self.parts
        if not self.due(state or parts.reviews.state(revision)):
            return None
        report, state = self.gates(revision)
        if not report.passed or not self.due(state):
            if not report.passed:
                log.info("no lock trace of %s: %s", revision, plain(report.refusal("trace")))
            return None
        bundle = state.bundle
        assert bundle is not None and bundle.commit is not None
        graph = parts.repository.graph_at(bundle.commit, main_branch(parts))
        try:
            production = current_versions(self.database_url, parts.redact)
        except DatabaseUnavailable as exc:
            log.info("no lock trace of %s yet: %s", revision, exc)
            return None
        if missing_dependencies(graph, revision, production):
            return None
        key = version_key(state.record.blob_sha, bundle)
        # Named by the bot's own digest of the bytes, never by the repository's id.
        folder = parts.settings.workdir / TRACE_DIR / key
        try:
            with fresh_folder(folder) as dest:
                checkout = approved_checkout(
                    parts.clone,
                    bundle,
                    graph,
                    production,
                    revision,
                    parts.settings.alembic_ini,
                    dest,
                )
                trace = self._run(checkout, revision)
        except SchemabotError as exc:
            trace = LockTrace(error=str(parts.redact.text(exc.text)))
        parts.store.save_lock_trace(revision, key, trace)
        return trace

    def _run(self, checkout: Checkout, revision: str) -> LockTrace:
        parts = self.parts
        settings = parts.settings
        server = self.scratch_server or self.database_url
        with throwaway_database(server, parts.redact) as copy_url:
            copy_schema(self.database_url, copy_url, parts.redact)
            runner = MigrationRunner(
                copy_url,
                parts.redact,
                settings.lock_timeout_seconds,
                settings.migration_timeout_seconds,
                python=settings.migration_interpreter,
                layout=parts.layout,
                settings_env=settings.preview_settings(),
            )
            result = runner.trace(checkout, revision)
        if not result.ok:
            return LockTrace(error=f"the traced run failed: {last_line(result.error) or '?'}")
        return LockTrace(tuple(_statement(item, parts.redact) for item in result.traced))


def _statement(item: Any, redact: Redactor) -> TracedStatement:
    """One statement as the child reported it, read defensively: it is a process's output."""
    item = item if isinstance(item, dict) else {}
    pairs = item.get("held") if isinstance(item.get("held"), list) else []
    held = {
        TableLock(redact(str(pair[0])), mode)
        for pair in pairs
        if isinstance(pair, list) and len(pair) == 2
        if (mode := LockMode.from_pg_locks(str(pair[1]))) is not None
    }
    rewritten = item.get("rewritten") if isinstance(item.get("rewritten"), list) else []
    return TracedStatement(
        redact(str(item.get("statement", ""))),
        tuple(sorted(held)),
        bool(item.get("in_transaction", True)),
        tuple(redact(str(table)) for table in rewritten),
    )
