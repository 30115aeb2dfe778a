"""The configured parts of a running bot, built once at start and passed to the handlers."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from slack_sdk import WebClient
from sqlalchemy.engine import make_url

from bot.apply.applier import Applier
from bot.apply.facts import ApplyParts
from bot.apply.lock_tracing import LockTracer
from bot.card_builder import SnapshotBuilder
from bot.config import Settings
from bot.core import review
from bot.core.bundle import Bundle, version_key
from bot.core.card import CardSnapshot
from bot.core.checklist import required_items
from bot.core.doc import DEFAULT_TEMPLATE
from bot.core.draft import draft_entry
from bot.core.gates import Gate
from bot.core.lock_review import LOCK_OVERRIDE, lock_gate
from bot.core.operations import analyze
from bot.core.records import PRODUCTION, RevisionRecord, SqlReviewRecord
from bot.core.review import ReviewError, ReviewPolicy, latest
from bot.core.revision_file import parse_revision_source
from bot.core.text import Text
from bot.drift import DriftChecker
from bot.environment_watch import EnvironmentWatch
from bot.environments import environment_named
from bot.errors import SchemabotError
from bot.git.authorship import Authorship
from bot.git.bundle import BundleReader
from bot.git.clone import Clone
from bot.git.repository import RepositoryView
from bot.git.scan import Scanner, watched_main
from bot.lock_impact import LockImpact, lock_impact, run_settings
from bot.migrations.runner import MigrationRunner
from bot.migrations.sandbox import probe
from bot.migrations.sql_preview import (
    PREVIEW_TIMEOUT_SECONDS,
    Pending,
    SqlReviewer,
    dialect_url,
)
from bot.redact import Redactor
from bot.reviewing import Reviews
from bot.slack.people import SlackDirectory
from bot.slack.publisher import CardNotifier, CardPublisher
from storage.store import Store

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    store: Store
    reviews: Reviews
    repository: RepositoryView
    scanner: Scanner
    builder: SnapshotBuilder
    redact: Redactor
    clock: Callable[[], datetime]
    clone: Clone
    sql: SqlReviewer
    authorship: Authorship
    environment_watch: EnvironmentWatch | None = None
    """Reads the configured environments each cycle (None without `[environments]`)."""
    drift: DriftChecker | None = None
    publisher: CardPublisher | None = None
    applier: Applier | None = None
    locks: LockImpact | None = None
    workers: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="apply")
    )
    drift_workers: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="drift")
    )
    """`/schema drift` and `override-drift`: anyone may ask, so never in the apply workers."""
    # The authors of each revision as last looked up, for checks made before an ack; the
    # lock is held for a dict's get or set, never across any work.
    _authors_read: dict[str, frozenset[str]] = field(default_factory=dict)
    _memory: threading.Lock = field(default_factory=threading.Lock)

    @property
    def apply_parts(self) -> ApplyParts:
        return ApplyParts(
            self.settings,
            self.store,
            self.reviews,
            self.repository,
            self.scanner,
            self.clone,
            self.redact,
            self.clock,
            self.settings.alembic_layout,
            self.environment_watch,
            self.drift,
            self.lock_gates,
        )

    def lock_gates(self, revision: str) -> tuple[Gate, ...]:
        """The lock-risk gate of an apply, with production's sizes read just before."""
        if self.locks is None:
            return ()
        report = self.locks.current_report(revision, refresh=True)
        state = self.reviews.state(revision)
        key = version_key(state.record.blob_sha, state.bundle)
        accepted = latest(self.store.audit_for(revision), LOCK_OVERRIDE, key)
        return (lock_gate(report, accepted, revision),)

    def snapshot(self, revision: str) -> CardSnapshot:
        """The card snapshot of a revision, with its author's Slack id when Slack is there."""
        author = None
        if self.publisher is not None:
            record = self.store.get_revision(revision)
            author = self.publisher.author_user(record) if record is not None else None
        return self.builder.build(revision, author)

    def draft(self, ident: str) -> tuple[str, bool]:
        """A drafted document entry for a revision, and whether it already has one.

        The revision is one the watcher has seen (any branch), else one on the main branch.
        """
        main = self.builder.main_branch
        try:
            record = self.store.get_revision(self.reviews.resolve(ident))
        except SchemabotError:
            record = None
        if record is not None:
            branch = main if record.on_main else record.branch
            path, author = record.path, record.author_name
        else:
            found = self.repository.graph(main).resolve(ident)
            branch, path = main, found.path
            author = self.repository.author(branch, path)
        source = self.repository.read(branch, path)
        if source is None:
            raise SchemabotError(f"`{path}` is not on `{branch}` any more.")
        revision = parse_revision_source(source, path)
        doc = self.repository.doc(branch)
        template = doc.template if doc is not None else DEFAULT_TEMPLATE
        text = draft_entry(
            revision, analyze(source, path), author, path, template, self.clock().date()
        )
        documented = doc is not None and doc.entry_for(revision.revision, path) is not None
        return text, documented

    def authors_of(self, revision: str) -> frozenset[str]:
        """The Slack ids of everyone git names as an author or committer of the revision's
        file, on any branch: none of them may approve it. Identities Slack does not know
        cannot be excluded (git identities are claims: see the README's security section)."""
        record = self.store.get_revision(revision)
        if record is None or self.publisher is None:
            return frozenset()
        emails = {record.author_email, *(i.email for i in self.authorship.touchers(record.path))}
        found = (self.publisher.user_for_email(email) for email in sorted(emails))
        authors = frozenset(user for user in found if user)
        with self._memory:
            self._authors_read[revision] = authors
        return authors

    def change_request_refusal(self, revision: str, user: str, reason: str) -> Text | None:
        """Why a change request would be refused, decided from memory alone: it answers a
        modal's submission before its ack, so no git, store or Slack. It uses the review as
        last read and the authors as last looked up, both read when the modal opened (with
        nothing read since the start, the reason alone). None when memory finds nothing
        against it; the request is checked again in full when it is recorded."""
        state = self.reviews.last_read(revision)
        with self._memory:
            authors = self._authors_read.get(revision)
        try:
            if state is None:
                review.change_request_reason(reason)
            else:
                # Authors not looked up yet: anyone may be one, so only whether the review
                # is still open counts.
                maybe = authors if authors is not None else frozenset({user})
                review.request_changes(state, self.reviews.policy, user, maybe, reason)
        except ReviewError as exc:
            return exc.text
        return None

    def refresh_card(self, revision: str, *, reset_checklist: bool = False) -> None:
        """Re-render the revision's card; a failure is logged, the change it shows stands.
        `reset_checklist`: see `CardPublisher.publish`."""
        if self.publisher is None:
            return
        try:
            self.publisher.publish(revision, reset_checklist=reset_checklist)
        except Exception:
            log.exception("could not post or update the card of %s", revision)

    def review_sql(self, revisions: Iterable[str]) -> list[str]:
        """Render and lint the SQL of each revision that has none for its current bytes yet
        (slow: a sandboxed process per branch tip), as SCHEMABOT_SQL_PREVIEW allows; returns
        the revisions that got a review."""
        pending: list[Pending] = []
        done: list[str] = []
        for revision in revisions:
            record = self.store.get_revision(revision)
            if record is None or record.history or record.removed_at is not None:
                continue
            if not previewed(self.settings.sql_preview, record.on_main):
                continue
            bundle = self.reviews.state(revision).bundle
            key = version_key(record.blob_sha, bundle)
            if self.store.sql_review(revision, key) is not None:
                continue
            if bundle is not None and bundle.links:
                # Alembic would read through the link; the card names it, nothing runs.
                links = ", ".join(bundle.links)
                self.sql.save(record, key, None, f"not rendered: {links} is a symbolic link")
                done.append(revision)
                continue
            branch = self.builder.main_branch if record.on_main else record.branch
            parsed = self.repository.revision(branch, record.path)
            tip = self.repository.tip(branch)
            if parsed is not None and tip is not None:
                pending.append(Pending(record, parsed, tip, key))
        return done + (list(self.sql.review_all(pending)) if pending else [])

    def sql_review_of(self, revision: str) -> SqlReviewRecord | None:
        """The revision's rendered SQL for its bytes as its card last showed them (from
        memory: a modal has three seconds to open, no time for git), else as they are now;
        None when there is none yet."""
        state = self.reviews.last_read(revision)
        if state is None:
            if self.store.get_revision(revision) is None:
                return None
            state = self.reviews.state(revision)
        return self.store.sql_review(revision, version_key(state.record.blob_sha, state.bundle))

    def pending(self) -> list[CardSnapshot]:
        return [self.snapshot(r.revision) for r in self.store.list_revisions(pending_only=True)]


def utc_now() -> datetime:
    return datetime.now(UTC)


def previewed(mode: str, on_main: bool) -> bool:
    """Whether SCHEMABOT_SQL_PREVIEW lets a revision on (or off) main get its SQL rendered."""
    return mode == "all" or (mode == "main" and on_main)


def preview_runner(settings: Settings, redact: Redactor) -> MigrationRunner:
    """Alembic for previews: the dialect only, never a URL, with the preview settings."""
    return MigrationRunner(
        dialect_url(settings.database_url),
        redact,
        timeout_seconds=PREVIEW_TIMEOUT_SECONDS,
        python=settings.migration_interpreter,
        layout=settings.alembic_layout,
        settings_env=settings.preview_settings(),
    )


def private_paths(settings: Settings) -> tuple[Path, ...]:
    """schemabot's own files, which no preview may read."""
    state = settings.state_db_path
    paths = [settings.workdir, state, Path(f"{state}-wal"), Path(f"{state}-shm")]
    env_files = [
        settings.migration_env_file,
        *(e.migration_env_file for e in settings.environments),
    ]
    paths += [Path("schemabot.toml"), *filter(None, env_files)]
    return tuple(paths)


def build_services(
    settings: Settings,
    client: WebClient | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Services:
    """Open the store and the clone; with a client, cards can be posted."""
    # Only schemabot's user may enter its work folder: the clone, runs, and (by default) state.
    settings.workdir.mkdir(parents=True, exist_ok=True)
    settings.workdir.chmod(0o700)
    redact = settings.redactor()
    store = Store.open(settings.state_db_path, clock)
    clone = Clone(settings.repo_url or "", settings.clone_dir, redact)
    repository = RepositoryView(clone, settings.doc, settings.alembic_layout)
    bundles = BundleReader(clone, settings.alembic_layout)
    main = settings.branch or "main"

    def bundle_of(record: RevisionRecord) -> Bundle | None:
        branch = watched_main(store, main) if record.on_main else record.branch
        return bundles.on_branch(branch, record.path)

    reviews = Reviews(
        store,
        ReviewPolicy(settings.approvers, settings.appliers, settings.required_approvals),
        bundle_of,
    )
    backend = make_url(settings.database_url).get_backend_name() if settings.database_url else None
    authorship = Authorship(clone)

    def main_branch() -> str:
        return watched_main(store, main)

    watch = (
        EnvironmentWatch(settings.environments, store, repository, redact, main_branch)
        if settings.environments
        else None
    )
    locks = lock_impact(settings, store, reviews, repository, redact, clock)
    builder = SnapshotBuilder(
        store,
        reviews,
        repository,
        authorship,
        settings.branch or "main",
        backend,
        required_items(settings.required_checklist),
        settings.environments,
        watch,
        locks,
        run_settings(settings),
    )
    services = Services(
        settings=settings,
        store=store,
        reviews=reviews,
        repository=repository,
        scanner=Scanner(clone, store, settings, redact),
        builder=builder,
        redact=redact,
        clock=clock,
        clone=clone,
        authorship=authorship,
        environment_watch=watch,
        drift=DriftChecker(
            settings,
            clone,
            repository,
            redact,
            main_branch,
            settings.alembic_layout,
            store,
            bundles,
        ),
        sql=SqlReviewer(
            clone,
            store,
            preview_runner(settings, redact),
            functools.cache(lambda: probe(private_paths(settings), settings.migration_interpreter)),
            settings.lock_timeout_seconds,
            settings.squawk_exclude,
        ),
        locks=locks,
    )
    if locks is not None and settings.lock_trace:
        production = environment_named(settings, PRODUCTION)
        locks.tracer = LockTracer(
            services.apply_parts,
            locks.database_url or "",
            production.drift_url or settings.drift_url,
        )
    if client is not None:
        settings.require("channel")
        services.publisher = CardPublisher(client, store, builder, str(settings.channel))
        services.applier = Applier(
            services.apply_parts,
            CardNotifier(services.publisher),
            SlackDirectory(client, services.publisher),
        )
    return services
