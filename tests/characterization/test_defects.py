"""The legacy's known defects (LEGACY_CONTRACT.md, "Known defects"), each shown happening on the local AWS.

These tests pin the defects as they are: the legacy is frozen, and fixing one later is an approved divergence.
Target accounts come back from the scan in key order (moto), so the "last account" is the highest account id.
"""

from __future__ import annotations

from typing import Any

from botocore.client import BaseClient

from harness.clock import frozen_clock
from harness.impls import resolve_impl
from harness.interception import intercept, original_make_api_call
from harness.lambda_env import cold_start
from harness.runner import call_capturing
from harness.scheduling import Schedule, controlled_scheduling
from harness.world.local import local_aws
from harness.world.scenario import parse_scenario
from harness.world.state import dump_tables
from tests.characterization.scenarios import (
    ACCOUNT_A,
    ACCOUNT_B,
    HUB,
    INVENTORY,
    NOW,
    REGION_STATUS,
    batch_puts,
    body,
    calls,
    put_items,
    role_arn,
    rows_by_key,
    run,
    scenario,
    target,
    trace,
)


def arn(account: str, server: str, region: str = "us-east-1") -> str:
    """A source server ARN in `account`."""
    return f"arn:aws:drs:{region}:{account}:source-server/{server}"


def document(account: str, server: str, region: str = "us-east-1", **fields: Any) -> dict[str, Any]:
    """A minimal on-premises DRS document (no EC2 instance) replicating into `account`, staged there."""
    return {
        "sourceServerID": server,
        "arn": arn(account, server, region),
        "stagingArea": {"stagingAccountID": account},
        "sourceCloudProperties": {},
        **fields,
    }


def inventory_row(account: str, server: str) -> dict[str, Any]:
    """An inventory row left by an earlier sync."""
    return {
        "sourceServerArn": arn(account, server),
        "stagingAccountId": account,
        "sourceServerID": server,
        "sourceAccountId": account,
        "lastUpdated": "2026-01-10T12:00:00+00:00",
    }


def test_defect_1_stale_cleanup_only_for_the_last_account() -> None:
    """A and B each have one live server and one stale row; only B's stale row is removed."""
    report = run(
        scenario(
            targets=[target(ACCOUNT_A), target(ACCOUNT_B)],
            accounts={
                ACCOUNT_A: {"drs": {"us-east-1": {"servers": [document(ACCOUNT_A, "s-a0000000000000001")]}}},
                ACCOUNT_B: {"drs": {"us-east-1": {"servers": [document(ACCOUNT_B, "s-b0000000000000001")]}}},
            },
            inventory_before=[
                inventory_row(ACCOUNT_A, "s-a00000000000stale"),
                inventory_row(ACCOUNT_B, "s-b00000000000stale"),
            ],
        )
    )

    [stale_scan] = [call for call in calls(report, "Scan") if call.params["TableName"] == INVENTORY]
    assert stale_scan.params["ExpressionAttributeValues"] == {":acct_id": {"S": ACCOUNT_B}}
    assert [call.params["Key"] for call in calls(report, "DeleteItem")] == [
        {"sourceServerArn": {"S": arn(ACCOUNT_B, "s-b00000000000stale")}, "stagingAccountId": {"S": ACCOUNT_B}}
    ]
    assert body(report)["staleRecordsDeleted"] == 1
    assert sorted(rows_by_key(report.tables["inventory"])) == [
        arn(ACCOUNT_A, "s-a0000000000000001"),
        arn(ACCOUNT_A, "s-a00000000000stale"),  # never cleaned up
        arn(ACCOUNT_B, "s-b0000000000000001"),
    ]


def test_defect_2_last_account_assume_role_failure_deletes_its_inventory() -> None:
    """B (last) fails AssumeRole: cleanup pairs B's id with A's server list and deletes every row of B."""
    report = run(
        scenario(
            targets=[target(ACCOUNT_A), target(ACCOUNT_B)],
            accounts={
                ACCOUNT_A: {"drs": {"us-east-1": {"servers": [document(ACCOUNT_A, "s-a0000000000000001")]}}},
                ACCOUNT_B: {
                    "assume_role_error": "AccessDenied",
                    "drs": {"us-east-1": {"servers": [document(ACCOUNT_B, "s-b0000000000000001")]}},
                },
            },
            inventory_before=[
                inventory_row(ACCOUNT_B, "s-b0000000000000001"),
                inventory_row(ACCOUNT_B, "s-b0000000000000002"),
            ],
        )
    )

    assume = calls(report, "AssumeRole")
    assert [(call.params["RoleArn"], call.error["code"] if call.error else None) for call in assume] == [
        (role_arn(ACCOUNT_A), None),
        (role_arn(ACCOUNT_B), "AccessDenied"),
    ]
    assert [call.identity for call in calls(report, "DescribeSourceServers")] == [ACCOUNT_A]  # B skipped
    [stale_scan] = [call for call in calls(report, "Scan") if call.params["TableName"] == INVENTORY]
    assert stale_scan.params["ExpressionAttributeValues"] == {":acct_id": {"S": ACCOUNT_B}}
    assert [call.params["Key"]["sourceServerArn"]["S"] for call in calls(report, "DeleteItem")] == [
        arn(ACCOUNT_B, "s-b0000000000000001"),
        arn(ACCOUNT_B, "s-b0000000000000002"),
    ]
    assert body(report)["staleRecordsDeleted"] == 2
    assert [row["sourceServerArn"] for row in report.tables["inventory"]] == [arn(ACCOUNT_A, "s-a0000000000000001")]


def test_defect_3_no_target_accounts_raises() -> None:
    report = run(scenario(targets=[], accounts={}))

    assert report.outputs.exception == {
        "type": "UnboundLocalError",
        "message": "cannot access local variable 'all_servers' where it is not associated with a value",
    }
    assert trace(report) == ["dynamodb Scan drs-region-status", "dynamodb Scan target-accounts"]


def test_defect_3_no_account_past_assume_role_raises() -> None:
    report = run(
        scenario(
            targets=[target(ACCOUNT_A)],
            accounts={ACCOUNT_A: {"assume_role_error": "AccessDenied", "drs": {"us-east-1": {"servers": 1}}}},
        )
    )

    assert report.outputs.exception == {
        "type": "UnboundLocalError",
        "message": "cannot access local variable 'all_servers' where it is not associated with a value",
    }
    assert trace(report) == [
        "dynamodb Scan drs-region-status",
        "dynamodb Scan target-accounts",
        "sts GetCallerIdentity us-east-1 as hub",
        "sts AssumeRole us-east-1 as hub",
    ]


def test_defect_4_last_account_owns_region_status_and_later_syncs_skip_the_region() -> None:
    """A has servers in us-east-1, B (last) only in eu-west-1: B's us-east-1 row (0 servers) wins.

    A second sync started from the resulting region status table no longer queries us-east-1, for anyone.
    """
    accounts = {
        ACCOUNT_A: {"drs": {"us-east-1": {"servers": [document(ACCOUNT_A, "s-a0000000000000001")]}}},
        ACCOUNT_B: {"drs": {"eu-west-1": {"servers": [document(ACCOUNT_B, "s-b0000000000000001", "eu-west-1")]}}},
    }
    first = run(
        scenario(targets=[target(ACCOUNT_A), target(ACCOUNT_B)], accounts=accounts, active=["us-east-1", "eu-west-1"])
    )

    assert first.tables["region_status"] == [
        {"region": "eu-west-1", "accountId": ACCOUNT_B, "status": "ACTIVE", "serverCount": 1, "lastUpdated": NOW},
        {"region": "us-east-1", "accountId": ACCOUNT_B, "status": "ACTIVE", "serverCount": 0, "lastUpdated": NOW},
    ]

    second_data = scenario(targets=[target(ACCOUNT_A), target(ACCOUNT_B)], accounts=accounts)
    second_data["active_regions"] = [
        {"region": row["region"], "serverCount": row["serverCount"], "status": row["status"]}
        for row in first.tables["region_status"]
    ]
    second = run(second_data)

    assert [(call.region, call.identity) for call in calls(second, "DescribeSourceServers")] == [
        ("eu-west-1", ACCOUNT_A),
        ("eu-west-1", ACCOUNT_B),
    ]
    assert body(second)["regionsScanned"] == 1
    assert body(second)["regionsSkipped"] == 27
    assert [row["sourceServerArn"] for row in batch_puts(second, INVENTORY)] == [
        arn(ACCOUNT_B, "s-b0000000000000001", "eu-west-1")
    ]  # A's us-east-1 server is no longer synced


def test_defect_5_account_without_role_is_queried_with_hub_credentials() -> None:
    """A's row has no roleArn: no AssumeRole, DRS answers with the hub's servers, filed under A."""
    hub_server = {"sourceServerID": "s-h0000000000000001", "arn": arn(HUB, "s-h0000000000000001")}
    report = run(
        scenario(
            targets=[target(ACCOUNT_A, with_role=False)],
            accounts={
                HUB: {"drs": {"us-east-1": {"servers": [hub_server]}}},
                ACCOUNT_A: {"drs": {"us-east-1": {"servers": [document(ACCOUNT_A, "s-a0000000000000001")]}}},
            },
        )
    )

    assert calls(report, "AssumeRole") == []
    assert [(call.region, call.identity) for call in calls(report, "DescribeSourceServers")] == [("us-east-1", "hub")]
    assert report.tables["region_status"] == [
        {"region": "us-east-1", "accountId": ACCOUNT_A, "status": "ACTIVE", "serverCount": 1, "lastUpdated": NOW}
    ]
    [row] = report.tables["inventory"]
    assert (row["sourceServerArn"], row["sourceAccountId"], row["stagingAccountId"]) == (
        arn(HUB, "s-h0000000000000001"),
        ACCOUNT_A,
        ACCOUNT_A,
    )


def test_defect_6_flush_failure_counts_one_error_for_25_lost_items() -> None:
    """26 servers: the 25th put flushes 25 items; that BatchWriteItem fails (ValidationException, not retried).

    The 24 items put before were counted as synced, the 25th counts one error, all 25 are lost; the 26th is
    written at block exit.
    """
    documents = [document(ACCOUNT_A, f"s-a{n:016d}") for n in range(1, 27)]
    report = run(
        scenario(
            targets=[target(ACCOUNT_A)],
            accounts={ACCOUNT_A: {"drs": {"us-east-1": {"servers": documents}}}},
            faults=[
                {
                    "service": "dynamodb",
                    "operation": "BatchWriteItem",
                    "on_call": 2,  # #1 is the region status batch
                    "error": {
                        "code": "ValidationException",
                        "message": "Provided list of item keys contains duplicates",
                    },
                }
            ],
        )
    )

    batches = calls(report, "BatchWriteItem")
    assert [
        (list(call.params["RequestItems"]), len(next(iter(call.params["RequestItems"].values())))) for call in batches
    ] == [
        ([REGION_STATUS], 1),
        ([INVENTORY], 25),
        ([INVENTORY], 1),
    ]
    assert batches[1].error is not None and batches[1].error["code"] == "ValidationException"
    assert body(report)["totalSynced"] == 25
    assert body(report)["totalErrors"] == 1
    assert [row["sourceServerArn"] for row in report.tables["inventory"]] == [arn(ACCOUNT_A, "s-a0000000000000026")]


def test_defect_6_final_flush_failure_aborts_after_region_statuses() -> None:
    documents = [document(ACCOUNT_A, f"s-a{n:016d}") for n in range(1, 4)]
    report = run(
        scenario(
            targets=[target(ACCOUNT_A)],
            accounts={ACCOUNT_A: {"drs": {"us-east-1": {"servers": documents}}}},
            faults=[
                {
                    "service": "dynamodb",
                    "operation": "BatchWriteItem",
                    "on_call": 2,
                    "error": {
                        "code": "ValidationException",
                        "message": "Item size has exceeded the maximum allowed size",
                    },
                }
            ],
        )
    )

    assert report.outputs.exception == {
        "type": "ClientError",
        "message": "An error occurred (ValidationException) when calling the BatchWriteItem operation: "
        "Item size has exceeded the maximum allowed size",
    }
    assert trace(report)[-3:] == [
        "dynamodb PutItem drs-region-status",
        "dynamodb BatchWriteItem drs-region-status",
        "dynamodb BatchWriteItem source-server-inventory",
    ]  # no stale cleanup scan
    assert report.tables["region_status"] == [
        {"region": "us-east-1", "accountId": ACCOUNT_A, "status": "ACTIVE", "serverCount": 3, "lastUpdated": NOW}
    ]
    assert report.tables["inventory"] == []


def test_defect_7_error_on_page_2_discards_page_1() -> None:
    report = run(
        scenario(
            targets=[target(ACCOUNT_A)],
            accounts={
                ACCOUNT_A: {
                    "drs": {
                        "us-east-1": {
                            "servers": 5,
                            "page_size": 2,
                            "error": {"code": "ThrottlingException", "on_page": 2},
                        }
                    }
                }
            },
        )
    )

    pages = calls(report, "DescribeSourceServers")
    assert len(pages) == 2
    assert pages[0].response is not None and len(pages[0].response["items"]) == 2  # page 1 arrived
    assert pages[1].error is not None and pages[1].error["code"] == "ThrottlingException"
    assert report.tables["region_status"] == [
        {
            "region": "us-east-1",
            "accountId": ACCOUNT_A,
            "status": "THROTTLED",
            "serverCount": 0,
            "lastUpdated": NOW,
            "errorMessage": "API rate limit exceeded",
        }
    ]
    assert report.tables["inventory"] == []
    assert body(report)["totalSynced"] == 0


def test_defect_7_scp_substring_and_unrecognized_client_misfiled() -> None:
    """ "scp" inside an unrelated message files it as SCP_DENIED; UnrecognizedClientException (a ClientError
    carrying "security token") lands in ERROR, never REGION_NOT_ENABLED."""
    report = run(
        scenario(
            targets=[target(ACCOUNT_A)],
            accounts={
                ACCOUNT_A: {
                    "drs": {
                        "us-east-1": {
                            "servers": 1,
                            "error": {"code": "ConflictException", "message": "Host backup-scp-01 is re-registering"},
                        },
                        "eu-west-1": {
                            "servers": 1,
                            "error": {
                                "code": "UnrecognizedClientException",
                                "message": "The security token included in the request is invalid.",
                            },
                        },
                    }
                }
            },
            active=["us-east-1", "eu-west-1"],
        )
    )

    rows = rows_by_key(report.tables["region_status"], "region")
    assert (rows["us-east-1"]["status"], rows["us-east-1"]["errorMessage"]) == (
        "SCP_DENIED",
        "Blocked by Service Control Policy",
    )
    assert (rows["eu-west-1"]["status"], rows["eu-west-1"]["errorMessage"]) == (
        "ERROR",
        "UnrecognizedClientException: The security token included in the request is invalid.",
    )


def test_defect_8_write_order_follows_completion_order() -> None:
    """Three regions (sorted: eu-west-1, us-east-1, us-west-2). DRS is called in submission order either way;
    region statuses and inventory items are written in completion order, reversed under `reverse`."""
    data = scenario(
        targets=[target(ACCOUNT_A)],
        accounts={
            ACCOUNT_A: {
                "drs": {
                    region: {
                        "servers": [
                            document(ACCOUNT_A, f"s-{region}-1", region),
                            document(ACCOUNT_A, f"s-{region}-2", region),
                        ]
                    }
                    for region in ("us-east-1", "us-west-2", "eu-west-1")
                }
            }
        },
        active=["us-east-1", "us-west-2", "eu-west-1"],
    )
    forward = run(data, "submission")
    backward = run(data, "reverse")

    submitted = ["eu-west-1", "us-east-1", "us-west-2"]
    for report in (forward, backward):
        assert [call.region for call in calls(report, "DescribeSourceServers")] == submitted

    assert [row["region"] for row in put_items(forward, REGION_STATUS)] == submitted
    assert [row["region"] for row in batch_puts(forward, REGION_STATUS)] == submitted
    assert [row["region"] for row in put_items(backward, REGION_STATUS)] == submitted[::-1]
    assert [row["region"] for row in batch_puts(backward, REGION_STATUS)] == submitted[::-1]

    def servers(regions: list[str]) -> list[str]:
        return [arn(ACCOUNT_A, f"s-{region}-{n}", region) for region in regions for n in (1, 2)]

    # Within a region, DRS order is kept; the regions' order is the completion order.
    assert [row["sourceServerArn"] for row in batch_puts(forward, INVENTORY)] == servers(submitted)
    assert [row["sourceServerArn"] for row in batch_puts(backward, INVENTORY)] == servers(submitted[::-1])
    # Same final tables and body: only the order of writes differs.
    assert forward.tables == backward.tables
    assert forward.outputs == backward.outputs


def test_defect_9_only_the_first_page_of_target_accounts_is_read() -> None:
    """Four ~300 KB target rows exceed DynamoDB's 1 MB scan page: the fourth account (444...) is never synced."""
    account_d = "444444444444"
    padding = "x" * 300_000
    accounts = [ACCOUNT_A, ACCOUNT_B, "333333333333", account_d]
    report = run(
        scenario(
            targets=[target(account, notes=padding) for account in accounts],
            accounts={
                account: {"drs": {"us-east-1": {"servers": [document(account, "s-0000000000000001")]}}}
                for account in accounts
            },
        )
    )

    [accounts_scan] = [call for call in calls(report, "Scan") if call.params["TableName"] == "target-accounts"]
    assert accounts_scan.response is not None
    assert accounts_scan.response["Count"] == 3
    assert accounts_scan.response["LastEvaluatedKey"] == {"accountId": {"S": "333333333333"}}
    assert [call.params["RoleArn"] for call in calls(report, "AssumeRole")] == [role_arn(a) for a in accounts[:3]]
    assert [row["sourceAccountId"] for row in report.tables["inventory"]] == accounts[:3]
    assert body(report)["totalSynced"] == 3


def test_defect_10_first_nic_with_empty_ips_is_an_error_and_never_written() -> None:
    bad = document(
        ACCOUNT_A,
        "s-a0000000000000001",
        sourceProperties={"networkInterfaces": [{"macAddress": "0e:00:00:00:00:01", "ips": []}]},
    )
    good = document(ACCOUNT_A, "s-a0000000000000002")
    report = run(
        scenario(targets=[target(ACCOUNT_A)], accounts={ACCOUNT_A: {"drs": {"us-east-1": {"servers": [bad, good]}}}})
    )

    assert body(report)["totalSynced"] == 1
    assert body(report)["totalErrors"] == 1
    assert [row["sourceServerArn"] for row in report.tables["inventory"]] == [arn(ACCOUNT_A, "s-a0000000000000002")]


class NullSourceProperties:
    """An interceptor that makes real calls and then nulls `sourceProperties` in every DescribeSourceServers item."""

    def __init__(self) -> None:
        """No calls seen yet."""
        self.steps: list[str] = []

    def make_api_call(self, client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        """Call botocore for real; null the field in the parsed DRS items."""
        self.steps.append(f"{client.meta.service_model.service_name} {operation_name}")
        answer = original_make_api_call(client, operation_name, api_params)
        if operation_name == "DescribeSourceServers":
            for server in answer.get("items", []):
                server["sourceProperties"] = None
        return answer

    def params_built(self, client: BaseClient, params: dict[str, Any]) -> None:
        """Nothing to do."""

    def response_received(self, client: BaseClient, http: Any, parsed: dict[str, Any]) -> None:
        """Nothing to do."""


def test_defect_11_null_source_properties_aborts_the_sync() -> None:
    """A null sourceProperties makes the EC2 grouping raise outside any handler.

    botocore's parser drops null members, so the emulator can never deliver a null through a real client: the
    null is injected after parsing by an interceptor. run_scenario already intercepts with its Recorder and only
    one interceptor may be active, so this test assembles the run from run_scenario's own pieces (local_aws,
    cold_start, frozen_clock, controlled_scheduling, resolve_impl, call_capturing, dump_tables) with this
    interceptor in the Recorder's place. Account B (second) is never reached.
    """
    data = scenario(
        targets=[target(ACCOUNT_A), target(ACCOUNT_B)],
        accounts={
            ACCOUNT_A: {"drs": {"us-east-1": {"servers": 1}}},
            ACCOUNT_B: {"drs": {"us-east-1": {"servers": 1}}},
        },
    )
    parsed = parse_scenario(data)
    interceptor = NullSourceProperties()
    with local_aws(parsed), cold_start(parsed.environment()), frozen_clock(parsed.clock):
        with controlled_scheduling(Schedule("submission")):
            function = resolve_impl("legacy")
            with intercept(interceptor):
                outputs = call_capturing(function)
        tables = dump_tables(parsed)

    assert outputs.exception == {"type": "AttributeError", "message": "'NoneType' object has no attribute 'get'"}
    assert interceptor.steps == [
        "dynamodb Scan",
        "dynamodb Scan",
        "sts GetCallerIdentity",
        "sts AssumeRole",
        "drs DescribeSourceServers",
        "dynamodb PutItem",
        "dynamodb BatchWriteItem",
    ]
    assert tables["region_status"] == [
        {"region": "us-east-1", "accountId": ACCOUNT_A, "status": "ACTIVE", "serverCount": 1, "lastUpdated": NOW}
    ]
    assert tables["inventory"] == []
