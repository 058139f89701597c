"""Unit tests of `write_inventory_to_dynamodb` and `inventory_item_from_server`: the inventory rows and their writes.

Server documents are written here as DRS returns them (plus the `_queryRegion`/`_queryAccount` tags the DRS query
adds); the writes go to the local AWS's inventory table, observed with the recorder (BatchWriteItem calls and the
items each carries) and by reading the table back. Faults make DynamoDB hand items back unprocessed or fail a batch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.support import (
    INVENTORY_TABLE,
    NOW,
    PROD,
    WORKLOADS,
    SyncWorld,
    batch_put_counts,
    calls,
    open_sync_world,
    recording,
    scenario,
)

STAGING = "555555555555"


def drs_server(number: int, **overrides: Any) -> dict[str, Any]:
    """A complete DRS source server document of PROD in us-east-1, as the DRS query returns it."""
    server_id = f"s-{number:017x}"
    document: dict[str, Any] = {
        "sourceServerID": server_id,
        "arn": f"arn:aws:drs:us-east-1:{PROD}:source-server/{server_id}",
        "agentVersion": "4.7.327",
        "dataReplicationInfo": {
            "dataReplicationState": "CONTINUOUS",
            "lagDuration": "PT1M",
            "lastSnapshotDateTime": "2026-01-15T11:00:00Z",
        },
        "lifeCycle": {"lastSeenByServiceDateTime": "2026-01-15T11:59:00Z"},
        "sourceProperties": {
            "identificationHints": {
                "hostname": f"web-{number}",
                "fqdn": f"web-{number}.ec2.internal",
                "awsInstanceID": f"i-{number:017x}",
            },
            "cpus": [{"cores": 2, "modelName": "Intel Xeon"}, {"cores": 4, "modelName": "AMD EPYC"}],
            "ramBytes": 8589934592,
            "disks": [{"deviceName": "/dev/xvda", "bytes": 1000}, {"deviceName": "/dev/xvdb", "bytes": 24}],
            "os": {"fullString": "Amazon Linux 2"},
            "networkInterfaces": [
                {"macAddress": "02:00:00:00:00:01", "ips": ["10.0.0.1", "10.0.0.2"], "isPrimary": True},
                {"macAddress": "02:00:00:00:00:02", "ips": ["10.0.1.1"]},
            ],
        },
        "stagingArea": {"stagingAccountID": STAGING},
        "sourceCloudProperties": {"originAccountID": WORKLOADS, "originRegion": "us-west-2"},
        "_queryRegion": "us-east-1",
        "_queryAccount": PROD,
    }
    document.update(overrides)
    return document


EXPECTED_ITEM = {
    "sourceServerArn": f"arn:aws:drs:us-east-1:{PROD}:source-server/s-00000000000000007",
    "stagingAccountId": STAGING,
    "sourceServerID": "s-00000000000000007",
    "sourceAccountId": WORKLOADS,
    "sourceRegion": "us-west-2",
    "hostname": "web-7",
    "fqdn": "web-7.ec2.internal",
    "instanceId": "i-00000000000000007",
    "agentVersion": "4.7.327",
    "replicationRegion": "us-east-1",
    "replicationState": "CONTINUOUS",
    "lagDuration": "PT1M",
    "lastSnapshot": "2026-01-15T11:00:00Z",
    "lastSeen": "2026-01-15T11:59:00Z",
    "lastUpdated": NOW,
    "cpuModel": "Intel Xeon",
    "cpuCores": 6,
    "ramBytes": 8589934592,
    "totalStorageBytes": 1024,
    "osName": "Amazon Linux 2",
    "primaryIp": "10.0.0.1",
    "macAddress": "02:00:00:00:00:01",
    "disks": [{"deviceName": "/dev/xvda", "bytes": 1000}, {"deviceName": "/dev/xvdb", "bytes": 24}],
}
EC2_DETAILS = {
    "i-00000000000000007": {
        "vpcId": "vpc-1",
        "subnetId": "subnet-1",
        "privateIp": "10.0.0.1",
        "securityGroups": ["sg-1"],
        "instanceProfile": "arn:aws:iam::222222222222:instance-profile/p",
        "tags": {"Name": "web-7"},
    }
}


def batch_fault(**effect: Any) -> dict[str, Any]:
    """A scenario with one fault on the inventory's BatchWriteItem (`on_call`, and `error` or `unprocessed`)."""
    return scenario(faults=[{"service": "dynamodb", "operation": "BatchWriteItem", **effect}])


def arns_in_table(world: SyncWorld) -> list[str]:
    """The sourceServerArn of every inventory row, sorted."""
    return sorted(row["sourceServerArn"] for row in world.tables()["inventory"])


def sent_arns(batch: Any) -> list[str]:
    """The sourceServerArns a recorded BatchWriteItem carried, in order."""
    return [
        request["PutRequest"]["Item"]["sourceServerArn"]["S"]
        for request in batch.params["RequestItems"][INVENTORY_TABLE]
    ]


def write(world: SyncWorld, servers: list[dict[str, Any]], details: dict[str, Any] | None = None) -> tuple[int, int]:
    """The orchestrator's write of PROD's `servers`: their rows built, then `write_inventory_to_dynamodb`."""
    rows = world.module.rows.build_inventory_rows(servers, PROD, details or {}, NOW)
    return tuple(world.module.write_inventory_to_dynamodb(rows))  # type: ignore[return-value]


class TestWriteInventory:
    """Writing one account's servers."""

    def test_sixty_servers_go_out_in_batches_of_25(self, sync_world: Any) -> None:
        world = sync_world(scenario())
        servers = [drs_server(number) for number in range(60)]

        with recording() as recorder:
            counts = write(world, servers)

        assert counts == (60, 0)
        batches = calls(recorder, "dynamodb", "BatchWriteItem")
        assert [batch_put_counts(batch) for batch in batches] == [
            {INVENTORY_TABLE: 25},
            {INVENTORY_TABLE: 25},
            {INVENTORY_TABLE: 10},
        ]
        assert [arn for batch in batches for arn in sent_arns(batch)] == [server["arn"] for server in servers]
        assert calls(recorder, "dynamodb", "PutItem") == []

    def test_the_rows_written_are_the_inventory_items(self, sync_world: Any) -> None:
        world = sync_world(scenario())
        servers = [drs_server(7), drs_server(8)]

        write(world, servers, EC2_DETAILS)

        rows = {row["sourceServerID"]: row for row in world.tables()["inventory"]}
        assert rows["s-00000000000000007"] == {
            **EXPECTED_ITEM,
            "networkConfig": {key: value for key, value in EC2_DETAILS["i-00000000000000007"].items() if key != "tags"},
            "sourceTags": {"Name": "web-7"},
        }
        assert "networkConfig" not in rows["s-00000000000000008"]

    def test_no_servers_write_nothing(self, sync_world: Any) -> None:
        world = sync_world(scenario())

        with recording() as recorder:
            assert write(world, []) == (0, 0)

        assert recorder.interactions == []

    def test_unprocessed_items_are_resent_until_written(self, sync_world: Any) -> None:
        world = sync_world(batch_fault(on_call=1, unprocessed=5))
        servers = [drs_server(number) for number in range(30)]

        with recording() as recorder:
            counts = write(world, servers)

        assert counts == (30, 0)
        batches = calls(recorder, "dynamodb", "BatchWriteItem")
        assert batches[0].response is not None
        first_unprocessed = batches[0].response["UnprocessedItems"][INVENTORY_TABLE]
        assert len(first_unprocessed) == 5
        held_back = [request["PutRequest"]["Item"]["sourceServerArn"]["S"] for request in first_unprocessed]
        # As boto3's batch writer: the items handed back join the waiting ones (none: a batch goes out as soon as 25
        # wait), so the next batch carries them first, then the new ones.
        assert sent_arns(batches[1]) == held_back + [server["arn"] for server in servers[25:]]
        assert len(batches) == 2
        assert arns_in_table(world) == sorted(server["arn"] for server in servers)

    def test_a_throttled_batch_is_retried_by_the_client(self, sync_world: Any) -> None:
        world = sync_world(
            batch_fault(on_call=1, error={"code": "ProvisionedThroughputExceededException", "status": 400})
        )
        servers = [drs_server(number) for number in range(3)]

        assert write(world, servers) == (3, 0)
        assert len(arns_in_table(world)) == 3

    def test_a_malformed_server_counts_one_failure_and_the_rest_is_written(
        self, sync_world: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        world = sync_world(scenario())
        broken = drs_server(2)
        broken["sourceProperties"]["disks"] = [{"deviceName": "/dev/sda", "bytes": None}]
        servers = [drs_server(1), broken, drs_server(3)]

        with caplog.at_level(logging.ERROR):
            counts = write(world, servers)

        # A disk whose bytes is null breaks the storage total: the item cannot be built.
        assert counts == (2, 1)
        assert arns_in_table(world) == sorted([servers[0]["arn"], servers[2]["arn"]])
        assert any(broken["arn"] in record.getMessage() for record in caplog.records)

    def test_a_failed_intermediate_flush_counts_every_item_it_lost(
        self, sync_world: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        world = sync_world(batch_fault(on_call=1, error={"code": "ValidationException", "message": "bad batch"}))
        servers = [drs_server(number) for number in range(30)]

        with caplog.at_level(logging.ERROR):
            counts = write(world, servers)

        # Defect 6 fixed: the 25 items of the failed batch are 25 errors, the 5 written ones the only synced.
        assert counts == (5, 25)
        assert arns_in_table(world) == sorted(server["arn"] for server in servers[25:])
        lost = [record.getMessage() for record in caplog.records if "lost" in record.getMessage()]
        assert len(lost) == 25
        # Each lost item is logged with its key: sourceServerArn and stagingAccountId.
        assert all(f"stagingAccountId {STAGING}" in message for message in lost)
        assert {server["arn"] for server in servers[:25]} == {
            arn for arn in (server["arn"] for server in servers) if any(arn in message for message in lost)
        }

    def test_a_failed_final_flush_is_counted_and_does_not_raise(self, sync_world: Any) -> None:
        world = sync_world(batch_fault(on_call=1, error={"code": "ValidationException", "message": "bad batch"}))
        servers = [drs_server(number) for number in range(10)]

        # Defect 6 fixed: no longer propagates; its 10 items are 10 errors.
        assert write(world, servers) == (0, 10)
        assert arns_in_table(world) == []

    def test_items_lost_after_being_handed_back_count_as_errors_only(self, sync_world: Any) -> None:
        # The first batch hands 5 items back; the batch resending them fails: they and the 5 new ones are lost.
        world = sync_world(
            scenario(
                faults=[
                    {"service": "dynamodb", "operation": "BatchWriteItem", "on_call": 1, "unprocessed": 5},
                    {
                        "service": "dynamodb",
                        "operation": "BatchWriteItem",
                        "on_call": 2,
                        "error": {"code": "ValidationException", "message": "bad batch"},
                    },
                ]
            )
        )
        servers = [drs_server(number) for number in range(30)]

        assert write(world, servers) == (20, 10)
        assert len(arns_in_table(world)) == 20

    def test_a_given_table_is_written_instead_of_the_configured_one(self, sync_world: Any) -> None:
        world = sync_world(scenario())
        other = boto3.resource("dynamodb").create_table(
            TableName="other-inventory",
            KeySchema=[
                {"AttributeName": "sourceServerArn", "KeyType": "HASH"},
                {"AttributeName": "stagingAccountId", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "sourceServerArn", "AttributeType": "S"},
                {"AttributeName": "stagingAccountId", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        rows = world.module.rows.build_inventory_rows([drs_server(1)], PROD, {}, NOW)

        table = world.module.inventory_writes.InventoryTable(other.name, boto3.client("dynamodb"))

        assert world.module.write_inventory_to_dynamodb(rows, table) == (1, 0)
        assert arns_in_table(world) == []
        assert [item["sourceServerArn"] for item in other.scan()["Items"]] == [drs_server(1)["arn"]]

    def test_a_row_error_is_counted_and_logged_without_any_call(
        self, sync_world: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        world = sync_world(scenario())

        with recording() as recorder, caplog.at_level(logging.ERROR):
            counts = world.module.write_inventory_to_dynamodb([("arn:x", ValueError("bad document"))])

        assert counts == (0, 1)
        assert recorder.interactions == []
        assert any(
            "arn:x" in record.getMessage() and "bad document" in record.getMessage() for record in caplog.records
        )


@pytest.fixture(scope="class")
def bare_world() -> Iterator[SyncWorld]:
    """An empty world: the module for tests that make no AWS call."""
    with open_sync_world(scenario()) as world:
        yield world


class TestInventoryItemFromServer:
    """The inventory row of one DRS server (LEGACY_CONTRACT.md, "Inventory item")."""

    def test_a_complete_document(self, bare_world: SyncWorld) -> None:
        assert bare_world.module.rows.inventory_item_from_server(drs_server(7), PROD, {}, NOW) == EXPECTED_ITEM

    def test_ec2_details_add_network_config_and_source_tags(self, bare_world: SyncWorld) -> None:
        item = bare_world.module.rows.inventory_item_from_server(drs_server(7), PROD, EC2_DETAILS, NOW)

        assert item["networkConfig"] == {
            "vpcId": "vpc-1",
            "subnetId": "subnet-1",
            "privateIp": "10.0.0.1",
            "securityGroups": ["sg-1"],
            "instanceProfile": "arn:aws:iam::222222222222:instance-profile/p",
        }
        assert item["sourceTags"] == {"Name": "web-7"}

    def test_details_of_another_instance_are_not_used(self, bare_world: SyncWorld) -> None:
        item = bare_world.module.rows.inventory_item_from_server(drs_server(8), PROD, EC2_DETAILS, NOW)

        assert "networkConfig" not in item
        assert "sourceTags" not in item

    def test_an_empty_document_gets_every_default(self, bare_world: SyncWorld) -> None:
        assert bare_world.module.rows.inventory_item_from_server({}, PROD, {}, NOW) == {
            "sourceServerArn": "",
            "stagingAccountId": PROD,
            "sourceServerID": "",
            "sourceAccountId": PROD,
            "sourceRegion": None,
            "hostname": "",
            "fqdn": "",
            "instanceId": "",
            "agentVersion": "",
            "replicationRegion": None,
            "replicationState": "",
            "lagDuration": "",
            "lastSnapshot": "",
            "lastSeen": "",
            "lastUpdated": NOW,
            "cpuModel": "",
            "cpuCores": 0,
            "ramBytes": 0,
            "totalStorageBytes": 0,
            "osName": "",
            "primaryIp": "",
            "macAddress": "",
            "disks": [],
        }

    def test_origin_and_staging_default_to_the_account_and_query_region(self, bare_world: SyncWorld) -> None:
        server = drs_server(7)
        del server["stagingArea"], server["sourceCloudProperties"]

        item = bare_world.module.rows.inventory_item_from_server(server, PROD, {}, NOW)

        assert (item["stagingAccountId"], item["sourceAccountId"], item["sourceRegion"]) == (PROD, PROD, "us-east-1")

    def test_sparse_sections_get_empty_values(self, bare_world: SyncWorld) -> None:
        server = drs_server(
            7,
            sourceProperties={
                "cpus": [{"cores": 3}],
                "ramBytes": "2048",
                "disks": [{"bytes": 5}, {"deviceName": "/dev/sdb"}],
                "networkInterfaces": [{"isPrimary": True}],
            },
        )

        item = bare_world.module.rows.inventory_item_from_server(server, PROD, {}, NOW)

        assert (item["cpuModel"], item["cpuCores"], item["ramBytes"]) == ("", 3, 2048)
        assert item["disks"] == [{"deviceName": "", "bytes": 5}, {"deviceName": "/dev/sdb", "bytes": 0}]
        # A NIC without an `ips` key defaults to [""]; without a macAddress to "".
        assert (item["primaryIp"], item["macAddress"]) == ("", "")
        assert (item["hostname"], item["instanceId"]) == ("", "")

    def test_a_disk_without_bytes_breaks_the_total_as_the_legacy(self, bare_world: SyncWorld) -> None:
        server = drs_server(7)
        server["sourceProperties"]["disks"] = [{"deviceName": "/dev/sda", "bytes": None}]

        with pytest.raises(TypeError):
            bare_world.module.rows.inventory_item_from_server(server, PROD, {}, NOW)

    def test_a_first_nic_with_no_ips_gives_an_empty_primary_ip(self, bare_world: SyncWorld) -> None:
        # Approved divergence (defect 10 fixed): the legacy raised IndexError here and never wrote the server.
        server = drs_server(7)
        server["sourceProperties"]["networkInterfaces"] = [{"macAddress": "02:00:00:00:00:07", "ips": []}]

        item = bare_world.module.rows.inventory_item_from_server(server, PROD, {}, NOW)

        assert (item["primaryIp"], item["macAddress"]) == ("", "02:00:00:00:00:07")

    @pytest.mark.parametrize(
        "nulled",
        [{"sourceProperties": None}, {"sourceCloudProperties": None}, {"identificationHints": None}],
        ids=["null-source-properties", "null-cloud-properties", "null-hints"],
    )
    def test_a_null_section_counts_as_missing(self, bare_world: SyncWorld, nulled: dict[str, Any]) -> None:
        # Approved divergence (defect 11 fixed): the legacy raised AttributeError on a null section.
        server = drs_server(7)
        missing = drs_server(7)
        for name in nulled:
            if name == "identificationHints":
                server["sourceProperties"][name] = None
                del missing["sourceProperties"][name]
            else:
                server[name] = None
                del missing[name]

        item = bare_world.module.rows.inventory_item_from_server(server, PROD, {}, NOW)

        assert item == bare_world.module.rows.inventory_item_from_server(missing, PROD, {}, NOW)


DISKS = st.lists(
    st.fixed_dictionaries({"bytes": st.integers(0, 2**40)}, optional={"deviceName": st.sampled_from(["/dev/sda", ""])}),
    max_size=4,
)
CPUS = st.lists(
    st.fixed_dictionaries({}, optional={"cores": st.integers(0, 64), "modelName": st.sampled_from(["Xeon", ""])}),
    max_size=4,
)


class TestInventoryItemProperties:
    """Invariants of the inventory row over random hardware sections."""

    @given(disks=DISKS, cpus=CPUS, ram=st.one_of(st.none(), st.integers(0, 2**40)))
    def test_totals_and_disks_follow_the_document(
        self, bare_world: SyncWorld, disks: list[dict[str, Any]], cpus: list[dict[str, Any]], ram: int | None
    ) -> None:
        server = drs_server(7)
        server["sourceProperties"].update({"disks": disks, "cpus": cpus, "ramBytes": ram})

        item = bare_world.module.rows.inventory_item_from_server(server, PROD, {}, NOW)

        assert item["totalStorageBytes"] == sum(disk["bytes"] for disk in disks)
        assert item["cpuCores"] == sum(cpu.get("cores", 0) for cpu in cpus)
        assert item["ramBytes"] == (ram or 0)
        assert [disk["bytes"] for disk in item["disks"]] == [disk["bytes"] for disk in disks]
        assert item["cpuModel"] == ((cpus[0].get("modelName") or "") if cpus else "")
        # The identity of the row never depends on the hardware.
        assert (item["sourceServerArn"], item["stagingAccountId"]) == (server["arn"], STAGING)
