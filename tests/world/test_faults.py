"""Fault injection through real boto3 clients: AWS errors on call N or page N, UnprocessedItems, dropped connections,
other transport failures."""

from __future__ import annotations

import socket

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    ReadTimeoutError,
)

from tests.world.helpers import HUB, NO_RETRY, PROD, REGION, STAGING, assumed_session, instances, role_arn, scenario

TARGET_TABLE = "target-accounts"


def account_rows(count: int) -> list[dict]:
    """`count` BatchWriteItem put requests for the target accounts table."""
    return [{"PutRequest": {"Item": {"accountId": {"S": f"{index:012d}"}}}} for index in range(1, count + 1)]


def stored_account_ids(dynamodb) -> list[str]:
    """The accountIds stored in the target accounts table, sorted."""
    return sorted(item["accountId"]["S"] for item in dynamodb.scan(TableName=TARGET_TABLE)["Items"])


def test_error_on_the_nth_call_only_with_code_message_and_status(local_world):
    local_world(
        scenario(
            accounts={PROD: {"drs": {REGION: {"servers": 1}}}},
            faults=[
                {
                    "service": "ec2",
                    "operation": "DescribeInstances",
                    "on_call": 2,
                    "error": {"code": "UnauthorizedOperation", "message": "no ec2 for you", "status": 403},
                }
            ],
        )
    )
    ec2 = assumed_session(PROD).client("ec2", config=NO_RETRY)
    assert len(instances(ec2)) == 1
    with pytest.raises(ClientError) as raised:
        ec2.describe_instances()
    assert raised.value.response["Error"] == {"Code": "UnauthorizedOperation", "Message": "no ec2 for you"}
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert len(instances(ec2)) == 1


def test_on_call_counts_only_matching_requests(local_world):
    local_world(
        scenario(
            accounts={PROD: {}, STAGING: {}},
            faults=[{"service": "drs", "account": PROD, "on_call": 2, "error": {"code": "InternalServerException"}}],
        )
    )
    prod = assumed_session(PROD).client("drs", config=NO_RETRY)
    staging = assumed_session(STAGING).client("drs", config=NO_RETRY)
    prod.describe_source_servers()
    for _ in range(3):
        staging.describe_source_servers()
    with pytest.raises(prod.exceptions.InternalServerException) as raised:
        prod.describe_source_servers()
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    prod.describe_source_servers()


def test_a_single_call_fault_is_hidden_by_botocores_retry(local_world):
    world = local_world(
        scenario(
            faults=[{"service": "sts", "operation": "GetCallerIdentity", "on_call": 1, "error": {"code": "Throttling"}}]
        )
    )
    before = world.requests_served
    answer = boto3.client("sts").get_caller_identity()
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert world.requests_served - before == 2


def test_drs_error_on_page_n_is_the_modeled_exception_and_persistent(local_world):
    world = local_world(
        scenario(
            accounts={
                PROD: {
                    "drs": {
                        REGION: {"servers": 5, "page_size": 2, "error": {"code": "ThrottlingException", "on_page": 2}}
                    }
                }
            }
        )
    )
    drs = assumed_session(PROD).client("drs", config=NO_RETRY)
    first = drs.describe_source_servers()
    assert len(first["items"]) == 2
    before = world.requests_served
    for _ in range(3):  # persistent: every request for page 2 fails, as botocore's retries would
        with pytest.raises(drs.exceptions.ThrottlingException) as raised:
            drs.describe_source_servers(nextToken=first["nextToken"])
        error = raised.value.response
        assert error["Error"]["Code"] == "ThrottlingException"
        assert error["Error"]["Message"] == "Rate exceeded"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert world.requests_served - before == 3
    assert drs.describe_source_servers()["items"] == first["items"]


def test_paginator_fails_on_the_configured_page(local_world):
    local_world(
        scenario(
            accounts={
                PROD: {
                    "drs": {
                        REGION: {
                            "servers": 6,
                            "page_size": 2,
                            "error": {"code": "AccessDeniedException", "message": "page three is secret", "on_page": 3},
                        }
                    }
                }
            }
        )
    )
    drs = assumed_session(PROD).client("drs", config=NO_RETRY)
    seen: list[int] = []
    with pytest.raises(drs.exceptions.AccessDeniedException) as raised:
        for page in drs.get_paginator("describe_source_servers").paginate():
            seen.append(len(page["items"]))
    assert seen == [2, 2]
    assert raised.value.response["Error"]["Message"] == "page three is secret"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_drs_region_error_touches_only_its_account_and_region(local_world):
    local_world(
        scenario(
            accounts={
                PROD: {
                    "drs": {
                        REGION: {"servers": 1, "error": {"code": "ThrottlingException", "on_page": 1}},
                        "eu-west-1": {"servers": 1},
                    }
                },
                STAGING: {"drs": {REGION: {"servers": 1}}},
            }
        )
    )
    prod = assumed_session(PROD)
    with pytest.raises(ClientError, match="ThrottlingException"):
        prod.client("drs", config=NO_RETRY).describe_source_servers()
    assert len(prod.client("drs", region_name="eu-west-1").describe_source_servers()["items"]) == 1
    assert len(assumed_session(STAGING).client("drs").describe_source_servers()["items"]) == 1


def test_fault_on_page_n_from_the_faults_list(local_world):
    local_world(
        scenario(
            accounts={PROD: {"drs": {REGION: {"servers": 3, "page_size": 1}}}},
            faults=[
                {
                    "service": "drs",
                    "operation": "DescribeSourceServers",
                    "on_page": 2,
                    "error": {"code": "ThrottlingException"},
                }
            ],
        )
    )
    drs = assumed_session(PROD).client("drs", config=NO_RETRY)
    first = drs.describe_source_servers()
    with pytest.raises(drs.exceptions.ThrottlingException):
        drs.describe_source_servers(nextToken=first["nextToken"])


def test_ec2_region_error_is_persistent(local_world):
    local_world(
        scenario(
            accounts={
                PROD: {
                    "drs": {REGION: {"servers": 1}, "us-west-2": {"servers": 1}},
                    "ec2": {REGION: {"error": {"code": "UnauthorizedOperation", "message": "denied by SCP"}}},
                }
            }
        )
    )
    session = assumed_session(PROD)
    ec2 = session.client("ec2", config=NO_RETRY)
    for _ in range(2):
        with pytest.raises(ClientError) as raised:
            ec2.describe_instances()
        assert raised.value.response["Error"] == {"Code": "UnauthorizedOperation", "Message": "denied by SCP"}
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert len(instances(session.client("ec2", region_name="us-west-2"))) == 1


def test_dynamodb_error_is_the_modeled_exception(local_world):
    local_world(
        scenario(
            faults=[
                {
                    "service": "dynamodb",
                    "operation": "PutItem",
                    "error": {"code": "ProvisionedThroughputExceededException"},
                }
            ]
        )
    )
    dynamodb = boto3.client("dynamodb", config=NO_RETRY)
    with pytest.raises(dynamodb.exceptions.ProvisionedThroughputExceededException) as raised:
        dynamodb.put_item(TableName=TARGET_TABLE, Item={"accountId": {"S": "123456789012"}})
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert stored_account_ids(dynamodb) == []


def test_assume_role_fault_from_the_faults_list(local_world):
    local_world(
        scenario(
            faults=[{"service": "sts", "operation": "AssumeRole", "on_call": 1, "error": {"code": "AccessDenied"}}]
        )
    )
    sts = boto3.client("sts")
    with pytest.raises(ClientError) as raised:
        sts.assume_role(RoleArn=role_arn(PROD), RoleSessionName="world-test")
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert sts.assume_role(RoleArn=role_arn(PROD), RoleSessionName="world-test")["Credentials"]


def test_batch_write_leaves_the_last_n_items_unprocessed_on_call_n(local_world):
    local_world(
        scenario(faults=[{"service": "dynamodb", "operation": "BatchWriteItem", "on_call": 2, "unprocessed": 2}])
    )
    dynamodb = boto3.client("dynamodb")
    rows = account_rows(8)
    first = dynamodb.batch_write_item(RequestItems={TARGET_TABLE: rows[:3]})
    assert first["UnprocessedItems"] == {}
    second = dynamodb.batch_write_item(RequestItems={TARGET_TABLE: rows[3:]})
    assert second["UnprocessedItems"] == {TARGET_TABLE: rows[6:]}
    # The rewritten answer carries a valid x-amz-crc32, so botocore accepts it rather than retrying.
    assert second["ResponseMetadata"]["RetryAttempts"] == 0
    assert stored_account_ids(dynamodb) == [f"{index:012d}" for index in range(1, 7)]
    retry = dynamodb.batch_write_item(RequestItems=second["UnprocessedItems"])
    assert retry["UnprocessedItems"] == {}
    assert stored_account_ids(dynamodb) == [f"{index:012d}" for index in range(1, 9)]


def test_batch_write_with_more_unprocessed_than_items_writes_nothing(local_world):
    local_world(
        scenario(faults=[{"service": "dynamodb", "operation": "BatchWriteItem", "on_call": 1, "unprocessed": 5}])
    )
    dynamodb = boto3.client("dynamodb")
    rows = account_rows(3)
    answer = dynamodb.batch_write_item(RequestItems={TARGET_TABLE: rows})
    assert answer["UnprocessedItems"] == {TARGET_TABLE: rows}
    assert stored_account_ids(dynamodb) == []


def test_connection_fault_is_an_endpoint_connection_error(local_world):
    local_world(scenario(faults=[{"service": "sts", "operation": "GetCallerIdentity", "connection": True}]))
    with pytest.raises(EndpointConnectionError):
        boto3.client("sts", config=NO_RETRY).get_caller_identity()


@pytest.mark.parametrize(
    ("error", "exception", "text"),
    [
        ("ReadTimeoutError", ReadTimeoutError, 'Read timeout on endpoint URL: "https://drs.eu-west-1.amazonaws.com/'),
        ("ConnectTimeoutError", ConnectTimeoutError, 'Connect timeout on endpoint URL: "https://drs.eu-west-1.'),
        ("ConnectionClosedError", ConnectionClosedError, "Connection was closed before we received a valid response"),
    ],
)
def test_transport_fault_is_botocores_own_exception(local_world, error, exception, text):
    local_world(
        scenario(
            accounts={PROD: {"drs": {"eu-west-1": {"servers": 1}, REGION: {"servers": 1}}}},
            faults=[{"service": "drs", "region": "eu-west-1", "transport": {"error": error}}],
        )
    )
    session = assumed_session(PROD)
    with pytest.raises(exception) as raised:
        session.client("drs", region_name="eu-west-1", config=NO_RETRY).describe_source_servers()
    assert str(raised.value).startswith(text)
    assert not isinstance(raised.value, ClientError | EndpointConnectionError)
    assert len(session.client("drs", region_name=REGION).describe_source_servers()["items"]) == 1


def test_http_client_error_fault_carries_the_scenario_text(local_world):
    local_world(
        scenario(
            faults=[
                {
                    "service": "sts",
                    "operation": "GetCallerIdentity",
                    "transport": {"error": "HTTPClientError", "detail": "the proxy answered 999"},
                }
            ]
        )
    )
    with pytest.raises(HTTPClientError) as raised:
        boto3.client("sts", config=NO_RETRY).get_caller_identity()
    assert type(raised.value) is HTTPClientError
    assert str(raised.value) == "An HTTP Client raised an unhandled exception: the proxy answered 999"


def test_single_connection_drop_is_hidden_by_botocores_retry(local_world):
    local_world(
        scenario(faults=[{"service": "sts", "operation": "GetCallerIdentity", "on_call": 1, "connection": True}])
    )
    answer = boto3.client("sts").get_caller_identity()
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1


def test_seeding_bypasses_faults(local_world):
    world = local_world(
        scenario(
            accounts={PROD: {"drs": {REGION: {"servers": 2}}}},
            target_accounts=[{"accountId": PROD}],
            faults=[
                {"service": "ec2", "connection": True},
                {"service": "dynamodb", "error": {"code": "InternalServerError"}},
                {"service": "sts", "error": {"code": "AccessDenied"}},
            ],
        )
    )
    assert world.requests_served == 0
    assert len(world.drs.backend(PROD, REGION).servers) == 2
    with pytest.raises(ClientError, match="InternalServerError"):
        boto3.client("dynamodb", config=NO_RETRY).scan(TableName=TARGET_TABLE)


@pytest.fixture
def no_sockets(monkeypatch):
    """Record (and refuse) every socket connect: the in-process world must never open one."""
    attempts: list[object] = []

    def refuse(self, address):
        attempts.append(address)
        raise OSError(f"test refused a network connection to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def test_nothing_reaches_the_network(local_world, no_sockets):
    local_world(scenario(accounts={PROD: {"drs": {REGION: {"servers": 1}}}}))
    # Even a client with an explicit AWS endpoint is answered by the world.
    sts = boto3.client("sts", endpoint_url="https://sts.amazonaws.com")
    assert sts.get_caller_identity()["Account"] == HUB
    assert len(assumed_session(PROD).client("drs").describe_source_servers()["items"]) == 1
    # A service the world does not emulate fails loudly instead of going out.
    with pytest.raises(RuntimeError, match="service 's3' is not emulated"):
        boto3.client("s3").list_buckets()
    # So does an unsigned request: the world cannot tell who sent it.
    with pytest.raises(RuntimeError, match="not SigV4-signed"):
        boto3.client("sts", config=Config(signature_version=UNSIGNED)).get_caller_identity()
    assert no_sockets == []
