"""Scheduling control without editing the code under test: which future `as_completed` hands out first.

Futures complete in an order the schedule decides, not the machine: `submission` (the order tasks were
submitted), `reverse`, `seed:N` (a permutation drawn from N and the call's position in the run), or an explicit
list of permutations (one per `as_completed` call, as observed in a real run). The executor either runs each task
inline at submission (deterministic call order, for recording and gating) or on real threads (for latency
benchmarks); either way `as_completed` yields in schedule order. `observed_scheduling` does the opposite: real
threads, real completion order, written down so a replay can reproduce it (shadow mode).
"""

from __future__ import annotations

import concurrent.futures
import itertools
import random
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

_ORIGINAL_EXECUTOR = concurrent.futures.ThreadPoolExecutor
_ORIGINAL_AS_COMPLETED = concurrent.futures.as_completed
_SEQUENCE_ATTRIBUTE = "_harness_submission"
_ABSENT = object()
_STACK_LOCK = threading.Lock()


@dataclass(frozen=True)
class Schedule:
    """A completion order for every `as_completed` of a run."""

    kind: str
    seed: int = 0
    orders: tuple[tuple[int, ...], ...] = ()

    @classmethod
    def explicit(cls, orders: Iterable[Iterable[int]]) -> Schedule:
        """The completion orders a real run showed: the n-th as_completed yields positions `orders[n]`."""
        return cls("explicit", orders=tuple(tuple(order) for order in orders))

    @classmethod
    def parse(cls, text: str) -> Schedule:
        """`submission`, `reverse` or `seed:N`; anything else raises ValueError saying what is accepted."""
        if text in ("submission", "reverse"):
            return cls(text)
        prefix, _, number = text.partition(":")
        if prefix == "seed" and number.isdigit():
            return cls("seed", int(number))
        raise ValueError(f"unknown schedule {text!r}: expected submission, reverse or seed:N (N a whole number)")

    def __str__(self) -> str:
        """The schedule as it is written on the command line and in goldens."""
        if self.kind == "explicit":
            return "explicit:" + ";".join(",".join(map(str, order)) for order in self.orders)
        return f"seed:{self.seed}" if self.kind == "seed" else self.kind

    def order(self, count: int, call_index: int) -> list[int]:
        """Positions (in submission order) in the order the `call_index`-th as_completed of a run yields them."""
        positions = list(range(count))
        if self.kind == "reverse":
            positions.reverse()
        elif self.kind == "seed":
            random.Random(f"{self.seed}:{call_index}:{count}").shuffle(positions)
        elif self.kind == "explicit" and call_index < len(self.orders):
            order = list(self.orders[call_index])
            if sorted(order) == positions:
                return order
        return positions


class _Controller:
    """The schedule in force and the run's counters (one controlled run per process at a time)."""

    def __init__(self, schedule: Schedule, threaded: bool, observe: bool = False) -> None:
        """Fresh counters for a run; `observe` lets futures complete for real and writes the order down."""
        self.schedule = schedule
        self.threaded = threaded
        self.observe = observe
        self.observed: list[list[int]] = []
        self.outer: _Controller | None = None
        self.submissions = itertools.count()
        self.as_completed_calls = itertools.count()
        self.lock = threading.Lock()


_STACK: list[_Controller] = []


def _current() -> _Controller | None:
    """The innermost controller in force, if any."""
    return _STACK[-1] if _STACK else None


class ScheduledExecutor(_ORIGINAL_EXECUTOR):
    """A ThreadPoolExecutor whose futures carry their submission number; inline mode runs tasks at submit."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run (inline) or schedule (threaded) `fn`, numbering the future for scheduled completion."""
        controller = _current()
        if controller is not None and not controller.threaded:
            future: Future[Any] = Future()
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as error:
                future.set_exception(error)
        else:
            future = super().submit(fn, *args, **kwargs)
        if controller is not None:
            with controller.lock:
                setattr(future, _SEQUENCE_ATTRIBUTE, next(controller.submissions))
        return future


def scheduled_as_completed(fs: Iterable[Future[Any]], timeout: float | None = None) -> Iterator[Future[Any]]:
    """Yield `fs` as they complete, in the order the schedule says (each waited for in turn)."""
    controller = _current()
    futures = list(dict.fromkeys(fs))
    if controller is None:
        yield from _ORIGINAL_AS_COMPLETED(futures, timeout)
        return
    futures.sort(key=lambda future: getattr(future, _SEQUENCE_ATTRIBUTE, -1))
    if controller.observe:
        yield from _observe_completion(controller, futures, timeout)
        return
    for position in _ordered_positions(controller, len(futures)):
        future = futures[position]
        concurrent.futures.wait([future], timeout=timeout)
        yield future


def _ordered_positions(controller: _Controller, count: int) -> list[int]:
    """The next as_completed's order under `controller`'s schedule (counting the call)."""
    with controller.lock:
        call_index = next(controller.as_completed_calls)
    return controller.schedule.order(count, call_index)


def _observe_completion(
    controller: _Controller, futures: list[Future[Any]], timeout: float | None
) -> Iterator[Future[Any]]:
    """Yield futures in completion order, writing down each one's position: the real order, or the enclosing
    controller's when one is in force (shadow mode under the harness)."""
    order: list[int] = []
    with controller.lock:
        controller.observed.append(order)
    if controller.outer is not None:
        for position in _ordered_positions(controller.outer, len(futures)):
            concurrent.futures.wait([futures[position]], timeout=timeout)
            order.append(position)
            yield futures[position]
        return
    positions = {future: position for position, future in enumerate(futures)}
    for future in _ORIGINAL_AS_COMPLETED(futures, timeout):
        order.append(positions[future])
        yield future


@contextmanager
def observed_scheduling() -> Iterator[list[list[int]]]:
    """Real completion order for the block (real threads); yields the orders as they are observed.

    Inside another controlled block (a harness run of the shadow mode), the enclosing schedule decides the order
    and execution mode, and that order is what is observed.
    """
    outer = _current()
    controller = _Controller(Schedule("submission"), threaded=outer.threaded if outer else True, observe=True)
    controller.outer = outer
    with _controlled(controller):
        yield controller.observed


@contextmanager
def controlled_scheduling(schedule: Schedule, *, threaded: bool = False) -> Iterator[Schedule]:
    """Install the schedule for the block: in concurrent.futures and in every module that imported its names.

    Blocks nest: the innermost schedule is in force until its block ends.
    """
    with _controlled(_Controller(schedule, threaded)):
        yield schedule


@contextmanager
def _controlled(controller: _Controller) -> Iterator[_Controller]:
    """Push `controller`; the outermost block swaps the names in and restores them at its end."""
    with _STACK_LOCK:
        outermost = not _STACK
        _STACK.append(controller)
        replaced = (
            _swap_names({_ORIGINAL_EXECUTOR: ScheduledExecutor, _ORIGINAL_AS_COMPLETED: scheduled_as_completed})
            if outermost
            else []
        )
    try:
        yield controller
    finally:
        with _STACK_LOCK:
            _STACK.remove(controller)
            for module, name, original in reversed(replaced):
                if original is _ABSENT:
                    delattr(module, name)
                else:
                    setattr(module, name, original)


def _swap_names(replacements: dict[Any, Any]) -> list[tuple[Any, str, Any]]:
    """Point concurrent.futures' names, and those the Lambda's modules imported, at the replacements."""
    from harness.lambda_env import LAMBDA_MODULES

    swapped: list[tuple[Any, str, Any]] = []
    package = concurrent.futures
    for name, replacement in (("ThreadPoolExecutor", ScheduledExecutor), ("as_completed", scheduled_as_completed)):
        swapped.append((package, name, package.__dict__.get(name, _ABSENT)))
        setattr(package, name, replacement)
    for module_name, module in list(sys.modules.items()):
        if module is None or module_name.split(".", 1)[0] not in LAMBDA_MODULES:
            continue
        for name, value in list(vars(module).items()):
            if isinstance(value, type | type(scheduled_as_completed)) and value in replacements:
                setattr(module, name, replacements[value])
                swapped.append((module, name, value))
    return swapped
