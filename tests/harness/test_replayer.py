"""Replay answers real boto3 clients from recorded interactions, with no world, the way AWS answered them."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from harness.cassette import Cassette
from harness.interception import intercept
from harness.lambda_env import lambda_environment
from harness.replay_session import REPLAY_ENVIRONMENT
from harness.replayer import ReplayCancelled, Replayer, UnrecordedCallError, _request_context
from harness.world import inprocess
from tests.harness.support import (
    LEGACY_RETRIES,
    NO_RETRY,
    PROD,
    REGION,
    TARGET_TABLE,
    assumed_session,
    record,
    replay,
    replaying,
    run_capturing,
    scenario,
)


def test_replay_needs_no_world_and_refuses_calls_the_recording_lacks():
    def script():
        return boto3.client("sts", region_name=REGION).get_caller_identity()["Account"]

    interactions, recorded = record(scenario(), script)

    def replayed_script():
        assert inprocess._ACTIVE is None
        account = script()
        with pytest.raises(UnrecordedCallError):
            boto3.client("dynamodb", region_name=REGION).list_tables()
        return account

    replayer, replayed = replay(interactions, replayed_script)

    assert replayed == recorded
    assert [call.answered_by for call in replayer.observed] == [0, None]
    assert replayer.unused() == []


def test_a_persistent_throttle_comes_back_as_the_same_exception_with_the_same_text():
    accounts = {PROD: {"drs": {REGION: {"servers": 3, "page_size": 1, "error": {"code": "ThrottlingException"}}}}}

    def script():
        drs = assumed_session(PROD).client("drs", config=LEGACY_RETRIES)
        return [page["items"] for page in drs.get_paginator("describe_source_servers").paginate()]

    interactions, recorded = record(scenario(accounts=accounts), script)
    _, replayed = replay(interactions, script)

    assert recorded.error_type.__name__ == "ThrottlingException"
    assert "(reached max retries: 1)" in recorded.error_text
    # Modeled exception classes are made per client, so the same class means the same name and base.
    assert replayed.error_type.__name__ == "ThrottlingException"
    assert issubclass(replayed.error_type, ClientError)
    assert replayed.error_text == recorded.error_text


def test_an_unmodeled_error_code_comes_back_as_a_plain_client_error_with_the_same_text():
    accounts = {PROD: {"drs": {REGION: {"servers": 1, "error": {"code": "UnrecognizedClientException"}}}}}

    def script():
        return assumed_session(PROD).client("drs", config=NO_RETRY).describe_source_servers()

    interactions, recorded = record(scenario(accounts=accounts), script)
    _, replayed = replay(interactions, script)

    assert recorded.error_type is ClientError
    assert (replayed.error_type, replayed.error_text) == (ClientError, recorded.error_text)
    assert "UnrecognizedClientException" in replayed.error_text


def test_a_dropped_connection_comes_back_as_endpoint_connection_error_with_the_same_message():
    faults = [{"service": "drs", "region": "sa-east-1", "connection": True}]

    def script():
        return boto3.client("drs", region_name="sa-east-1", config=NO_RETRY).describe_source_servers()

    interactions, recorded = record(scenario(faults=faults), script)

    def replayed_script():
        try:
            script()
        except EndpointConnectionError as error:
            return error.kwargs, str(error)

    _, replayed = replay(interactions, replayed_script)

    assert recorded.error_type is EndpointConnectionError
    assert replayed.value == (
        {"endpoint_url": "https://drs.sa-east-1.amazonaws.com/DescribeSourceServers"},
        recorded.error_text,
    )


def recorded_get_item():
    """Interactions of one Table.get_item for PROD's target account row."""

    def script():
        table = boto3.resource("dynamodb", region_name=REGION).Table(TARGET_TABLE)
        return table.get_item(Key={"accountId": PROD})

    target_accounts = [{"accountId": PROD, "accountName": "prod", "roleArn": "arn:aws:iam::111111111111:role/R"}]
    interactions, _ = record(scenario(target_accounts=target_accounts), script)
    return interactions


def test_an_invalid_unrecorded_call_is_reported_as_one_aws_would_reject():
    with replaying(recorded_get_item()) as replayer:
        client = boto3.client("dynamodb", region_name=REGION)
        with pytest.raises(UnrecordedCallError) as raised:
            client.get_item(TableName=TARGET_TABLE, Key={"accountId": {"S": PROD}}, ConsistentRead="yes")

    message = str(raised.value)
    assert message.startswith("unrecorded call: dynamodb GetItem in us-east-1 as hub")
    assert "AWS would reject these parameters" in message
    assert "ConsistentRead" in message
    assert replayer.unrecorded == [message]


def test_a_valid_unrecorded_call_names_the_nearest_recorded_call_and_the_differing_path():
    with replaying(recorded_get_item()):
        table = boto3.resource("dynamodb", region_name=REGION).Table(TARGET_TABLE)
        with pytest.raises(UnrecordedCallError) as raised:
            table.get_item(Key={"accountId": "222222222222"})

    message = str(raised.value)
    assert "AWS would accept these parameters" in message
    assert "nearest recorded call: interaction 0 (still unused)" in message
    assert "root['Key']['accountId']['S']: recorded '111111111111', now '222222222222'" in message
    assert "next step:" in message


def test_identical_calls_get_the_recorded_responses_first_in_first_out():
    def scan_count(client):
        return client.scan(TableName=TARGET_TABLE)["Count"]

    def script():
        client = boto3.client("dynamodb", region_name=REGION)
        before = scan_count(client)
        client.put_item(TableName=TARGET_TABLE, Item={"accountId": {"S": PROD}})
        return before, scan_count(client)

    interactions, recorded = record(scenario(), script)

    def both_scans_first():
        client = boto3.client("dynamodb", region_name=REGION)
        counts = (scan_count(client), scan_count(client))
        client.put_item(TableName=TARGET_TABLE, Item={"accountId": {"S": PROD}})
        return counts

    replayer, replayed = replay(interactions, both_scans_first)

    assert recorded.value == (0, 1)
    assert replayed.value == (0, 1)
    assert [call.answered_by for call in replayer.observed] == [0, 2, 1]


def test_the_resource_layer_gets_python_types_back_on_replay():
    item = {"accountId": PROD, "weight": Decimal("2.5"), "tags": {"a", "b"}, "nested": {"n": [Decimal(1), "x"]}}

    def script():
        table = boto3.resource("dynamodb", region_name=REGION).Table(TARGET_TABLE)
        table.put_item(Item=item)
        return table.get_item(Key={"accountId": PROD})["Item"], table.scan()["Items"]

    interactions, recorded = record(scenario(), script)
    _, replayed = replay(interactions, script)

    assert recorded.value == (item, [item])
    assert replayed.value == recorded.value
    assert isinstance(replayed.value[0]["weight"], Decimal)
    assert isinstance(replayed.value[0]["tags"], set)


def test_paginators_walk_the_recorded_pages_on_replay():
    accounts = {PROD: {"drs": {REGION: {"servers": 5, "page_size": 2}}}}

    def script():
        drs = assumed_session(PROD).client("drs")
        return [
            [s["sourceServerID"] for s in page["items"]]
            for page in drs.get_paginator("describe_source_servers").paginate()
        ]

    interactions, recorded = record(scenario(accounts=accounts), script)
    replayer, replayed = replay(interactions, script)

    assert [len(page) for page in recorded.value] == [2, 2, 1]
    assert replayed.value == recorded.value
    assert {call.identity for call in replayer.observed if call.service == "drs"} == {PROD}
    assert replayer.unused() == []


def test_prepared_answers_and_serialized_requests_answer_as_the_plain_replay_does():
    accounts = {PROD: {"drs": {REGION: {"servers": 3, "page_size": 2}}}}
    item = {"accountId": PROD, "weight": Decimal("2.5"), "tags": {"a", "b"}}

    def script():
        credentials = boto3.client("sts", region_name=REGION).assume_role(
            RoleArn=f"arn:aws:iam::{PROD}:role/DRSOrchestrationRole", RoleSessionName="bench"
        )["Credentials"]
        table = boto3.resource("dynamodb", region_name=REGION).Table(TARGET_TABLE)
        table.put_item(Item=item)
        paginator = assumed_session(PROD).client("drs").get_paginator("describe_source_servers")
        pages = [page["items"] for page in paginator.paginate()]
        return credentials["Expiration"], table.get_item(Key={"accountId": PROD})["Item"], pages

    interactions, recorded = record(scenario(accounts=accounts), script)
    _, plain = replay(interactions, script)
    emulating = Replayer(Cassette(header={}, interactions=list(interactions)), serialize_requests=True)
    emulating.prepare_answers()
    with lambda_environment({**REPLAY_ENVIRONMENT, "AWS_DEFAULT_REGION": REGION}), intercept(emulating):
        emulated = run_capturing(script)

    assert plain.value == recorded.value
    assert emulated.value == recorded.value
    assert isinstance(emulated.value[0], datetime)
    assert isinstance(emulated.value[1]["weight"], Decimal)
    assert [call.answered_by for call in emulating.observed] == list(range(len(interactions)))


def test_a_call_takes_at_least_its_latency_however_much_of_it_the_emulator_spent():
    def script():
        client = boto3.client("dynamodb", region_name=REGION)
        started = time.perf_counter()
        client.scan(TableName=TARGET_TABLE)
        return time.perf_counter() - started

    interactions, _ = record(scenario(), script)
    replayer = Replayer(Cassette(header={}, interactions=list(interactions)), latency_ms=lambda _s, _o: 50.0)
    replayer.prepare_answers()
    with lambda_environment({**REPLAY_ENVIRONMENT, "AWS_DEFAULT_REGION": REGION}), intercept(replayer):
        elapsed = run_capturing(script).value

    assert elapsed >= 0.050


def test_the_request_context_is_the_one_the_installed_botocores_own_call_builds():
    """What `before-parameter-build` handlers read during a replay is what they read on a real call, whatever
    botocore is installed (1.34.x has no `resolved_auth_type`, `unsigned_payload` nor `auth_options`)."""
    client = boto3.client(
        "dynamodb",
        region_name=REGION,
        aws_access_key_id="a",
        aws_secret_access_key="b",
        endpoint_url="http://127.0.0.1:9",
    )
    seen: list[dict] = []

    def capture(params, model, context, **kwargs):
        """Keep the context botocore's own _make_api_call built, then stop the call before it is sent."""
        seen.append(dict(context))
        raise _Stop()

    client.meta.events.register("before-parameter-build.dynamodb.Scan", capture)
    with pytest.raises(_Stop):
        client.scan(TableName=TARGET_TABLE)

    [context] = seen
    assert _request_context(client, client.meta.service_model.operation_model("Scan")) == context


class _Stop(Exception):
    """Raised by a handler to end a call once it has seen what it needed."""


def test_a_cancelled_replay_refuses_every_call():
    cancelled = threading.Event()
    cancelled.set()
    replayer = Replayer(Cassette({}), cancelled=cancelled)
    client = boto3.client("dynamodb", region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b")
    with intercept(replayer), pytest.raises(ReplayCancelled, match="Scan"):
        client.scan(TableName=TARGET_TABLE)
    assert replayer.observed == []
