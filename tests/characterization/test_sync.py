"""Characterization of a healthy legacy sync: response, inventory items, region status rows, AssumeRole, call order.

Every expectation is derived by hand from LEGACY_CONTRACT.md. Facts about the local AWS used below: moto scans
return rows in key order, so active regions (and target accounts) come back sorted; DRS lists servers in the order
the scenario gives them; the frozen clock is 2026-01-15T12:00:00+00:00.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.runner import RunReport
from tests.characterization.scenarios import (
    ACCOUNT_A,
    ACCOUNT_B,
    HEADERS,
    HUB,
    INVENTORY,
    LAST_CHECKED,
    NOW,
    REGION_STATUS,
    batch_puts,
    body,
    calls,
    drs_documents,
    ec2_instances,
    put_items,
    result,
    role_arn,
    rows_by_key,
    run,
    scenario,
    target,
    trace,
)

ARN_1 = f"arn:aws:drs:us-east-1:{ACCOUNT_A}:source-server/s-00000000000000001"
ARN_2 = f"arn:aws:drs:us-east-1:{ACCOUNT_A}:source-server/s-00000000000000002"
ARN_3 = f"arn:aws:drs:us-east-1:{ACCOUNT_A}:source-server/s-00000000000000003"

# A full on-premises server (no awsInstanceID, so no EC2 lookup), a bare one, and one with partial sub-documents.
FULL_DOCUMENT = {
    "sourceServerID": "s-00000000000000001",
    "arn": ARN_1,
    "agentVersion": "4.5.1234",
    "lifeCycle": {"lastSeenByServiceDateTime": "2026-01-15T11:58:00.000Z"},
    "dataReplicationInfo": {
        "dataReplicationState": "CONTINUOUS",
        "lagDuration": "PT5S",
        "lastSnapshotDateTime": "2026-01-15T11:00:00.000Z",  # not in the DRS model: botocore drops it
    },
    "sourceProperties": {
        "identificationHints": {"hostname": "billing-db-01", "fqdn": "billing-db-01.corp.example.com"},
        "os": {"fullString": "Red Hat Enterprise Linux 8.9"},
        "cpus": [{"cores": 8, "modelName": "Intel(R) Xeon(R) Gold 6248R"}, {"cores": 4, "modelName": "AMD EPYC 7R32"}],
        "ramBytes": 34359738368,
        "disks": [{"deviceName": "/dev/sda", "bytes": 107374182400}, {"deviceName": "/dev/sdb", "bytes": 53687091200}],
        "networkInterfaces": [
            {"macAddress": "00:50:56:9a:1c:01", "ips": ["10.20.1.11", "10.20.1.12"], "isPrimary": True},
            {"macAddress": "00:50:56:9a:1c:02", "ips": ["10.20.2.11"], "isPrimary": False},
        ],
    },
    "sourceCloudProperties": {"originAccountID": "444444444444", "originRegion": "eu-west-1"},
    "stagingArea": {"status": "EXTENDED", "stagingAccountID": "555555555555"},
}
BARE_DOCUMENT = {"sourceServerID": "s-00000000000000002", "arn": ARN_2}
PARTIAL_DOCUMENT = {
    "sourceServerID": "s-00000000000000003",
    "arn": ARN_3,
    "sourceProperties": {
        "cpus": [{"modelName": "Graviton2"}, {"cores": 2}],
        "disks": [{"deviceName": "/dev/xvda"}, {"bytes": 1024}],
        "networkInterfaces": [{"macAddress": "0e:00:00:00:00:03"}],  # no `ips` key at all
        "ramBytes": 0,
    },
    "sourceCloudProperties": {},
    "stagingArea": {},
}


@pytest.fixture(scope="module")
def explicit_run() -> RunReport:
    """One run of `explicit_documents_scenario` shared by the module's tests."""
    return run(explicit_documents_scenario())


def explicit_documents_scenario() -> dict[str, Any]:
    """Account A (assumed with an external id) lists the three documents above in us-east-1."""
    return scenario(
        targets=[target(ACCOUNT_A, "ext-a")],
        accounts={ACCOUNT_A: {"drs": {"us-east-1": {"servers": [FULL_DOCUMENT, BARE_DOCUMENT, PARTIAL_DOCUMENT]}}}},
    )


def test_response_status_headers_and_body(explicit_run: RunReport) -> None:
    report = explicit_run

    response = result(report)
    assert response["statusCode"] == 200
    assert response["headers"] == HEADERS
    assert body(report) == {
        "message": "Source server inventory sync complete",
        "totalSynced": 3,
        "totalErrors": 0,
        "staleRecordsDeleted": 0,
        "regionsScanned": 1,
        "regionsSkipped": 27,
        "timestamp": NOW,
    }
    # The body is json.dumps of the dict in this key order.
    assert response["body"] == (
        '{"message": "Source server inventory sync complete", "totalSynced": 3, "totalErrors": 0, '
        '"staleRecordsDeleted": 0, "regionsScanned": 1, "regionsSkipped": 27, '
        '"timestamp": "2026-01-15T12:00:00+00:00"}'
    )


def test_inventory_items_from_explicit_documents_every_field(explicit_run: RunReport) -> None:
    report = explicit_run

    full = {
        "sourceServerArn": ARN_1,
        "stagingAccountId": "555555555555",
        "sourceServerID": "s-00000000000000001",
        "sourceAccountId": "444444444444",
        "sourceRegion": "eu-west-1",
        "hostname": "billing-db-01",
        "fqdn": "billing-db-01.corp.example.com",
        "instanceId": "",
        "agentVersion": "4.5.1234",
        "replicationRegion": "us-east-1",
        "replicationState": "CONTINUOUS",
        "lagDuration": "PT5S",
        "lastSnapshot": "",
        "lastSeen": "2026-01-15T11:58:00.000Z",
        "lastUpdated": NOW,
        "cpuModel": "Intel(R) Xeon(R) Gold 6248R",
        "cpuCores": 12,
        "ramBytes": 34359738368,
        "totalStorageBytes": 161061273600,
        "osName": "Red Hat Enterprise Linux 8.9",
        "primaryIp": "10.20.1.11",
        "macAddress": "00:50:56:9a:1c:01",
        "disks": [{"deviceName": "/dev/sda", "bytes": 107374182400}, {"deviceName": "/dev/sdb", "bytes": 53687091200}],
    }
    bare = {
        "sourceServerArn": ARN_2,
        "stagingAccountId": ACCOUNT_A,
        "sourceServerID": "s-00000000000000002",
        "sourceAccountId": ACCOUNT_A,
        "sourceRegion": "us-east-1",
        "hostname": "",
        "fqdn": "",
        "instanceId": "",
        "agentVersion": "",
        "replicationRegion": "us-east-1",
        "replicationState": "",
        "lagDuration": "",
        "lastSnapshot": "",
        "lastSeen": "",
        "lastUpdated": NOW,
        "cpuModel": "",
        "cpuCores": 0,
        "ramBytes": 0,
        "totalStorageBytes": 0,
        "osName": "",
        "primaryIp": "",
        "macAddress": "",
        "disks": [],
    }
    partial = {
        **bare,
        "sourceServerArn": ARN_3,
        "sourceServerID": "s-00000000000000003",
        "cpuModel": "Graviton2",
        "cpuCores": 2,
        "totalStorageBytes": 1024,
        "primaryIp": "",
        "macAddress": "0e:00:00:00:00:03",
        "disks": [{"deviceName": "/dev/xvda", "bytes": 0}, {"deviceName": "", "bytes": 1024}],
    }
    # Written in all_servers order (DRS order), one BatchWriteItem; the table holds exactly these rows.
    assert batch_puts(report, INVENTORY) == [full, bare, partial]
    assert report.tables["inventory"] == [full, bare, partial]  # dumped sorted by key: ARN_1 < ARN_2 < ARN_3


def test_region_status_put_then_batch_overwrites(explicit_run: RunReport) -> None:
    report = explicit_run

    assert put_items(report, REGION_STATUS) == [
        {
            "region": "us-east-1",
            "status": "AVAILABLE",
            "serverCount": 3,
            "lastChecked": LAST_CHECKED,
            "errorMessage": None,
        }
    ]
    batch_row = {
        "region": "us-east-1",
        "accountId": ACCOUNT_A,
        "status": "ACTIVE",
        "serverCount": 3,
        "lastUpdated": NOW,
    }
    assert batch_puts(report, REGION_STATUS) == [batch_row]
    assert report.tables["region_status"] == [batch_row]  # the BatchWriteItem replaced the whole PutItem row


def test_call_order_single_account_without_ec2(explicit_run: RunReport) -> None:
    report = explicit_run

    assert trace(report) == [
        "dynamodb Scan drs-region-status",
        "dynamodb Scan target-accounts",
        "sts GetCallerIdentity us-east-1 as hub",
        "sts AssumeRole us-east-1 as hub",
        f"drs DescribeSourceServers us-east-1 as {ACCOUNT_A}",
        "dynamodb PutItem drs-region-status",
        "dynamodb BatchWriteItem drs-region-status",
        "dynamodb BatchWriteItem source-server-inventory",
        "dynamodb Scan source-server-inventory",
    ]
    scan_regions, scan_targets, _, assume, describe, _, _, _, stale_scan = report.interactions
    assert scan_regions.params == {
        "TableName": REGION_STATUS,
        "FilterExpression": "#n0 > :v0",
        "ExpressionAttributeNames": {"#n0": "serverCount"},
        "ExpressionAttributeValues": {":v0": {"N": "0"}},
    }
    assert scan_targets.params == {"TableName": "target-accounts"}
    assert assume.params == {
        "RoleArn": role_arn(ACCOUNT_A),
        "RoleSessionName": "inventory-sync",
        "DurationSeconds": 900,
        "ExternalId": "ext-a",
    }
    assert describe.params == {}  # the paginator, no filters, no maxResults
    assert stale_scan.params == {
        "TableName": INVENTORY,
        "FilterExpression": "sourceAccountId = :acct_id",
        "ExpressionAttributeValues": {":acct_id": {"S": ACCOUNT_A}},
    }


@pytest.fixture(scope="module")
def generated_run() -> RunReport:
    """One run of `generated_scenario` shared by the module's tests."""
    return run(generated_scenario())


def generated_scenario() -> dict[str, Any]:
    """Account A: two generated servers in us-east-1 (one per page) and one in eu-west-1, all with EC2 instances."""
    return scenario(
        targets=[target(ACCOUNT_A, "ext-a")],
        accounts={ACCOUNT_A: {"drs": {"us-east-1": {"servers": 2, "page_size": 1}, "eu-west-1": {"servers": 1}}}},
        active=["us-east-1", "eu-west-1"],
        seed=4,
    )


def test_inventory_items_of_generated_servers_follow_drs_and_ec2_documents(generated_run: RunReport) -> None:
    report = generated_run
    documents = drs_documents(report)
    instances = ec2_instances(report)
    rows = rows_by_key(report.tables["inventory"])

    # Active regions sorted (eu-west-1, us-east-1); us-east-1 took two pages of one server.
    assert [call.region for call in calls(report, "DescribeSourceServers")] == ["eu-west-1", "us-east-1", "us-east-1"]
    assert len(documents) == 3
    assert len(rows) == 3
    assert body(report)["totalSynced"] == 3

    query_regions = ["eu-west-1", "us-east-1", "us-east-1"]
    for document, query_region in zip(documents, query_regions, strict=True):
        source = document["sourceProperties"]
        hints = source["identificationHints"]
        instance = instances[hints["awsInstanceID"]]
        nics = source["networkInterfaces"]
        expected = {
            "sourceServerArn": document["arn"],
            "stagingAccountId": document["stagingArea"]["stagingAccountID"],
            "sourceServerID": document["sourceServerID"],
            "sourceAccountId": document["sourceCloudProperties"]["originAccountID"],
            "sourceRegion": document["sourceCloudProperties"]["originRegion"],
            "hostname": hints["hostname"],
            "fqdn": hints["fqdn"],
            "instanceId": hints["awsInstanceID"],
            "agentVersion": document["agentVersion"],
            "replicationRegion": query_region,
            "replicationState": document["dataReplicationInfo"]["dataReplicationState"],
            "lagDuration": document["dataReplicationInfo"]["lagDuration"],
            "lastSnapshot": "",
            "lastSeen": document["lifeCycle"]["lastSeenByServiceDateTime"],
            "lastUpdated": NOW,
            "cpuModel": source["cpus"][0]["modelName"],
            "cpuCores": sum(cpu["cores"] for cpu in source["cpus"]),
            "ramBytes": source["ramBytes"],
            "totalStorageBytes": sum(disk["bytes"] for disk in source["disks"]),
            "osName": source["os"]["fullString"],
            "primaryIp": nics[0]["ips"][0],
            "macAddress": nics[0]["macAddress"],
            "disks": [{"deviceName": disk["deviceName"], "bytes": disk["bytes"]} for disk in source["disks"]],
            "networkConfig": {
                "vpcId": instance["VpcId"],
                "subnetId": instance["SubnetId"],
                "privateIp": instance["PrivateIpAddress"],
                "securityGroups": [group["GroupId"] for group in instance["SecurityGroups"]],
                "instanceProfile": instance["IamInstanceProfile"]["Arn"] if "IamInstanceProfile" in instance else "",
            },
            "sourceTags": {tag["Key"]: tag["Value"] for tag in instance["Tags"]},
        }
        assert rows[document["arn"]] == expected
        # The world's own facts, as a cross-check of the derivation above.
        assert expected["sourceAccountId"] == ACCOUNT_A
        assert expected["sourceRegion"] == query_region
        assert expected["stagingAccountId"] == ACCOUNT_A
        assert expected["sourceTags"]["Name"] == hints["hostname"]
        assert expected["networkConfig"]["privateIp"] == expected["primaryIp"]


def test_region_status_rows_for_two_regions(generated_run: RunReport) -> None:
    report = generated_run

    assert put_items(report, REGION_STATUS) == [
        {
            "region": "eu-west-1",
            "status": "AVAILABLE",
            "serverCount": 1,
            "lastChecked": LAST_CHECKED,
            "errorMessage": None,
        },
        {
            "region": "us-east-1",
            "status": "AVAILABLE",
            "serverCount": 2,
            "lastChecked": LAST_CHECKED,
            "errorMessage": None,
        },
    ]
    assert report.tables["region_status"] == [
        {"region": "eu-west-1", "accountId": ACCOUNT_A, "status": "ACTIVE", "serverCount": 1, "lastUpdated": NOW},
        {"region": "us-east-1", "accountId": ACCOUNT_A, "status": "ACTIVE", "serverCount": 2, "lastUpdated": NOW},
    ]


@pytest.fixture(scope="module")
def two_accounts_run() -> RunReport:
    """One run of `two_accounts_scenario` shared by the module's tests."""
    return run(two_accounts_scenario())


def two_accounts_scenario() -> dict[str, Any]:
    """A (external id ext-a) with servers in eu-west-1 and us-east-1; B (no external id) with one in us-east-1."""
    return scenario(
        targets=[target(ACCOUNT_A, "ext-a"), target(ACCOUNT_B)],
        accounts={
            ACCOUNT_A: {"drs": {"us-east-1": {"servers": 1}, "eu-west-1": {"servers": 1}}},
            ACCOUNT_B: {"drs": {"us-east-1": {"servers": 1}}},
        },
        active=["us-east-1", "eu-west-1"],
        seed=5,
    )


def test_call_order_two_accounts_get_caller_identity_per_account_and_per_ec2_group(two_accounts_run: RunReport) -> None:
    report = two_accounts_run

    a, b = ACCOUNT_A, ACCOUNT_B
    assert trace(report) == [
        "dynamodb Scan drs-region-status",
        "dynamodb Scan target-accounts",
        # account A
        "sts GetCallerIdentity us-east-1 as hub",
        "sts AssumeRole us-east-1 as hub",
        f"drs DescribeSourceServers eu-west-1 as {a}",
        f"drs DescribeSourceServers us-east-1 as {a}",
        "dynamodb PutItem drs-region-status",
        "dynamodb PutItem drs-region-status",
        "dynamodb BatchWriteItem drs-region-status",
        # EC2 group (A, eu-west-1), first seen
        "sts GetCallerIdentity us-east-1 as hub",
        "dynamodb GetItem target-accounts",
        "sts AssumeRole us-east-1 as hub",
        f"ec2 DescribeInstances eu-west-1 as {a}",
        # EC2 group (A, us-east-1)
        "sts GetCallerIdentity us-east-1 as hub",
        "dynamodb GetItem target-accounts",
        "sts AssumeRole us-east-1 as hub",
        f"ec2 DescribeInstances us-east-1 as {a}",
        "dynamodb BatchWriteItem source-server-inventory",
        # account B
        "sts GetCallerIdentity us-east-1 as hub",
        "sts AssumeRole us-east-1 as hub",
        f"drs DescribeSourceServers eu-west-1 as {b}",
        f"drs DescribeSourceServers us-east-1 as {b}",
        "dynamodb PutItem drs-region-status",
        "dynamodb PutItem drs-region-status",
        "dynamodb BatchWriteItem drs-region-status",
        "sts GetCallerIdentity us-east-1 as hub",
        "dynamodb GetItem target-accounts",
        "sts AssumeRole us-east-1 as hub",
        f"ec2 DescribeInstances us-east-1 as {b}",
        "dynamodb BatchWriteItem source-server-inventory",
        # stale cleanup, once, for the last account
        "dynamodb Scan source-server-inventory",
    ]
    assert [call.params for call in calls(report, "GetItem")] == [
        {"TableName": "target-accounts", "Key": {"accountId": {"S": a}}},
        {"TableName": "target-accounts", "Key": {"accountId": {"S": a}}},
        {"TableName": "target-accounts", "Key": {"accountId": {"S": b}}},
    ]


def test_assume_role_parameters_and_external_id_rules(two_accounts_run: RunReport) -> None:
    report = two_accounts_run

    assert [call.params for call in calls(report, "AssumeRole")] == [
        # 5b: ExternalId only when the row has a truthy one
        {
            "RoleArn": role_arn(ACCOUNT_A),
            "RoleSessionName": "inventory-sync",
            "DurationSeconds": 900,
            "ExternalId": "ext-a",
        },
        # 5e: ExternalId always sent; taken from the target accounts row found by GetItem
        {
            "RoleArn": role_arn(ACCOUNT_A),
            "RoleSessionName": "inventory-ec2-query",
            "ExternalId": "ext-a",
            "DurationSeconds": 900,
        },
        {
            "RoleArn": role_arn(ACCOUNT_A),
            "RoleSessionName": "inventory-ec2-query",
            "ExternalId": "ext-a",
            "DurationSeconds": 900,
        },
        {"RoleArn": role_arn(ACCOUNT_B), "RoleSessionName": "inventory-sync", "DurationSeconds": 900},
        # B's row has no externalId: the default external id stays
        {
            "RoleArn": role_arn(ACCOUNT_B),
            "RoleSessionName": "inventory-ec2-query",
            "ExternalId": "drs-orchestration-cross-account",
            "DurationSeconds": 900,
        },
    ]


def test_two_accounts_body_and_tables(two_accounts_run: RunReport) -> None:
    report = two_accounts_run

    assert body(report) == {
        "message": "Source server inventory sync complete",
        "totalSynced": 3,
        "totalErrors": 0,
        "staleRecordsDeleted": 0,
        "regionsScanned": 2,
        "regionsSkipped": 26,
        "timestamp": NOW,
    }
    assert sorted((row["sourceAccountId"], row["replicationRegion"]) for row in report.tables["inventory"]) == [
        (ACCOUNT_A, "eu-west-1"),
        (ACCOUNT_A, "us-east-1"),
        (ACCOUNT_B, "us-east-1"),
    ]
    assert all("networkConfig" in row and "sourceTags" in row for row in report.tables["inventory"])
    # Keyed by region only: account B, processed last, owns both rows (eu-west-1 with 0 servers).
    assert report.tables["region_status"] == [
        {"region": "eu-west-1", "accountId": ACCOUNT_B, "status": "ACTIVE", "serverCount": 0, "lastUpdated": NOW},
        {"region": "us-east-1", "accountId": ACCOUNT_B, "status": "ACTIVE", "serverCount": 1, "lastUpdated": NOW},
    ]


def test_target_account_that_is_the_hub_uses_default_credentials_everywhere() -> None:
    report = run(
        scenario(
            targets=[target(HUB, "ext-hub")],
            accounts={HUB: {"drs": {"us-east-1": {"servers": 1}}}},
        )
    )

    # accountId == current account: no AssumeRole for DRS, and the EC2 group is the current account: none either.
    assert trace(report) == [
        "dynamodb Scan drs-region-status",
        "dynamodb Scan target-accounts",
        "sts GetCallerIdentity us-east-1 as hub",
        "drs DescribeSourceServers us-east-1 as hub",
        "dynamodb PutItem drs-region-status",
        "dynamodb BatchWriteItem drs-region-status",
        "sts GetCallerIdentity us-east-1 as hub",
        "ec2 DescribeInstances us-east-1 as hub",
        "dynamodb BatchWriteItem source-server-inventory",
        "dynamodb Scan source-server-inventory",
    ]
    assert body(report)["totalSynced"] == 1
    [row] = report.tables["inventory"]
    assert row["sourceAccountId"] == HUB
    assert "networkConfig" in row


def test_missing_inventory_table_env_returns_500_without_any_aws_call() -> None:
    report = run(
        scenario(
            targets=[target(ACCOUNT_A)],
            accounts={ACCOUNT_A: {"drs": {"us-east-1": {"servers": 1}}}},
            env={"SOURCE_SERVER_INVENTORY_TABLE": None},
        )
    )

    assert result(report) == {
        "statusCode": 500,
        "headers": HEADERS,
        "body": '{"error": "SOURCE_SERVER_INVENTORY_TABLE not configured"}',
    }
    assert report.interactions == []


def test_no_region_status_table_queries_all_28_regions_and_writes_no_status() -> None:
    report = run(
        scenario(
            targets=[target(ACCOUNT_A)],
            accounts={ACCOUNT_A: {"drs": {"ap-southeast-2": {"servers": 1}}}},
            env={"DRS_REGION_STATUS_TABLE": None},
        )
    )

    drs_regions = [
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1",
        "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "ap-east-1", "ap-south-1", "ap-south-2",
        "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-northeast-1", "ap-northeast-2",
        "ap-northeast-3", "me-south-1", "me-central-1", "af-south-1", "il-central-1", "ca-central-1", "sa-east-1",
    ]  # fmt: skip
    assert [call.region for call in calls(report, "DescribeSourceServers")] == drs_regions
    assert calls(report, "PutItem") == []
    assert all(REGION_STATUS not in call.params.get("RequestItems", {}) for call in calls(report, "BatchWriteItem"))
    assert "dynamodb Scan drs-region-status" not in trace(report)
    assert body(report) == {
        "message": "Source server inventory sync complete",
        "totalSynced": 1,
        "totalErrors": 0,
        "staleRecordsDeleted": 0,
        "regionsScanned": 28,
        "regionsSkipped": 0,
        "timestamp": NOW,
    }


def test_empty_region_status_table_scans_all_28_regions_and_the_25th_put_flushes_the_batch() -> None:
    """With 28 regions the status batch writer fills up (25 items) mid-loop.

    For each region the batch put comes first, then update_region_status's PutItem. The 25th batch put
    (af-south-1, 25th in DRS_REGIONS) flushes a BatchWriteItem of 25 rows before af-south-1's own PutItem, so
    af-south-1 is the one region whose final row is update_region_status's; the last 3 flush at block exit.
    """
    report = run(
        scenario(
            targets=[target(ACCOUNT_A)],
            accounts={ACCOUNT_A: {"drs": {"us-east-1": {"servers": 1}}}},
            active=[],
        )
    )

    status_steps = [s for s in trace(report) if "drs-region-status" in s][1:]  # after the active-regions Scan
    assert status_steps == (
        ["dynamodb PutItem drs-region-status"] * 24
        + ["dynamodb BatchWriteItem drs-region-status"]
        + ["dynamodb PutItem drs-region-status"] * 4
        + ["dynamodb BatchWriteItem drs-region-status"]
    )
    assert [len(call.params["RequestItems"][REGION_STATUS]) for call in calls(report, "BatchWriteItem")[:2]] == [25, 3]
    rows = rows_by_key(report.tables["region_status"], "region")
    assert len(rows) == 28
    assert rows["af-south-1"] == {
        "region": "af-south-1",
        "status": "UNINITIALIZED",
        "serverCount": 0,
        "lastChecked": LAST_CHECKED,
        "errorMessage": None,
    }
    assert rows["us-east-1"] == {
        "region": "us-east-1",
        "accountId": ACCOUNT_A,
        "status": "ACTIVE",
        "serverCount": 1,
        "lastUpdated": NOW,
    }
    assert rows["sa-east-1"] == {
        "region": "sa-east-1",
        "accountId": ACCOUNT_A,
        "status": "ACTIVE",
        "serverCount": 0,
        "lastUpdated": NOW,
    }
    assert body(report)["regionsScanned"] == 28
    assert body(report)["regionsSkipped"] == 0
