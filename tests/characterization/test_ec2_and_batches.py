"""Characterization of EC2 enrichment (chunks of 100, per-id retries, cross-account origins) and batch re-sends."""

from __future__ import annotations

from tests.characterization.scenarios import (
    ACCOUNT_A,
    ACCOUNT_B,
    ACCOUNT_C,
    INVENTORY,
    NOW,
    batch_puts,
    body,
    calls,
    drs_documents,
    role_arn,
    rows_by_key,
    run,
    scenario,
    target,
    trace,
)


def test_describe_instances_in_chunks_of_100_then_id_by_id_for_a_failing_chunk() -> None:
    """105 servers whose last 2 instances are gone: chunk 1 (100 ids) succeeds, chunk 2 (5 ids) fails.

    The failing chunk is retried one id at a time: 3 answers, 2 InvalidInstanceID.NotFound ignored.
    """
    report = run(
        scenario(
            targets=[target(ACCOUNT_A, "ext-a")],
            accounts={
                ACCOUNT_A: {"drs": {"us-east-1": {"servers": 105}}, "ec2": {"us-east-1": {"missing_instances": 2}}}
            },
            seed=9,
        )
    )
    ids = [document["sourceProperties"]["identificationHints"]["awsInstanceID"] for document in drs_documents(report)]
    assert len(ids) == 105
    assert len(calls(report, "DescribeSourceServers")) == 2  # DRS pages of 100 + 5

    describes = calls(report, "DescribeInstances")
    assert [call.params["InstanceIds"] for call in describes] == [
        ids[0:100],
        ids[100:105],
        [ids[100]],
        [ids[101]],
        [ids[102]],
        [ids[103]],
        [ids[104]],
    ]
    assert [call.error["code"] if call.error else None for call in describes] == [
        None,
        "InvalidInstanceID.NotFound",
        None,
        None,
        None,
        "InvalidInstanceID.NotFound",
        "InvalidInstanceID.NotFound",
    ]
    assert {(call.region, call.identity) for call in describes} == {("us-east-1", ACCOUNT_A)}

    rows = {row["instanceId"]: row for row in report.tables["inventory"]}
    assert len(rows) == 105
    enriched = [instance_id for instance_id in ids if "networkConfig" in rows[instance_id]]
    assert enriched == ids[:103]
    for missing in ids[103:]:
        assert "networkConfig" not in rows[missing]
        assert "sourceTags" not in rows[missing]
    assert body(report)["totalSynced"] == 105
    assert body(report)["totalErrors"] == 0
    # 105 inventory items: batches of 25, 25, 25, 25 and 5.
    inventory_batches = [call for call in calls(report, "BatchWriteItem") if INVENTORY in call.params["RequestItems"]]
    assert [len(call.params["RequestItems"][INVENTORY]) for call in inventory_batches] == [25, 25, 25, 25, 5]


def test_cross_account_origin_assumes_into_the_origin_account() -> None:
    """A's DRS holds servers whose instances live in B (us-west-2, a target) and C (eu-west-1, not a target).

    Groups in first-seen order: active regions are eu-west-1 then us-east-1, so (C, eu-west-1) then (B, us-west-2).
    B's role and external id come from its target accounts row; C gets the default role and external id.
    """
    report = run(
        scenario(
            targets=[target(ACCOUNT_A, "ext-a"), target(ACCOUNT_B, "ext-b")],
            accounts={
                ACCOUNT_A: {
                    "drs": {
                        "us-east-1": {"servers": 2, "origin": {"account": ACCOUNT_B, "region": "us-west-2"}},
                        "eu-west-1": {"servers": 1, "origin": {"account": ACCOUNT_C, "region": "eu-west-1"}},
                    }
                },
                ACCOUNT_B: {},
            },
            active=["us-east-1", "eu-west-1"],
            seed=12,
        )
    )

    a, b, c = ACCOUNT_A, ACCOUNT_B, ACCOUNT_C
    assert trace(report) == [
        "dynamodb Scan drs-region-status",
        "dynamodb Scan target-accounts",
        "sts GetCallerIdentity us-east-1 as hub",
        "sts AssumeRole us-east-1 as hub",
        f"drs DescribeSourceServers eu-west-1 as {a}",
        f"drs DescribeSourceServers us-east-1 as {a}",
        "dynamodb PutItem drs-region-status",
        "dynamodb PutItem drs-region-status",
        "dynamodb BatchWriteItem drs-region-status",
        "sts GetCallerIdentity us-east-1 as hub",
        "dynamodb GetItem target-accounts",
        "sts AssumeRole us-east-1 as hub",
        f"ec2 DescribeInstances eu-west-1 as {c}",
        "sts GetCallerIdentity us-east-1 as hub",
        "dynamodb GetItem target-accounts",
        "sts AssumeRole us-east-1 as hub",
        f"ec2 DescribeInstances us-west-2 as {b}",
        "dynamodb BatchWriteItem source-server-inventory",
        "sts GetCallerIdentity us-east-1 as hub",
        "sts AssumeRole us-east-1 as hub",
        f"drs DescribeSourceServers eu-west-1 as {b}",
        f"drs DescribeSourceServers us-east-1 as {b}",
        "dynamodb PutItem drs-region-status",
        "dynamodb PutItem drs-region-status",
        "dynamodb BatchWriteItem drs-region-status",
        # B has no servers: its batch writer sends nothing.
        "dynamodb Scan source-server-inventory",
        "dynamodb DeleteItem source-server-inventory",
        "dynamodb DeleteItem source-server-inventory",
    ]
    get_items = calls(report, "GetItem")
    assert [call.params["Key"] for call in get_items] == [{"accountId": {"S": c}}, {"accountId": {"S": b}}]
    assert get_items[0].response is not None and "Item" not in get_items[0].response
    assert [call.params for call in calls(report, "AssumeRole")] == [
        {"RoleArn": role_arn(a), "RoleSessionName": "inventory-sync", "DurationSeconds": 900, "ExternalId": "ext-a"},
        {
            "RoleArn": f"arn:aws:iam::{c}:role/DRSOrchestrationRole",
            "RoleSessionName": "inventory-ec2-query",
            "ExternalId": "drs-orchestration-cross-account",
            "DurationSeconds": 900,
        },
        {
            "RoleArn": role_arn(b),
            "RoleSessionName": "inventory-ec2-query",
            "ExternalId": "ext-b",
            "DurationSeconds": 900,
        },
        {"RoleArn": role_arn(b), "RoleSessionName": "inventory-sync", "DurationSeconds": 900, "ExternalId": "ext-b"},
    ]
    written = batch_puts(report, INVENTORY)
    assert sorted((row["sourceAccountId"], row["sourceRegion"], row["replicationRegion"]) for row in written) == [
        (b, "us-west-2", "us-east-1"),
        (b, "us-west-2", "us-east-1"),
        (c, "eu-west-1", "eu-west-1"),
    ]
    assert all("networkConfig" in row for row in written)
    # Stale cleanup (step 6) runs for the last account, B, with B's empty server list: it scans rows whose
    # sourceAccountId is B, which are A's two servers originating in B, written moments before, and deletes them.
    b_rows = [row for row in written if row["sourceAccountId"] == b]
    assert [call.params["Key"]["sourceServerArn"]["S"] for call in calls(report, "DeleteItem")] == [
        row["sourceServerArn"] for row in sorted(b_rows, key=lambda row: row["sourceServerArn"])
    ]
    assert [(row["sourceAccountId"], row["sourceRegion"]) for row in report.tables["inventory"]] == [(c, "eu-west-1")]
    assert body(report)["totalSynced"] == 3
    assert body(report)["staleRecordsDeleted"] == 2


def test_unprocessed_items_are_re_sent_by_the_batch_writer() -> None:
    """BatchWriteItem #2 (the inventory's; #1 is the region status batch) leaves its last 2 items unprocessed.

    boto3's batch writer puts them back in its buffer and re-sends them before leaving the block.
    """
    arns = [f"arn:aws:drs:us-east-1:{ACCOUNT_A}:source-server/s-0000000000000000{n}" for n in (1, 2, 3)]
    documents = [{"sourceServerID": arn.rsplit("/", 1)[1], "arn": arn} for arn in arns]
    report = run(
        scenario(
            targets=[target(ACCOUNT_A)],
            accounts={ACCOUNT_A: {"drs": {"us-east-1": {"servers": documents}}}},
            faults=[{"service": "dynamodb", "operation": "BatchWriteItem", "on_call": 2, "unprocessed": 2}],
        )
    )

    batches = calls(report, "BatchWriteItem")
    sent = [
        [
            entry["PutRequest"]["Item"]["sourceServerArn"]["S"]
            for entry in call.params["RequestItems"].get(INVENTORY, [])
        ]
        for call in batches
    ]
    assert sent == [[], arns, arns[1:]]
    assert batches[1].response is not None
    assert [
        entry["PutRequest"]["Item"]["sourceServerArn"]["S"]
        for entry in batches[1].response["UnprocessedItems"][INVENTORY]
    ] == arns[1:]
    assert batches[2].response is not None and batches[2].response["UnprocessedItems"] == {}
    assert sorted(rows_by_key(report.tables["inventory"])) == arns
    assert all(row["lastUpdated"] == NOW for row in report.tables["inventory"])
    assert body(report)["totalSynced"] == 3
    assert body(report)["totalErrors"] == 0


def test_ec2_assume_role_failure_skips_the_group_only() -> None:
    """AssumeRole #2 (the inventory-ec2-query one) is denied: that group gets no EC2 details, the sync goes on."""
    report = run(
        scenario(
            targets=[target(ACCOUNT_A, "ext-a")],
            accounts={ACCOUNT_A: {"drs": {"us-east-1": {"servers": 2}}}},
            faults=[{"service": "sts", "operation": "AssumeRole", "on_call": 2, "error": {"code": "AccessDenied"}}],
        )
    )

    assume = calls(report, "AssumeRole")
    assert [(call.params["RoleSessionName"], call.error["code"] if call.error else None) for call in assume] == [
        ("inventory-sync", None),
        ("inventory-ec2-query", "AccessDenied"),
    ]
    assert calls(report, "DescribeInstances") == []
    assert len(report.tables["inventory"]) == 2
    assert all("networkConfig" not in row and "sourceTags" not in row for row in report.tables["inventory"])
    assert body(report)["totalSynced"] == 2
    assert body(report)["totalErrors"] == 0


def test_describe_instances_error_retries_each_id_and_ignores_failures() -> None:
    """A persistent EC2 error in the origin region: the chunk fails, then each id alone fails; no EC2 details."""
    report = run(
        scenario(
            targets=[target(ACCOUNT_A, "ext-a")],
            accounts={
                ACCOUNT_A: {
                    "drs": {"us-east-1": {"servers": 2}},
                    "ec2": {"us-east-1": {"error": {"code": "UnauthorizedOperation", "message": "not authorized"}}},
                }
            },
        )
    )

    ids = [document["sourceProperties"]["identificationHints"]["awsInstanceID"] for document in drs_documents(report)]
    describes = calls(report, "DescribeInstances")
    assert [call.params["InstanceIds"] for call in describes] == [ids, [ids[0]], [ids[1]]]
    assert {call.error["code"] for call in describes if call.error} == {"UnauthorizedOperation"}
    assert all(call.error for call in describes)
    assert all("networkConfig" not in row for row in report.tables["inventory"])
    assert body(report)["totalSynced"] == 2
