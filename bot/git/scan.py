"""One watcher cycle: what is new, changed or removed since the last, recorded in the store.

The first scan decides what is history (already in production, so no card): the revisions
in production's `alembic_version` and their ancestors, or, with no database configured,
everything present. Every later revision is reported as new exactly once, whatever the
number of scans, restarts and branches that see it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from git import Repo

from bot.config import Settings
from bot.core.revisions import GraphProblem, RevisionGraph
from bot.git.checkout_graph import missed_revisions
from bot.git.clone import Clone, WatchError
from bot.git.revision_blobs import (
    BranchDelta,
    FileChange,
    RevisionFile,
    adding_commit,
    branch_delta,
    merge_base,
    revision_files_at,
)
from bot.git.script_location import ScriptLocation, layout_location
from bot.migrations.versions import current_versions
from bot.redact import Redactor
from storage.store import Store

log = logging.getLogger(__name__)

FIRST_SCAN_DONE = "first_scan_done"
FIRST_SCAN_COMMIT = "first_scan_commit"
"""The main branch's tip at the first scan: the bytes production's history ran, as far as
schemabot can vouch for them (drift checks rebuild the history from them)."""
MAIN_BRANCH = "main_branch"


def watched_main(store: Store, configured: str | None) -> str:
    """The main branch as the watcher found it (the remote's default), else the one
    configured (SCHEMABOT_BRANCH), else `main`."""
    return store.get_meta(MAIN_BRANCH) or configured or "main"


@dataclass(frozen=True)
class Detected:
    """A revision file the scan reports, with where and by whom it was added."""

    revision: str
    branch: str
    commit: str
    path: str
    author_name: str
    author_email: str

    def to_json(self) -> dict[str, str]:
        return {
            "revision": self.revision,
            "branch": self.branch,
            "commit": self.commit,
            "path": self.path,
            "author_name": self.author_name,
            "author_email": self.author_email,
        }


@dataclass(frozen=True)
class ScanReport:
    main_branch: str
    first_scan: bool
    history: int
    new: tuple[Detected, ...]
    changed: tuple[Detected, ...]
    removed: tuple[Detected, ...]
    problems: tuple[str, ...]
    moved: tuple[str, ...] = ()
    """Branches whose tip moved: their document or migration environment may have changed,
    so the cards of their pending revisions are worth a fresh look."""

    @property
    def touched(self) -> tuple[str, ...]:
        """Revision ids whose card must be posted or refreshed."""
        seen: dict[str, None] = {}
        for item in (*self.new, *self.changed, *self.removed):
            seen[item.revision] = None
        return tuple(seen)

    def to_json(self) -> dict[str, list[dict[str, str]] | list[str]]:
        return {
            "new": [item.to_json() for item in self.new],
            "changed": [item.to_json() for item in self.changed],
            "removed": [item.to_json() for item in self.removed],
            "problems": list(self.problems),
        }


def _detected(file: RevisionFile) -> Detected:
    return Detected(
        file.revision.revision,
        file.branch,
        file.commit,
        file.path,
        file.author_name,
        file.author_email,
    )


class Scanner:
    """Runs watcher cycles against the store; thread-safe through the clone's lock."""

    def __init__(self, clone: Clone, store: Store, settings: Settings, redact: Redactor) -> None:
        self.clone = clone
        self.store = store
        self.settings = settings
        self.redact = redact

    def run(self) -> ScanReport:
        with self.clone.open() as repo:
            tips = self.clone.fetch(repo)
            main = self.settings.branch or self.clone.default_branch(repo, tips)
            if main not in tips:
                raise WatchError(f"the remote has no branch {main!r} (SCHEMABOT_BRANCH)")
            self.clone.checkout(repo, tips[main])
            if self.store.get_meta(MAIN_BRANCH) != main:
                self.store.set_meta(MAIN_BRANCH, main)
            first = self.store.get_meta(FIRST_SCAN_DONE) is None
            if not first and self.store.get_branch_tips() == tips:
                return ScanReport(main, False, 0, (), (), (), ())
            location = layout_location(self.clone.path, self.settings.alembic_layout)
            report = (
                self._first_scan(repo, main, tips, location)
                if first
                else self._next_scan(repo, main, tips, location)
            )
            # The checkout is read under the clone's lock: another scan (an apply's gates)
            # may be checking out a new tip meanwhile.
            missed = (
                missed_revisions(self.clone.path, location)
                if first or main in report.moved
                else None
            )
        if missed is not None:
            report = replace(report, problems=(*report.problems, missed))
        return report

    def _first_scan(
        self, repo: Repo, main: str, tips: dict[str, str], location: ScriptLocation
    ) -> ScanReport:
        files: dict[str, RevisionFile] = {}
        problems: list[str] = []
        on_main: set[str] = set()
        for branch in sorted(tips, key=lambda name: (name != main, name)):
            found, trouble = revision_files_at(repo, tips[branch], branch, location)
            problems.extend(described(branch, problem) for problem in trouble)
            for file in found:
                files.setdefault(file.revision.revision, file)
                if branch == main:
                    on_main.add(file.revision.revision)
        history = self._history(files)
        new: list[Detected] = []
        for revision, file in sorted(files.items()):
            is_history = revision in history
            if not is_history:
                base = None if file.branch == main else merge_base(repo, tips[main], file.commit)
                file = adding_commit(repo, file, base)
                new.append(_detected(file))
            self._record(file, history=is_history, on_main=revision in on_main)
        for branch, tip in tips.items():
            self.store.set_branch_tip(branch, tip)
        self.store.set_meta(FIRST_SCAN_COMMIT, tips[main])
        self.store.set_meta(FIRST_SCAN_DONE, "yes")
        return ScanReport(main, True, len(history), tuple(new), (), (), tuple(problems))

    def _history(self, files: dict[str, RevisionFile]) -> frozenset[str]:
        if not self.settings.database_url:
            return frozenset(files)
        in_production = current_versions(self.settings.database_url, self.redact)
        graph = RevisionGraph(file.revision for file in files.values())
        history: set[str] = set()
        for revision in in_production:
            if revision in graph.revisions:
                history.add(revision)
                history.update(graph.ancestors(revision))
        return frozenset(history)

    def _next_scan(
        self, repo: Repo, main: str, tips: dict[str, str], location: ScriptLocation
    ) -> ScanReport:
        known_tips = self.store.get_branch_tips()
        new: list[Detected] = []
        changed: list[Detected] = []
        removed: list[Detected] = []
        problems: list[str] = []
        for branch in sorted(tips, key=lambda name: (name != main, name)):
            if known_tips.get(branch) == tips[branch]:
                continue
            base = None if branch == main else merge_base(repo, tips[main], tips[branch])
            delta = branch_delta(repo, branch, known_tips.get(branch), tips[branch], base, location)
            self._apply_delta(delta, branch == main, new, changed, removed)
            if branch == main:
                self._follow_main(repo, main, tips[main], location, changed)
            problems.extend(described(branch, problem) for problem in delta.problems)
            self.store.set_branch_tip(branch, tips[branch])
        for branch in sorted(set(known_tips) - set(tips)):
            self.store.forget_branch(branch)
        moved = tuple(sorted(b for b in tips if known_tips.get(b) != tips[b]))
        return ScanReport(
            main, False, 0, tuple(new), tuple(changed), tuple(removed), tuple(problems), moved
        )

    def _apply_delta(
        self,
        delta: BranchDelta,
        is_main: bool,
        new: list[Detected],
        changed: list[Detected],
        removed: list[Detected],
    ) -> None:
        for change in delta.changes:
            if change.after is not None:
                self._seen(change.after, is_main, new, changed)
            if change.before is not None and _gone(change):
                self._gone(change.before, is_main, removed)

    def _seen(
        self, file: RevisionFile, is_main: bool, new: list[Detected], changed: list[Detected]
    ) -> None:
        revision = file.revision.revision
        record = self.store.get_revision(revision)
        if record is None:
            self._record(file, history=False, on_main=is_main)
            new.append(_detected(file))
            return
        if record.removed_at is not None:
            self.store.mark_revision_restored(revision, file.blob_sha, file.commit)
            changed.append(_detected(file))
        elif (
            not is_main
            and not record.on_main
            and record.branch == file.branch
            and (record.blob_sha, record.path) != (file.blob_sha, file.path)
        ):
            # On main, _follow_main decides which file holds the id.
            self.store.mark_revision_changed(revision, file.blob_sha, file.commit, file.path)
            changed.append(_detected(file))
        if is_main and not record.on_main:
            self.store.set_on_main(revision, True)
            if not any(item.revision == revision for item in changed):
                changed.append(_detected(file))

    def _follow_main(
        self, repo: Repo, main: str, tip: str, location: ScriptLocation, changed: list[Detected]
    ) -> None:
        """Point each revision on main at the file Alembic loads for its id there.

        A renamed file, or a second file declaring the same id (Alembic loads the later
        one), moves the record: its card, its approvals (stale once the bytes differ) and
        its apply follow the file that would really run.
        """
        files, _ = revision_files_at(repo, tip, main, location)
        loaded = {file.revision.revision: file for file in files}
        for revision, file in loaded.items():
            record = self.store.get_revision(revision)
            if record is None or not record.on_main:
                continue
            if (record.path, record.blob_sha) != (file.path, file.blob_sha):
                self.store.mark_revision_changed(revision, file.blob_sha, tip, file.path)
                if not any(item.revision == revision for item in changed):
                    changed.append(_detected(file))

    def _gone(self, file: RevisionFile, is_main: bool, removed: list[Detected]) -> None:
        record = self.store.get_revision(file.revision.revision)
        if record is None or record.removed_at is not None:
            return
        if is_main or (record.branch == file.branch and not record.on_main):
            self.store.mark_revision_removed(record.revision)
            removed.append(_detected(file))

    def _record(self, file: RevisionFile, *, history: bool, on_main: bool) -> None:
        self.store.record_revision(
            file.revision.revision,
            path=file.path,
            blob_sha=file.blob_sha,
            branch=file.branch,
            commit=file.commit,
            author_name=file.author_name,
            author_email=file.author_email,
            history=history,
            on_main=on_main,
        )


def described(branch: str, problem: GraphProblem) -> str:
    return f"{branch}: {problem.path}: {problem.detail}"


def _gone(change: FileChange) -> bool:
    """The `before` revision no longer exists after the change (deleted, or its id changed)."""
    return change.after is None or (
        change.before is not None
        and change.after.revision.revision != change.before.revision.revision
    )
