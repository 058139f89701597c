"""Unit tests of the stale cleanup: `cleanup_every_read_account` and its helpers.

An account's inventory rows whose servers no account listed in the run are deleted; rows whose DRS account or region
could not be read are kept (legacy defects 1-3 fixed, approved divergences in harness/approved/). One Scan reads the
rows of every account read (the legacy's own Scan when there is one; else a parallel Scan in 4 segments), up to 100
accounts a Scan.
"""

from __future__ import annotations

from typing import Any

from tests.unit.support import (
    INVENTORY_TABLE,
    PROD,
    WORKLOADS,
    calls,
    cleanup_segment_params,
    recording,
    scenario,
)

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
SYNCED_SERVERS = [
    {"arn": arn("a"), "stagingArea": {"stagingAccountID": PROD}},
    {"arn": arn("c")},  # no stagingArea: the staging account defaults to the account id
]
SYNCED = {(arn("a"), PROD), (arn("c"), PROD)}


def clean_up(sync: Any, account: str, synced: set[tuple[str, str]]) -> int:
    """The cleanup of `account` alone, read with the servers whose inventory keys are `synced`; the rows deleted."""
    return int(sync.cleanup_every_read_account([sync.AccountRead(account, frozenset(synced))], []))


def keys(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(sourceServerArn, stagingAccountId) of `rows`, sorted."""
    return sorted((item["sourceServerArn"], item["stagingAccountId"]) for item in rows)


def test_deletes_exactly_the_stale_rows_of_the_account(sync_world: Any) -> None:
    world = sync_world(scenario(inventory_before=INVENTORY))

    deleted = clean_up(world.module, PROD, SYNCED)

    assert deleted == 2
    assert keys(world.tables()["inventory"]) == keys([row("a"), row("c"), row("d", account=WORKLOADS)])


def test_scans_with_the_account_filter_and_deletes_by_key(sync_world: Any) -> None:
    world = sync_world(scenario(inventory_before=INVENTORY))

    with recording() as recorder:
        clean_up(world.module, PROD, SYNCED)

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

    assert clean_up(world.module, PROD, set()) == 4
    assert keys(world.tables()["inventory"]) == keys([row("d", account=WORKLOADS)])


def test_nothing_to_delete(sync_world: Any) -> None:
    world = sync_world(scenario(inventory_before=[row("a")]))

    with recording() as recorder:
        assert clean_up(world.module, PROD, SYNCED) == 0

    assert [call.operation for call in recorder.interactions] == ["Scan"]


def test_every_page_of_the_scan_is_read(sync_world: Any) -> None:
    # Items of ~300 KB: DynamoDB (and moto) return at most 1 MB per Scan page, so four rows take two pages.
    padding = "x" * 300_000
    world = sync_world(scenario(inventory_before=[row(str(number), padding=padding) for number in range(4)]))

    with recording() as recorder:
        deleted = clean_up(world.module, PROD, set())

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

    deleted = clean_up(world.module, PROD, SYNCED)

    assert deleted == 1
    remaining = keys(world.tables()["inventory"])
    assert len(remaining) == 4
    assert (arn("a"), PROD) in remaining and (arn("c"), PROD) in remaining


def test_synced_keys_default_the_staging_account_to_the_account_read(sync_world: Any) -> None:
    sync = sync_world(scenario()).module

    assert sync.synced_inventory_keys([sync.AccountRead.of(PROD, SYNCED_SERVERS)]) == SYNCED


def test_rows_of_an_unread_region_or_account_are_kept(sync_world: Any) -> None:
    west = {**row("w"), "sourceServerArn": f"arn:aws:drs:us-west-2:{PROD}:source-server/s-w"}
    world = sync_world(scenario(inventory_before=[*INVENTORY, west]))
    sync = world.module
    reads = [sync.AccountRead.of(PROD, SYNCED_SERVERS, frozenset({"us-west-2"}))]

    deleted = sync.cleanup_every_read_account(reads, [WORKLOADS])

    # b and (a, STAGING) are stale in a region that answered; w lives in us-west-2, whose query failed.
    assert deleted == 2
    assert keys(world.tables()["inventory"]) == keys([row("a"), row("c"), row("d", account=WORKLOADS), west])


def test_every_read_account_is_cleaned_against_the_servers_of_the_whole_run(sync_world: Any) -> None:
    # PROD's DRS lists server e, whose origin is WORKLOADS: its row carries WORKLOADS as sourceAccountId, and the
    # WORKLOADS cleanup must not take it for stale just because WORKLOADS' own DRS does not list it.
    replicated = row("e", staging=PROD, account=PROD) | {"sourceAccountId": WORKLOADS}
    world = sync_world(scenario(inventory_before=[*INVENTORY, replicated]))
    sync = world.module
    reads = [sync.AccountRead.of(PROD, [*SYNCED_SERVERS, {"arn": arn("e")}]), sync.AccountRead.of(WORKLOADS, [])]

    with recording() as recorder:
        deleted = sync.cleanup_every_read_account(reads, [])

    scans = calls(recorder, "dynamodb", "Scan")
    in_segment_order = sorted((scan.params for scan in scans), key=lambda params: params["Segment"])
    assert in_segment_order == cleanup_segment_params(INVENTORY_TABLE, [PROD, WORKLOADS])
    # Only the attributes the cleanup reads come back.
    assert {name for scan in scans for item in scan.response["Items"] for name in item} <= {
        "sourceServerArn",
        "stagingAccountId",
        "sourceAccountId",
        "replicationRegion",
    }
    # PROD: b and (a, STAGING); WORKLOADS: d, which no DRS listed. e was listed by PROD's DRS.
    assert deleted == 3
    assert keys(world.tables()["inventory"]) == keys([row("a"), row("c"), replicated])


def test_with_no_account_read_nothing_is_scanned_or_deleted(sync_world: Any) -> None:
    world = sync_world(scenario(inventory_before=INVENTORY))

    with recording() as recorder:
        assert world.module.cleanup_every_read_account([], [PROD, WORKLOADS]) == 0

    assert recorder.interactions == []
    assert len(world.tables()["inventory"]) == len(INVENTORY)


def test_the_rows_of_many_accounts_are_read_by_a_scan_per_hundred_accounts(sync_world: Any) -> None:
    accounts = [f"{number:012d}" for number in range(1, 151)]
    world = sync_world(scenario(inventory_before=[row(account, account=account) for account in accounts]))
    sync = world.module
    reads = [sync.AccountRead(account, frozenset()) for account in accounts]

    with recording() as recorder:
        deleted = sync.cleanup_every_read_account(reads, [])

    scans = calls(recorder, "dynamodb", "Scan")
    assert sorted(len(scan.params["ExpressionAttributeValues"]) for scan in scans) == [50] * 4 + [100] * 4
    second = [scan for scan in scans if len(scan.params["ExpressionAttributeValues"]) == 50]
    assert all(scan.params["ExpressionAttributeValues"][":acct_0"] == {"S": accounts[100]} for scan in second)
    assert deleted == 150
    assert world.tables()["inventory"] == []
