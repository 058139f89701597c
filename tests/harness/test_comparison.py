"""Equivalence catches every way a candidate can differ from a real recording, and words it for a reviewer."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from harness.cassette import Cassette, Outputs
from harness.comparison import compare
from harness.experiment import check, record_scenario, replay
from harness.lambda_env import REPO_ROOT
from harness.matchers import is_write
from harness.replayer import ObservedCall
from harness.report import describe_comparison
from harness.world.scenario import load_scenario

IMPLS = "tests.harness.impls_for_tests"
PROD = "111111111111"
INVENTORY_ITEM = "root['RequestItems']['source-server-inventory'][0]['PutRequest']['Item']"


@pytest.fixture(scope="module")
def golden() -> Cassette:
    """The legacy recorded once on a one-account scenario (3 writes: region status, account rows, inventory)."""
    return record_scenario(load_scenario(REPO_ROOT / "scenarios/single-account-basic.yaml"))


def observed(cassette: Cassette) -> list[ObservedCall]:
    """The golden's calls as a candidate that made exactly them would be observed."""
    return [
        ObservedCall(i.service, i.region, i.identity, i.operation, copy.deepcopy(i.params), index)
        for index, i in enumerate(cassette.interactions)
    ]


def write_positions(calls: list[ObservedCall]) -> list[int]:
    """Positions of the write calls."""
    return [index for index, call in enumerate(calls) if is_write(call.operation)]


def position_of(calls: list[ObservedCall], operation: str) -> int:
    """Position of the first call of `operation`."""
    return next(index for index, call in enumerate(calls) if call.operation == operation)


def kinds(comparison) -> list[str]:
    """The kinds of the differences found."""
    return [difference.kind for difference in comparison.differences]


def test_the_golden_compared_with_itself_is_equivalent(golden):
    comparison = compare(golden, observed(golden), golden.outputs, [])

    assert comparison.equivalent
    assert (comparison.calls, comparison.writes) == (len(golden.interactions), 3)


def test_the_legacy_replaying_its_own_recording_is_equivalent_and_uses_every_interaction(golden):
    run = replay(golden, "legacy")

    assert compare(golden, run.observed, run.outputs, run.unrecorded).equivalent
    assert run.unused == []
    assert check(golden, f"{IMPLS}:legacy").equivalent


def test_reads_in_another_order_are_still_equivalent(golden):
    calls = observed(golden)
    reads = [call for call in calls if not is_write(call.operation)]
    reordered = [*reversed(reads), *(call for call in calls if is_write(call.operation))]

    assert compare(golden, reordered, golden.outputs, []).equivalent


def test_a_reordered_write_is_caught_and_the_report_shows_both_sides_of_the_first_one(golden):
    calls = observed(golden)
    second, third = write_positions(calls)[1:3]
    calls[second], calls[third] = calls[third], calls[second]

    comparison = compare(golden, calls, golden.outputs, [])

    assert kinds(comparison) == ["write"]
    [difference] = comparison.differences
    assert difference.summary == "write #2 differs"
    assert difference.details[0].startswith(
        'golden:    dynamodb BatchWriteItem in us-east-1 as hub {"RequestItems":{"drs'
    )
    assert difference.details[1].startswith(
        'candidate: dynamodb BatchWriteItem in us-east-1 as hub {"RequestItems":{"sou'
    )
    assert "root['RequestItems']['drs-region-status']: dictionary item removed" in difference.details[3]
    # Each table's own writes are still in order: only the overall order differs, so no per-table line.
    assert not any(detail.startswith("table ") for detail in difference.details)
    report = describe_comparison("reordered", comparison)
    assert report.splitlines()[0] == f"reordered: DIVERGENT ({len(calls)} calls, 3 writes)"
    assert "  [write] write #2 differs" in report
    assert "      golden:    dynamodb BatchWriteItem" in report
    assert "      candidate: dynamodb BatchWriteItem" in report


def test_an_extra_write_is_caught(golden):
    calls = observed(golden)
    calls.append(dataclasses.replace(calls[write_positions(calls)[-1]], answered_by=None))

    comparison = compare(golden, calls, golden.outputs, [])

    assert kinds(comparison) == ["write"]
    assert comparison.differences[0].summary == "the candidate makes 1 extra writes after the golden's 3"
    assert comparison.differences[0].details[0].startswith("first extra write: dynamodb BatchWriteItem")


def test_a_missing_write_is_caught(golden):
    calls = observed(golden)
    del calls[write_positions(calls)[-1]]

    comparison = compare(golden, calls, golden.outputs, [])

    assert comparison.differences[0].summary == "the candidate stops writing after 2 writes; the golden has 3"


def test_a_changed_item_field_is_named_by_its_deepdiff_path_with_both_values(golden):
    calls = observed(golden)
    inventory = calls[write_positions(calls)[2]]
    item = inventory.params["RequestItems"]["source-server-inventory"][0]["PutRequest"]["Item"]
    original = item["hostname"]["S"]
    item["hostname"]["S"] = "renamed-host"

    comparison = compare(golden, calls, golden.outputs, [])

    [difference] = comparison.differences
    assert difference.summary == "write #3 differs"
    assert f"{INVENTORY_ITEM}['hostname']['S']: recorded {original!r}, now 'renamed-host'" in difference.details
    assert "table source-server-inventory: writes differ (1 in the golden, 1 now)" in difference.details


def test_a_missing_read_is_caught_unless_the_golden_allows_fewer_of_that_operation(golden):
    calls = observed(golden)
    del calls[position_of(calls, "DescribeInstances")]

    comparison = compare(golden, calls, golden.outputs, [])

    assert kinds(comparison) == ["read"]
    assert comparison.differences[0].summary == "1 recorded reads were not made"
    assert comparison.differences[0].details[0].startswith(f"missing 1x ec2 DescribeInstances in us-east-1 as {PROD}")

    def allowing(operations):
        header = {**golden.header, "allowances": {"fewer_reads": operations}}
        return compare(dataclasses.replace(golden, header=header), calls, golden.outputs, [])

    assert allowing(["DescribeInstances"]).equivalent
    assert allowing(["DescribeInstances"]).allowed_fewer_reads == ("DescribeInstances",)
    assert not allowing(["DescribeSourceServers"]).equivalent


def test_an_extra_read_is_caught_even_when_fewer_reads_are_allowed(golden):
    calls = observed(golden)
    calls.insert(0, dataclasses.replace(calls[position_of(calls, "DescribeInstances")], answered_by=None))
    header = {**golden.header, "allowances": {"fewer_reads": ["DescribeInstances"]}}

    comparison = compare(dataclasses.replace(golden, header=header), calls, golden.outputs, [])

    assert kinds(comparison) == ["read"]
    assert comparison.differences[0].summary == "1 reads were made that the golden does not hold"
    assert comparison.differences[0].details[0].startswith("extra 1x ec2 DescribeInstances")


def test_a_changed_return_value_is_caught_on_replay(golden):
    comparison = check(golden, f"{IMPLS}:changed_status_code")

    assert kinds(comparison) == ["output"]
    assert comparison.differences[0].details == ("root['result']['statusCode']: recorded 200, now 207",)


def test_an_extra_write_made_on_replay_is_reported_as_unrecorded_and_as_a_write(golden):
    comparison = check(golden, f"{IMPLS}:extra_inventory_write")

    assert kinds(comparison) == ["unrecorded", "write"]
    assert comparison.differences[0].summary == "unrecorded call: dynamodb PutItem in us-east-1 as hub"
    assert comparison.differences[1].summary == "the candidate makes 1 extra writes after the golden's 3"


def test_raising_instead_of_returning_is_caught(golden):
    comparison = check(golden, f"{IMPLS}:raises_runtime_error")

    assert kinds(comparison) == ["output"]
    assert comparison.differences[0].details[0] == (
        "root['exception']: dictionary item added "
        "({'type': 'RuntimeError', 'message': 'sync finished but the candidate gave up'})"
    )
    assert (
        comparison.differences[0].details[1].startswith("root['result']: dictionary item removed ({'statusCode': 200")
    )


def test_a_different_exception_than_the_recorded_one_is_caught(golden):
    raised = Outputs(exception={"type": "RuntimeError", "message": "sync finished but the candidate gave up"})
    golden_that_raised = dataclasses.replace(golden, outputs=raised)

    assert check(golden_that_raised, f"{IMPLS}:raises_runtime_error").equivalent
    comparison = check(golden_that_raised, f"{IMPLS}:raises_value_error")

    assert kinds(comparison) == ["output"]
    assert comparison.differences[0].details == (
        "root['exception']['type']: recorded 'RuntimeError', now 'ValueError'",
    )
