"""Unit tests of `cleanup_stale_inventory`: the account's inventory rows not among the synced servers are deleted."""

from __future__ import annotations

from typing import Any

from tests.unit.support import INVENTORY_TABLE, PROD, WORKLOADS, calls, recording, scenario

STAGING = "555555555555"


def arn(name: str, account: str = PROD) -> str:
    """A source server ARN in `account`."""
    return f"arn:aws:drs:us-east-1:{account}:source-server/s-{name}"


def row(name: str, staging: str = PROD, account: str = PROD, **extra: Any) -> dict[str, Any]:
    """An inventory row of server `name`, staged in `staging`, originating in `account`."""
    return {
        "sourceServerArn": arn(name, account),
        "stagingAccountId": staging,
        "sourceAccountId": account,
        "hostname": f"host-{name}",
        **extra,
    }


INVENTORY = [
    row("a"),
    row("b"),  # not synced any more
    row("a", staging=STAGING),  # same server, another staging account: its own, stale, row
    row("c"),
    row("d", account=WORKLOADS),  # another account's row: never touched
]
SYNCED = [
    {"arn": arn("a"), "stagingArea": {"stagingAccountID": PROD}},
    {"arn": arn("c")},  # no stagingArea: the staging account defaults to the account id
]


def keys(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(sourceServerArn, stagingAccountId) of `rows`, sorted."""
    return sorted((item["sourceServerArn"], item["stagingAccountId"]) for item in rows)


def test_deletes_exactly_the_stale_rows_of_the_account(sync_world: Any) -> None:
    world = sync_world(scenario(inventory_before=INVENTORY))

    deleted = world.module.cleanup_stale_inventory(PROD, SYNCED)

    assert deleted == 2
    assert keys(world.tables()["inventory"]) == keys([row("a"), row("c"), row("d", account=WORKLOADS)])


def test_scans_with_the_account_filter_and_deletes_by_key(sync_world: Any) -> None:
    world = sync_world(scenario(inventory_before=INVENTORY))

    with recording() as recorder:
        world.module.cleanup_stale_inventory(PROD, SYNCED)

    [scan] = calls(recorder, "dynamodb", "Scan")
    assert scan.params == {
        "TableName": INVENTORY_TABLE,
        "FilterExpression": "sourceAccountId = :acct_id",
        "ExpressionAttributeValues": {":acct_id": {"S": PROD}},
    }
    deletes = [call.params for call in calls(recorder, "dynamodb", "DeleteItem")]
    assert sorted(deletes, key=str) == sorted(
        [
            {
                "TableName": INVENTORY_TABLE,
                "Key": {"sourceServerArn": {"S": arn("b")}, "stagingAccountId": {"S": PROD}},
            },
            {
                "TableName": INVENTORY_TABLE,
                "Key": {"sourceServerArn": {"S": arn("a")}, "stagingAccountId": {"S": STAGING}},
            },
        ],
        key=str,
    )


def test_with_no_servers_every_row_of_the_account_goes(sync_world: Any) -> None:
    world = sync_world(scenario(inventory_before=INVENTORY))

    assert world.module.cleanup_stale_inventory(PROD, []) == 4
    assert keys(world.tables()["inventory"]) == keys([row("d", account=WORKLOADS)])


def test_nothing_to_delete(sync_world: Any) -> None:
    world = sync_world(scenario(inventory_before=[row("a")]))

    with recording() as recorder:
        assert world.module.cleanup_stale_inventory(PROD, SYNCED) == 0

    assert [call.operation for call in recorder.interactions] == ["Scan"]


def test_every_page_of_the_scan_is_read(sync_world: Any) -> None:
    # Items of ~300 KB: DynamoDB (and moto) return at most 1 MB per Scan page, so four rows take two pages.
    padding = "x" * 300_000
    world = sync_world(scenario(inventory_before=[row(str(number), padding=padding) for number in range(4)]))

    with recording() as recorder:
        deleted = world.module.cleanup_stale_inventory(PROD, [])

    scans = calls(recorder, "dynamodb", "Scan")
    assert len(scans) >= 2
    assert "ExclusiveStartKey" not in scans[0].params
    assert all("ExclusiveStartKey" in scan.params for scan in scans[1:])
    assert all(scan.params["FilterExpression"] == "sourceAccountId = :acct_id" for scan in scans)
    assert deleted == 4
    assert world.tables()["inventory"] == []


def test_a_failed_delete_is_not_counted_and_the_others_proceed(sync_world: Any) -> None:
    world = sync_world(
        scenario(
            inventory_before=INVENTORY,
            faults=[
                {
                    "service": "dynamodb",
                    "operation": "DeleteItem",
                    "on_call": 1,
                    "error": {"code": "ValidationException"},
                }
            ],
        )
    )

    deleted = world.module.cleanup_stale_inventory(PROD, SYNCED)

    assert deleted == 1
    remaining = keys(world.tables()["inventory"])
    assert len(remaining) == 4
    assert (arn("a"), PROD) in remaining and (arn("c"), PROD) in remaining
