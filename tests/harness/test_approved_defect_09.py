"""Defect 9's approved fix: every page of the target accounts Scan is read.

The `defect-09-targets-two-pages` goldens show the legacy: the target accounts Scan returns a LastEvaluatedKey (three
rows of runbook notes are over 1 MB), only the first page is read, and the third account is never synced. Replayed
into the refactored sync they pass only as `approved (defect-9-every-target-page)`: the second page is read, the
third account is synced (empty in the active region) and cleaned up like every account read. Without the approval, or
with a wrong variant of the fix, they are DIVERGENT.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.approved import defect_09_every_target_page as defect_9
from harness.approved import registered_divergences
from harness.approved.inventory_state import cleanup_scan_accounts
from harness.cassette import Cassette
from harness.divergences import answered_cassette, applicable, dynamodb_item
from harness.gate import judge
from harness.golden import GOLDEN_DIR, read_golden
from harness.lambda_env import import_lambda_module
from harness.replay_session import replay

NAME = "defect-9-every-target-page"
SCENARIO = "defect-09-targets-two-pages"
SANDBOX = "333333333333"
HERE = "tests.harness.test_approved_defect_09"


@pytest.fixture(params=["", "@reverse", "@seed-7"])
def golden(request: pytest.FixtureRequest) -> Cassette:
    """One of the scenario's goldens."""
    return read_golden(GOLDEN_DIR / f"{SCENARIO}{request.param}.json")


def candidate_calls(cassette: Cassette, impl: str = "refactored") -> list[Any]:
    """The calls `impl` made replayed against the golden plus the production registry's answers."""
    divergences = applicable(registered_divergences(), cassette.header)
    return list(replay(answered_cassette(cassette, divergences), impl).observed)


def target_scans(calls: list[Any]) -> list[Any]:
    """The Scans of the target accounts table."""
    return [call for call in calls if call.operation == "Scan" and call.params["TableName"] == "target-accounts"]


def cleanup_accounts(calls: list[Any]) -> list[str]:
    """The accounts the stale-cleanup Scans filter on, in order, each once (a Scan in segments names them in each)."""
    named = [
        str(account)
        for call in calls
        if call.operation == "Scan" and call.params["TableName"] == "source-server-inventory"
        for account in cleanup_scan_accounts(call.params) or []
    ]
    return list(dict.fromkeys(named))


def test_the_legacy_reads_one_page_and_never_syncs_the_third_account(golden: Cassette) -> None:
    calls = list(golden.interactions)
    (scan,) = target_scans(calls)

    assert scan.response["LastEvaluatedKey"] == {"accountId": {"S": "222222222222"}}
    assert [item["accountId"]["S"] for item in scan.response["Items"]] == ["111111111111", "222222222222"]
    assert not any(call.identity == SANDBOX for call in calls)
    assert cleanup_accounts(calls) == ["222222222222"]


def test_the_fix_syncs_the_second_pages_account_approved_by_name(golden: Cassette) -> None:
    verdict = judge(golden, "refactored")
    calls = candidate_calls(golden)

    assert verdict.verdict == "approved"
    assert NAME in {divergence.name for divergence in verdict.approved}
    _, second = target_scans(calls)
    assert second.params["ExclusiveStartKey"] == {"accountId": {"S": "222222222222"}}
    assert [(call.service, call.operation) for call in calls if call.identity == SANDBOX] == [
        ("drs", "DescribeSourceServers")
    ]
    rows = [
        dynamodb_item(request["PutRequest"]["Item"])
        for call in calls
        if call.operation == "BatchWriteItem"
        for request in call.params["RequestItems"].get("drs-region-status", [])
    ]
    # The sandbox account has no server; its row carries the region's running total over the accounts before it
    # (defect 4's fix): 2 + 1 servers of the first page's accounts.
    assert {"region": "us-east-1", "accountId": SANDBOX, "status": "ACTIVE", "serverCount": 3} in [
        {key: row[key] for key in ("region", "accountId", "status", "serverCount")} for row in rows
    ]
    # The cleanup covers every account read (defect 1's fix), the second page's account included.
    assert cleanup_accounts(calls) == ["111111111111", "222222222222", SANDBOX]
    assert verdict.comparison.differences  # the golden is not met as it is: the approval covers the differences


def test_without_the_approval_the_fix_is_divergent(golden: Cassette) -> None:
    others = tuple(divergence for divergence in registered_divergences() if divergence.name != NAME)

    assert judge(golden, "refactored", registry=others).verdict == "DIVERGENT"


def later_pages_first() -> dict[str, Any]:
    """A wrong fix: every page is read, but the accounts of the later pages are synced first."""
    sync = import_lambda_module("inventory_sync")
    collect = sync.orchestrator.collect_accounts_to_query

    def reordered() -> list[dict[str, Any]]:
        """The accounts, the last one first."""
        accounts = collect()
        return accounts[-1:] + accounts[:-1]

    sync.orchestrator.collect_accounts_to_query = reordered
    return dict(sync.sync_source_server_inventory())


def later_pages_read_not_synced() -> dict[str, Any]:
    """A wrong fix: every page is read, but only the first page's accounts are synced."""
    sync = import_lambda_module("inventory_sync")
    collect = sync.orchestrator.collect_accounts_to_query
    sync.orchestrator.collect_accounts_to_query = lambda: collect()[:2]
    return dict(sync.sync_source_server_inventory())


@pytest.mark.parametrize("variant", ["later_pages_first", "later_pages_read_not_synced"])
def test_a_wrong_variant_of_the_fix_is_divergent(variant: str) -> None:
    cassette = read_golden(GOLDEN_DIR / f"{SCENARIO}.json")

    assert judge(cassette, f"{HERE}:{variant}").verdict == "DIVERGENT"


def test_goldens_whose_targets_fit_one_page_need_no_plan() -> None:
    assert defect_9.plan(read_golden(GOLDEN_DIR / "stale-cleanup-multi-account.json")) is None
