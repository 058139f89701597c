"""Latency profiles: calls sleep their service's latency, concurrent calls overlap, the world's own calls skip it."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import boto3

from harness.pytest_plugin import as_scenario
from harness.world.state import dump_tables
from tests.world.helpers import PROD, REGION, scenario

LATENCY_S = 0.25


def timed(call) -> float:
    """Seconds `call()` takes."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def test_sequential_calls_each_take_the_latency(local_world):
    local_world(scenario(latency_ms={"sts": LATENCY_S * 1000}))
    sts = boto3.client("sts")
    elapsed = timed(lambda: [sts.get_caller_identity() for _ in range(2)])
    assert elapsed >= 2 * LATENCY_S


def test_concurrent_calls_overlap(local_world):
    local_world(scenario(latency_ms={"sts": LATENCY_S * 1000}))
    clients = [boto3.client("sts") for _ in range(2)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        elapsed = timed(lambda: list(pool.map(lambda client: client.get_caller_identity(), clients)))
    assert LATENCY_S <= elapsed < 1.7 * LATENCY_S


def test_operation_latency_overrides_the_service_default(local_world):
    local_world(scenario(latency_ms={"sts": {"default": 0, "GetCallerIdentity": LATENCY_S * 1000}}))
    sts = boto3.client("sts")
    assert timed(sts.get_caller_identity) >= LATENCY_S
    assert timed(lambda: sts.get_session_token()) < LATENCY_S


def test_services_without_latency_answer_at_once(local_world):
    local_world(scenario(latency_ms={"drs": LATENCY_S * 1000}))
    sts = boto3.client("sts")
    sts.get_caller_identity()  # warm up the client outside the measurement
    assert timed(sts.get_caller_identity) < LATENCY_S


def test_seeding_and_table_dumps_bypass_latency(local_world):
    slow_ms = 5000  # one delayed internal call would blow the bounds below
    spec = as_scenario(
        scenario(
            latency_ms={"dynamodb": slow_ms, "ec2": slow_ms},
            target_accounts=[{"accountId": f"{index:012d}"} for index in range(1, 6)],
            accounts={PROD: {"drs": {REGION: {"servers": 2}}}},
        )
    )
    build_started = time.perf_counter()
    world = local_world(spec)
    assert time.perf_counter() - build_started < slow_ms / 1000
    assert timed(lambda: dump_tables(spec)) < slow_ms / 1000
    assert world.requests_served == 0
