"""The state store: every query the bot needs, by name, over one SQLite file."""

from pathlib import Path
from types import TracebackType

from storage.analyses import AnalysisQueries
from storage.audit_chain import AuditChainQueries
from storage.base import Clock, StoreBase, utc_now
from storage.db import DEFAULT_BUSY_TIMEOUT, open_db
from storage.deliveries import DeliveryQueries
from storage.environments import EnvironmentQueries
from storage.lock_impact import LockImpactQueries
from storage.reviews import ReviewQueries
from storage.revisions import RevisionQueries
from storage.runs import RunQueries


class Store(
    RevisionQueries,
    ReviewQueries,
    RunQueries,
    AnalysisQueries,
    DeliveryQueries,
    EnvironmentQueries,
    AuditChainQueries,
    LockImpactQueries,
    StoreBase,
):
    """The bot's memory: what the watcher saw, the reviews, apply runs, locks, the audit log,
    and the Slack deliveries already handled.

    Safe to share between threads. Times come from `clock` (aware, UTC) so tests can fix them.
    Every human or bot action is written to the audit log in the same transaction as its effect.
    """

    @classmethod
    def open(
        cls,
        path: Path | str,
        clock: Clock = utc_now,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> "Store":
        """Open the state file at `path` (see `open_db` for what it refuses)."""
        return cls(open_db(path, busy_timeout=busy_timeout), clock)

    def __enter__(self) -> "Store":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
