"""Defect 5 fixed as an approved divergence: an account row without roleArn is skipped, not read as the hub.

The legacy (its golden, and a live run on the scenario's local AWS) queries account 444444444444, which has no
roleArn, with the hub's own credentials and files the hub's servers under it. The refactored sync skips it: the gate
approves that change by name, and variants of the fix that differ in any other way stay DIVERGENT.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from harness.approved import defect_05_no_hub_credentials_without_role as defect_5
from harness.approved.account_segments import account_segments, without_role_arn
from harness.cassette import Cassette
from harness.experiment import record_scenario
from harness.gate import judge
from harness.golden import GOLDEN_DIR, read_golden
from harness.lambda_env import REPO_ROOT, import_lambda_module
from harness.world.scenario import load_scenario, parse_scenario

NAME = "defect-5-no-hub-credentials-without-role"
SCENARIO = REPO_ROOT / "scenarios" / "target-without-role-arn.yaml"
GOLDEN = GOLDEN_DIR / "target-without-role-arn.json"
HUB_AS_SECOND = GOLDEN_DIR / "many-regions-two-accounts.json"
NO_ROLE, PROD = "444444444444", "111111111111"
THIS = "tests.harness.test_approved_defect_05"


def body(cassette: Cassette) -> dict[str, Any]:
    """The response body of a recorded run that returned."""
    result = cassette.outputs.result
    assert isinstance(result, dict), cassette.outputs.to_dict()
    return dict(json.loads(result["body"]))


def region_status_accounts(cassette: Cassette) -> list[str]:
    """The accountId of every region status row the run's batches wrote, in order."""
    return [
        request["PutRequest"]["Item"]["accountId"]["S"]
        for interaction in cassette.interactions
        if interaction.operation == "BatchWriteItem"
        for request in interaction.params["RequestItems"].get("drs-region-status", [])
    ]


@pytest.fixture(scope="module")
def golden() -> Cassette:
    """The legacy's golden of the scenario (submission order)."""
    return read_golden(GOLDEN)


# Candidates: wrong variants of the fix --------------------------------------------------------------------------


def skip_without_asking_sts() -> dict[str, Any]:
    """A wrong fix: an account without roleArn is skipped before its GetCallerIdentity (the hub's row too)."""
    sync = import_lambda_module("inventory_sync")
    is_hub = sync.orchestrator.is_hub_account

    def hub(account: dict[str, Any], sts_client: Any = None) -> bool:
        """No call at all for a row without roleArn: never the hub."""
        return False if not account.get("roleArn") else bool(is_hub(account, sts_client))

    sync.orchestrator.is_hub_account = hub
    return dict(sync.sync_source_server_inventory())


def skip_the_hub_too() -> dict[str, Any]:
    """A wrong fix: every row without roleArn is skipped, the hub's own row included."""
    sync = import_lambda_module("inventory_sync")
    is_hub = sync.orchestrator.is_hub_account

    def hub(account: dict[str, Any], sts_client: Any = None) -> bool:
        """The hub's own row without roleArn goes through (refused) AssumeRole as well."""
        return bool(is_hub(account, sts_client)) and bool(account.get("roleArn"))

    sync.orchestrator.is_hub_account = hub
    return dict(sync.sync_source_server_inventory())


# The legacy's behaviour ----------------------------------------------------------------------------------------


def test_the_golden_attributes_the_hubs_calls_to_the_account_without_role(golden: Cassette) -> None:
    segments = account_segments(golden)
    assert [segment.account_id for segment in segments] == [PROD, NO_ROLE]
    [skipped] = without_role_arn(golden)
    calls = golden.interactions[skipped.start : skipped.end]

    assert calls[0].operation == "GetCallerIdentity"
    # The legacy reads DRS as the hub for that account, and writes its status and inventory.
    assert [(call.service, call.identity, call.operation) for call in calls[1:2]] == [
        ("drs", "hub", "DescribeSourceServers")
    ]
    assert [call.operation for call in calls if call.service == "dynamodb"] == ["PutItem", *["BatchWriteItem"] * 2]
    assert region_status_accounts(golden) == [PROD, NO_ROLE]
    assert body(golden)["totalSynced"] == 3


def test_the_legacy_and_the_refactored_sync_on_the_local_aws(caplog: pytest.LogCaptureFixture) -> None:
    scenario = load_scenario(SCENARIO)
    legacy = record_scenario(scenario, "legacy")
    with caplog.at_level(logging.ERROR):
        fixed = record_scenario(scenario, "refactored")

    hub_reads = [call for call in legacy.interactions if call.service == "drs" and call.identity == "hub"]
    assert len(hub_reads) == 1 and body(legacy)["totalSynced"] == 3
    assert region_status_accounts(legacy) == [PROD, NO_ROLE]

    assert [call for call in fixed.interactions if call.service == "drs" and call.identity == "hub"] == []
    assert region_status_accounts(fixed) == [PROD]
    assert body(fixed)["totalSynced"] == 2 and body(fixed)["totalErrors"] == 0
    assert any(NO_ROLE in record.getMessage() and "roleArn" in record.getMessage() for record in caplog.records)


# The gate ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["target-without-role-arn.json", "target-without-role-arn@reverse.json"])
def test_the_fix_is_approved_by_name_and_divergent_without_it(name: str) -> None:
    golden = read_golden(GOLDEN_DIR / name)

    assert judge(golden, "refactored", registry=()).verdict == "DIVERGENT"
    verdict = judge(golden, "refactored")
    assert verdict.passed and NAME in {divergence.name for divergence in verdict.approved}, verdict.label
    covered = verdict.covered_by(NAME)
    assert {(d.kind, d.change) for d in covered} == {("read", "missing"), ("write", "missing"), ("output", "changed")}
    assert sum(1 for d in covered if d.kind == "write") == 3


def test_the_hubs_own_row_without_role_is_still_read() -> None:
    # The hub is the second target account and has no roleArn: the fix changes nothing there (only defect 4 shows).
    verdict = judge(read_golden(HUB_AS_SECOND), "refactored")
    assert verdict.passed and verdict.covered_by(NAME) == []
    assert without_role_arn(read_golden(HUB_AS_SECOND)) == []


@pytest.mark.parametrize(
    ("candidate", "golden_path", "uncovered"),
    [
        ("skip_without_asking_sts", GOLDEN, ("read", "GetCallerIdentity")),
        ("skip_the_hub_too", HUB_AS_SECOND, ("read", "DescribeSourceServers")),
    ],
)
def test_wrong_variants_of_the_fix_stay_divergent(candidate: str, golden_path: Any, uncovered: tuple[str, str]) -> None:
    verdict = judge(read_golden(golden_path), f"{THIS}:{candidate}")

    assert verdict.verdict == "DIVERGENT"
    assert uncovered in {(atom.kind, atom.operation) for d in verdict.uncovered for atom in d.atoms()}


def test_the_matchers_name_only_that_accounts_calls(golden: Cassette) -> None:
    [skipped] = without_role_arn(golden)
    # Its identity call stays; everything after it up to the cleanup's Scan is what the fix no longer makes.
    assert defect_5.skipped_indexes(golden) == set(range(skipped.start + 1, skipped.end))
    assert golden.interactions[skipped.end].params.get("FilterExpression") == "sourceAccountId = :acct_id"


def test_with_no_account_left_the_fix_completes_with_nothing_synced() -> None:
    # The only target row has no roleArn: the legacy syncs the hub's servers under it; the fix skips it, so no
    # account is read and the sync completes with nothing synced or cleaned (defect 3's fix).
    world = parse_scenario(
        {
            "name": "defect-05-only-row-without-role",
            "seed": 5,
            "hub_account": "999999999999",
            "active_regions": [{"region": "us-east-1", "serverCount": 1}],
            "target_accounts": [{"accountId": NO_ROLE, "accountName": "legacy-dc"}],
            "accounts": {"999999999999": {"drs": {"us-east-1": {"servers": 1}}}},
        },
        source="<test>",
    )
    legacy = record_scenario(world, "legacy")

    verdict = judge(legacy, "refactored")

    assert body(legacy)["totalSynced"] == 1
    assert verdict.passed and NAME in {divergence.name for divergence in verdict.approved}, verdict.label
    fixed = record_scenario(world, "refactored")
    assert (body(fixed)["totalSynced"], body(fixed)["totalErrors"], body(fixed)["staleRecordsDeleted"]) == (0, 0, 0)
    covered = [coverage.difference for coverage in verdict.covered]
    assert any(d.kind == "read" and d.operation == "Scan" for d in covered)
