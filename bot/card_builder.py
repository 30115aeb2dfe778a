"""Gathers what a review card shows about one revision: git, the document and the store.

The findings themselves are the core's (bot/core/card.py); this only fetches their inputs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.bundle import version_key
from bot.core.card import CardSnapshot, card_title, checklist_lines, disagreements, findings
from bot.core.checklist import SEED_REQUIRED_ITEMS, EnvironmentTicks
from bot.core.concurrency import concurrency_findings
from bot.core.lock_review import LOCK_OVERRIDE, LockCard, RunSettings
from bot.core.operations import analyze
from bot.core.promotion import EnvironmentRow
from bot.core.records import SqlReviewRecord
from bot.core.review import ACTIVE_RUN_STATES, latest
from bot.environments import Environment, environment_ticks
from bot.git.authorship import Authorship
from bot.git.repository import RepositoryView
from bot.git.scan import watched_main
from bot.reviewing import Reviews
from storage.store import Store

if TYPE_CHECKING:
    from bot.environment_watch import EnvironmentWatch
    from bot.lock_impact import LockImpact


class SnapshotBuilder:
    """Builds card snapshots; the caller passes the author's Slack id when it knows it."""

    def __init__(
        self,
        store: Store,
        reviews: Reviews,
        repository: RepositoryView,
        authorship: Authorship,
        main_branch: str,
        database_backend: str | None = None,
        required_items: frozenset[str] = SEED_REQUIRED_ITEMS,
        environments: tuple[Environment, ...] = (),
        watch: EnvironmentWatch | None = None,
        locks: LockImpact | None = None,
        run_settings: RunSettings | None = None,
    ) -> None:
        """`database_backend`: production's SQLAlchemy backend name, when one is configured;
        `required_items`: the checklist keys an apply requires; `environments`: the
        configured ones, a row each on the card (`watch` says which did not answer)."""
        self.store = store
        self.reviews = reviews
        self.repository = repository
        self.authorship = authorship
        self.configured_main = main_branch
        self.database_backend = database_backend
        self.required_items = required_items
        self.environments = environments
        self.watch = watch
        self.ticks: EnvironmentTicks = environment_ticks(environments)
        self.locks = locks
        self.run_settings = run_settings

    @property
    def main_branch(self) -> str:
        """The main branch as the watcher found it (the remote's default, or the setting)."""
        return watched_main(self.store, self.configured_main)

    def build(self, revision: str, author_user: str | None, notified: bool = False) -> CardSnapshot:
        """`notified`: the card is being posted, so the team is being told right now."""
        state = self.reviews.state(revision)
        record = state.record
        main = self.main_branch
        branch = main if record.on_main else record.branch
        parsed = self.repository.revision(branch, record.path)
        document = self.repository.document(branch)
        doc = document.doc
        entry = doc.entry_for(revision, record.path) if doc is not None else None
        doc_path = self.repository.doc_path
        found = findings(
            record,
            parsed,
            doc,
            entry,
            branch,
            state,
            self.repository.graph(main),
            doc_path,
            main,
            self.database_backend,
            self.required_items,
            document.problem,
            self.repository.links(branch, record.path),
        )
        source = self.repository.read(branch, record.path)
        analysis = analyze(source, record.path) if source is not None else None
        found += disagreements(analysis, entry, parsed)
        found += concurrency_findings(analysis)
        notified = notified or self.store.get_card(revision) is not None
        key = version_key(record.blob_sha, state.bundle)
        sql = self.store.sql_review(revision, key)
        return CardSnapshot(
            revision=revision,
            title=card_title(parsed, entry, revision),
            record=record,
            parsed=parsed,
            entry=entry,
            doc_path=doc_path,
            main_branch=main,
            author_user=author_user,
            touchers=self.authorship.touchers(record.path),
            findings=found,
            checklist=checklist_lines(doc, entry, state, notified, self.ticks),
            state=state,
            sql=sql,
            locks=self._locks(revision, sql, key),
            environments=self.environment_rows(revision),
        )

    def environment_rows(self, revision: str) -> tuple[EnvironmentRow, ...]:
        """A row per configured environment: has it, since when, by whose run."""
        if not self.environments:
            return ()
        where = self.store.presence_of(revision)
        active = {
            run.environment
            for run in self.store.runs_for(revision)
            if run.state in ACTIVE_RUN_STATES
        }
        return tuple(
            EnvironmentRow(
                e.name,
                where.get(e.name),
                e.read_only,
                e.name in active,
                self.watch.unreachable(e.name) if self.watch is not None else None,
            )
            for e in self.environments
        )

    def _locks(self, revision: str, sql: SqlReviewRecord | None, key: str) -> LockCard | None:
        """The card's lock part, from the store alone: no database is asked here."""
        if self.run_settings is None:
            return None
        report = self.locks.report(revision, sql, key) if self.locks is not None else None
        accepted = latest(self.store.audit_for(revision), LOCK_OVERRIDE, key)
        return LockCard(report, accepted, self.run_settings)
