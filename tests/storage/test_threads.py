"""Threads and processes sharing the state file."""

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from storage.store import Store
from tests.support.stored import (
    REV,
    actions,
    add,
)

# Threads


StoreFor = Callable[[], Store]
T = TypeVar("T")


@pytest.fixture(params=["shared connection", "connection per thread"])
def store_for(request: pytest.FixtureRequest, store: Store, state_path: Path) -> Iterator[StoreFor]:
    """Each thread's store: the one shared store, or its own connection like another process."""
    if request.param == "shared connection":
        yield lambda: store
        return
    opened: list[Store] = []

    def open_own() -> Store:
        own = Store.open(state_path)
        opened.append(own)
        return own

    yield open_own
    for own in opened:
        own.close()


def hammer(store_for: StoreFor, work: Callable[[Store, int], T]) -> list[T]:
    """Run `work` in 8 threads released together; return what each returned."""
    barrier = threading.Barrier(8)
    results: dict[int, T] = {}
    errors: list[BaseException] = []

    def run(index: int) -> None:
        store = store_for()
        barrier.wait()
        try:
            results[index] = work(store, index)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return [results[index] for index in range(8)]


def test_racing_threads_record_each_revision_once(store: Store, store_for: StoreFor) -> None:
    revisions = [f"rev{n}" for n in range(5)]

    def record_all(thread_store: Store, index: int) -> list[str]:
        return [add(thread_store, rev, branch=f"b{index}").branch for rev in revisions]

    branches = hammer(store_for, record_all)
    assert len({tuple(b) for b in branches}) == 1
    for rev in revisions:
        assert actions(store, rev) == ["revision_seen"]


def test_racing_threads_have_one_winner_each(store: Store, store_for: StoreFor) -> None:
    add(store)

    def race(thread_store: Store, index: int) -> tuple[bool, bool, bool]:
        return (
            thread_store.claim_card(REV),
            thread_store.try_acquire_lock("apply", f"run-{index}"),
            bool(thread_store.record_deliveries(["event:Ev1"])),
        )

    results = hammer(store_for, race)
    for column in range(3):
        assert sum(result[column] for result in results) == 1


def test_racing_requests_record_one_locked_run(store: Store, store_for: StoreFor) -> None:
    add(store)

    def request(thread_store: Store, index: int) -> bool:
        run = thread_store.create_locked_run(
            REV, "apply", f"U{index}", "apply", lambda run: f"run {run.id}"
        )
        return run is not None

    assert sum(hammer(store_for, request)) == 1
    [run] = store.runs_for(REV)
    lock = store.get_lock("apply")
    assert lock is not None and lock.holder == f"run {run.id}"
    assert actions(store) == ["revision_seen", "apply_requested"]


def test_claims_left_without_a_card_are_released_at_start(store: Store) -> None:
    for revision in ("a1", "b2"):
        store.record_revision(
            revision,
            path=f"{revision}.py",
            blob_sha="x",
            branch="main",
            commit="c",
            author_name="Dana",
            author_email="dana@example.com",
        )
    assert store.claim_card("a1") and store.claim_card("b2")
    store.set_card("b2", "C0REVIEW01", "1700000000.000100")

    assert store.release_unposted_claims() == ["a1"]
    assert store.claim_card("a1")
    assert store.get_card("b2") is not None and not store.claim_card("b2")
