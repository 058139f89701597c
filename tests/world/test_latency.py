"""Latency profiles: calls wait their service's latency, concurrent calls wait at once, the world's own calls never.

Nothing here bounds a duration from above (the machine may be slow): the waits the world asks for are recorded
(`World.sleep`), calls that must overlap meet at a barrier inside their waits, and only lower bounds are timed.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3

from harness.pytest_plugin import as_scenario
from harness.world.state import dump_tables
from tests.world.helpers import PROD, REGION, scenario

LATENCY_S = 0.25
MEETING_TIMEOUT_S = 30  # a barrier that times out means the calls were not waiting at the same time


class Waits:
    """The latency waits a world asks for, each made for real; with `meet`, that many calls must wait at once."""

    def __init__(self, meet: int = 0) -> None:
        """No wait asked for yet."""
        self.seconds: list[float] = []
        self._lock = threading.Lock()
        self._barrier = threading.Barrier(meet, timeout=MEETING_TIMEOUT_S) if meet else None

    def __call__(self, seconds: float) -> None:
        """Record the wait, meet the other calls (raising if they never come), then sleep."""
        with self._lock:
            self.seconds.append(seconds)
        if self._barrier is not None:
            self._barrier.wait()
        time.sleep(seconds)


def timed(call) -> float:
    """Seconds `call()` takes."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def test_sequential_calls_each_take_the_latency(local_world):
    world = local_world(scenario(latency_ms={"sts": LATENCY_S * 1000}))
    world.sleep = waits = Waits()
    sts = boto3.client("sts")
    elapsed = timed(lambda: [sts.get_caller_identity() for _ in range(2)])
    assert waits.seconds == [LATENCY_S, LATENCY_S]
    assert elapsed >= 2 * LATENCY_S


def test_concurrent_calls_wait_their_latency_at_the_same_time(local_world):
    world = local_world(scenario(latency_ms={"sts": LATENCY_S * 1000}))
    world.sleep = waits = Waits(meet=2)
    clients = [boto3.client("sts") for _ in range(2)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda client: client.get_caller_identity(), clients))
    assert [answer["Account"] for answer in answers] == [answers[0]["Account"]] * 2
    assert waits.seconds == [LATENCY_S, LATENCY_S]


def test_operation_latency_overrides_the_service_default(local_world):
    world = local_world(scenario(latency_ms={"sts": {"default": 0, "GetCallerIdentity": LATENCY_S * 1000}}))
    world.sleep = waits = Waits()
    sts = boto3.client("sts")
    assert timed(sts.get_caller_identity) >= LATENCY_S
    sts.get_session_token()
    assert waits.seconds == [LATENCY_S]


def test_services_without_latency_answer_at_once(local_world):
    world = local_world(scenario(latency_ms={"drs": LATENCY_S * 1000}))
    world.sleep = waits = Waits()
    boto3.client("sts").get_caller_identity()
    assert waits.seconds == []
    assert world.requests_served == 1


def test_seeding_and_table_dumps_bypass_latency(local_world):
    spec = as_scenario(
        scenario(
            latency_ms={"dynamodb": 5000, "ec2": 5000},
            target_accounts=[{"accountId": f"{index:012d}"} for index in range(1, 6)],
            accounts={PROD: {"drs": {REGION: {"servers": 2}}}},
        )
    )
    world = local_world(spec)
    # Seeding went through the world's internal path: no request was served, so none waited.
    assert world.requests_served == 0
    world.sleep = waits = Waits()
    tables = dump_tables(spec)
    assert waits.seconds == [] and world.requests_served == 0
    assert tables
