"""Production's table sizes and lock traces, kept in the state file."""

from datetime import UTC, datetime

from bot.core.lock_facts import LockTrace, TableSize, TableStats, TracedStatement
from bot.core.lock_modes import LockMode, TableLock
from storage.store import Store

READ = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def test_sizes_are_kept_and_a_failed_read_keeps_them_and_says_why(store: Store) -> None:
    assert store.table_stats("production", ("posts",)).error is not None
    store.save_table_stats("production", TableStats({"posts": TableSize("posts", 10, 8192)}, READ))
    kept = store.table_stats("production", ("posts", "users"))
    assert kept.sizes == {"posts": TableSize("posts", 10, 8192)}
    assert (kept.read_at, kept.error) == (READ, None)

    store.save_table_stats("production", TableStats(error="timeout expired"))
    after = store.table_stats("production", ("posts",))
    assert after.sizes["posts"].rows == 10 and after.error == "timeout expired"
    assert store.table_stats("staging", ("posts",)).sizes == {}


def test_a_trace_comes_back_as_it_was_saved(store: Store) -> None:
    trace = LockTrace(
        (
            TracedStatement(
                "ALTER TABLE posts ALTER COLUMN t TYPE TEXT",
                (TableLock("posts", LockMode.ACCESS_EXCLUSIVE),),
                True,
                ("posts",),
            ),
        )
    )
    store.save_lock_trace("a1", "blob-1", trace)
    back = store.lock_trace("a1", "blob-1")
    assert back is not None and back.statements == trace.statements
    assert store.lock_trace("a1", "blob-2") is None
