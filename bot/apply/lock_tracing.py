"""Lock tracing: a revision's upgrade run on a schema-only copy of production, its locks read
from `pg_locks` statement by statement, kept per approved version and shown on the card.

Only approved bytes are traced, exactly as an apply runs them (the approved bundle, inert
stand-ins for other revisions, checked just before the child starts): the copy lives on
production's server and the child gets production's credentials in its URL, so code nobody
approved must never run there. A revision is traced once its approvals are complete, and
again whenever its bytes change and are approved again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.apply.applier import fresh_folder
from bot.apply.checkout import approved_checkout
from bot.apply.facts import ApplyParts, main_branch
from bot.core.bundle import version_key
from bot.core.gates import missing_dependencies
from bot.core.lock_facts import LockTrace, TracedStatement
from bot.core.lock_modes import LockMode, TableLock
from bot.core.review import ReviewState
from bot.errors import SchemabotError
from bot.migrations.runner import Checkout, MigrationRunner
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

    def due(self, state: ReviewState) -> bool:
        """Whether the revision's approved bytes have no trace yet."""
        bundle = state.bundle
        if bundle is None or not bundle.complete or bundle.commit is None:
            return False
        if len(state.approvals) < state.required_approvals or state.change_requests:
            return False
        if state.record.history or state.record.removed_at is not None or state.applied:
            return False
        key = version_key(state.record.blob_sha, bundle)
        return self.parts.store.lock_trace(state.record.revision, key) is None

    def trace(self, revision: str) -> LockTrace | None:
        """Trace `revision` if it is due; the trace is kept (a failure too, with why)."""
        parts = self.parts
        state = parts.reviews.state(revision)
        if not self.due(state):
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
        folder = parts.settings.workdir / TRACE_DIR / revision
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
        with throwaway_database(self.database_url, parts.redact) as copy_url:
            copy_schema(self.database_url, copy_url, parts.redact)
            runner = MigrationRunner(
                copy_url,
                parts.redact,
                settings.lock_timeout_seconds,
                settings.migration_timeout_seconds,
                python=settings.migration_interpreter,
                layout=parts.layout,
                settings_env=settings.migration_settings(),
            )
            result = runner.trace(checkout, revision)
        if not result.ok:
            last = (result.error or "the traced run failed").strip().splitlines()[-1:]
            return LockTrace(error=f"the traced run failed: {last[0] if last else '?'}")
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
