"""Unit tests of `shared.cross_account`: the hub's account id, assumed-role sessions, credentials, DRS/EC2 clients."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

from harness.lambda_env import import_lambda_module
from tests.unit.support import HUB, OTHER, PROD, calls, open_sync_world, operations, recording, role_arn, scenario

CREDENTIAL_KEYS = {"AccessKeyId", "SecretAccessKey", "SessionToken"}


@pytest.fixture(scope="class")
def cross_account() -> Iterator[ModuleType]:
    """The module, imported fresh in a world where PROD has one DRS server and AssumeRole into OTHER is denied."""
    spec = scenario(
        accounts={PROD: {"drs": {"us-east-1": {"servers": 1}}}, OTHER: {"assume_role_error": "AccessDenied"}}
    )
    with open_sync_world(spec, "shared.cross_account") as world:
        yield world.module


def drs_server_count(drs: Any) -> int:
    """How many source servers a DRS client sees (PROD has one, the hub none)."""
    return len(drs.describe_source_servers()["items"])


class TestIdentityAndSessions:
    """get_current_account_id, get_cross_account_session, session_credentials."""

    def test_the_current_account_is_the_hub(self, cross_account: ModuleType) -> None:
        with recording() as recorder:
            assert cross_account.get_current_account_id() == HUB

        assert operations(recorder) == ["sts:GetCallerIdentity"]

    def test_a_session_with_the_default_parameters(self, cross_account: ModuleType) -> None:
        with recording() as recorder:
            session = cross_account.get_cross_account_session(role_arn(PROD))

        assert calls(recorder, "sts", "AssumeRole")[0].params == {
            "RoleArn": role_arn(PROD),
            "RoleSessionName": "drs-orchestration-cross-account",
        }
        assert session.client("sts").get_caller_identity()["Account"] == PROD

    def test_external_id_session_name_and_duration_are_sent_when_given(self, cross_account: ModuleType) -> None:
        with recording() as recorder:
            cross_account.get_cross_account_session(role_arn(PROD), "ext-7f3a", "inventory-sync", 900)

        assert calls(recorder, "sts", "AssumeRole")[0].params == {
            "RoleArn": role_arn(PROD),
            "RoleSessionName": "inventory-sync",
            "ExternalId": "ext-7f3a",
            "DurationSeconds": 900,
        }

    def test_an_empty_external_id_is_left_out_unless_always_sent(self, cross_account: ModuleType) -> None:
        with recording() as recorder:
            cross_account.get_cross_account_session(role_arn(PROD), "")
            # Sent as is, an empty ExternalId fails botocore's validation (minimum length 2) and is re-raised.
            with pytest.raises(ParamValidationError, match="ExternalId"):
                cross_account.get_cross_account_session(role_arn(PROD), "", always_send_external_id=True)

        sent = [call.params for call in calls(recorder, "sts", "AssumeRole")]
        assert "ExternalId" not in sent[0]
        assert sent[1]["ExternalId"] == ""

    def test_a_failed_assume_role_is_re_raised(self, cross_account: ModuleType) -> None:
        with pytest.raises(ClientError) as raised:
            cross_account.get_cross_account_session(role_arn(OTHER))

        assert raised.value.response["Error"]["Code"] == "AccessDenied"

    def test_session_credentials_are_the_sts_style_dict(self, cross_account: ModuleType) -> None:
        session = cross_account.get_cross_account_session(role_arn(PROD))

        credentials = cross_account.session_credentials(session)

        frozen = session.get_credentials().get_frozen_credentials()
        assert credentials == {
            "AccessKeyId": frozen.access_key,
            "SecretAccessKey": frozen.secret_key,
            "SessionToken": frozen.token,
        }


class TestClients:
    """create_drs_client and create_ec2_client."""

    def test_credentials_sign_the_client_as_their_account(self, cross_account: ModuleType) -> None:
        credentials = cross_account.session_credentials(cross_account.get_cross_account_session(role_arn(PROD)))

        with recording() as recorder:
            drs = cross_account.create_drs_client("us-east-1", credentials=credentials)
            assert drs_server_count(drs) == 1

        assert drs.meta.region_name == "us-east-1"
        assert calls(recorder, "sts") == []

    def test_credentials_win_over_an_account_context(self, cross_account: ModuleType) -> None:
        credentials = cross_account.session_credentials(cross_account.get_cross_account_session(role_arn(PROD)))

        with recording() as recorder:
            cross_account.create_ec2_client(
                "us-east-1", {"roleArn": role_arn(OTHER), "externalId": "x"}, credentials=credentials
            )

        assert recorder.interactions == []

    def test_an_account_context_is_assumed_with_its_external_id(self, cross_account: ModuleType) -> None:
        with recording() as recorder:
            drs = cross_account.create_drs_client("us-east-1", {"roleArn": role_arn(PROD), "externalId": "ext-1"})
            assert drs_server_count(drs) == 1

        assert calls(recorder, "sts", "AssumeRole")[0].params == {
            "RoleArn": role_arn(PROD),
            "RoleSessionName": "drs-orchestration-cross-account",
            "ExternalId": "ext-1",
        }
        assert calls(recorder, "drs")[0].identity == PROD

    @pytest.mark.parametrize("context", [None, {}, {"roleArn": None}, {"accountId": PROD}])
    def test_without_a_role_the_lambdas_own_credentials_are_used(
        self, cross_account: ModuleType, context: dict[str, Any] | None
    ) -> None:
        with recording() as recorder:
            drs = cross_account.create_drs_client("us-east-1", context)
            assert drs_server_count(drs) == 0

        assert operations(recorder) == ["drs:DescribeSourceServers"]
        assert calls(recorder, "drs")[0].identity == "hub"

    @pytest.mark.parametrize("factory", ["create_drs_client", "create_ec2_client"])
    def test_the_config_and_region_are_applied(self, cross_account: ModuleType, factory: str) -> None:
        config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1})
        credentials = {"AccessKeyId": "AKIA1", "SecretAccessKey": "s", "SessionToken": "t"}

        for client in (
            getattr(cross_account, factory)("eu-west-2", config=config),
            getattr(cross_account, factory)("eu-west-2", credentials=credentials, config=config),
            getattr(cross_account, factory)("eu-west-2", {"roleArn": role_arn(PROD)}, config=config),
        ):
            assert client.meta.region_name == "eu-west-2"
            assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (5, 10)
            assert client.meta.service_model.service_name == factory.split("_")[1]

    def test_an_ec2_client_with_credentials_sees_the_accounts_instances(self, cross_account: ModuleType) -> None:
        credentials = cross_account.session_credentials(cross_account.get_cross_account_session(role_arn(PROD)))

        ec2 = cross_account.create_ec2_client("us-east-1", credentials=credentials)
        hub_ec2 = boto3.client("ec2", region_name="us-east-1")

        assert len(ec2.describe_instances()["Reservations"]) == 1
        assert hub_ec2.describe_instances()["Reservations"] == []


def test_an_unreachable_sts_gives_unknown(sync_world: Any) -> None:
    sync_world(
        scenario(faults=[{"service": "sts", "operation": "GetCallerIdentity", "error": {"code": "AccessDenied"}}])
    )
    module = import_lambda_module("shared.cross_account")

    assert module.get_current_account_id() == "unknown"
