"""Unit tests of `get_account_credentials` and `is_hub_account`: who is reached through AssumeRole, how."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.unit.support import (
    HUB,
    OTHER,
    PROD,
    SyncWorld,
    calls,
    open_sync_world,
    operations,
    recording,
    role_arn,
)

CREDENTIAL_KEYS = {"AccessKeyId", "SecretAccessKey", "SessionToken"}


@pytest.fixture(scope="module")
def shared_world() -> Iterator[SyncWorld]:
    """A world where AssumeRole into OTHER is denied and into any other account succeeds."""
    spec = {
        "name": "unit-credentials",
        "hub_account": HUB,
        "accounts": {
            OTHER: {
                "assume_role_error": {"code": "AccessDenied", "message": "not authorized to perform sts:AssumeRole"}
            }
        },
    }
    with open_sync_world(spec) as world:
        yield world


def account(account_id: str, **fields: Any) -> dict[str, Any]:
    """An account record as collect_accounts_to_query makes it, with the conventional role unless overridden."""
    return {
        "accountId": account_id,
        "accountName": "acct",
        "roleArn": role_arn(account_id),
        "externalId": "ext-7f3a",
        "accountType": "target",
        **fields,
    }


class TestGetAccountCredentials:
    """AssumeRole into a target account."""

    def test_success_returns_the_three_sts_credential_fields(self, shared_world: SyncWorld) -> None:
        credentials = shared_world.module.get_account_credentials(account(PROD))

        assert set(credentials) == CREDENTIAL_KEYS
        assert all(isinstance(value, str) and value for value in credentials.values())

    def test_the_credentials_act_as_the_target_account(self, shared_world: SyncWorld) -> None:
        credentials = shared_world.module.get_account_credentials(account(PROD))

        sts = boto3.client(
            "sts",
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        assert sts.get_caller_identity()["Account"] == PROD

    def test_assume_role_carries_the_legacy_session_name_duration_and_external_id(
        self, shared_world: SyncWorld
    ) -> None:
        with recording() as recorder:
            shared_world.module.get_account_credentials(account(PROD))

        assert operations(recorder) == ["sts:AssumeRole"]
        assume_role = calls(recorder, "sts", "AssumeRole")[0]
        assert assume_role.identity == "hub"
        assert assume_role.params == {
            "RoleArn": role_arn(PROD),
            "RoleSessionName": "inventory-sync",
            "DurationSeconds": 900,
            "ExternalId": "ext-7f3a",
        }

    @pytest.mark.parametrize("external_id", [None, ""], ids=["null", "empty"])
    def test_a_falsy_external_id_is_not_sent(self, shared_world: SyncWorld, external_id: str | None) -> None:
        with recording() as recorder:
            credentials = shared_world.module.get_account_credentials(account(PROD, externalId=external_id))

        assert set(credentials) == CREDENTIAL_KEYS
        assert calls(recorder, "sts", "AssumeRole")[0].params == {
            "RoleArn": role_arn(PROD),
            "RoleSessionName": "inventory-sync",
            "DurationSeconds": 900,
        }

    def test_a_missing_external_id_key_is_not_sent(self, shared_world: SyncWorld) -> None:
        record = account(PROD)
        del record["externalId"]

        with recording() as recorder:
            shared_world.module.get_account_credentials(record)

        assert "ExternalId" not in calls(recorder, "sts", "AssumeRole")[0].params

    def test_a_denied_assume_role_returns_none_and_logs_the_account(
        self, shared_world: SyncWorld, caplog: pytest.LogCaptureFixture
    ) -> None:
        with recording() as recorder, caplog.at_level(logging.ERROR):
            credentials = shared_world.module.get_account_credentials(account(OTHER))

        assert credentials is None
        assert operations(recorder) == ["sts:AssumeRole"]
        error = calls(recorder, "sts", "AssumeRole")[0].error
        assert error is not None and error["code"] == "AccessDenied"
        assert any(OTHER in record.getMessage() and "skipping" in record.getMessage() for record in caplog.records)

    def test_an_invalid_role_arn_returns_none(self, shared_world: SyncWorld) -> None:
        # botocore rejects a too-short RoleArn before any request: still answered with None.
        assert shared_world.module.get_account_credentials(account(PROD, roleArn="x")) is None

    @pytest.mark.parametrize(
        "record",
        [account(PROD, roleArn=None), account(PROD, roleArn=""), {"accountId": PROD}],
        ids=["null", "empty", "no-key"],
    )
    def test_an_account_without_role_is_refused_without_any_call(
        self, shared_world: SyncWorld, caplog: pytest.LogCaptureFixture, record: dict[str, Any]
    ) -> None:
        # Defect 5 fixed: never the hub's credentials for another account; logged as an error and skipped.
        with recording() as recorder, caplog.at_level(logging.ERROR):
            credentials = shared_world.module.get_account_credentials(record)

        assert credentials is None
        assert operations(recorder) == []
        assert any(
            record.levelno == logging.ERROR and PROD in record.getMessage() and "roleArn" in record.getMessage()
            for record in caplog.records
        )

    def test_a_given_sts_client_makes_the_assume_role(self, shared_world: SyncWorld) -> None:
        sts = boto3.client("sts")

        with recording() as recorder:
            credentials = shared_world.module.get_account_credentials(account(PROD), sts)

        assert set(credentials) == CREDENTIAL_KEYS
        assert operations(recorder) == ["sts:AssumeRole"]


class TestIsHubAccount:
    """Which account is the hub, read with the Lambda's own credentials (every other one through AssumeRole)."""

    @pytest.mark.parametrize(
        ("record", "expected"),
        [
            (account(PROD), False),
            (account(HUB), True),  # the hub itself
            (account(HUB, roleArn=None), True),  # the hub's own row needs no role
            # Defect 5 fixed: another account without a role is not the hub (it is then refused, not queried).
            (account(PROD, roleArn=None), False),
            (account(PROD, roleArn=""), False),
            ({"accountId": PROD}, False),
        ],
        ids=["other-account-with-role", "hub", "hub-without-role", "null-role", "empty-role", "no-role-key"],
    )
    def test_only_the_lambdas_own_account_is_the_hub(
        self, shared_world: SyncWorld, record: dict[str, Any], expected: bool
    ) -> None:
        with recording() as recorder:
            is_hub = shared_world.module.accounts.is_hub_account(record)

        assert is_hub is expected
        # The hub's id is asked for every time, as the legacy does once per account.
        assert operations(recorder) == ["sts:GetCallerIdentity"]

    def test_a_given_sts_client_is_the_one_asked(self, shared_world: SyncWorld) -> None:
        sts = boto3.client("sts")

        with recording() as recorder:
            assert shared_world.module.accounts.is_hub_account(account(HUB), sts) is True

        assert [call.identity for call in calls(recorder, "sts", "GetCallerIdentity")] == ["hub"]
