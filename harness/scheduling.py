"""Scheduling control without editing the code under test: which future `as_completed` hands out first.

Futures complete in an order the schedule decides, not the machine: `submission` (the order tasks were
submitted), `reverse`, or `seed:N` (a permutation drawn from N and the call's position in the run). The executor
either runs each task inline at submission (deterministic call order, for recording and gating) or on real
threads (for latency benchmarks); either way `as_completed` yields in schedule order.
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


@dataclass(frozen=True)
class Schedule:
    """A completion order for every `as_completed` of a run."""

    kind: str
    seed: int = 0

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
        return f"seed:{self.seed}" if self.kind == "seed" else self.kind

    def order(self, count: int, call_index: int) -> list[int]:
        """Positions (in submission order) in the order the `call_index`-th as_completed of a run yields them."""
        positions = list(range(count))
        if self.kind == "reverse":
            positions.reverse()
        elif self.kind == "seed":
            random.Random(f"{self.seed}:{call_index}:{count}").shuffle(positions)
        return positions


class _Controller:
    """The schedule in force and the run's counters (one controlled run per process at a time)."""

    def __init__(self, schedule: Schedule, threaded: bool) -> None:
        """Fresh counters for a run."""
        self.schedule = schedule
        self.threaded = threaded
        self.submissions = itertools.count()
        self.as_completed_calls = itertools.count()
        self.lock = threading.Lock()


_CONTROLLER: _Controller | None = None


class ScheduledExecutor(_ORIGINAL_EXECUTOR):
    """A ThreadPoolExecutor whose futures carry their submission number; inline mode runs tasks at submit."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run (inline) or schedule (threaded) `fn`, numbering the future for scheduled completion."""
        controller = _CONTROLLER
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
    controller = _CONTROLLER
    futures = list(dict.fromkeys(fs))
    if controller is None:
        yield from _ORIGINAL_AS_COMPLETED(futures, timeout)
        return
    futures.sort(key=lambda future: getattr(future, _SEQUENCE_ATTRIBUTE, -1))
    with controller.lock:
        call_index = next(controller.as_completed_calls)
    for position in controller.schedule.order(len(futures), call_index):
        future = futures[position]
        concurrent.futures.wait([future], timeout=timeout)
        yield future


@contextmanager
def controlled_scheduling(schedule: Schedule, *, threaded: bool = False) -> Iterator[Schedule]:
    """Install the schedule for the block: in concurrent.futures and in every module that imported its names."""
    global _CONTROLLER
    if _CONTROLLER is not None:
        raise RuntimeError("scheduling is already controlled in this process: one controlled run at a time")
    _CONTROLLER = _Controller(schedule, threaded)
    replaced = _swap_names({_ORIGINAL_EXECUTOR: ScheduledExecutor, _ORIGINAL_AS_COMPLETED: scheduled_as_completed})
    try:
        yield schedule
    finally:
        _CONTROLLER = None
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
