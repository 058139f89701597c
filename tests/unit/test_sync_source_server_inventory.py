"""Integration tests of the orchestrator `sync_source_server_inventory`.

The orchestrator runs whole on small local-AWS worlds (two target accounts, stale rows, failing regions and
AssumeRoles): its API-Gateway response, the tables it leaves, the order of its steps. Backward compatibility is
checked by replaying the legacy's goldens into it: every AWS call and the outputs must match the recording, but for
approved divergences (fixed legacy defects, harness/approved/).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.gate import judge_golden
from harness.golden import read_golden
from harness.lambda_env import import_lambda_module
from harness.recorder import Recorder
from harness.scheduling import Schedule, controlled_scheduling
from tests.unit.support import (
    NOW,
    PROD,
    REGION_STATUS_TABLE,
    TARGET_ACCOUNTS_TABLE,
    WORKLOADS,
    SyncWorld,
    calls,
    cleanup_segment_params,
    open_sync_world,
    operations,
    recording,
    role_arn,
    scenario,
    target_row,
)

HEADERS = {
    "Content-Type": "application/json",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Content-Type,Authorization",
    "Access-Control-Allow-Methods": "GET,POST,PUT,DELETE,OPTIONS",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
DENIED = "User is not authorized to perform drs:DescribeSourceServers"
GOLDEN_DIR = Path(__file__).resolve().parents[2] / "golden"


def stale_row(name: str, account: str) -> dict[str, Any]:
    """An inventory row left by an earlier sync for a server `account` no longer has."""
    return {
        "sourceServerArn": f"arn:aws:drs:us-east-1:{account}:source-server/s-{name}",
        "stagingAccountId": account,
        "sourceAccountId": account,
    }


TWO_ACCOUNTS = scenario(
    active_regions=[{"region": "us-east-1", "serverCount": 2}, {"region": "us-west-2", "serverCount": 1}],
    target_accounts=[target_row(PROD, "ext-prod-7f3a"), target_row(WORKLOADS, "ext-workloads-9e6c")],
    accounts={
        PROD: {"drs": {"us-east-1": {"servers": 2}, "us-west-2": {"servers": 1}}},
        WORKLOADS: {
            "drs": {
                "us-east-1": {"servers": 3},
                "us-west-2": {"servers": 1, "error": {"code": "AccessDeniedException", "message": DENIED}},
            }
        },
    },
    inventory_before=[stale_row("gone-prod", PROD), stale_row("gone-workloads", WORKLOADS)],
    # No read-ahead: the refactored sync then makes its calls in the legacy's exact order, which the order tests
    # below pin. With the default window, later accounts' reads run ahead; the gate compares reads as a multiset.
    env={"INVENTORY_SYNC_ACCOUNT_WINDOW": "1"},
)


@dataclass
class SyncRun:
    """One run of the orchestrator: its response, its calls, the tables afterwards, the region cache left."""

    response: dict[str, Any]
    recorder: Recorder
    tables: dict[str, list[dict[str, Any]]]
    region_cache: dict[str, Any]

    @property
    def body(self) -> dict[str, Any]:
        """The decoded JSON body."""
        return dict(json.loads(self.response["body"]))


def run_sync(world: SyncWorld, schedule: str = "submission") -> SyncRun:
    """Run the orchestrator once in `world`, recording its calls, region queries completing in `schedule` order."""
    with recording() as recorder, controlled_scheduling(Schedule.parse(schedule)):
        response = world.module.sync_source_server_inventory()
    region_filter = import_lambda_module("shared.active_region_filter")
    return SyncRun(response, recorder, world.tables(), dict(region_filter._region_cache["active_regions"]))


@pytest.fixture(scope="class")
def two_accounts_run() -> Iterator[SyncRun]:
    """One run over TWO_ACCOUNTS, shared by the tests that only read what it did."""
    with open_sync_world(TWO_ACCOUNTS) as world:
        yield run_sync(world)


class TestTwoAccountSync:
    """A whole sync of two target accounts."""

    def test_the_response_is_the_legacy_api_gateway_response(self, two_accounts_run: SyncRun) -> None:
        assert two_accounts_run.response["statusCode"] == 200
        assert two_accounts_run.response["headers"] == HEADERS
        assert two_accounts_run.body == {
            "message": "Source server inventory sync complete",
            "totalSynced": 6,
            "totalErrors": 0,
            "staleRecordsDeleted": 2,
            "regionsScanned": 2,
            "regionsSkipped": 26,
            "timestamp": NOW,
        }
        assert list(two_accounts_run.body) == [
            "message",
            "totalSynced",
            "totalErrors",
            "staleRecordsDeleted",
            "regionsScanned",
            "regionsSkipped",
            "timestamp",
        ]

    def test_every_server_is_in_the_inventory_with_the_sync_timestamp(self, two_accounts_run: SyncRun) -> None:
        synced = [row for row in two_accounts_run.tables["inventory"] if row.get("lastUpdated") == NOW]

        assert sorted(row["sourceAccountId"] for row in synced) == [PROD] * 3 + [WORKLOADS] * 3
        assert all("networkConfig" in row and "sourceTags" in row for row in synced)

    def test_cleanup_covers_every_account(self, two_accounts_run: SyncRun) -> None:
        arns = {row["sourceServerArn"] for row in two_accounts_run.tables["inventory"]}

        # Legacy defect 1 fixed (approved divergence): the first account's stale row goes too.
        assert stale_row("gone-workloads", WORKLOADS)["sourceServerArn"] not in arns
        assert stale_row("gone-prod", PROD)["sourceServerArn"] not in arns

    def test_region_rows_are_the_last_accounts_counting_every_accounts_servers(self, two_accounts_run: SyncRun) -> None:
        rows = {row["region"]: row for row in two_accounts_run.tables["region_status"]}

        # Defect 4 fixed: the row keyed by region carries the servers of both accounts (2 + 3), the last's status.
        assert rows["us-east-1"] == {
            "region": "us-east-1",
            "accountId": WORKLOADS,
            "status": "ACTIVE",
            "serverCount": 5,
            "lastUpdated": NOW,
        }
        # Only the first account has a server in us-west-2: the region stays active despite the last one's error.
        assert rows["us-west-2"]["serverCount"] == 1
        assert rows["us-west-2"]["status"] == "IAM_PERMISSION_DENIED"
        assert rows["us-west-2"]["errorMessage"] == f"IAM permissions denied: {DENIED}"

    def test_the_steps_run_in_the_legacy_order(self, two_accounts_run: SyncRun) -> None:
        steps = operations(two_accounts_run.recorder)

        # Active regions, then the target accounts, then per account: identity, role, DRS, region statuses,
        # enrichment, inventory writes; last, the cleanup: one Scan of every account read (a parallel Scan in four
        # segments, projected on what the cleanup reads), then the stale rows' deletes, in the table's scan order.
        assert steps[:3] == ["dynamodb:Scan", "dynamodb:Scan", "sts:GetCallerIdentity"]
        scans = calls(two_accounts_run.recorder, "dynamodb", "Scan")
        assert [scan.params["TableName"] for scan in scans] == [
            REGION_STATUS_TABLE,
            TARGET_ACCOUNTS_TABLE,
            *["source-server-inventory"] * 4,
        ]
        assert sorted((scan.params for scan in scans[2:]), key=lambda params: params["Segment"]) == (
            cleanup_segment_params("source-server-inventory", [PROD, WORKLOADS])
        )
        assert steps[-6:] == ["dynamodb:Scan"] * 4 + ["dynamodb:DeleteItem", "dynamodb:DeleteItem"]
        # The stale rows are deleted in the order the segments, joined in segment order, returned them.
        deletes = calls(two_accounts_run.recorder, "dynamodb", "DeleteItem")
        scanned = [
            item["sourceServerArn"]["S"]
            for scan in sorted(scans[2:], key=lambda scan: scan.params["Segment"])
            for item in scan.response["Items"]
        ]
        stale = {
            stale_row("gone-prod", PROD)["sourceServerArn"],
            stale_row("gone-workloads", WORKLOADS)["sourceServerArn"],
        }
        assert [delete.params["Key"]["sourceServerArn"]["S"] for delete in deletes] == [
            arn for arn in scanned if arn in stale
        ]
        assert len(deletes) == 2
        second_account_start = next(
            index
            for index, call in enumerate(two_accounts_run.recorder.interactions)
            if call.operation == "AssumeRole" and call.params["RoleArn"] == role_arn(WORKLOADS)
        )
        # PROD: two regions of one page each, two origin groups (PROD in us-east-1 and in us-west-2).
        assert steps[2 : second_account_start - 1] == [
            "sts:GetCallerIdentity",
            "sts:AssumeRole",
            "drs:DescribeSourceServers",
            "drs:DescribeSourceServers",
            "dynamodb:PutItem",
            "dynamodb:PutItem",
            "dynamodb:BatchWriteItem",
            "sts:GetCallerIdentity",
            "dynamodb:GetItem",
            "sts:AssumeRole",
            "ec2:DescribeInstances",
            "sts:GetCallerIdentity",
            "dynamodb:GetItem",
            "sts:AssumeRole",
            "ec2:DescribeInstances",
            "dynamodb:BatchWriteItem",
        ]
        assert steps[second_account_start - 1] == "sts:GetCallerIdentity"

    def test_each_account_is_assumed_then_each_origin(self, two_accounts_run: SyncRun) -> None:
        assumed = [
            (call.params["RoleArn"], call.params["RoleSessionName"])
            for call in calls(two_accounts_run.recorder, "sts", "AssumeRole")
        ]

        assert assumed[0] == (role_arn(PROD), "inventory-sync")
        assert (role_arn(WORKLOADS), "inventory-sync") in assumed
        assert {name for _, name in assumed} == {"inventory-sync", "inventory-ec2-query"}
        assert assumed.index((role_arn(WORKLOADS), "inventory-sync")) > assumed.index(
            (role_arn(PROD), "inventory-ec2-query")
        )

    def test_the_region_cache_is_invalidated_at_the_end(self, two_accounts_run: SyncRun) -> None:
        assert two_accounts_run.region_cache == {"data": None, "timestamp": 0.0}


@pytest.mark.parametrize("table_name", [None, ""], ids=["unset", "empty"])
def test_without_the_inventory_table_the_answer_is_500_and_no_call(sync_world: Any, table_name: str | None) -> None:
    world = sync_world(scenario(target_accounts=[target_row(PROD)], env={"SOURCE_SERVER_INVENTORY_TABLE": table_name}))

    with recording() as recorder:
        response = world.module.sync_source_server_inventory()

    assert response == {
        "statusCode": 500,
        "headers": HEADERS,
        "body": json.dumps({"error": "SOURCE_SERVER_INVENTORY_TABLE not configured"}),
    }
    assert recorder.interactions == []


def test_no_target_accounts_completes_with_nothing_synced_and_no_cleanup(sync_world: Any) -> None:
    world = sync_world(scenario(inventory_before=[stale_row("kept", PROD)]))

    with recording() as recorder:
        response = world.module.sync_source_server_inventory()

    # Legacy defect 3 fixed (approved divergence): a 200 with zero counts instead of UnboundLocalError.
    body = json.loads(response["body"])
    assert (response["statusCode"], body["totalSynced"], body["totalErrors"], body["staleRecordsDeleted"]) == (
        200,
        0,
        0,
        0,
    )
    # The region status and target accounts tables are read at the same time; no cleanup Scan follows.
    assert sorted(scan.params["TableName"] for scan in calls(recorder, "dynamodb", "Scan")) == sorted(
        [REGION_STATUS_TABLE, TARGET_ACCOUNTS_TABLE]
    )
    assert len(world.tables()["inventory"]) == 1


def test_a_failed_last_assume_role_keeps_the_rows_of_the_last_account(sync_world: Any) -> None:
    spec = {
        **TWO_ACCOUNTS,
        "accounts": {**TWO_ACCOUNTS["accounts"], WORKLOADS: {"assume_role_error": "AccessDenied"}},
    }
    world = sync_world(spec)

    body = json.loads(world.module.sync_source_server_inventory()["body"])

    # Legacy defect 2 fixed (approved divergence): WORKLOADS could not be read, so its rows stay; PROD's stale row goes.
    assert (body["totalSynced"], body["staleRecordsDeleted"]) == (3, 1)
    assert [row["sourceServerArn"] for row in world.tables()["inventory"] if row["sourceAccountId"] == WORKLOADS] == [
        stale_row("gone-workloads", WORKLOADS)["sourceServerArn"]
    ]


def test_without_active_regions_every_drs_region_is_scanned(sync_world: Any) -> None:
    world = sync_world(
        scenario(target_accounts=[target_row(PROD)], accounts={PROD: {"drs": {"eu-west-1": {"servers": 1}}}})
    )

    with controlled_scheduling(Schedule("submission")):
        body = json.loads(world.module.sync_source_server_inventory()["body"])

    assert (body["regionsScanned"], body["regionsSkipped"], body["totalSynced"]) == (28, 0, 1)
    assert len(world.tables()["region_status"]) == 28


def test_a_server_whose_first_nic_has_no_ips_is_written_not_counted_as_an_error(sync_world: Any) -> None:
    # Approved divergence (defect 10 fixed): the legacy counted it in totalErrors and never wrote it.
    empty_ips = {
        "sourceServerID": "s-00000000000000001",
        "arn": f"arn:aws:drs:us-east-1:{PROD}:source-server/s-00000000000000001",
        "sourceProperties": {"networkInterfaces": [{"macAddress": "02:00:00:00:00:01", "ips": []}]},
    }
    world = sync_world(
        scenario(
            active_regions=[{"region": "us-east-1", "serverCount": 2}],
            target_accounts=[target_row(PROD)],
            accounts={PROD: {"drs": {"us-east-1": {"servers": [empty_ips]}}}},
        )
    )

    body = json.loads(world.module.sync_source_server_inventory()["body"])

    assert (body["totalSynced"], body["totalErrors"]) == (1, 0)


BASE_GOLDENS = sorted(path.name for path in GOLDEN_DIR.glob("*.json") if "@" not in path.name)


@pytest.mark.parametrize("golden", BASE_GOLDENS)
def test_replaying_a_legacy_golden_gives_identical_calls_and_outputs_but_for_approved_fixes(golden: str) -> None:
    verdict = judge_golden(GOLDEN_DIR / golden, read_golden(GOLDEN_DIR / golden), "refactored")

    assert verdict.passed, verdict.uncovered[:3]


def test_both_tables_are_read_even_when_the_target_accounts_cannot_be(sync_world: Any) -> None:
    denied = {"code": "AccessDeniedException", "message": "User is not authorized to perform dynamodb:Scan"}
    world = sync_world(scenario(faults=[{"service": "dynamodb", "operation": "Scan", "error": denied}]))

    with recording() as recorder, pytest.raises(Exception, match="AccessDenied"):
        world.module.sync_source_server_inventory()

    # The region status read fails too and falls back to every DRS region; the accounts' failure ends the run, as
    # the legacy's, with the same two calls made.
    assert sorted(scan.params["TableName"] for scan in calls(recorder, "dynamodb", "Scan")) == sorted(
        [REGION_STATUS_TABLE, TARGET_ACCOUNTS_TABLE]
    )
    assert len(recorder.interactions) == 2
