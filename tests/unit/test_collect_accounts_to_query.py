"""Unit tests of `collect_accounts_to_query`: the target accounts read with a Scan (every page), and its failures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ParamValidationError

from harness.lambda_env import lambda_environment
from tests.unit.support import (
    HUB,
    OTHER,
    PROD,
    TARGET_ACCOUNTS_TABLE,
    WORKLOADS,
    SyncWorld,
    calls,
    open_sync_world,
    recording,
    role_arn,
    scenario,
    target_row,
)

ROWS = [
    target_row(PROD, "ext-prod-7f3a"),
    # Only the key: every other field of the account record is None.
    {"accountId": WORKLOADS},
    # Extra attributes, and a row that calls itself a staging account: still read as a target, extras dropped.
    target_row(OTHER, None, accountType="staging", status="active", stagingAccountId=HUB),
]
ACCOUNTS = (PROD, WORKLOADS, OTHER)


@pytest.fixture(scope="class")
def shared_world() -> Iterator[SyncWorld]:
    """One world with three target account rows, read (never written) by every test of the class."""
    with open_sync_world(scenario(target_accounts=ROWS)) as world:
        yield world


def scan_order() -> list[str]:
    """The account ids of the target accounts table in the order a plain Scan returns them."""
    items = boto3.client("dynamodb").scan(TableName=TARGET_ACCOUNTS_TABLE)["Items"]
    return [item["accountId"]["S"] for item in items]


class TestReadingTheTable:
    """Behaviour on a healthy table."""

    def test_each_row_becomes_an_account_record_with_the_five_fields(self, shared_world: SyncWorld) -> None:
        accounts = {account["accountId"]: account for account in shared_world.module.collect_accounts_to_query()}

        assert accounts[PROD] == {
            "accountId": PROD,
            "accountName": "acct-111",
            "roleArn": role_arn(PROD),
            "externalId": "ext-prod-7f3a",
            "accountType": "target",
        }
        assert set(accounts) == {PROD, WORKLOADS, OTHER}

    def test_missing_fields_become_none(self, shared_world: SyncWorld) -> None:
        accounts = {account["accountId"]: account for account in shared_world.module.collect_accounts_to_query()}

        assert accounts[WORKLOADS] == {
            "accountId": WORKLOADS,
            "accountName": None,
            "roleArn": None,
            "externalId": None,
            "accountType": "target",
        }

    def test_rows_are_always_targets_and_extra_attributes_are_dropped(self, shared_world: SyncWorld) -> None:
        accounts = {account["accountId"]: account for account in shared_world.module.collect_accounts_to_query()}

        assert accounts[OTHER] == {
            "accountId": OTHER,
            "accountName": "acct-333",
            "roleArn": role_arn(OTHER),
            "externalId": None,
            "accountType": "target",
        }

    def test_accounts_come_in_scan_order(self, shared_world: SyncWorld) -> None:
        accounts = shared_world.module.collect_accounts_to_query()

        assert [account["accountId"] for account in accounts] == scan_order()

    def test_one_unpaginated_scan_of_the_target_accounts_table_and_nothing_else(self, shared_world: SyncWorld) -> None:
        with recording() as recorder:
            shared_world.module.collect_accounts_to_query()

        assert [(call.service, call.operation) for call in recorder.interactions] == [("dynamodb", "Scan")]
        assert calls(recorder, "dynamodb", "Scan")[0].params == {"TableName": TARGET_ACCOUNTS_TABLE}
        assert calls(recorder, "dynamodb", "Scan")[0].identity == "hub"


def test_every_page_of_a_table_over_one_megabyte_is_read(sync_world: Any) -> None:
    # Approved divergence (defect 9 fixed): the legacy read the first Scan page only. Three rows of 400 KB make a
    # 1 MB page of two rows and a second page of one.
    notes = "n" * 399_000
    world = sync_world(scenario(target_accounts=[target_row(account, None, notes=notes) for account in ACCOUNTS]))

    with recording() as recorder:
        accounts = world.module.collect_accounts_to_query()

    assert [account["accountId"] for account in accounts] == sorted(ACCOUNTS)
    scans = calls(recorder, "dynamodb", "Scan")
    assert [len(scan.response["Items"]) for scan in scans] == [2, 1]
    assert scans[1].params["ExclusiveStartKey"] == scans[0].response["LastEvaluatedKey"]


def test_an_empty_table_gives_no_accounts(sync_world: Any) -> None:
    world = sync_world(scenario())

    assert world.module.collect_accounts_to_query() == []


def test_a_scan_failure_raises_the_dynamodb_error_with_a_descriptive_note(sync_world: Any) -> None:
    world = sync_world(
        scenario(
            target_accounts=[target_row(PROD)],
            faults=[
                {
                    "service": "dynamodb",
                    "operation": "Scan",
                    "error": {"code": "ResourceNotFoundException", "message": "Requested resource not found"},
                }
            ],
        )
    )

    with pytest.raises(ClientError) as raised:
        world.module.collect_accounts_to_query()

    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    # The type and text stay the DynamoDB error's (what the legacy lets propagate); the note says what failed.
    assert str(raised.value) == (
        "An error occurred (ResourceNotFoundException) when calling the Scan operation: Requested resource not found"
    )
    assert raised.value.__notes__ == [
        "Failed to read target accounts from 'target-accounts': " + str(raised.value),
    ]


def test_an_unset_table_variable_fails_as_the_legacy_with_a_note_naming_it(sync_world: Any) -> None:
    world = sync_world(scenario(target_accounts=[target_row(PROD)]))

    with (
        lambda_environment({"TARGET_ACCOUNTS_TABLE": None}),
        recording() as recorder,
        pytest.raises(ValueError, match="Required parameter name not set") as raised,
    ):
        world.module.collect_accounts_to_query()

    assert raised.value.__notes__ == ["Failed to read target accounts from None: Required parameter name not set"]
    assert recorder.interactions == []


def test_an_empty_table_variable_fails_the_scan_parameter_validation(sync_world: Any) -> None:
    world = sync_world(scenario(target_accounts=[target_row(PROD)]))

    with (
        lambda_environment({"TARGET_ACCOUNTS_TABLE": ""}),
        pytest.raises(ParamValidationError, match="TableName") as raised,
    ):
        world.module.collect_accounts_to_query()

    assert raised.value.__notes__[0].startswith("Failed to read target accounts from '': ")
