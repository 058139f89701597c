"""Replaying a candidate: every AWS call answered from a cassette, with cold start, clock and schedule control.

Nothing here needs the local AWS (moto), so the Lambda's shadow mode can replay inside an invocation.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from harness.cassette import Cassette, Outputs, capture_outputs
from harness.comparison import Comparison, compare
from harness.impls import resolve_impl
from harness.interception import intercept
from harness.lambda_env import cold_start
from harness.matchers import EXACT, Matching
from harness.replayer import CallHook, ObservedCall, Replayer
from harness.scheduling import Schedule, controlled_scheduling

# Replay needs credentials and a region for botocore to build clients, and must never look anywhere for more.
REPLAY_ENVIRONMENT: dict[str, str | None] = {
    "AWS_ACCESS_KEY_ID": "replay-access",
    "AWS_SECRET_ACCESS_KEY": "replay-secret",
    "AWS_SESSION_TOKEN": None,
    "AWS_PROFILE": None,
    "AWS_ENDPOINT_URL": None,
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass
class ReplayRun:
    """What a candidate did when replayed: its outputs, every call, the unrecorded ones, recordings left over.

    `started` and `finished` (perf_counter seconds) bracket the call of the implementation itself: cold start,
    import and golden indexing are outside them.
    """

    outputs: Outputs
    observed: list[ObservedCall]
    unrecorded: list[str]
    unused: list[int]
    started: float = 0.0
    finished: float = 0.0

    @property
    def elapsed_s(self) -> float:
        """Seconds the implementation ran for."""
        return self.finished - self.started


def replay(
    cassette: Cassette,
    impl: str,
    schedule: Schedule | None = None,
    *,
    threaded: bool = False,
    latency_ms: Callable[[str, str], float] | None = None,
    matching: Matching = EXACT,
    freeze_clock: bool = True,
    on_call: CallHook | None = None,
    emulate_aws: bool = False,
    cancelled: threading.Event | None = None,
    on_start: Callable[[], None] | None = None,
) -> ReplayRun:
    """Run `impl` with every AWS call answered from `cassette`: no network, no world.

    The clock stops at the recording's instant unless `freeze_clock` is False (shadow mode, whose comparison
    masks wall-clock fields instead). `on_call` hears of every call with its start and finish times (benchmarks).
    `emulate_aws` (benchmarks) has each call validate and serialize its request as botocore would, and prepares
    the recorded answers before the run, so the replayer's own work per call stays small (see `harness.replayer`).
    Once `cancelled` is set, every call raises `ReplayCancelled` into the implementation (shadow mode's deadline).
    `on_start` (benchmarks) runs just before the implementation is called, after everything the run prepares.
    """
    environment = {**cassette.header["environment"], **REPLAY_ENVIRONMENT}
    schedule = schedule or Schedule.parse(cassette.header["schedule"])
    replayer = Replayer(cassette, latency_ms, matching, on_call, serialize_requests=emulate_aws, cancelled=cancelled)
    if emulate_aws:
        replayer.prepare_answers()
    clock = _clock(cassette.header["clock"]) if freeze_clock else _no_clock()
    # A large golden is millions of long-lived objects: frozen, the garbage collector stops re-scanning them on
    # every collection the code under test triggers (that scanning was half of a 2,000-server replay).
    gc.freeze()
    try:
        with cold_start(environment), clock, controlled_scheduling(schedule, threaded=threaded):
            function = resolve_impl(impl, as_api_response=True)
            with intercept(replayer):
                if on_start is not None:
                    on_start()
                started = time.perf_counter()
                outputs = capture_outputs(function)
                finished = time.perf_counter()
    finally:
        gc.unfreeze()
    return ReplayRun(outputs, replayer.observed, replayer.unrecorded, replayer.unused(), started, finished)


def check(
    cassette: Cassette,
    impl: str,
    schedule: Schedule | None = None,
    *,
    matching: Matching = EXACT,
    freeze_clock: bool = True,
) -> Comparison:
    """Replay `impl` against `cassette` and compare it with the recording."""
    run = replay(cassette, impl, schedule, matching=matching, freeze_clock=freeze_clock)
    return compare(cassette, run.observed, run.outputs, run.unrecorded, matching)


def _clock(instant: str) -> AbstractContextManager[object]:
    """The frozen clock (imported only when used: the Lambda's shadow mode never freezes time)."""
    from harness.clock import frozen_clock

    return frozen_clock(instant)


@contextmanager
def _no_clock() -> Iterator[None]:
    """Leave the clock running."""
    yield
