"""Lock impact use cases: the report a card shows, the statistics it needs (read from
production in the watcher's cycle and before an apply, never while a card renders), and the
traces of revisions that pass the gates about their bytes and review (approved, merged, ...).

The decisions are the core's (bot/core/lock_report.py); this reads and writes the store and
calls the adapters. Every database is taken by URL, with a label the store keeps its sizes
under ("production", or another environment's name).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import make_url

from bot.apply.lock_tracing import LockTracer
from bot.config import Settings
from bot.core.bundle import version_key
from bot.core.checklist import classify
from bot.core.lock_facts import LockTrace
from bot.core.lock_reading import read_locks
from bot.core.lock_report import LockReport, lock_report, locked_tables
from bot.core.lock_review import LOCK_OVERRIDE, RunSettings
from bot.core.records import BOT_ACTOR, SqlReviewRecord
from bot.core.review import ReviewState, decide
from bot.git.repository import RepositoryView
from bot.git.scan import watched_main
from bot.migrations.table_stats import read_table_stats
from bot.redact import Redactor
from bot.reviewing import Reviews
from storage.base import from_text
from storage.store import Store

log = logging.getLogger(__name__)

PRODUCTION = "production"
"""The label production's sizes are kept under (other environments use their name)."""
STATS_MAX_AGE = timedelta(minutes=10)
"""How old kept sizes may be before the watcher reads them again."""
FAILED_READ_RETRY = timedelta(minutes=1)


@dataclass
class LockImpact:
    store: Store
    reviews: Reviews
    database_url: str | None
    database: str
    redact: Redactor
    clock: Callable[[], datetime]
    large_table_rows: int
    tracer: LockTracer | None = None
    trace_ticks: frozenset[str] = frozenset()
    checklist: Callable[[], Sequence[tuple[str, str]]] = lambda: ()
    """The manual checklist items (key, text) a successful trace may tick."""

    def review(
        self, revision: str, state: ReviewState | None = None
    ) -> tuple[SqlReviewRecord | None, str]:
        """The revision's SQL review for its bytes now (as `state` has them, else as read
        here), and the key it is kept under."""
        state = state or self.reviews.state(revision)
        key = version_key(state.record.blob_sha, state.bundle)
        return self.store.sql_review(revision, key), key

    def report(self, revision: str, review: SqlReviewRecord | None, key: str) -> LockReport | None:
        """What the card shows; from the store only (no database is asked while a card
        renders). None where there is no PostgreSQL SQL to read."""
        if review is None or review.sql is None or review.dialect != "postgresql":
            return None
        readings = read_locks(review.sql)
        trace = self.store.lock_trace(revision, key)
        stats = self.store.table_stats(self.database, locked_tables(readings, trace))
        return lock_report(readings, stats, trace, self.large_table_rows)

    def current_report(self, revision: str, refresh: bool = False) -> LockReport | None:
        """The report of the revision's bytes now; `refresh` reads the sizes first (before
        an apply)."""
        review, key = self.review(revision)
        if refresh and review is not None and review.sql is not None:
            trace = self.store.lock_trace(revision, key)
            self.refresh_stats(locked_tables(read_locks(review.sql), trace), max_age=None)
        return self.report(revision, review, key)

    def refresh_stats(self, tables: Iterable[str], max_age: timedelta | None) -> bool:
        """Read the sizes of `tables` when the kept ones are older than `max_age` (None:
        always); returns whether a read was made."""
        wanted = tuple(sorted(set(tables)))
        if not wanted or not self.database_url:
            return False
        now = self.clock()
        if max_age is not None and not self._stale(wanted, now, max_age):
            return False
        stats = read_table_stats(self.database_url, wanted, self.redact, now, self.large_table_rows)
        if stats.error:
            log.warning("could not read table sizes from %s: %s", self.database, stats.error)
        self.store.save_table_stats(self.database, stats)
        return True

    def _stale(self, tables: tuple[str, ...], now: datetime, max_age: timedelta) -> bool:
        kept = self.store.table_stats(self.database, tables)
        last, failed = self.store.statistics_read_at(self.database)
        if last is not None and failed:
            return now - from_text(last) >= FAILED_READ_RETRY
        unread = set(tables) - set(kept.sizes)
        if unread and (last is None or now - from_text(last) >= FAILED_READ_RETRY):
            return True
        return kept.read_at is None or now - kept.read_at >= max_age

    def cycle(self, revisions: Iterable[str]) -> list[str]:
        """The watcher's share: sizes of the tables pending revisions lock, kept fresh, and a
        trace of each version newly approved and merged (the tracer checks). Returns the
        revisions whose card may change."""
        reports = {}
        states = {revision: self.reviews.state(revision) for revision in revisions}
        for revision, state in states.items():
            review, key = self.review(revision, state)
            if review is not None and review.sql is not None:
                trace = self.store.lock_trace(revision, key)
                reports[revision] = locked_tables(read_locks(review.sql), trace)
        changed: list[str] = []
        tables = {table for found in reports.values() for table in found}
        if self.refresh_stats(tables, STATS_MAX_AGE):
            changed.extend(reports)
        traced: set[str] = set()
        for revision in reports:
            if self.tracer is None:
                break
            try:
                trace = self.tracer.trace(revision, states[revision])
            except Exception:
                log.exception("the lock trace of %s failed", revision)
                continue
            if trace is not None:
                changed.append(revision)
                if trace.error is None:
                    self._tick(revision)
                    traced.update(self._traced_tables(revision, trace))
        # Tables only the trace saw (the offline SQL does not name them) are weighed too.
        if traced - tables:
            self.refresh_stats(traced - tables, max_age=None)
        return list(dict.fromkeys(changed))

    def _traced_tables(self, revision: str, trace: LockTrace) -> tuple[str, ...]:
        review, _ = self.review(revision)
        if review is None or review.sql is None:
            return ()
        return locked_tables(read_locks(review.sql), trace)

    def _tick(self, revision: str) -> None:
        """Tick the checklist items the team said a schema-only trace counts for."""
        for key, text in self.checklist():
            if any(phrase in text.casefold() for phrase in self.trace_ticks):
                self.store.set_checklist(revision, key, True, BOT_ACTOR)


def run_settings(settings: Settings) -> RunSettings:
    return RunSettings(
        settings.lock_timeout_seconds,
        settings.statement_timeout_seconds,
        settings.migration_timeout_seconds,
    )


def lock_impact(
    settings: Settings,
    store: Store,
    reviews: Reviews,
    repository: RepositoryView,
    redact: Redactor,
    clock: Callable[[], datetime],
) -> LockImpact | None:
    """Lock impact for a PostgreSQL production; None for other databases or none."""
    url = settings.database_url
    if not url or make_url(url).get_backend_name() != "postgresql":
        return None

    def checklist() -> list[tuple[str, str]]:
        doc = repository.doc(watched_main(store, settings.branch))
        items = classify(doc.checklist()) if doc is not None else ()
        return [(item.key, item.text) for item in items if item.manual]

    return LockImpact(
        store,
        reviews,
        url,
        PRODUCTION,
        redact,
        clock,
        settings.large_table_rows,
        trace_ticks=settings.lock_trace_ticks,
        checklist=checklist,
    )


def record_decision(
    store: Store,
    reviews: Reviews,
    action: str,
    revision: str,
    user: str,
    authors: frozenset[str],
    reason: str,
) -> None:
    """An approver's audited decision on `revision`: accepting its lock risk
    (LOCK_OVERRIDE) or allowing the next apply to drop the INVALID indexes a run left
    (ALLOW_INDEX_DROP)."""
    state = reviews.state(revision)
    why = "the lock risk is acceptable" if action == LOCK_OVERRIDE else "the index may go"
    done = decide(state, reviews.policy, user, authors, reason, why)
    store.audit(
        done.user,
        action,
        done.revision,
        reason=done.reason,
        blob_sha=done.blob_sha,
        version=done.version,
    )
