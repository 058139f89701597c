"""Unit tests of the stale cleanup (`inventory_sync.cleanup`): `clean_up_stale_rows` and its helpers.

An account's inventory rows whose servers no account listed in the run are deleted; rows whose DRS account or region
could not be read are kept (legacy defects 1-3 fixed, approved divergences in harness/approved/). Every account read
gets the legacy's own Scan (`sourceAccountId = :acct_id`, every page); the deletes follow account by account.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from harness.scheduling import Schedule, controlled_scheduling
from tests.unit.support import (
    INVENTORY_TABLE,
    OTHER,
    PROD,
    WORKLOADS,
    SyncWorld,
    calls,
    cleanup_segment_params,
    open_sync_world,
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
    return int(
        sync.cleanup.clean_up_stale_rows([sync.cleanup.AccountRead(account, frozenset(synced), frozenset())], [])
    )


def read_of(sync: Any, account: str, servers: list[dict[str, Any]], failed: frozenset[str] = frozenset()) -> Any:
    """The AccountRead the orchestrator makes of `account` whose DRS listed `servers` (`failed` regions failing)."""
    return sync.cleanup.AccountRead(account, sync.rows.inventory_keys(servers, account), failed)


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

    assert sync.rows.inventory_keys(SYNCED_SERVERS, PROD) == SYNCED
    assert sync.rows.inventory_keys([{}], PROD) == {("", PROD)}


def test_rows_of_an_unread_region_or_account_are_kept(sync_world: Any, caplog: pytest.LogCaptureFixture) -> None:
    west = {**row("w"), "sourceServerArn": f"arn:aws:drs:us-west-2:{PROD}:source-server/s-w"}
    world = sync_world(scenario(inventory_before=[*INVENTORY, west]))
    sync = world.module
    reads = [read_of(sync, PROD, SYNCED_SERVERS, frozenset({"us-west-2"})), read_of(sync, WORKLOADS, [])]

    with caplog.at_level(logging.WARNING):
        deleted = sync.cleanup.clean_up_stale_rows(reads, [OTHER])

    # b and (a, STAGING) are stale in a region that answered, d in WORKLOADS; w lives in us-west-2, whose query
    # failed for PROD.
    assert deleted == 3
    assert keys(world.tables()["inventory"]) == keys([row("a"), row("c"), west])
    assert any(west["sourceServerArn"] in record.getMessage() for record in caplog.records)


def test_rows_of_an_account_that_could_not_be_read_are_kept(sync_world: Any) -> None:
    # d's row is WORKLOADS', but its ARN names PROD's DRS; PROD's DRS could not be read this run.
    listed_by_prod = row("d", account=PROD) | {"sourceAccountId": WORKLOADS}
    world = sync_world(scenario(inventory_before=[listed_by_prod, row("x", account=WORKLOADS)]))
    sync = world.module

    deleted = sync.cleanup.clean_up_stale_rows([read_of(sync, WORKLOADS, [])], [PROD])

    assert deleted == 1
    assert keys(world.tables()["inventory"]) == keys([listed_by_prod])


def test_every_read_account_is_cleaned_against_the_servers_of_the_whole_run(sync_world: Any) -> None:
    # PROD's DRS lists server e, whose origin is WORKLOADS: its row carries WORKLOADS as sourceAccountId, and the
    # WORKLOADS cleanup must not take it for stale just because WORKLOADS' own DRS does not list it.
    replicated = row("e", staging=PROD, account=PROD) | {"sourceAccountId": WORKLOADS}
    world = sync_world(scenario(inventory_before=[*INVENTORY, replicated]))
    sync = world.module
    reads = [read_of(sync, PROD, [*SYNCED_SERVERS, {"arn": arn("e")}]), read_of(sync, WORKLOADS, [])]

    with recording() as recorder:
        deleted = sync.cleanup.clean_up_stale_rows(reads, [])

    # One Scan for both accounts read: a parallel Scan in four segments, projected on what the cleanup reads.
    scans = sorted((scan.params for scan in calls(recorder, "dynamodb", "Scan")), key=lambda params: params["Segment"])
    assert scans == cleanup_segment_params(INVENTORY_TABLE, [PROD, WORKLOADS])
    # PROD: b and (a, STAGING); WORKLOADS: d, which no DRS listed. e was listed by PROD's DRS.
    assert deleted == 3
    assert keys(world.tables()["inventory"]) == keys([row("a"), row("c"), replicated])


def test_with_no_account_read_nothing_is_scanned_or_deleted(sync_world: Any, caplog: pytest.LogCaptureFixture) -> None:
    world = sync_world(scenario(inventory_before=INVENTORY))

    with recording() as recorder, caplog.at_level(logging.WARNING):
        assert world.module.cleanup.clean_up_stale_rows([], [PROD, WORKLOADS]) == 0

    assert recorder.interactions == []
    assert len(world.tables()["inventory"]) == len(INVENTORY)
    assert any("cleanup skipped" in record.getMessage() for record in caplog.records)


def test_the_deletes_follow_the_table_s_scan_order_whatever_order_the_segments_end_in(sync_world: Any) -> None:
    accounts = [f"{number:012d}" for number in range(1, 13)]
    inventory = [row(f"{account}-{n}", account=account) for account in accounts for n in range(2)]
    world = sync_world(scenario(inventory_before=inventory))
    sync = world.module
    reads = [sync.cleanup.AccountRead(account, frozenset(), frozenset()) for account in reversed(accounts)]

    with recording() as recorder, controlled_scheduling(Schedule("reverse")):
        deleted = sync.cleanup.clean_up_stale_rows(reads, [])

    scans = calls(recorder, "dynamodb", "Scan")
    assert sorted({scan.params["Segment"] for scan in scans}) == [0, 1, 2, 3]
    segment_rows = {
        segment: [
            item["sourceServerArn"]["S"]
            for scan in scans
            if scan.params["Segment"] == segment
            for item in scan.response["Items"]
        ]
        for segment in range(4)
    }
    deleted_arns = [call.params["Key"]["sourceServerArn"]["S"] for call in calls(recorder, "dynamodb", "DeleteItem")]
    assert deleted_arns == [arn for segment in range(4) for arn in segment_rows[segment]]
    assert deleted == len(inventory)
    assert world.tables()["inventory"] == []


def test_more_than_100_accounts_take_one_scan_per_100(sync_world: Any) -> None:
    accounts = [f"{number:012d}" for number in range(1, 103)]
    world = sync_world(scenario(inventory_before=[row("only", account=accounts[-1])]))
    sync = world.module
    reads = [sync.cleanup.AccountRead(account, frozenset(), frozenset()) for account in accounts]

    with recording() as recorder:
        deleted = sync.cleanup.clean_up_stale_rows(reads, [])

    scans = calls(recorder, "dynamodb", "Scan")
    named = [len(scan.params["ExpressionAttributeValues"]) for scan in scans]
    assert sorted(named) == [2] * 4 + [100] * 4
    assert deleted == 1


class TestDrsSourceOf:
    """Whose DRS lists an inventory row's server: its ARN's account and region, else the row's own fields."""

    @pytest.mark.parametrize(
        ("stored", "expected"),
        [
            ({"sourceServerArn": f"arn:aws:drs:eu-west-1:{PROD}:source-server/s-1"}, (PROD, "eu-west-1")),
            (
                {"sourceServerArn": "not-an-arn", "sourceAccountId": WORKLOADS, "replicationRegion": "us-east-2"},
                (WORKLOADS, "us-east-2"),
            ),
            (
                {"sourceServerArn": f"arn:aws:ec2:us-east-1:{PROD}:instance/i-1", "sourceAccountId": WORKLOADS},
                (WORKLOADS, ""),
            ),
            ({"sourceServerArn": "arn:aws:drs::" + PROD + ":source-server/s-1"}, ("", "")),
            ({}, ("", "")),
        ],
        ids=["drs-arn", "fields", "other-service-arn", "arn-without-region", "nothing"],
    )
    def test_source(self, bare_world: Any, stored: dict[str, Any], expected: tuple[str, str]) -> None:
        assert bare_world.module.cleanup.drs_source_of(stored) == expected


@pytest.fixture(scope="class")
def bare_world() -> Iterator[SyncWorld]:
    """An empty world: the package for tests that make no AWS call."""
    with open_sync_world(scenario()) as world:
        yield world
