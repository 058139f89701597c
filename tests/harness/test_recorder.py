"""The recorder sees every boto3 call of the process, from every kind of client, with wire-form params and outcomes."""

from __future__ import annotations

import importlib
import sys
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import boto3
from botocore.exceptions import ClientError, EndpointConnectionError

from harness.cassette import Cassette, Interaction, Outputs
from harness.golden import dumps
from tests.harness.support import (
    HUB,
    NO_RETRY,
    PROD,
    REGION,
    STAGING,
    TARGET_TABLE,
    assumed_session,
    record,
    role_arn,
    scenario,
)

DRS_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1")


def calls(interactions: list[Interaction], operation: str) -> list[Interaction]:
    """The recorded interactions of one operation, in recording order."""
    return [interaction for interaction in interactions if interaction.operation == operation]


def test_a_client_created_at_module_import_inside_the_world_is_recorded():
    def script():
        sys.modules.pop("tests.harness.module_level_client", None)
        module = importlib.import_module("tests.harness.module_level_client")
        return module.whoami()["Account"]

    interactions, outcome = record(scenario(), script)

    assert outcome.value == HUB
    [interaction] = interactions
    assert (interaction.service, interaction.region, interaction.identity, interaction.operation) == (
        "sts",
        REGION,
        "hub",
        "GetCallerIdentity",
    )
    assert interaction.response["Account"] == HUB


def test_calls_from_worker_threads_are_all_recorded_with_their_region_and_identity():
    accounts = {PROD: {"drs": {region: {"servers": index} for index, region in enumerate(DRS_REGIONS)}}}

    def script():
        session = assumed_session(PROD)
        credentials = session.get_credentials()

        def count_servers(region):
            drs = boto3.client(
                "drs",
                region_name=region,
                aws_access_key_id=credentials.access_key,
                aws_secret_access_key=credentials.secret_key,
                aws_session_token=credentials.token,
            )
            return region, len(drs.describe_source_servers()["items"])

        with ThreadPoolExecutor(max_workers=4) as pool:
            return dict(pool.map(count_servers, DRS_REGIONS))

    interactions, outcome = record(scenario(accounts=accounts), script)

    assert outcome.value == {region: index for index, region in enumerate(DRS_REGIONS)}
    listings = calls(interactions, "DescribeSourceServers")
    assert sorted(interaction.region for interaction in listings) == sorted(DRS_REGIONS)
    assert {interaction.identity for interaction in listings} == {PROD}
    assert {interaction.region: len(interaction.response["items"]) for interaction in listings} == outcome.value


def test_a_client_from_a_fresh_boto3_session_is_recorded():
    def script():
        return boto3.session.Session(region_name="eu-west-1").client("dynamodb").list_tables()["TableNames"]

    interactions, outcome = record(scenario(), script)

    [interaction] = interactions
    assert (interaction.service, interaction.region, interaction.operation) == ("dynamodb", "eu-west-1", "ListTables")
    assert interaction.response["TableNames"] == outcome.value


def test_resource_api_calls_are_recorded_with_wire_form_params_and_raw_responses():
    def script():
        table = boto3.resource("dynamodb", region_name=REGION).Table(TARGET_TABLE)
        table.put_item(Item={"accountId": PROD, "accountName": "prod", "weight": Decimal("2.5")})
        return table.get_item(Key={"accountId": PROD})["Item"]

    interactions, outcome = record(scenario(), script)

    assert outcome.value == {"accountId": PROD, "accountName": "prod", "weight": Decimal("2.5")}
    [put] = calls(interactions, "PutItem")
    assert put.params == {
        "TableName": TARGET_TABLE,
        "Item": {"accountId": {"S": PROD}, "accountName": {"S": "prod"}, "weight": {"N": "2.5"}},
    }
    [get] = calls(interactions, "GetItem")
    assert get.params == {"TableName": TARGET_TABLE, "Key": {"accountId": {"S": PROD}}}
    assert get.response["Item"]["weight"] == {"N": "2.5"}


def test_batch_writer_flushes_are_recorded_as_batch_write_item_in_wire_form():
    def script():
        table = boto3.resource("dynamodb", region_name=REGION).Table(TARGET_TABLE)
        with table.batch_writer() as batch:
            for number in range(3):
                batch.put_item(Item={"accountId": f"{number:012d}", "servers": number + 1})

    interactions, _ = record(scenario(), script)

    [write] = calls(interactions, "BatchWriteItem")
    assert write.identity == "hub"
    assert write.params == {
        "RequestItems": {
            TARGET_TABLE: [
                {"PutRequest": {"Item": {"accountId": {"S": f"{number:012d}"}, "servers": {"N": str(number + 1)}}}}
                for number in range(3)
            ]
        }
    }
    assert write.error is None and not write.response.get("UnprocessedItems")


def test_each_paginator_page_is_a_call_carrying_the_previous_pages_next_token():
    accounts = {PROD: {"drs": {REGION: {"servers": 5, "page_size": 2}}}}

    def script():
        drs = assumed_session(PROD).client("drs")
        return [len(page["items"]) for page in drs.get_paginator("describe_source_servers").paginate()]

    interactions, outcome = record(scenario(accounts=accounts), script)

    assert outcome.value == [2, 2, 1]
    pages = calls(interactions, "DescribeSourceServers")
    assert len(pages) == 3
    assert pages[0].params == {}
    assert pages[1].params == {"nextToken": pages[0].response["nextToken"]}
    assert pages[2].params == {"nextToken": pages[1].response["nextToken"]}
    assert "nextToken" not in pages[2].response


def test_identity_is_hub_until_a_recorded_assume_role_hands_out_an_accounts_credentials():
    accounts = {PROD: {}, STAGING: {}}

    def script():
        boto3.client("sts", region_name=REGION).get_caller_identity()
        for account in (PROD, STAGING):
            assumed_session(account).client("sts").get_caller_identity()

    interactions, _ = record(scenario(accounts=accounts), script)

    assert [(interaction.operation, interaction.identity) for interaction in interactions] == [
        ("GetCallerIdentity", "hub"),
        ("AssumeRole", "hub"),
        ("GetCallerIdentity", PROD),
        ("AssumeRole", "hub"),
        ("GetCallerIdentity", STAGING),
    ]
    assert [i.response["Account"] for i in calls(interactions, "GetCallerIdentity")] == [HUB, PROD, STAGING]


def test_aws_errors_are_recorded_with_code_message_status_and_exception_class():
    accounts = {
        PROD: {
            "drs": {
                REGION: {"servers": 1, "error": {"code": "ThrottlingException", "message": "slow down"}},
                "eu-west-1": {"servers": 1, "error": {"code": "UnrecognizedClientException", "status": 403}},
            }
        }
    }

    def script():
        session = assumed_session(PROD)
        raised = []
        for region in (REGION, "eu-west-1"):
            try:
                session.client("drs", region_name=region, config=NO_RETRY).describe_source_servers()
            except ClientError as error:
                raised.append(error)
        return raised

    interactions, outcome = record(scenario(accounts=accounts), script)

    throttled, denied = outcome.value
    recorded = calls(interactions, "DescribeSourceServers")
    assert [interaction.error for interaction in recorded] == [
        {
            "code": "ThrottlingException",
            "message": "slow down",
            "status": throttled.response["ResponseMetadata"]["HTTPStatusCode"],
            "exception": "ThrottlingException",
        },
        {
            "code": "UnrecognizedClientException",
            "message": denied.response["Error"]["Message"],
            "status": 403,
            "exception": "ClientError",
        },
    ]
    assert type(throttled).__name__ == "ThrottlingException"
    assert type(denied) is ClientError
    assert all(interaction.exception is None for interaction in recorded)
    assert recorded[0].response["Error"]["Code"] == "ThrottlingException"


def test_a_dropped_connection_is_recorded_as_an_exception_with_its_kwargs():
    faults = [{"service": "drs", "operation": "DescribeSourceServers", "region": "sa-east-1", "connection": True}]

    def script():
        boto3.client("drs", region_name="sa-east-1", config=NO_RETRY).describe_source_servers()

    interactions, outcome = record(scenario(faults=faults), script)

    assert outcome.error_type is EndpointConnectionError
    [interaction] = interactions
    assert interaction.response is None
    assert interaction.error is None
    assert interaction.exception == {
        "type": "EndpointConnectionError",
        "module": "botocore.exceptions",
        "message": outcome.error_text,
        "kwargs": {"endpoint_url": "https://drs.sa-east-1.amazonaws.com/DescribeSourceServers"},
    }


def test_assume_role_credentials_are_scrubbed_to_numbered_placeholders():
    accounts = {PROD: {}, STAGING: {}}

    def script():
        sts = boto3.client("sts", region_name=REGION)
        return [
            sts.assume_role(RoleArn=role_arn(account), RoleSessionName="harness")["Credentials"]
            for account in (PROD, STAGING)
        ]

    interactions, outcome = record(scenario(accounts=accounts), script)

    scrubbed = [interaction.response["Credentials"] for interaction in interactions]
    for number, credentials in enumerate(scrubbed, start=1):
        assert credentials["AccessKeyId"] == f"REDACTED-AccessKeyId-{number:04d}"
        assert credentials["SecretAccessKey"] == f"REDACTED-SecretAccessKey-{number:04d}"
        assert credentials["SessionToken"] == f"REDACTED-SessionToken-{number:04d}"
        assert "Expiration" in credentials
    golden_text = dumps(Cassette({}, interactions, Outputs(result=None)))
    for real in outcome.value:
        assert real["AccessKeyId"].startswith("ASIA")
        for name in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
            assert real[name] not in golden_text
