"""Unit tests of `inventory_sync.ordered_writes`: the run's one writer keeps the legacy's account order.

The writes here are plain functions appending to a list, run by the real single-worker writer (a ThreadPoolExecutor)
while real threads submit them; Events force the interleavings that matter (a later account submitting first, a
failure while later writes wait). No AWS call is involved.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from types import ModuleType
from typing import Any

import pytest

from tests.unit.support import open_sync_world, scenario

WAIT = 30  # seconds an Event may take before the test fails: never reached unless the code under test hangs


@pytest.fixture(scope="module")
def ordered_writes() -> Iterator[ModuleType]:
    """The `inventory_sync.ordered_writes` module, imported fresh (in an empty world: the package's imports make
    module-level AWS clients)."""
    with open_sync_world(scenario()) as world:
        yield world.module.ordered_writes


@pytest.fixture
def writer() -> Iterator[ThreadPoolExecutor]:
    """The single-worker writer the orchestrator gives the turns."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        yield executor


class InlineExecutor(Executor):
    """An executor running each task at submission, as the harness's inline scheduling does."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run `fn` now; its future is settled on return."""
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            future.set_exception(error)
        return future


def recorder(made: list[str]) -> Callable[[str], str]:
    """A write that records its name in `made` (in the order the writer makes them) and returns it."""

    def write(name: str) -> str:
        """Record `name` as made."""
        made.append(name)
        return name

    return write


def failing(error: BaseException) -> Callable[[], None]:
    """A write that fails with `error`."""

    def write() -> None:
        """Fail."""
        raise error

    return write


def test_a_later_account_submitting_first_is_written_after_the_earlier_one(
    ordered_writes: ModuleType, writer: ThreadPoolExecutor
) -> None:
    writes = ordered_writes.OrderedWrites(writer)
    first, second = writes.next_account(), writes.next_account()
    made: list[str] = []
    write = recorder(made)
    second_submitted = threading.Event()

    def first_account() -> None:
        """Account 1: submits only once account 2 has submitted all of its writes."""
        assert second_submitted.wait(WAIT)
        first.submit(write, "1-status")
        first.submit(write, "1-inventory")
        first.close()

    def second_account() -> None:
        """Account 2: reads faster, submits first."""
        second.submit(write, "2-status")
        second.submit(write, "2-inventory")
        second.close()
        second_submitted.set()

    threads = [threading.Thread(target=first_account), threading.Thread(target=second_account)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    writes.wait()

    assert made == ["1-status", "1-inventory", "2-status", "2-inventory"]


def test_writes_held_for_a_later_turn_are_not_made_before_it_comes(
    ordered_writes: ModuleType, writer: ThreadPoolExecutor
) -> None:
    writes = ordered_writes.OrderedWrites(writer)
    first, second, third = writes.next_account(), writes.next_account(), writes.next_account()
    made: list[str] = []
    write = recorder(made)

    held_third = third.submit(write, "3")
    third.close()
    held_second = second.submit(write, "2")
    second.close()
    made_first = first.submit(write, "1")
    assert made_first.result(WAIT) == "1"
    # The first account is still open: the others' writes wait for its turn to end.
    assert not held_second.done() and not held_third.done()

    first.close()
    writes.wait()

    assert made == ["1", "2", "3"]
    assert (held_second.result(), held_third.result()) == ("2", "3")


def test_a_turn_closed_without_writes_passes_on(ordered_writes: ModuleType, writer: ThreadPoolExecutor) -> None:
    writes = ordered_writes.OrderedWrites(writer)
    skipped, read = writes.next_account(), writes.next_account()
    made: list[str] = []

    read.submit(recorder(made), "read")
    read.close()
    skipped.close()
    writes.wait()

    assert made == ["read"]


def test_a_failed_write_stops_every_later_write_and_is_what_wait_raises(
    ordered_writes: ModuleType, writer: ThreadPoolExecutor
) -> None:
    writes = ordered_writes.OrderedWrites(writer)
    first, second = writes.next_account(), writes.next_account()
    made: list[str] = []
    write = recorder(made)
    error = RuntimeError("flush failed")

    later = second.submit(write, "2")
    second.close()
    first.submit(write, "1-status")
    failed = first.submit(failing(error))
    after = first.submit(write, "1-inventory")
    first.close()

    with pytest.raises(RuntimeError, match="flush failed") as raised:
        writes.wait()

    assert raised.value is error
    assert made == ["1-status"]
    assert failed.exception() is error and after.exception() is error and later.exception() is error
    with pytest.raises(RuntimeError):
        second.raise_if_failed()


def test_fail_takes_its_place_in_the_write_order(ordered_writes: ModuleType, writer: ThreadPoolExecutor) -> None:
    # Account 2 fails while reading: account 1's writes (submitted later) are still made, account 3's are not.
    writes = ordered_writes.OrderedWrites(writer)
    first, second, third = writes.next_account(), writes.next_account(), writes.next_account()
    made: list[str] = []
    write = recorder(made)
    error = ValueError("account 2 could not be read")

    third.submit(write, "3")
    third.close()
    second.submit(write, "2-status")
    second.fail(error)
    second.close()
    first.submit(write, "1")
    first.close()

    with pytest.raises(ValueError, match="account 2") as raised:
        writes.wait()

    assert raised.value is error
    assert made == ["1", "2-status"]
    assert writes.failure is error


def test_raise_if_failed_never_waits_and_raises_only_once_a_failure_happened(
    ordered_writes: ModuleType, writer: ThreadPoolExecutor
) -> None:
    writes = ordered_writes.OrderedWrites(writer)
    turn = writes.next_account()
    release = threading.Event()
    error = RuntimeError("late failure")

    def blocked_then_fail() -> None:
        """A write that fails once the test lets it."""
        assert release.wait(WAIT)
        raise error

    turn.submit(blocked_then_fail)
    # The write is still running: nothing has failed yet, and asking does not wait for it.
    turn.raise_if_failed()
    writes.raise_if_failed()
    release.set()
    with pytest.raises(RuntimeError):
        writes.wait()
    with pytest.raises(RuntimeError, match="late failure"):
        turn.raise_if_failed()


def test_wait_without_any_write_returns(ordered_writes: ModuleType, writer: ThreadPoolExecutor) -> None:
    writes = ordered_writes.OrderedWrites(writer)
    writes.next_account().close()

    writes.wait()

    assert writes.failure is None


def test_the_writes_run_one_at_a_time_on_the_writer_thread(
    ordered_writes: ModuleType, writer: ThreadPoolExecutor
) -> None:
    writes = ordered_writes.OrderedWrites(writer)
    turns = [writes.next_account() for _ in range(3)]
    threads_seen: set[int] = set()
    running = 0
    most_at_once = 0
    lock = threading.Lock()

    def write() -> None:
        """Note the thread and how many writes run at once."""
        nonlocal running, most_at_once
        with lock:
            running += 1
            most_at_once = max(most_at_once, running)
            threads_seen.add(threading.get_ident())
        with lock:
            running -= 1

    submitters = [
        threading.Thread(target=lambda turn=turn: ([turn.submit(write) for _ in range(20)], turn.close()))
        for turn in reversed(turns)
    ]
    for thread in submitters:
        thread.start()
    for thread in submitters:
        thread.join(WAIT)
    writes.wait()

    assert most_at_once == 1
    assert len(threads_seen) == 1 and threading.get_ident() not in threads_seen


def test_with_an_inline_writer_each_write_is_made_as_it_is_submitted(ordered_writes: ModuleType) -> None:
    # The harness runs pools inline: the first account's writes are made at once, and a failure is seen by the
    # next step of the account that made it.
    writes = ordered_writes.OrderedWrites(InlineExecutor())
    first, second = writes.next_account(), writes.next_account()
    made: list[str] = []
    write = recorder(made)

    assert first.submit(write, "1").result(0) == "1"
    assert made == ["1"]
    failed = first.submit(failing(KeyError("row")))
    with pytest.raises(KeyError):
        first.raise_if_failed()
    assert isinstance(failed.exception(0), KeyError)
    first.close()
    held = second.submit(write, "2")

    assert made == ["1"]
    assert isinstance(held.exception(0), KeyError)
    with pytest.raises(KeyError):
        writes.wait()
