"""A migration that waits without taking production down, and says so in the card's thread.

Each attempt runs with `lock_timeout`, so a statement queued behind a long transaction
gives up instead of queueing every read and write behind itself; while it waits, the
thread names who holds the lock. A lock timeout is tried again after a pause that doubles
each time (SCHEMABOT_LOCK_RETRY_SECONDS, up to SCHEMABOT_LOCK_RETRIES more attempts); the
transaction was rolled back, so a new attempt starts clean. After the last, the run fails
as any failed run does: with the team's rollback procedure.

A failed concurrent index build leaves an INVALID index that makes the next attempt fail:
it is named in the thread with the command that drops it, and dropped before a later apply
of the revision only once an approver allowed that (`/schema allow-index-drop`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.apply.facts import ApplyParts
from bot.core.lock_review import ALLOW_INDEX_DROP, INVALID_INDEXES
from bot.core.records import BOT_ACTOR, ApplyRun
from bot.core.review import latest
from bot.core.text import Code, Text
from bot.migrations.child import BACKEND
from bot.migrations.lock_watch import (
    Blocker,
    BlockerWatch,
    InvalidIndex,
    drop_invalid_index,
    invalid_indexes,
)
from bot.migrations.runner import Checkout, Direction, MigrationResult, MigrationRunner

LOCK_TIMEOUT_SIGNS = ("LockNotAvailable", "lock timeout")


def waited_for_a_lock(result: MigrationResult) -> bool:
    """Whether the run stopped because a statement gave up waiting for a lock."""
    return not result.ok and any(sign in (result.error or "") for sign in LOCK_TIMEOUT_SIGNS)


@dataclass
class PatientMigration:
    parts: ApplyParts
    runner: MigrationRunner
    run: ApplyRun
    say: Callable[[Text], None]
    sleep: Callable[[float], None] = time.sleep

    @property
    def database_url(self) -> str:
        return self.runner.database_url

    @property
    def postgresql(self) -> bool:
        """Blockers and INVALID indexes are PostgreSQL's; elsewhere the run is only retried."""
        return make_url(self.database_url).get_backend_name() == "postgresql"

    def migrate(
        self,
        direction: Direction,
        checkout: Checkout,
        target: str,
        on_line: Callable[[str], None],
    ) -> MigrationResult:
        settings = self.parts.settings
        self._drop_allowed_invalid_indexes()
        before = self._invalid()
        attempts = settings.lock_retries + 1
        for attempt in range(1, attempts + 1):
            result = self._attempt(direction, checkout, target, on_line)
            if result.ok:
                return result
            after = self._invalid()
            left = after - before if before is not None and after is not None else frozenset()
            if left:
                self._tell_invalid(left)
                return result
            if not waited_for_a_lock(result):
                return result
            if attempt == attempts:
                return replace(
                    result,
                    error=(
                        f"it gave up waiting for a lock {attempts} times "
                        f"(lock_timeout {settings.lock_timeout_seconds} s, "
                        f"SCHEMABOT_LOCK_RETRIES={settings.lock_retries}): {result.error}"
                    ),
                )
            pause = settings.lock_retry_seconds * 2 ** (attempt - 1)
            self.say(
                Text(
                    f":hourglass: Attempt {attempt} of {attempts} gave up waiting for a lock "
                    f"after {settings.lock_timeout_seconds} s and was rolled back; "
                    f"attempt {attempt + 1} starts in {pause:g} s."
                )
            )
            self.sleep(pause)
        return result

    def _attempt(
        self,
        direction: Direction,
        checkout: Checkout,
        target: str,
        on_line: Callable[[str], None],
    ) -> MigrationResult:
        if not self.postgresql:
            return self.runner.migrate(direction, checkout, target, on_line)
        watch = BlockerWatch(self.database_url, self.parts.redact, self._tell_blockers)

        def line(text: str) -> None:
            if text.startswith(BACKEND):
                pid = text[len(BACKEND) :].strip()
                if pid.isdigit():
                    watch.watch(int(pid))
                return
            on_line(text)

        with watch:
            return self.runner.migrate(direction, checkout, target, line)

    def _tell_blockers(self, blockers: tuple[Blocker, ...]) -> None:
        lines = [
            Text(":lock: The migration is waiting for a lock held by:"),
            *(_blocker_text(blocker) for blocker in blockers[:5]),
        ]
        waiting = blockers[0].waiting_query
        if waiting:
            lines.append(Text("It waits in: ", Code(waiting)))
        lines.append(
            Text(
                f"It gives up after lock_timeout ({self.parts.settings.lock_timeout_seconds} s) "
                "and tries again; ending that session lets it through."
            )
        )
        self.say(Text.lines(lines))

    def _invalid(self) -> frozenset[InvalidIndex] | None:
        if not self.postgresql:
            return None
        try:
            return invalid_indexes(self.database_url)
        except SQLAlchemyError:
            return None

    def _tell_invalid(self, left: frozenset[InvalidIndex]) -> None:
        parts = self.parts
        names = sorted(index.qualified for index in left)
        parts.store.audit(BOT_ACTOR, INVALID_INDEXES, self.run.revision, indexes=names)
        lines = [Text(":warning: The failed run left INVALID indexes, which make a retry fail:")]
        for index in sorted(left):
            lines.append(
                Text(
                    "• ",
                    Code(index.qualified),
                    " on ",
                    Code(index.table),
                    ": drop it with ",
                    Code(f"DROP INDEX CONCURRENTLY {index.qualified};"),
                )
            )
        lines.append(
            Text(
                "Or an approver runs ",
                Code(f"/schema allow-index-drop {self.run.revision} <why>"),
                " and the next apply drops them first.",
            )
        )
        self.say(Text.lines(lines))

    def _drop_allowed_invalid_indexes(self) -> None:
        """Drop the INVALID indexes an earlier run of this revision left, when an approver
        allowed it after they were reported (and only those, if still INVALID)."""
        parts = self.parts
        events = parts.store.audit_for(self.run.revision)
        left, allowed = latest(events, INVALID_INDEXES), latest(events, ALLOW_INDEX_DROP)
        if left is None or allowed is None or allowed.id < left.id:
            return
        names = left.detail.get("indexes")
        wanted = set(names) if isinstance(names, list | tuple) else set()
        for index in sorted(self._invalid() or ()):
            if index.qualified in wanted:
                drop_invalid_index(self.database_url, index, parts.settings.lock_timeout_seconds)
                parts.store.audit(
                    BOT_ACTOR, "invalid_index_dropped", self.run.revision, index=index.qualified
                )
                self.say(
                    Text(
                        ":broom: Dropped the INVALID index ",
                        Code(index.qualified),
                        " the last run left (allowed by an approver) before migrating.",
                    )
                )


def _blocker_text(blocker: Blocker) -> Text:
    started = f"{blocker.query_start:%Y-%m-%d %H:%M:%S %Z}".strip() if blocker.query_start else "?"
    return Text(
        f"• pid {blocker.pid}",
        " · application ",
        Code(blocker.application or "(none)"),
        f" · {blocker.state} · query started {started} · ",
        Code(blocker.query or "(no query)"),
    )
