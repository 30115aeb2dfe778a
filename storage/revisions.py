"""What the watcher remembers: branch tips, meta flags, and every revision it has seen."""

from bot.core.records import BOT_ACTOR, RevisionRecord
from storage.base import Row, StoreBase, from_text, maybe_from_text, unknown_revision


def _revision(row: Row) -> RevisionRecord:
    return RevisionRecord(
        revision=row["revision"],
        path=row["path"],
        blob_sha=row["blob_sha"],
        branch=row["branch"],
        commit=row["commit_sha"],
        author_name=row["author_name"],
        author_email=row["author_email"],
        seen_at=from_text(row["seen_at"]),
        history=bool(row["history"]),
        on_main=bool(row["on_main"]),
        changed_at=maybe_from_text(row["changed_at"]),
        changed_commit=row["changed_commit"],
        removed_at=maybe_from_text(row["removed_at"]),
    )


class RevisionQueries(StoreBase):
    def get_branch_tips(self) -> dict[str, str]:
        """The last commit the watcher processed, by branch."""
        rows = self._rows("SELECT branch, sha FROM branch_tips ORDER BY branch")
        return {row["branch"]: row["sha"] for row in rows}

    def set_branch_tip(self, branch: str, sha: str) -> None:
        with self._db.atomic():
            self._execute(
                "INSERT INTO branch_tips (branch, sha, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (branch) DO UPDATE SET sha = excluded.sha, "
                "updated_at = excluded.updated_at",
                [branch, sha, self._now()],
            )

    def forget_branch(self, branch: str) -> None:
        with self._db.atomic():
            self._execute("DELETE FROM branch_tips WHERE branch = ?", [branch])

    def get_meta(self, key: str) -> str | None:
        row = self._row("SELECT value FROM meta WHERE key = ?", [key])
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        with self._db.atomic():
            self._execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )

    def record_revision(
        self,
        revision: str,
        *,
        path: str,
        blob_sha: str,
        branch: str,
        commit: str,
        author_name: str,
        author_email: str,
        history: bool = False,
        on_main: bool = False,
    ) -> RevisionRecord:
        """Remember a revision the first time it is seen; later calls return the stored row.

        The unique key decides, inside one transaction, which of several racing callers
        records it, so "revision_seen" is audited exactly once.
        """
        with self._db.atomic():
            inserted = self._execute(
                "INSERT INTO revisions (revision, path, blob_sha, branch, commit_sha, "
                "author_name, author_email, seen_at, history, on_main) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (revision) DO NOTHING",
                [
                    revision,
                    path,
                    blob_sha,
                    branch,
                    commit,
                    author_name,
                    author_email,
                    self._now(),
                    history,
                    on_main,
                ],
            ).rowcount
            if inserted:
                self.audit(
                    BOT_ACTOR,
                    "revision_seen",
                    revision,
                    branch=branch,
                    commit=commit,
                    path=path,
                    blob_sha=blob_sha,
                    history=history,
                )
            return self._stored(revision)

    def get_revision(self, revision: str) -> RevisionRecord | None:
        row = self._row("SELECT * FROM revisions WHERE revision = ?", [revision])
        return None if row is None else _revision(row)

    def list_revisions(self, *, pending_only: bool = False) -> list[RevisionRecord]:
        """Revisions in the order they were seen.

        `pending_only` keeps those still awaiting review or apply: not history, not removed,
        and not applied (their latest run that changed production is not an apply).
        """
        where = (
            "WHERE history = 0 AND removed_at IS NULL AND COALESCE(("
            "SELECT kind FROM apply_runs AS run WHERE run.revision = revisions.revision "
            "AND run.state IN ('applied_doc_pending', 'committing', 'succeeded') "
            "AND run.environment = 'production' "
            "ORDER BY run.id DESC LIMIT 1), 'rollback') = 'rollback'"
            if pending_only
            else ""
        )
        rows = self._rows(f"SELECT * FROM revisions {where} ORDER BY seen_at, revision")
        return [_revision(row) for row in rows]

    def revision_ids_with_prefix(self, prefix: str) -> list[str]:
        """Every known revision id starting with `prefix`, sorted; resolving is the caller's."""
        rows = self._rows(
            "SELECT revision FROM revisions WHERE substr(revision, 1, ?) = ? ORDER BY revision",
            [len(prefix), prefix],
        )
        return [row["revision"] for row in rows]

    def mark_revision_changed(
        self, revision: str, new_blob_sha: str, commit: str, path: str | None = None
    ) -> RevisionRecord:
        """Record new file content (and a new path: a rename, or another file now holding
        the id); a no-op when both are what we already have."""
        with self._db.atomic():
            before = self._stored(revision)
            path = path or before.path
            if (before.blob_sha, before.path) == (new_blob_sha, path):
                return before
            self._execute(
                "UPDATE revisions SET blob_sha = ?, path = ?, changed_at = ?, changed_commit = ? "
                "WHERE revision = ?",
                [new_blob_sha, path, self._now(), commit, revision],
            )
            moved = {"old_path": before.path, "path": path} if path != before.path else {}
            self.audit(
                BOT_ACTOR,
                "revision_changed",
                revision,
                commit=commit,
                old_blob_sha=before.blob_sha,
                blob_sha=new_blob_sha,
                **moved,
            )
            return self._stored(revision)

    def mark_revision_removed(self, revision: str) -> RevisionRecord:
        """Record that the file is gone from every branch; repeated calls change nothing."""
        with self._db.atomic():
            if self._stored(revision).removed_at is not None:
                return self._stored(revision)
            self._execute(
                "UPDATE revisions SET removed_at = ? WHERE revision = ?", [self._now(), revision]
            )
            self.audit(BOT_ACTOR, "revision_removed", revision)
            return self._stored(revision)

    def mark_revision_restored(self, revision: str, blob_sha: str, commit: str) -> RevisionRecord:
        """A removed revision's file is back (a revert, a re-pushed branch)."""
        with self._db.atomic():
            before = self._stored(revision)
            if before.removed_at is None:
                return before
            self._execute("UPDATE revisions SET removed_at = NULL WHERE revision = ?", [revision])
            self.audit(BOT_ACTOR, "revision_restored", revision, commit=commit)
            return self.mark_revision_changed(revision, blob_sha, commit)

    def set_on_main(self, revision: str, on_main: bool) -> RevisionRecord:
        """Record whether the revision is on the main branch; audited when it changes."""
        with self._db.atomic():
            if self._stored(revision).on_main == on_main:
                return self._stored(revision)
            self._execute(
                "UPDATE revisions SET on_main = ? WHERE revision = ?", [on_main, revision]
            )
            self.audit(BOT_ACTOR, "on_main" if on_main else "off_main", revision)
            return self._stored(revision)

    def _stored(self, revision: str) -> RevisionRecord:
        record = self.get_revision(revision)
        if record is None:
            raise unknown_revision(revision)
        return record
