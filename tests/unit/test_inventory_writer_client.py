"""Unit tests of `inventory_writer_client`: the inventory batches' DynamoDB client, parameter validation off.

Validation only costs CPU on the writer; these tests pin that it never changes what is sent (the same
BatchWriteItem calls, recorded against the local AWS, as through the Table resource's validating batch writer)
and that a table name the validator refuses keeps a validating client, so such a run fails client-side as before.
Its serializer (`WireFormSerializer`) builds the request body of typed rows directly: the tests compare its requests
with botocore's own JSON serializer's, byte for byte, for generated rows and for binary attributes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ParamValidationError
from botocore.serialize import JSONSerializer
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.support import INVENTORY_TABLE, NOW, PROD, calls, open_sync_world, recording, scenario


def server(number: int) -> dict[str, Any]:
    """A DRS source server document with nested values of every kind a row carries (lists, maps, numbers)."""
    server_id = f"s-{number:017x}"
    return {
        "sourceServerID": server_id,
        "arn": f"arn:aws:drs:us-east-1:{PROD}:source-server/{server_id}",
        "sourceProperties": {
            "identificationHints": {"hostname": f"web-{number}", "awsInstanceID": f"i-{number:017x}"},
            "cpus": [{"cores": 2, "modelName": "Intel Xeon"}],
            "ramBytes": 8589934592,
            "disks": [{"deviceName": "/dev/xvda", "bytes": 1000}],
            "networkInterfaces": [{"macAddress": "02:00:00:00:00:01", "ips": ["10.0.0.1"]}],
        },
        "_queryRegion": "us-east-1",
    }


def validates(client: Any) -> bool:
    """Whether the client validates a request before serializing it (an empty table name is invalid)."""
    operation_model = client.meta.service_model.operation_model("BatchWriteItem")
    try:
        client._serializer.serialize_to_request({"RequestItems": {"": []}}, operation_model)
    except ParamValidationError:
        return True
    return False


def test_a_valid_table_name_gets_a_client_without_parameter_validation() -> None:
    with open_sync_world(scenario()) as world:
        client = world.module.inventory_writer_client(INVENTORY_TABLE)

        assert not validates(client)


@pytest.mark.parametrize("table_name", ["", None])
def test_a_table_name_the_validator_refuses_keeps_validation_and_fails_client_side(table_name: Any) -> None:
    with open_sync_world(scenario()) as world:
        client = world.module.inventory_writer_client(table_name)

        assert validates(client)
        with pytest.raises(ParamValidationError):
            client.batch_write_item(RequestItems={table_name: [{"PutRequest": {"Item": {}}}]})


def test_the_batches_sent_are_those_of_the_validating_table_resource() -> None:
    servers = [server(number) for number in range(30)]
    ec2_details = {
        "i-00000000000000003": {
            "vpcId": "vpc-1",
            "subnetId": "subnet-1",
            "privateIp": "10.0.0.3",
            "securityGroups": ["sg-1"],
            "instanceProfile": "",
            "tags": {"Name": "x"},
        }
    }
    with open_sync_world(scenario()) as world:
        sync = world.module
        with recording() as through_table:
            sync.write_prepared_inventory(sync.prepare_inventory(servers, PROD, NOW, ec2_details))
        with recording() as through_writer:
            prepared = sync.prepare_inventory(servers, PROD, NOW, ec2_details, serialize=True)
            assert prepared.typed
            sync.write_prepared_inventory(prepared, sync.inventory_writer_client(INVENTORY_TABLE))

    sent_by_table = [batch.params for batch in calls(through_table, "dynamodb", "BatchWriteItem")]
    sent_by_writer = [batch.params for batch in calls(through_writer, "dynamodb", "BatchWriteItem")]
    assert len(sent_by_table) == 2
    assert sent_by_writer == sent_by_table


# JSON-like values as inventory rows carry them: text (any unicode), whole numbers, booleans, None, lists and maps.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def botocore_request(client: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The request botocore's own JSON serializer builds for a BatchWriteItem with `params`."""
    operation_model = client.meta.service_model.operation_model("BatchWriteItem")
    return dict(JSONSerializer().serialize_to_request(params, operation_model))


def writer_request(client: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The request the inventory writer's client serializer builds for a BatchWriteItem with `params`."""
    operation_model = client.meta.service_model.operation_model("BatchWriteItem")
    return dict(client._serializer.serialize_to_request(params, operation_model))


def batch_of(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """BatchWriter's parameters for a batch putting `rows`."""
    return {"RequestItems": {INVENTORY_TABLE: [{"PutRequest": {"Item": row}} for row in rows]}}


@given(rows=st.lists(st.dictionaries(st.text(min_size=1, max_size=10), JSON_VALUES, max_size=6), max_size=25))
def test_the_writer_serializes_typed_rows_byte_for_byte_as_botocore(rows: list[dict[str, Any]]) -> None:
    with open_sync_world(scenario()) as world:
        sync = world.module
        client = sync.inventory_writer_client(INVENTORY_TABLE)
        params = batch_of([sync.typed_row(row) for row in rows])

        assert type(client._serializer) is sync.WireFormSerializer
        assert writer_request(client, params) == botocore_request(client, params)
        # Rows without binary attributes carry their JSON, and the body is joined from it.
        assert client._serializer._joined_body(params) is not None


ROWS = st.dictionaries(st.text(min_size=1, max_size=10), JSON_VALUES, max_size=6)


@given(rows=st.lists(ROWS, min_size=2, max_size=25))
def test_a_batch_with_a_row_in_plain_form_is_encoded_whole_as_botocore(rows: list[dict[str, Any]]) -> None:
    with open_sync_world(scenario()) as world:
        sync = world.module
        client = sync.inventory_writer_client(INVENTORY_TABLE)
        typed = [sync.typed_row(row) for row in rows]
        typed[-1] = dict(typed[-1])  # as an item DynamoDB handed back unprocessed comes back: a plain dict
        params = batch_of(typed)

        assert client._serializer._joined_body(params) is None
        assert writer_request(client, params) == botocore_request(client, params)


@given(row=ROWS)
def test_a_row_waiting_as_json_text_comes_back_as_the_same_typed_row(row: dict[str, Any]) -> None:
    with open_sync_world(scenario()) as world:
        sync = world.module
        typed = sync.typed_row(row)
        waiting = sync.kept_for_writing(typed)
        item = sync.inventory_item(waiting)

        assert isinstance(waiting, str)
        assert type(item) is sync.WireRow
        assert item == typed
        assert list(item) == list(typed)
        assert item.json_text == typed.json_text


def test_a_row_with_bytes_or_a_binary_attribute_stays_a_plain_dict() -> None:
    with open_sync_world(scenario()) as world:
        sync = world.module

        assert type(sync.typed_row({"text": "a", "count": 2})) is sync.WireRow
        assert type(sync.typed_row({"blob": b"\x00"})) is dict
        assert type(sync.typed_row({"note": {"B": "eA=="}})) is dict


@pytest.mark.parametrize(
    "item",
    [
        {"blob": {"B": b"\x00\xffbinary"}},  # bytes: json.dumps refuses them, botocore base64-encodes them
        {"blob": {"B": "text given as binary"}},  # a str as binary: botocore base64-encodes its UTF-8
        {"blobs": {"BS": ["YQ==", "Yg=="]}},
        {"nested": {"M": {"blob": {"B": "eA=="}}}},
    ],
)
def test_binary_attributes_take_botocores_own_serialization(item: dict[str, Any]) -> None:
    with open_sync_world(scenario()) as world:
        client = world.module.inventory_writer_client(INVENTORY_TABLE)
        params = batch_of([{"sourceServerArn": {"S": "arn"}, "stagingAccountId": {"S": PROD}, **item}])

        assert writer_request(client, params) == botocore_request(client, params)


class CountingExecutor(ThreadPoolExecutor):
    """A one-worker pool that counts the tasks submitted to it."""

    def __init__(self) -> None:
        """One worker, nothing submitted yet."""
        super().__init__(max_workers=1)
        self.submitted = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Count, then submit as ThreadPoolExecutor does."""
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


def test_rows_are_decoded_in_order_a_few_batches_ahead_of_the_writer() -> None:
    with open_sync_world(scenario()) as world:
        sync = world.module
        typed = [sync.typed_row({"sourceServerArn": f"arn-{number}", "count": number}) for number in range(200)]
        failure = ValueError("a row that could not be built")
        rows = (
            [sync.kept_for_writing(row) for row in typed[:60]]
            + [failure]
            + [sync.kept_for_writing(row) for row in typed[60:]]
        )
        with CountingExecutor() as decoder:
            items = sync.items_decoded_ahead(rows, decoder)
            first = next(items)
            submitted_before_the_first_item = decoder.submitted
            rest = list(items)

        decoded_in_place = list(sync.items_decoded_ahead(rows))

    assert [first, *rest] == [*typed[:60], failure, *typed[60:]] == decoded_in_place
    assert all(type(item) is sync.WireRow for item in [first, *rest] if item is not failure)
    # The next batches only, not the account's every row: 3 batches of 25 out of 9.
    assert submitted_before_the_first_item == sync.DECODE_BATCHES_AHEAD + 1
    assert decoder.submitted == 9
