"""Controlled scheduling: futures complete in the schedule's order, whatever the machine does, and nothing leaks."""

from __future__ import annotations

import concurrent.futures
import threading

import pytest

from harness.experiment import REPLAY_ENVIRONMENT
from harness.lambda_env import cold_start, import_lambda_module
from harness.scheduling import (
    Schedule,
    ScheduledExecutor,
    controlled_scheduling,
    observed_scheduling,
    scheduled_as_completed,
)

ORIGINAL_EXECUTOR = concurrent.futures.ThreadPoolExecutor
ORIGINAL_AS_COMPLETED = concurrent.futures.as_completed


@pytest.mark.parametrize("text", ["", "random", "seed", "seed:", "seed:x", "seed:-1", "Reverse", "submission:1"])
def test_parse_rejects_anything_but_the_three_forms(text):
    with pytest.raises(ValueError) as raised:
        Schedule.parse(text)

    assert str(raised.value) == f"unknown schedule {text!r}: expected submission, reverse or seed:N (N a whole number)"


@pytest.mark.parametrize("text", ["submission", "reverse", "seed:0", "seed:42"])
def test_parse_and_str_round_trip(text):
    assert str(Schedule.parse(text)) == text


def test_submission_and_reverse_orders():
    assert Schedule.parse("submission").order(4, 0) == [0, 1, 2, 3]
    assert Schedule.parse("reverse").order(4, 7) == [3, 2, 1, 0]


def test_a_seed_order_is_a_permutation_fixed_by_seed_call_and_size():
    schedule = Schedule.parse("seed:7")
    orders = [schedule.order(8, call) for call in range(5)]

    assert all(sorted(order) == list(range(8)) for order in orders)
    assert orders == [Schedule.parse("seed:7").order(8, call) for call in range(5)]
    assert len({tuple(order) for order in orders}) > 1, "each as_completed of a run gets its own permutation"
    assert Schedule.parse("seed:8").order(8, 0) != orders[0] or Schedule.parse("seed:9").order(8, 0) != orders[0]


def completion_order(schedule: Schedule, *, threaded: bool, tasks: int = 5) -> tuple[list[int], list[int]]:
    """Submit `tasks` tasks (threaded, each waits for the next one: they finish last first); run and yield orders."""
    ran: list[int] = []
    finished = [threading.Event() for _ in range(tasks)]

    def task(number: int) -> int:
        if threaded and number + 1 < tasks:
            assert finished[number + 1].wait(timeout=10)
        ran.append(number)
        finished[number].set()
        return number

    # The executor is looked up after the schedule is in force, as the Lambda's code does.
    with controlled_scheduling(schedule, threaded=threaded), concurrent.futures.ThreadPoolExecutor(tasks) as pool:
        futures = [pool.submit(task, number) for number in range(tasks)]
        yielded = [future.result() for future in concurrent.futures.as_completed(futures)]
    return ran, yielded


@pytest.mark.parametrize("threaded", [False, True], ids=["inline", "threaded"])
@pytest.mark.parametrize("text", ["submission", "reverse", "seed:3"])
def test_as_completed_yields_in_schedule_order(text, threaded):
    schedule = Schedule.parse(text)

    ran, yielded = completion_order(schedule, threaded=threaded)

    assert yielded == schedule.order(5, 0)
    if threaded:
        assert ran == [4, 3, 2, 1, 0], "the threads themselves finished in their own order"
    else:
        assert ran == [0, 1, 2, 3, 4], "inline tasks run at submission"


def test_futures_handed_over_in_any_order_still_complete_in_schedule_order():
    with controlled_scheduling(Schedule.parse("submission")):
        with concurrent.futures.ThreadPoolExecutor() as pool:
            futures = [pool.submit(lambda n=number: n) for number in range(4)]
        yielded = [future.result() for future in concurrent.futures.as_completed(reversed(futures))]

    assert yielded == [0, 1, 2, 3]


def test_an_exception_in_an_inline_task_is_delivered_through_its_future():
    def fails() -> None:
        raise KeyError("boom")

    with controlled_scheduling(Schedule.parse("submission")):
        future = concurrent.futures.ThreadPoolExecutor().submit(fails)

    assert isinstance(future.exception(), KeyError)


def test_names_imported_into_lambda_modules_are_swapped_for_the_block_and_restored():
    with cold_start({"AWS_DEFAULT_REGION": "us-east-1", **REPLAY_ENVIRONMENT}):
        legacy = import_lambda_module("inventory_sync_legacy")
        assert legacy.ThreadPoolExecutor is ORIGINAL_EXECUTOR
        assert legacy.as_completed is ORIGINAL_AS_COMPLETED

        with controlled_scheduling(Schedule.parse("reverse")):
            assert legacy.ThreadPoolExecutor is ScheduledExecutor
            assert legacy.as_completed is scheduled_as_completed
            assert concurrent.futures.ThreadPoolExecutor is ScheduledExecutor
            assert concurrent.futures.as_completed is scheduled_as_completed
            assert concurrent.futures._base.as_completed is ORIGINAL_AS_COMPLETED, "non-Lambda modules are untouched"

        assert legacy.ThreadPoolExecutor is ORIGINAL_EXECUTOR
        assert legacy.as_completed is ORIGINAL_AS_COMPLETED
    assert concurrent.futures.ThreadPoolExecutor is ORIGINAL_EXECUTOR
    assert concurrent.futures.as_completed is ORIGINAL_AS_COMPLETED


def test_schedules_nest_the_innermost_decides_and_the_outer_resumes():
    """Shadow mode replays inside a harness run: an inner schedule overrides the outer one until its block ends."""

    def completion_order() -> list[int]:
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            futures = {pool.submit(lambda n=n: n): n for n in range(3)}
            return [future.result() for future in concurrent.futures.as_completed(futures)]

    with controlled_scheduling(Schedule.parse("submission")):
        assert completion_order() == [0, 1, 2]
        with controlled_scheduling(Schedule.parse("reverse")):
            assert completion_order() == [2, 1, 0]
        assert completion_order() == [0, 1, 2]
        assert concurrent.futures.as_completed is scheduled_as_completed

    assert concurrent.futures.as_completed is ORIGINAL_AS_COMPLETED


def test_an_explicit_schedule_replays_observed_orders_and_observation_follows_an_enclosing_schedule():
    """observed_scheduling writes down the order futures completed in; Schedule.explicit plays it back."""

    def completion_order() -> list[int]:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            futures = {pool.submit(lambda n=n: n): n for n in range(4)}
            return [future.result() for future in concurrent.futures.as_completed(futures)]

    with controlled_scheduling(Schedule.parse("seed:3")), observed_scheduling() as orders:
        seen = completion_order()
    assert orders == [seen]
    assert sorted(seen) == [0, 1, 2, 3]
    with controlled_scheduling(Schedule.explicit(orders)):
        assert completion_order() == seen

    with observed_scheduling() as real_orders:
        real = completion_order()
    assert real_orders == [real]


def test_without_a_controlled_run_the_replacements_behave_like_the_originals():
    with ORIGINAL_EXECUTOR() as pool:
        futures = [pool.submit(lambda n=number: n) for number in range(3)]
    assert sorted(future.result() for future in scheduled_as_completed(futures)) == [0, 1, 2]
