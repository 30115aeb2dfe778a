"""The configured parts of a running bot, built once at start and passed to the handlers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from slack_sdk import WebClient
from sqlalchemy.engine import make_url

from bot.apply.applier import Applier
from bot.apply.facts import ApplyParts
from bot.card_builder import SnapshotBuilder
from bot.config import Settings
from bot.core.card import CardSnapshot
from bot.core.doc import DEFAULT_TEMPLATE
from bot.core.draft import draft_entry
from bot.core.operations import analyze
from bot.core.review import ReviewPolicy
from bot.core.revision_file import parse_revision_source
from bot.core.text import plain
from bot.errors import SchemabotError
from bot.git.clone import Clone
from bot.git.repository import RepositoryView
from bot.git.scan import Scanner
from bot.migrations.sql_preview import SqlReviewer
from bot.redact import Redactor, secrets_in_url
from bot.reviewing import Reviews
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
    publisher: CardPublisher | None = None
    applier: Applier | None = None
    workers: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="apply")
    )

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
        )

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

    def author_of(self, revision: str) -> str | None:
        """The Slack id of the revision's author, when Slack is there and knows them."""
        record = self.store.get_revision(revision)
        if record is None or self.publisher is None:
            return None
        return self.publisher.author_user(record)

    def refresh_card(self, revision: str) -> None:
        """Re-render the revision's card; a failure is logged, the change it shows stands."""
        if self.publisher is None:
            return
        try:
            self.publisher.publish(revision)
        except Exception:
            log.exception("could not post or update the card of %s", revision)

    def review_sql(self, revision: str) -> None:
        """Render and lint the revision's SQL once per version of its file (slow: a process)."""
        record = self.store.get_revision(revision)
        if record is None or record.history or record.removed_at is not None:
            return
        if self.store.sql_review(revision, record.blob_sha) is not None:
            return
        branch = self.builder.main_branch if record.on_main else record.branch
        parsed = self.repository.revision(branch, record.path)
        tip = self.repository.tip(branch)
        if parsed is None or tip is None:
            return
        unread = self.repository.links(branch, record.path)
        if unread:
            # Alembic would follow the link in a checkout, anywhere on this machine.
            error = f"not rendered: {plain(unread[0])}"
            self.store.save_sql_review(
                record.revision, record.blob_sha, self.sql.dialect, None, (), error
            )
            return
        self.sql.review(record, parsed, tip)

    def pending(self) -> list[CardSnapshot]:
        return [self.snapshot(r.revision) for r in self.store.list_revisions(pending_only=True)]


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_services(
    settings: Settings,
    client: WebClient | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Services:
    """Open the store and the clone; with a client, cards can be posted."""
    redact = Redactor([*settings.secrets(), *secrets_in_url(settings.database_url)])
    store = Store.open(settings.state_db_path, clock)
    clone = Clone(settings.repo_url or "", settings.clone_dir, redact)
    repository = RepositoryView(clone, settings.doc, settings.alembic_ini, settings.script_location)
    reviews = Reviews(
        store,
        ReviewPolicy(settings.approvers, settings.appliers, settings.required_approvals),
    )
    backend = make_url(settings.database_url).get_backend_name() if settings.database_url else None
    builder = SnapshotBuilder(store, reviews, repository, settings.branch or "main", backend)
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
        sql=SqlReviewer(
            clone,
            store,
            settings.workdir / "runs",
            settings.database_url,
            settings.alembic_ini,
            settings.script_location,
            settings.lock_timeout_seconds,
            settings.squawk_exclude,
            redact,
        ),
    )
    if client is not None:
        settings.require("channel")
        services.publisher = CardPublisher(client, store, builder, str(settings.channel))
        services.applier = Applier(services.apply_parts, CardNotifier(services.publisher))
    return services
