"""Defect 6 fixed as an approved divergence: every item of a failed inventory batch is an error, and the sync goes on.

On `defect-06-lost-batches` the legacy loses prod's first batch of 25 for one counted error, then aborts at the last
account's failed final flush. The refactored sync counts 25 + 3 errors, writes and counts only the 5 items DynamoDB
accepted, runs the stale cleanup and answers 200. The gate approves exactly that; miscounting variants stay DIVERGENT.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from harness.approved import defect_06_count_every_lost_item as defect_6
from harness.cassette import Cassette
from harness.experiment import record_scenario
from harness.gate import judge
from harness.golden import GOLDEN_DIR, read_golden
from harness.lambda_env import REPO_ROOT, import_lambda_module
from harness.runner import run_scenario
from harness.scheduling import Schedule
from harness.world.scenario import load_scenario, parse_scenario

NAME = "defect-6-count-every-lost-item"
SCENARIO = REPO_ROOT / "scenarios" / "defect-06-lost-batches.yaml"
STALE_ROW = "arn:aws:drs:us-east-1:222222222222:source-server/s-00000000000000e01"
THIS = "tests.harness.test_approved_defect_06"
DENIED = {"code": "AccessDeniedException", "message": "User is not authorized to perform dynamodb:BatchWriteItem"}
# One account, 30 servers, its first inventory batch of 25 denied (BatchWriteItem call 2, after the status batch).
MID_RUN_ONLY = {
    "name": "defect-06-mid-run-only",
    "seed": 62,
    "hub_account": "999999999999",
    "active_regions": [{"region": "us-east-1", "serverCount": 30}],
    "target_accounts": [
        {"accountId": "111111111111", "roleArn": "arn:aws:iam::111111111111:role/DRSOrchestrationRole"},
    ],
    "accounts": {"111111111111": {"drs": {"us-east-1": {"servers": 30}}}},
    "faults": [{"service": "dynamodb", "operation": "BatchWriteItem", "on_call": 2, "error": DENIED}],
}


def body(cassette: Cassette) -> dict[str, Any]:
    """The response body of a recorded run that returned."""
    result = cassette.outputs.result
    assert isinstance(result, dict), cassette.outputs.to_dict()
    return dict(json.loads(result["body"]))


def miscount_lost_as_synced() -> dict[str, Any]:
    """A wrong fix: a failed batch's items are counted as errors and as synced."""
    sync = import_lambda_module("inventory_sync")
    send = sync.inventory_writes.send_batch

    def send_and_miscount(table: Any, waiting: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int, int]:
        """The fixed batch, then the lost items added to the written ones."""
        rest, accepted, lost = send(table, waiting)
        return rest, accepted + lost, lost

    sync.inventory_writes.send_batch = send_and_miscount
    return dict(sync.sync_source_server_inventory())


def one_error_per_failed_batch() -> dict[str, Any]:
    """A wrong fix: the sync goes on after a failed final flush, but counts as the legacy (one error per batch)."""
    sync = import_lambda_module("inventory_sync")
    send = sync.inventory_writes.send_batch

    def send_and_count_once(table: Any, waiting: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int, int]:
        """The fixed batch, then a failed batch counted as one error and the rest as written."""
        rest, accepted, lost = send(table, waiting)
        return (rest, accepted + lost - 1, 1) if lost else (rest, accepted, lost)

    sync.inventory_writes.send_batch = send_and_count_once
    return dict(sync.sync_source_server_inventory())


def test_the_legacy_counts_one_error_for_a_lost_batch_and_the_fix_every_item() -> None:
    scenario = parse_scenario(MID_RUN_ONLY, source="<test>")

    legacy = record_scenario(scenario, "legacy")
    fixed = record_scenario(scenario, "refactored")

    assert (body(legacy)["totalSynced"], body(legacy)["totalErrors"]) == (29, 1)
    assert (body(fixed)["totalSynced"], body(fixed)["totalErrors"]) == (5, 25)
    verdict = judge(legacy, "refactored")
    assert verdict.passed and NAME in {divergence.name for divergence in verdict.approved}, verdict.label


def test_the_legacy_aborts_at_the_last_final_flush_and_the_fix_completes(caplog: pytest.LogCaptureFixture) -> None:
    scenario = load_scenario(SCENARIO)
    legacy = run_scenario(scenario, "legacy", Schedule("submission"))
    with caplog.at_level(logging.ERROR):
        fixed = run_scenario(scenario, "refactored", Schedule("submission"))

    assert legacy.outputs.exception is not None and legacy.outputs.exception["type"] == "ClientError"
    assert STALE_ROW in {row["sourceServerArn"] for row in legacy.tables["inventory"]}
    assert fixed.outputs.result is not None and fixed.outputs.result["statusCode"] == 200
    result = json.loads(fixed.outputs.result["body"])
    assert (result["totalSynced"], result["totalErrors"], result["staleRecordsDeleted"]) == (5, 28, 1)
    assert STALE_ROW not in {row["sourceServerArn"] for row in fixed.tables["inventory"]}
    assert len(fixed.tables["inventory"]) == 5
    lost = [record.getMessage() for record in caplog.records if "lost with its failed batch" in record.getMessage()]
    assert len(lost) == 28 and sum("222222222222" in message for message in lost) == 3


@pytest.mark.parametrize(
    "name",
    [
        "defect-06-lost-batches.json",
        "defect-06-lost-batches@reverse.json",
        "dynamodb-final-flush-fails.json",
        "ddb-empty-key-attribute@seed-7.json",
    ],
)
def test_the_fix_is_approved_by_name_and_divergent_without_it(name: str) -> None:
    golden = read_golden(GOLDEN_DIR / name)

    assert judge(golden, "refactored", registry=()).verdict == "DIVERGENT"
    verdict = judge(golden, "refactored")
    assert verdict.passed and NAME in verdict.label
    kinds = {(d.kind, d.change, d.operation) for d in verdict.covered_by(NAME)}
    covered = {(c.difference.kind, c.difference.change, c.difference.operation) for c in verdict.covered}
    # The cleanup Scan after the former abort is the cleanup of defect 1's fix, which claims it first.
    assert ("output", "changed", None) in kinds and ("read", "extra", "Scan") in covered


def test_the_cleanup_is_answered_only_where_the_legacy_aborted_at_a_final_flush() -> None:
    assert defect_6.fix_answers(read_golden(GOLDEN_DIR / "ddb-throughput-exceeded-batch.json")) == []
    answers = defect_6.fix_answers(read_golden(GOLDEN_DIR / "defect-06-lost-batches.json"))
    # The stale row of the last account (its own rows were lost with its final flush).
    assert [answer.operation for answer in answers] == ["Scan", "DeleteItem"]


@pytest.mark.parametrize("candidate", ["miscount_lost_as_synced", "one_error_per_failed_batch"])
def test_miscounting_variants_stay_divergent(candidate: str) -> None:
    verdict = judge(read_golden(GOLDEN_DIR / "defect-06-lost-batches.json"), f"{THIS}:{candidate}")

    assert verdict.verdict == "DIVERGENT"
    assert [difference.kind for difference in verdict.uncovered] == ["output"]
