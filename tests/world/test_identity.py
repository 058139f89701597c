"""Identity in the in-process world: hub keys act as the hub, AssumeRole credentials act as the role's account."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from harness.pytest_plugin import as_scenario
from harness.world.core import World
from harness.world.local import local_aws
from tests.world.helpers import HUB, OTHER, PROD, REGION, STAGING, assumed_session, instances, role_arn, scenario

TWO_ACCOUNTS = scenario(
    accounts={
        PROD: {"drs": {REGION: {"servers": 3}}},
        STAGING: {"drs": {REGION: {"servers": 2}}},
    }
)


@pytest.fixture(scope="class")
def shared_world() -> Iterator[World]:
    """One two-account world for the read-only tests of a class (a build costs about a second)."""
    with local_aws(as_scenario(TWO_ACCOUNTS)) as world:
        yield world


@pytest.mark.usefixtures("shared_world")
class TestWhoCallsAreActingAs:
    """Read-only identity checks sharing one world."""

    def test_hub_credentials_act_as_the_hub_account(self):
        identity = boto3.client("sts").get_caller_identity()
        assert identity["Account"] == HUB

    def test_assumed_credentials_act_as_the_role_account_for_sts(self):
        identity = assumed_session(PROD).client("sts").get_caller_identity()
        assert identity["Account"] == PROD
        assert identity["Arn"] == f"arn:aws:sts::{PROD}:assumed-role/DRSOrchestrationRole/world-test"

    def test_assumed_credentials_see_the_role_accounts_drs_servers(self, shared_world):
        for account, count in ((PROD, 3), (STAGING, 2)):
            drs = assumed_session(account).client("drs")
            servers = drs.describe_source_servers()["items"]
            assert len(servers) == count
            assert {server["arn"].split(":")[4] for server in servers} == {account}
            assert servers == shared_world.drs.backend(account, REGION).servers

    def test_hub_credentials_see_no_member_drs_servers(self):
        assert boto3.client("drs").describe_source_servers()["items"] == []

    def test_assumed_credentials_see_the_role_accounts_ec2_instances(self):
        prod = instances(assumed_session(PROD).client("ec2"))
        staging = instances(assumed_session(STAGING).client("ec2"))
        assert len(prod) == 3
        assert len(staging) == 2
        assert not {i["InstanceId"] for i in prod} & {i["InstanceId"] for i in staging}
        assert instances(boto3.client("ec2")) == []

    def test_assume_role_into_an_account_without_settings_still_works(self):
        session = assumed_session(OTHER)
        assert session.client("sts").get_caller_identity()["Account"] == OTHER
        assert session.client("drs").describe_source_servers()["items"] == []


def test_assumed_credentials_see_the_role_accounts_dynamodb_tables(local_world):
    local_world(TWO_ACCOUNTS)
    hub_tables = boto3.client("dynamodb").list_tables()["TableNames"]
    assert sorted(hub_tables) == ["drs-region-status", "source-server-inventory", "target-accounts"]
    member = assumed_session(PROD).client("dynamodb")
    assert member.list_tables()["TableNames"] == []
    member.create_table(
        TableName="member-only",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert member.list_tables()["TableNames"] == ["member-only"]
    assert "member-only" not in boto3.client("dynamodb").list_tables()["TableNames"]


def test_assume_role_error_code_fails_assume_role_into_that_account(local_world):
    local_world(scenario(accounts={PROD: {"assume_role_error": "AccessDenied"}, STAGING: {}}))
    sts = boto3.client("sts")
    with pytest.raises(ClientError) as raised:
        sts.assume_role(RoleArn=role_arn(PROD), RoleSessionName="world-test")
    error = raised.value.response
    assert error["Error"]["Code"] == "AccessDenied"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert raised.value.operation_name == "AssumeRole"
    # Only the named account is refused; the hub's own calls and other roles are fine.
    assert sts.get_caller_identity()["Account"] == HUB
    assert assumed_session(STAGING).client("sts").get_caller_identity()["Account"] == STAGING


def test_assume_role_error_with_a_message(local_world):
    local_world(
        scenario(accounts={PROD: {"assume_role_error": {"code": "RegionDisabledException", "message": "STS is off"}}})
    )
    with pytest.raises(ClientError) as raised:
        boto3.client("sts").assume_role(RoleArn=role_arn(PROD), RoleSessionName="world-test")
    assert raised.value.response["Error"]["Code"] == "RegionDisabledException"
    assert raised.value.response["Error"]["Message"] == "STS is off"


def test_assume_role_error_fails_every_attempt(local_world):
    world = local_world(scenario(accounts={PROD: {"assume_role_error": "AccessDenied"}}))
    before = world.requests_served
    with pytest.raises(ClientError):
        boto3.client("sts").assume_role(RoleArn=role_arn(PROD), RoleSessionName="world-test")
    # AccessDenied is not retryable, so botocore sent exactly one request.
    assert world.requests_served - before == 1
