"""Which environments have which revisions, the bot's own checklist ticks, drift told."""

from bot.core.records import BOT_ACTOR, Presence
from storage.base import Row, StoreBase, from_text


def _presence(row: Row) -> Presence:
    return Presence(
        environment=row["environment"],
        revision=row["revision"],
        since=from_text(row["since"]),
        run_id=row["run_id"],
        applied_by=row["requested_by"],
    )


_READ = "environment_read:"
"""Meta key prefix: when each environment's revisions were first read."""
_SELECT = (
    "SELECT e.*, r.requested_by FROM environment_revisions AS e "
    "LEFT JOIN apply_runs AS r ON r.id = e.run_id "
)


class EnvironmentQueries(StoreBase):
    def presence_in(self, environment: str) -> dict[str, Presence]:
        """The revisions the environment has, as last seen, by revision id."""
        rows = self._rows(_SELECT + "WHERE e.environment = ?", [environment])
        return {row["revision"]: _presence(row) for row in rows}

    def presence_of(self, revision: str) -> dict[str, Presence]:
        """Where the revision is, by environment."""
        rows = self._rows(_SELECT + "WHERE e.revision = ?", [revision])
        return {row["environment"]: _presence(row) for row in rows}

    def sync_presence(self, environment: str, revisions: frozenset[str]) -> set[str]:
        """Make the environment's revisions exactly `revisions`, as found in its database:
        new ones are there from now on (found there), missing ones are gone; both audited.
        Returns the revisions whose presence changed."""
        with self._db.atomic():
            known = set(self.presence_in(environment))
            first_look = (
                self._execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                    [_READ + environment, self._now()],
                ).rowcount
                == 1
            )
            now = self._now()
            for revision in sorted(revisions - known):
                self._execute(
                    "INSERT INTO environment_revisions (environment, revision, since) "
                    "VALUES (?, ?, ?)",
                    [environment, revision, now],
                )
            for revision in sorted(known - revisions):
                self._execute(
                    "DELETE FROM environment_revisions WHERE environment = ? AND revision = ?",
                    [environment, revision],
                )
            changed = (revisions - known) | (known - revisions)
            if not first_look:
                # The first look at an environment records what it has; only changes are news.
                for revision in sorted(changed):
                    action = "found_in_environment" if revision in revisions else "left_environment"
                    self.audit(BOT_ACTOR, action, revision, environment=environment)
        return set(changed)

    def record_presence(self, environment: str, revision: str, run_id: int, present: bool) -> None:
        """A run of schemabot put the revision in the environment (or took it out)."""
        with self._db.atomic():
            if present:
                self._execute(
                    "INSERT INTO environment_revisions (environment, revision, since, run_id) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (environment, revision) "
                    "DO UPDATE SET run_id = excluded.run_id",
                    [environment, revision, self._now(), run_id],
                )
            else:
                self._execute(
                    "DELETE FROM environment_revisions WHERE environment = ? AND revision = ?",
                    [environment, revision],
                )

    def set_bot_tick(self, revision: str, item_key: str, ticked: bool) -> bool:
        """Tick or untick an item as the bot (what it verified itself), replacing anyone
        else's tick of it; audited when it changes. True when it changed."""
        with self._db.atomic():
            self._require_revision(revision)
            before = self._row(
                "SELECT ticked, by_user FROM checklist WHERE revision = ? AND item_key = ?",
                [revision, item_key],
            )
            if before is not None and (bool(before["ticked"]), before["by_user"]) == (
                ticked,
                BOT_ACTOR,
            ):
                return False
            if before is None and not ticked:
                return False
            self._execute(
                "INSERT INTO checklist (revision, item_key, ticked, by_user, at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (revision, item_key) DO UPDATE SET "
                "ticked = excluded.ticked, by_user = excluded.by_user, at = excluded.at",
                [revision, item_key, ticked, BOT_ACTOR, self._now()],
            )
            self.audit(BOT_ACTOR, "tick" if ticked else "untick", revision, item=item_key)
        return True

    def drift_told(self, environment: str) -> frozenset[str]:
        """The fingerprints of the differences already told to the channel."""
        rows = self._rows("SELECT fingerprint FROM drift_seen WHERE environment = ?", [environment])
        return frozenset(row["fingerprint"] for row in rows)

    def remember_drift(self, environment: str, fingerprints: frozenset[str]) -> frozenset[str]:
        """Keep exactly `fingerprints` as the environment's drift; returns the new ones
        (a difference that went away and came back is new again)."""
        with self._db.atomic():
            told = self.drift_told(environment)
            for gone in told - fingerprints:
                self._execute(
                    "DELETE FROM drift_seen WHERE environment = ? AND fingerprint = ?",
                    [environment, gone],
                )
            new = fingerprints - told
            for fingerprint in sorted(new):
                self._execute(
                    "INSERT INTO drift_seen (environment, fingerprint, first_seen) "
                    "VALUES (?, ?, ?)",
                    [environment, fingerprint, self._now()],
                )
        return new
