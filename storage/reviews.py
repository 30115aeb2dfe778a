"""The review of a revision: its card, the reviewers' verdicts, the checklist."""

from typing import cast

from bot.core.bundle import Bundle
from bot.core.records import BOT_ACTOR, CardRecord, ChecklistTick, Verdict, VerdictRecord
from storage.base import Row, StoreBase, from_text, inserted_id, maybe_from_text


def _verdict(row: Row) -> VerdictRecord:
    return VerdictRecord(
        id=row["id"],
        revision=row["revision"],
        user_id=row["user_id"],
        verdict=cast(Verdict, row["verdict"]),
        reason=row["reason"],
        blob_sha=row["blob_sha"],
        at=from_text(row["at"]),
        withdrawn_at=maybe_from_text(row["withdrawn_at"]),
        bundle=Bundle.from_json(row["bundle"]) if row["bundle"] else None,
    )


def _tick(row: Row) -> ChecklistTick:
    return ChecklistTick(
        item_key=row["item_key"],
        ticked=bool(row["ticked"]),
        by=row["by_user"],
        at=from_text(row["at"]),
    )


class ReviewQueries(StoreBase):
    def claim_card(self, revision: str) -> bool:
        """True for exactly one caller: the one that must post the revision's first card.

        If posting fails, `release_card_claim` lets a later scan try again.
        """
        with self._db.atomic():
            self._require_revision(revision)
            claimed = self._execute(
                "INSERT INTO cards (revision, claimed_at) VALUES (?, ?) "
                "ON CONFLICT (revision) DO NOTHING",
                [revision, self._now()],
            ).rowcount
        return claimed == 1

    def release_card_claim(self, revision: str) -> None:
        """Give up a claim whose card was never posted; a posted card stays."""
        with self._db.atomic():
            self._execute("DELETE FROM cards WHERE revision = ? AND ts IS NULL", [revision])

    def release_unposted_claims(self) -> list[str]:
        """Give up every claim left without a card: a process stopped while posting it.

        Called at start, before anything posts: the revisions get their card at the next
        scan. (Had Slack taken the message just before the stop, it is posted twice.)
        """
        with self._db.atomic():
            rows = self._rows("SELECT revision FROM cards WHERE ts IS NULL ORDER BY revision")
            self._execute("DELETE FROM cards WHERE ts IS NULL")
        return [row["revision"] for row in rows]

    def set_card(self, revision: str, channel: str, ts: str) -> CardRecord:
        """Record the card's message: once after posting it, again after each update."""
        now = self._now()
        with self._db.atomic():
            self._require_revision(revision)
            existing = self._row("SELECT posted_at FROM cards WHERE revision = ?", [revision])
            posted_at = existing["posted_at"] if existing else None
            self._execute(
                "INSERT INTO cards (revision, claimed_at, channel, ts, posted_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (revision) DO UPDATE SET "
                "channel = excluded.channel, ts = excluded.ts, "
                "posted_at = excluded.posted_at, updated_at = excluded.updated_at",
                [revision, now, channel, ts, posted_at or now, now],
            )
            if posted_at is None:
                self.audit(BOT_ACTOR, "card_posted", revision, channel=channel, ts=ts)
        return CardRecord(
            revision=revision,
            channel=channel,
            ts=ts,
            posted_at=from_text(posted_at or now),
            updated_at=from_text(now),
        )

    def get_card(self, revision: str) -> CardRecord | None:
        """The posted card, or None while there is none (claimed but not posted counts as none)."""
        row = self._row(
            "SELECT * FROM cards WHERE revision = ? AND posted_at IS NOT NULL", [revision]
        )
        if row is None:
            return None
        return CardRecord(
            revision=row["revision"],
            channel=row["channel"],
            ts=row["ts"],
            posted_at=from_text(row["posted_at"]),
            updated_at=from_text(row["updated_at"]),
        )

    def set_card_permalink(self, revision: str, permalink: str) -> None:
        """Keep the permalink of the revision's posted card."""
        with self._db.atomic():
            self._execute(
                "UPDATE cards SET permalink = ? WHERE revision = ? AND ts IS NOT NULL",
                [permalink, revision],
            )

    def card_permalink(self, revision: str) -> str | None:
        """The permalink of the revision's card, when it is known."""
        row = self._row("SELECT permalink FROM cards WHERE revision = ?", [revision])
        return None if row is None or row["permalink"] is None else str(row["permalink"])

    def record_verdict(
        self,
        revision: str,
        user_id: str,
        verdict: Verdict,
        reason: str | None,
        blob_sha: str,
        bundle: Bundle | None = None,
    ) -> VerdictRecord:
        """Record a reviewer's verdict on the file as `blob_sha` (and on `bundle`, the file
        with its migration environment); it replaces their earlier one."""
        now = self._now()
        with self._db.atomic():
            self._require_revision(revision)
            cursor = self._execute(
                "INSERT INTO verdicts (revision, user_id, verdict, reason, blob_sha, at, bundle) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [revision, user_id, verdict, reason, blob_sha, now, _json(bundle)],
            )
            self.audit(
                user_id,
                verdict,
                revision,
                reason=reason,
                blob_sha=blob_sha,
                **({"environment": dict(bundle.environment)} if bundle else {}),
            )
        return VerdictRecord(
            id=inserted_id(cursor),
            revision=revision,
            user_id=user_id,
            verdict=verdict,
            reason=reason,
            blob_sha=blob_sha,
            at=from_text(now),
            withdrawn_at=None,
            bundle=bundle,
        )

    def withdraw_verdict(self, revision: str, user_id: str) -> bool:
        """Withdraw the reviewer's standing verdict; False when they had none."""
        with self._db.atomic():
            latest = self._row(
                "SELECT id, verdict, withdrawn_at FROM verdicts "
                "WHERE revision = ? AND user_id = ? ORDER BY id DESC LIMIT 1",
                [revision, user_id],
            )
            if latest is None or latest["withdrawn_at"] is not None:
                return False
            self._execute(
                "UPDATE verdicts SET withdrawn_at = ? WHERE id = ?", [self._now(), latest["id"]]
            )
            self.audit(user_id, "withdraw", revision, verdict=latest["verdict"])
        return True

    def current_verdicts(self, revision: str) -> list[VerdictRecord]:
        """Each reviewer's latest verdict, unless withdrawn, in the order they were given.

        Compare a verdict's `blob_sha` with the revision's to tell a stale one.
        """
        rows = self._rows(
            "SELECT * FROM verdicts AS v WHERE v.revision = ? AND v.withdrawn_at IS NULL "
            "AND v.id = (SELECT MAX(id) FROM verdicts AS w "
            "WHERE w.revision = v.revision AND w.user_id = v.user_id) ORDER BY v.id",
            [revision],
        )
        return [_verdict(row) for row in rows]

    def set_checklist(self, revision: str, item_key: str, ticked: bool, by: str) -> ChecklistTick:
        """Tick or untick an item; audited only when its state changes.

        Slack sends the whole checkbox group on every click, so most calls change nothing.
        """
        with self._db.atomic():
            self._require_revision(revision)
            before = self.checklist_for(revision).get(item_key)
            if before is not None and before.ticked == ticked:
                return before
            now = self._now()
            self._execute(
                "INSERT INTO checklist (revision, item_key, ticked, by_user, at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (revision, item_key) DO UPDATE SET "
                "ticked = excluded.ticked, by_user = excluded.by_user, at = excluded.at",
                [revision, item_key, ticked, by, now],
            )
            if ticked or before is not None:
                self.audit(by, "tick" if ticked else "untick", revision, item=item_key)
        return ChecklistTick(item_key=item_key, ticked=ticked, by=by, at=from_text(now))

    def checklist_for(self, revision: str) -> dict[str, ChecklistTick]:
        rows = self._rows(
            "SELECT * FROM checklist WHERE revision = ? ORDER BY item_key", [revision]
        )
        return {row["item_key"]: _tick(row) for row in rows}


def _json(bundle: Bundle | None) -> str | None:
    return None if bundle is None else bundle.to_json()
