"""Unit tests of `inventory_sync.rows`: document sections, the first NIC's IP, and an account's rows in wire form.

`inventory_item_from_server` itself is tested with the writes (test_write_inventory_to_dynamodb.py); here are the
helpers it relies on and `build_inventory_rows`, which the orchestrator hands to the writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from tests.unit.support import NOW, PROD, SyncWorld, open_sync_world, scenario


@pytest.fixture(scope="module")
def rows_world() -> Iterator[SyncWorld]:
    """An empty world: the package for tests that make no AWS call."""
    with open_sync_world(scenario()) as world:
        yield world


class TestDocumentSection:
    """A sub-object of a DRS document, {} when missing or null (defect 11 fixed)."""

    @pytest.mark.parametrize(
        ("document", "expected"),
        [
            ({"sourceProperties": {"cpus": []}}, {"cpus": []}),
            ({"sourceProperties": None}, {}),
            ({}, {}),
            ({"sourceProperties": {}}, {}),
        ],
        ids=["present", "null", "missing", "empty"],
    )
    def test_section(self, rows_world: SyncWorld, document: dict[str, Any], expected: dict[str, Any]) -> None:
        assert rows_world.module.rows.document_section(document, "sourceProperties") == expected

    def test_the_section_itself_is_returned_not_a_copy(self, rows_world: SyncWorld) -> None:
        section: dict[str, Any] = {"a": 1}

        assert rows_world.module.rows.document_section({"s": section}, "s") is section


class TestFirstNicIp:
    """The first NIC's first IP (defect 10 fixed: a first NIC with an empty `ips` gives "")."""

    @pytest.mark.parametrize(
        ("nics", "expected"),
        [
            ([], ""),
            ([{"ips": ["10.0.0.1", "10.0.0.2"]}, {"ips": ["10.9.9.9"]}], "10.0.0.1"),
            ([{"macAddress": "02:00"}], ""),
            ([{"ips": []}, {"ips": ["10.9.9.9"]}], ""),
            ([{"ips": [None]}], None),
        ],
        ids=["no-nic", "first-of-first", "no-ips-key", "empty-ips", "null-ip"],
    )
    def test_ip(self, rows_world: SyncWorld, nics: list[dict[str, Any]], expected: Any) -> None:
        assert rows_world.module.rows.first_nic_ip(nics) == expected


def server(number: int, **extra: Any) -> dict[str, Any]:
    """A small DRS server document of PROD in us-east-1 with an EC2 instance."""
    return {
        "arn": f"arn:aws:drs:us-east-1:{PROD}:source-server/s-{number}",
        "sourceServerID": f"s-{number}",
        "sourceProperties": {
            "identificationHints": {"awsInstanceID": f"i-{number}", "hostname": f"host-{number}"},
            "disks": [{"deviceName": "disk0", "bytes": 100}],
        },
        "_queryRegion": "us-east-1",
        "_queryAccount": PROD,
        **extra,
    }


class TestBuildInventoryRows:
    """Every server's (ARN, row) in server order, the row typed for DynamoDB; the error for a broken document."""

    def test_rows_in_server_order_in_wire_form_equal_to_the_items(self, rows_world: SyncWorld) -> None:
        rows = rows_world.module.rows
        servers = [server(3), server(1), server(2)]
        details = {"i-1": {**dict.fromkeys(("vpcId", "subnetId", "privateIp", "instanceProfile"), "x")}}
        details["i-1"].update(securityGroups=["sg-1"], tags={"Name": "one"})

        built = rows.build_inventory_rows(servers, PROD, details, NOW)

        assert [arn for arn, _ in built] == [document["arn"] for document in servers]
        deserializer = TypeDeserializer()
        for (_, wire), document in zip(built, servers, strict=True):
            plain = {name: deserializer.deserialize(value) for name, value in wire.items()}
            assert plain == rows.inventory_item_from_server(document, PROD, details, NOW)
        assert built[1][1]["sourceTags"] == {"M": {"Name": {"S": "one"}}}
        assert built[0][1]["totalStorageBytes"] == {"N": "100"}

    def test_a_broken_document_gives_its_error_in_its_place(self, rows_world: SyncWorld) -> None:
        broken = server(2)
        broken["sourceProperties"]["disks"] = [{"deviceName": "disk0", "bytes": None}]

        built = rows_world.module.rows.build_inventory_rows([server(1), broken, server(3)], PROD, {}, NOW)

        assert [arn for arn, _ in built] == [server(n)["arn"] for n in (1, 2, 3)]
        assert isinstance(built[1][1], TypeError)
        assert isinstance(built[0][1], dict) and isinstance(built[2][1], dict)

    def test_no_servers_no_rows(self, rows_world: SyncWorld) -> None:
        assert rows_world.module.rows.build_inventory_rows([], PROD, {}, NOW) == []


class TestInventoryKeys:
    """The (sourceServerArn, stagingAccountId) keys the rows of an account's servers carry."""

    def test_keys(self, rows_world: SyncWorld) -> None:
        servers = [server(1), server(2, stagingArea={"stagingAccountID": "555555555555"}), {}]

        assert rows_world.module.rows.inventory_keys(servers, PROD) == {
            (server(1)["arn"], PROD),
            (server(2)["arn"], "555555555555"),
            ("", PROD),
        }
