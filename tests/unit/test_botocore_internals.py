"""Unit tests of `shared.botocore_internals`' fallbacks: each shortcut checks the internals it needs and, when they
differ, leaves botocore alone and logs it once (issue 14, item 4).

`reusing_client_classes` on a working botocore is tested in test_client_classes.py; here: the block without
botocore's methods, a creator without an event emitter, and `prebuilt_json_bodies` (same request bytes as botocore's,
its own walk for binary values and other operations, the client left alone when its serializer or layout differ).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.client import ClientCreator
from botocore.config import Config

from tests.unit.support import INVENTORY_TABLE, SyncWorld, open_sync_world, scenario

WIRE_BATCH = {
    "RequestItems": {
        INVENTORY_TABLE: [
            {
                "PutRequest": {
                    "Item": {
                        "sourceServerArn": {"S": "arn:aws:drs:us-east-1:111111111111:source-server/s-1"},
                        "stagingAccountId": {"S": "111111111111"},
                        "cpuCores": {"N": "8"},
                        "disks": {"L": [{"M": {"deviceName": {"S": "disk0"}, "bytes": {"N": "100"}}}]},
                        "flag": {"BOOL": True},
                        "none": {"NULL": True},
                        "hostname": {"S": 'h\u00e9llo "quoted"'},
                    }
                }
            }
        ]
    }
}


def dynamodb_client() -> Any:
    """A DynamoDB client as the sync's writer makes it: no parameter validation, so botocore's own JSONSerializer."""
    return boto3.client("dynamodb", config=Config(parameter_validation=False))


@pytest.fixture(scope="module")
def internals_world() -> Iterator[SyncWorld]:
    """A local AWS with `shared.botocore_internals` imported fresh inside it."""
    with open_sync_world(scenario(), "shared.botocore_internals") as world:
        yield world


@pytest.fixture
def internals(internals_world: SyncWorld) -> ModuleType:
    """The module, with its "logged once" memory emptied for the test."""
    internals_world.module._log_once.cache_clear()
    return internals_world.module


def request_of(client: Any, parameters: dict[str, Any], operation: str = "BatchWriteItem") -> Any:
    """The request `client`'s serializer builds for `parameters`."""
    return client._serializer.serialize_to_request(parameters, client.meta.service_model.operation_model(operation))


def info_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The INFO messages logged by `shared.botocore_internals`."""
    return [record.getMessage() for record in caplog.records if record.name == "shared.botocore_internals"]


class TestReusingClientClassesFallback:
    """Without botocore's ClientCreator methods, the block changes nothing and says so once."""

    def test_the_block_leaves_botocore_alone(
        self, internals: ModuleType, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        monkeypatch.delitem(internals._ORIGINALS, "_load_service_model")
        before = (ClientCreator._load_service_model, ClientCreator._create_client_class)

        with caplog.at_level(logging.INFO, logger="shared.botocore_internals"):
            with internals.reusing_client_classes():
                during = (ClientCreator._load_service_model, ClientCreator._create_client_class)
                client = dynamodb_client()
            with internals.reusing_client_classes():
                pass

        assert during == before
        assert client.meta.service_model.service_name == "dynamodb"
        assert len(info_messages(caplog)) == 1 and "built per client" in info_messages(caplog)[0]

    def test_a_creator_without_an_event_emitter_builds_every_time(
        self, internals: ModuleType, caplog: pytest.LogCaptureFixture
    ) -> None:
        built: list[object] = []

        def build() -> object:
            """A new object each call."""
            built.append(object())
            return built[-1]

        with caplog.at_level(logging.INFO, logger="shared.botocore_internals"):
            first = internals._kept(object(), ("class", "ec2", None), build)
            second = internals._kept(object(), ("class", "ec2", None), build)

        assert first is not second and len(built) == 2
        assert len(info_messages(caplog)) == 1


class TestPrebuiltJsonBodies:
    """BatchWriteItem bodies of rows in wire form, as `json.dumps` makes them, identical to botocore's."""

    def test_the_body_is_the_same_bytes_botocore_sends(self, internals: ModuleType) -> None:
        plain = dynamodb_client()
        fast = internals.prebuilt_json_bodies(dynamodb_client())

        assert type(fast._serializer).__name__ == "_PrebuiltJsonBody"
        assert request_of(fast, WIRE_BATCH) == request_of(plain, WIRE_BATCH)

    def test_binary_values_and_other_operations_take_botocores_walk(self, internals: ModuleType) -> None:
        plain = dynamodb_client()
        fast = internals.prebuilt_json_bodies(dynamodb_client())
        binary = {"RequestItems": {INVENTORY_TABLE: [{"PutRequest": {"Item": {"k": {"B": b"\x00\x01"}}}}]}}
        get = {"TableName": INVENTORY_TABLE, "Key": {"k": {"S": "v"}}}

        assert request_of(fast, binary) == request_of(plain, binary)
        assert request_of(fast, get, "GetItem") == request_of(plain, get, "GetItem")

    def test_a_validating_client_is_left_alone(self, internals: ModuleType) -> None:
        # With parameter validation, botocore wraps its serializer: not the layout the shortcut knows.
        client = boto3.client("dynamodb")
        serializer = client._serializer

        assert internals.prebuilt_json_bodies(client) is client
        assert client._serializer is serializer

    def test_a_write_through_the_client_reaches_the_table(self, internals: ModuleType) -> None:
        fast = internals.prebuilt_json_bodies(dynamodb_client())

        answer = fast.batch_write_item(**WIRE_BATCH)

        assert answer["UnprocessedItems"] == {}
        stored = boto3.resource("dynamodb").Table(INVENTORY_TABLE).scan()["Items"]
        assert [(item["hostname"], item["cpuCores"]) for item in stored] == [('h\u00e9llo "quoted"', 8)]

    def test_a_client_with_another_serializer_is_left_alone(
        self, internals: ModuleType, caplog: pytest.LogCaptureFixture
    ) -> None:
        sts = boto3.client("sts")
        serializer = sts._serializer

        with caplog.at_level(logging.INFO, logger="shared.botocore_internals"):
            assert internals.prebuilt_json_bodies(sts) is sts
            internals.prebuilt_json_bodies(boto3.client("sts"))

        assert sts._serializer is serializer
        assert len(info_messages(caplog)) == 1 and "no JSONSerializer" in info_messages(caplog)[0]

    def test_a_changed_request_layout_leaves_the_client_alone(
        self, internals: ModuleType, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        real = internals._PrebuiltJsonBody.serialize_to_request

        def other_layout(self: Any, parameters: Any, operation_model: Any) -> Any:
            """The shortcut's request, with a header botocore would not send."""
            request = real(self, parameters, operation_model)
            request["headers"] = {**request["headers"], "X-Other": "1"}
            return request

        monkeypatch.setattr(internals._PrebuiltJsonBody, "serialize_to_request", other_layout)
        client = dynamodb_client()
        serializer = client._serializer

        with caplog.at_level(logging.INFO, logger="shared.botocore_internals"):
            assert internals.prebuilt_json_bodies(client) is client

        assert client._serializer is serializer
        assert any("layout has changed" in message for message in info_messages(caplog))
