"""Defect 4 fixed as an approved divergence: the region status row counts every account's servers.

On the `region-status-overwrite` scenario the legacy leaves eu-west-1 with serverCount 0 (the last account has no
server there), so the region turns inactive for every account; the refactored sync writes running totals, so the
region keeps 3 servers. The gate approves exactly that change by name; other counts are refused.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from harness.approved import defect_04_region_status_running_total as defect_4
from harness.comparison import Difference
from harness.divergences import DivergenceContext
from harness.gate import judge
from harness.golden import GOLDEN_DIR, read_golden
from harness.lambda_env import REPO_ROOT, import_lambda_module
from harness.runner import run_scenario
from harness.scheduling import Schedule
from harness.world.scenario import load_scenario

NAME = "defect-4-region-status-running-total"
SCENARIO = REPO_ROOT / "scenarios" / "region-status-overwrite.yaml"
GOLDENS = ["region-status-overwrite.json", "region-status-overwrite@seed-7.json", "many-regions-two-accounts.json"]
THIS = "tests.harness.test_approved_defect_04"


def final_region_rows(impl: str) -> dict[str, dict[str, Any]]:
    """The region status table after `impl` ran on the scenario's local AWS, by region."""
    report = run_scenario(load_scenario(SCENARIO), impl, Schedule("submission"))
    return {row["region"]: row for row in report.tables["region_status"]}


def total_before_the_account() -> dict[str, Any]:
    """A wrong fix: each account's rows carry the total of the accounts before it, not including its own servers."""
    sync = import_lambda_module("inventory_sync")

    record = sync.regions.record_region_statuses

    def prior_total(account_id: Any, statuses: dict[str, Any], now: str, totals: dict[str, int] | None = None) -> None:
        """The rows written with the running totals before this account's servers are added."""
        if totals is None:
            record(account_id, statuses, now)
            return
        before = dict(totals)
        record(
            account_id,
            {region: {**status, "serverCount": before.get(region, 0)} for region, status in statuses.items()},
            now,
        )
        for region, status in statuses.items():
            totals[region] = before.get(region, 0) + int(status["serverCount"])

    sync.regions.record_region_statuses = prior_total
    return dict(sync.sync_source_server_inventory())


def test_the_legacy_lets_the_last_account_turn_a_region_inactive_and_the_fix_keeps_it() -> None:
    legacy, fixed = final_region_rows("legacy"), final_region_rows("refactored")

    # Accounts 111 (2 + 2 servers), 222 (2 + 1), 333 (2 in us-east-1 only), synced in that order.
    assert (legacy["eu-west-1"]["accountId"], legacy["eu-west-1"]["serverCount"]) == ("333333333333", 0)
    assert legacy["us-east-1"]["serverCount"] == 2
    assert (fixed["eu-west-1"]["accountId"], fixed["eu-west-1"]["serverCount"]) == ("333333333333", 3)
    assert (fixed["us-east-1"]["serverCount"], fixed["us-east-1"]["status"]) == (6, "ACTIVE")


@pytest.mark.parametrize("name", GOLDENS)
def test_the_fix_is_approved_by_name_and_divergent_without_it(name: str) -> None:
    golden = read_golden(GOLDEN_DIR / name)

    assert judge(golden, "refactored", registry=()).verdict == "DIVERGENT"
    verdict = judge(golden, "refactored")
    assert verdict.passed and NAME in {divergence.name for divergence in verdict.approved}, verdict.label
    covered = verdict.covered_by(NAME)
    assert covered and {(d.kind, d.change, d.operation) for d in covered} <= {
        ("write", "changed", "PutItem"),
        ("write", "changed", "BatchWriteItem"),
    }


def test_the_golden_running_totals_follow_the_accounts_rows() -> None:
    totals = defect_4.region_totals(read_golden(GOLDEN_DIR / "region-status-overwrite.json"))

    assert totals is not None and len(totals.counts) == 3
    assert [totals.running_total(occurrence, "eu-west-1") for occurrence in range(3)] == [2, 3, 3]
    assert [totals.running_total(occurrence, "us-east-1") for occurrence in range(3)] == [2, 4, 6]


def test_a_total_that_leaves_out_the_account_itself_stays_divergent() -> None:
    golden = read_golden(GOLDEN_DIR / "region-status-overwrite.json")

    verdict = judge(golden, f"{THIS}:total_before_the_account", registry=defect_4.DIVERGENCES)

    assert verdict.verdict == "DIVERGENT"
    assert any(difference.kind == "unrecorded" for difference in verdict.uncovered)


def test_the_matcher_refuses_any_other_count_or_field() -> None:
    golden = read_golden(GOLDEN_DIR / "region-status-overwrite.json")
    verdict = judge(golden, "refactored")
    context = DivergenceContext(golden)
    batch = next(d for d in verdict.covered_by(NAME) if d.operation == "BatchWriteItem")
    put = next(d for d in verdict.covered_by(NAME) if d.operation == "PutItem")
    assert defect_4.running_total_write(batch, context) and defect_4.running_total_write(put, context)

    def altered(difference: Difference, change: Any) -> Difference:
        """The difference with its candidate side's item changed by `change`."""
        candidate = dict(difference.candidate)
        params = copy.deepcopy(candidate["params"])
        change(params)
        return dataclasses.replace(difference, candidate={**candidate, "params": params})

    def first_row(params: dict[str, Any]) -> dict[str, Any]:
        """The first batch row's item."""
        return dict(params["RequestItems"][defect_4.region_table(golden) or ""][0]["PutRequest"]["Item"])

    def bump_batch_count(params: dict[str, Any]) -> None:
        """One server more in the first row."""
        item = first_row(params)
        item["serverCount"] = {"N": str(int(item["serverCount"]["N"]) + 1)}
        params["RequestItems"][defect_4.region_table(golden) or ""][0]["PutRequest"]["Item"] = item

    def rename_batch_account(params: dict[str, Any]) -> None:
        """Another accountId in the first row."""
        item = first_row(params)
        item["accountId"] = {"S": "000000000000"}
        params["RequestItems"][defect_4.region_table(golden) or ""][0]["PutRequest"]["Item"] = item

    def wrong_put_status(params: dict[str, Any]) -> None:
        """A status the count does not give."""
        params["Item"] = {**params["Item"], "status": {"S": "ERROR"}}

    assert not defect_4.running_total_write(altered(batch, bump_batch_count), context)
    assert not defect_4.running_total_write(altered(batch, rename_batch_account), context)
    assert not defect_4.running_total_write(altered(put, wrong_put_status), context)


def test_a_put_right_after_a_full_batch_belongs_to_that_batchs_account() -> None:
    # With 28 regions the 25th row fills the batch, which goes out before that region's PutItem.
    golden = read_golden(GOLDEN_DIR / "many-regions-two-accounts.json")
    totals = defect_4.region_totals(golden)
    assert totals is not None
    table = defect_4.region_table(golden) or ""
    after_full_batch = [
        index
        for index, interaction in enumerate(golden.interactions)
        if interaction.operation == "PutItem"
        and golden.interactions[index - 1].operation == "BatchWriteItem"
        and len(golden.interactions[index - 1].params["RequestItems"].get(table, [])) == 25
    ]

    assert len(after_full_batch) == 2
    assert [totals.occurrence_of_put[index] for index in after_full_batch] == [0, 1]
