"""Unit tests of `inventory_sync.orchestrator` and `inventory_sync.settings`: the composition of the seven functions.

The whole-run behaviour on two accounts in the legacy's exact call order is in test_sync_source_server_inventory.py
(read-ahead window 1). Here: the read-ahead window setting, the accounts read ahead on real threads with their writes
still in account order, unread accounts, and a failed write stopping the run after the writes before it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3
import pytest

from harness.lambda_env import lambda_environment
from tests.unit.support import (
    INVENTORY_TABLE,
    OTHER,
    PROD,
    REGION_STATUS_TABLE,
    WORKLOADS,
    calls,
    recording,
    scenario,
    target_row,
)

ACCOUNTS = [PROD, WORKLOADS, OTHER, "444444444444"]


def accounts_scenario(accounts: list[str] = ACCOUNTS, **fields: Any) -> dict[str, Any]:
    """Target accounts each with servers in us-east-1 (one more per account), one active region."""
    return scenario(
        active_regions=[{"region": "us-east-1", "serverCount": 1}],
        target_accounts=[target_row(account) for account in accounts],
        accounts={account: {"drs": {"us-east-1": {"servers": index + 1}}} for index, account in enumerate(accounts)},
        **fields,
    )


def target_accounts_scan_order() -> list[str]:
    """The target accounts in the order the sync reads them (a plain Scan's)."""
    items = boto3.client("dynamodb").scan(TableName="target-accounts")["Items"]
    return [item["accountId"]["S"] for item in items]


class TestAccountWindow:
    """`settings.account_window()`: INVENTORY_SYNC_ACCOUNT_WINDOW, a whole number >= 1, else the default."""

    @pytest.mark.parametrize(
        ("value", "expected", "warned"),
        [(None, None, False), ("1", 1, False), (" 5 ", 5, False), ("0", None, True), ("two", None, True)],
        ids=["unset", "one", "padded", "zero", "not-a-number"],
    )
    def test_window(
        self, sync_world: Any, caplog: pytest.LogCaptureFixture, value: str | None, expected: int | None, warned: bool
    ) -> None:
        settings = sync_world(scenario()).module.settings

        with lambda_environment({"INVENTORY_SYNC_ACCOUNT_WINDOW": value}), caplog.at_level(logging.WARNING):
            window = settings.account_window()

        assert window == (settings.DEFAULT_ACCOUNT_WINDOW if expected is None else expected)
        assert any("INVENTORY_SYNC_ACCOUNT_WINDOW" in record.getMessage() for record in caplog.records) is warned

    def test_the_empty_setting_is_the_default_without_a_warning(
        self, sync_world: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        settings = sync_world(scenario()).module.settings

        with lambda_environment({"INVENTORY_SYNC_ACCOUNT_WINDOW": ""}), caplog.at_level(logging.WARNING):
            assert settings.account_window() == settings.DEFAULT_ACCOUNT_WINDOW

        assert caplog.records == []


@pytest.mark.parametrize("window", ["1", "2", "4"])
def test_accounts_read_ahead_on_real_threads_still_write_in_account_order(sync_world: Any, window: str) -> None:
    world = sync_world(accounts_scenario(env={"INVENTORY_SYNC_ACCOUNT_WINDOW": window}))
    order = target_accounts_scan_order()

    with recording() as recorder:
        body = json.loads(world.module.sync_source_server_inventory()["body"])

    assert body["totalSynced"] == sum(range(1, len(ACCOUNTS) + 1))
    writes = [
        call
        for call in calls(recorder, "dynamodb")
        if call.operation in ("PutItem", "BatchWriteItem") and call.params.get("TableName") != INVENTORY_TABLE
    ]
    # Per account: its region's PutItem, its region status batch, its inventory batch; accounts in scan order.
    written_by = []
    for call in writes:
        if call.operation == "BatchWriteItem":
            (table, requests), *_ = call.params["RequestItems"].items()
            item = requests[0]["PutRequest"]["Item"]
            account = item["accountId"]["S"] if table == REGION_STATUS_TABLE else item["sourceAccountId"]["S"]
            written_by.append((table, account))
    assert written_by == [(table, account) for account in order for table in (REGION_STATUS_TABLE, INVENTORY_TABLE)]


def test_an_account_whose_role_cannot_be_assumed_is_unread_and_its_rows_stay(sync_world: Any) -> None:
    stale = {
        "sourceServerArn": f"arn:aws:drs:us-east-1:{WORKLOADS}:source-server/s-old",
        "stagingAccountId": WORKLOADS,
        "sourceAccountId": WORKLOADS,
    }
    spec = accounts_scenario([PROD, WORKLOADS], inventory_before=[stale])
    spec["accounts"][WORKLOADS]["assume_role_error"] = "AccessDenied"
    world = sync_world(spec)

    with recording() as recorder:
        body = json.loads(world.module.sync_source_server_inventory()["body"])

    assert (body["totalSynced"], body["staleRecordsDeleted"]) == (1, 0)
    assert stale in world.tables()["inventory"]
    # Only the account read is scanned by the cleanup.
    cleanup = [scan for scan in calls(recorder, "dynamodb", "Scan") if scan.params["TableName"] == INVENTORY_TABLE]
    assert [scan.params["ExpressionAttributeValues"] for scan in cleanup] == [{":acct_id": {"S": PROD}}]


@pytest.mark.parametrize("window", ["1", "3"])
def test_a_failed_region_status_write_raises_after_the_writes_before_it(sync_world: Any, window: str) -> None:
    # BatchWriteItem calls in write order: account 1's region statuses, its inventory, account 2's region statuses
    # (fails: not retryable), ... Account 1 stays written; nothing of account 2 or later is, and no cleanup runs.
    fault = {
        "service": "dynamodb",
        "operation": "BatchWriteItem",
        "on_call": 3,
        "error": {"code": "ValidationException", "message": "region status batch refused"},
    }
    world = sync_world(accounts_scenario(faults=[fault], env={"INVENTORY_SYNC_ACCOUNT_WINDOW": window}))
    first = target_accounts_scan_order()[0]

    with recording() as recorder, pytest.raises(Exception, match="region status batch refused"):
        world.module.sync_source_server_inventory()

    assert {row["sourceAccountId"] for row in world.tables()["inventory"]} == {first}
    batches = calls(recorder, "dynamodb", "BatchWriteItem")
    assert [next(iter(batch.params["RequestItems"])) for batch in batches] == [
        REGION_STATUS_TABLE,
        INVENTORY_TABLE,
        REGION_STATUS_TABLE,
    ]
    assert calls(recorder, "dynamodb", "DeleteItem") == []
    assert [scan.params["TableName"] for scan in calls(recorder, "dynamodb", "Scan")].count(INVENTORY_TABLE) == 0


def test_a_failure_while_reading_an_account_stops_the_run_at_its_place(
    sync_world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The second account's enrichment raises: the first account's writes are made, then the run raises that error.
    world = sync_world(accounts_scenario([PROD, WORKLOADS, OTHER]))
    orchestrator = world.module.orchestrator
    order = target_accounts_scan_order()
    real_enrich = orchestrator.enrich_with_ec2_metadata

    def enrich_failing_for_the_second(servers: list[dict[str, Any]], account_id: Any, sts_client: Any = None) -> Any:
        """The real enrichment, but a failure for the second account of the scan."""
        if account_id == order[1]:
            raise RuntimeError("enrichment broke")
        return real_enrich(servers, account_id, sts_client)

    monkeypatch.setattr(orchestrator, "enrich_with_ec2_metadata", enrich_failing_for_the_second)

    with recording() as recorder, pytest.raises(RuntimeError, match="enrichment broke"):
        world.module.sync_source_server_inventory()

    assert {row["sourceAccountId"] for row in world.tables()["inventory"]} == {order[0]}
    status_batches = [
        batch.params["RequestItems"][REGION_STATUS_TABLE][0]["PutRequest"]["Item"]["accountId"]["S"]
        for batch in calls(recorder, "dynamodb", "BatchWriteItem")
        if REGION_STATUS_TABLE in batch.params["RequestItems"]
    ]
    # The second account's region statuses were submitted before its enrichment failed: they are made.
    assert status_batches == order[:2]


def test_the_summary_counts_every_account(sync_world: Any) -> None:
    world = sync_world(accounts_scenario([PROD, WORKLOADS], env={"INVENTORY_SYNC_ACCOUNT_WINDOW": "2"}))

    response = world.module.sync_source_server_inventory()

    body = json.loads(response["body"])
    assert response["statusCode"] == 200
    assert (body["totalSynced"], body["totalErrors"], body["regionsScanned"], body["regionsSkipped"]) == (3, 0, 1, 27)
    assert body["message"] == "Source server inventory sync complete"
