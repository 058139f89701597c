"""The run's one writer: every write made one at a time, account after account, in the legacy's order.

Accounts are read ahead, several at once, but their writes must reach DynamoDB as the legacy's do: all of one
account's (region statuses, then inventory) before any of the next one's. Each account gets its turn
(`OrderedWrites.next_account`, asked in account order); a write submitted before its account's turn waits in that
turn until every earlier account has closed its own, then goes to the writer, a single-worker executor that makes the
writes in the order they reach it. The first failure, a write's or one an account reports (`AccountWrites.fail`),
stops every write after it, as the legacy stops at its first error, and is what `wait` raises.

When the harness runs pools inline (tasks run as they are submitted), each write is made as it is submitted, so a
failure is seen by the next step of the account that made it, and nothing later is read.
"""

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any


class OrderedWrites:
    """Turns at one single-worker writer, one per account, taken in account order."""

    def __init__(self, writer: Executor) -> None:
        """No turn given yet; writes will go to `writer`, which must have a single worker."""
        self._writer = writer
        self._lock = threading.Lock()
        self._turns: list[AccountWrites] = []
        self._current = 0
        self.failure: BaseException | None = None

    def next_account(self) -> "AccountWrites":
        """The next account's turn (the first one is the writer's at once)."""
        with self._lock:
            turn = AccountWrites(self, len(self._turns))
            self._turns.append(turn)
            return turn

    def _submit(self, turn: int, write: Callable[..., Any], args: tuple[Any, ...]) -> "Future[Any]":
        """Send the write to the writer if it is `turn`'s turn, else hold it there (under the lock: in write order)."""
        future: Future[Any] = Future()
        with self._lock:
            if turn == self._current:
                self._writer.submit(self._make, future, write, args)
            else:
                self._turns[turn].held.append((future, write, args))
        return future

    def _close(self, turn: int) -> None:
        """`turn` has no more writes: the turn passes over every closed account to the first open one, whose held
        writes go to the writer."""
        with self._lock:
            self._turns[turn].closed = True
            while self._current < len(self._turns) and self._turns[self._current].closed:
                self._current += 1
                if self._current < len(self._turns):
                    for held in self._turns[self._current].held:
                        self._writer.submit(self._make, *held)
                    self._turns[self._current].held.clear()

    def _make(self, future: "Future[Any]", write: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """Make one write on the writer, unless an earlier one failed; settle its future either way."""
        if self.failure is not None:
            future.set_exception(self.failure)
            return
        try:
            future.set_result(write(*args))
        except BaseException as error:
            self.failure = error
            future.set_exception(error)

    def raise_if_failed(self) -> None:
        """Raise the first failure if it has happened already (never waits)."""
        if self.failure is not None:
            raise self.failure

    def wait(self) -> None:
        """Once every account is closed: shut the writer down when every write is made, and raise the first failure."""
        self._writer.shutdown(wait=True)
        self.raise_if_failed()


class AccountWrites:
    """One account's turn at the writer."""

    def __init__(self, writes: OrderedWrites, turn: int) -> None:
        """The `turn`-th account's turn, open, nothing held."""
        self._writes = writes
        self._turn = turn
        self.held: list[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = []
        self.closed = False
        # Set once the account submits its first write (its region statuses: its DRS listing is done) or closes.
        self.began = threading.Event()

    def submit(self, write: Callable[..., Any], *args: Any) -> "Future[Any]":
        """Make `write(*args)` in this account's turn, after every write submitted before it; return its future."""
        self.began.set()
        return self._writes._submit(self._turn, write, args)

    def fail(self, error: BaseException) -> None:
        """Stop the run at this point of the write order: later writes are not made, and `wait` raises `error`."""
        self.submit(_raise, error)

    def raise_if_failed(self) -> None:
        """Raise the run's first failure if it has happened already (a write of this or an earlier account)."""
        self._writes.raise_if_failed()

    def close(self) -> None:
        """This account has no more writes: the next account's turn may come."""
        self.began.set()
        self._writes._close(self._turn)


def _raise(error: BaseException) -> None:
    """A write that fails with `error` (how an account's failure takes its place in the write order)."""
    raise error
