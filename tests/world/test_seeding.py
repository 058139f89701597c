"""Building worlds from scenarios: determinism, instances in their origin account, missing instances, tables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from harness.pytest_plugin import as_scenario
from harness.world.local import local_aws
from harness.world.state import dump_tables
from tests.world.helpers import HUB, OTHER, PROD, REGION, STAGING, assumed_session, instances, pages_of, scenario

REPO = Path(__file__).resolve().parents[2]

RICH = scenario(
    seed=17,
    active_regions=[
        {"region": "us-west-2", "serverCount": 3},
        {"region": REGION, "serverCount": 4, "status": "AVAILABLE"},
        {"region": "eu-west-1", "serverCount": 0},
    ],
    target_accounts=[
        {"accountId": STAGING, "accountName": "staging"},
        {"accountId": PROD, "accountName": "prod", "externalId": "ext-1"},
    ],
    accounts={
        PROD: {
            "drs": {
                REGION: {"servers": 4, "page_size": 3},
                "eu-west-1": {"servers": 2, "origin": {"account": STAGING, "region": "us-west-2"}},
            },
            "ec2": {REGION: {"missing_instances": 1}},
        },
        STAGING: {"drs": {"us-west-2": {"servers": 2}}},
    },
    inventory_before=[
        {"sourceServerArn": "arn:b", "stagingAccountId": PROD, "sourceAccountId": PROD, "hostname": "b"},
        {"sourceServerArn": "arn:a", "stagingAccountId": STAGING, "sourceAccountId": PROD, "replicated": 3},
        {"sourceServerArn": "arn:a", "stagingAccountId": PROD, "sourceAccountId": PROD},
    ],
)


# Where RICH puts DRS servers and EC2 instances (the cross-origin ones live in STAGING's us-west-2).
RICH_DRS = ((PROD, REGION), (PROD, "eu-west-1"), (STAGING, "us-west-2"))
RICH_EC2 = ((PROD, REGION), (STAGING, "us-west-2"))


def snapshot(spec: dict[str, Any]) -> str:
    """Build `spec` and return what clients see of it as canonical JSON: DRS listings, EC2 instances, tables."""
    built = as_scenario(spec)
    with local_aws(built):
        sessions = {account: assumed_session(account) for account in (PROD, STAGING)}
        drs = {
            f"{account}/{region}": pages_of(sessions[account].client("drs", region_name=region))
            for account, region in RICH_DRS
        }
        ec2 = {
            f"{account}/{region}": sorted(
                # LaunchTime is left out: it is the wall clock unless the caller freezes it (runs do).
                (item["InstanceId"], item["PrivateIpAddress"], item["InstanceType"], item["Tags"])
                for item in instances(sessions[account].client("ec2", region_name=region))
            )
            for account, region in RICH_EC2
        }
        tables = dump_tables(built)
    return json.dumps({"drs": drs, "ec2": ec2, "tables": tables}, sort_keys=True)


SNAPSHOT_SCRIPT = "import sys; from tests.world.test_seeding import RICH, snapshot; sys.stdout.write(snapshot(RICH))"


@pytest.fixture(scope="class")
def rich_snapshot() -> str:
    """One build of RICH, shared by the determinism tests."""
    return snapshot(RICH)


class TestDeterminism:
    """The same scenario builds the same world, byte for byte."""

    def test_two_builds_in_one_process_are_identical(self, rich_snapshot):
        snapshot(scenario(seed=99, accounts={OTHER: {"drs": {REGION: {"servers": 3}}}}))  # an unrelated build between
        assert snapshot(RICH) == rich_snapshot

    def test_a_build_in_another_process_is_identical(self, rich_snapshot):
        environment = {**os.environ, "PYTHONHASHSEED": "12345"}
        other = subprocess.run(
            [sys.executable, "-c", SNAPSHOT_SCRIPT],
            cwd=REPO,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert other.stdout == rich_snapshot

    def test_another_seed_builds_another_world(self, rich_snapshot):
        assert snapshot({**RICH, "seed": 18}) != rich_snapshot


def test_servers_list_their_own_instances_with_matching_facts(local_world):
    local_world(scenario(accounts={PROD: {"drs": {REGION: {"servers": 3}}}}))
    session = assumed_session(PROD)
    servers = session.client("drs").describe_source_servers()["items"]
    by_id = {item["InstanceId"]: item for item in instances(session.client("ec2"))}
    assert len(by_id) == 3
    for server in servers:
        hints = server["sourceProperties"]["identificationHints"]
        instance = by_id[hints["awsInstanceID"]]
        tags = {tag["Key"]: tag["Value"] for tag in instance["Tags"]}
        assert tags["Name"] == hints["hostname"]
        assert server["sourceProperties"]["networkInterfaces"][0]["ips"] == [instance["PrivateIpAddress"]]
        assert server["sourceCloudProperties"]["originAccountID"] == PROD
        assert server["sourceCloudProperties"]["originRegion"] == REGION
        assert instance["IamInstanceProfile"]["Arn"].endswith("instance-profile/drs-replicated-instance")


def test_missing_instances_leave_the_last_servers_without_an_instance(local_world):
    local_world(scenario(accounts={PROD: {"drs": {REGION: {"servers": 4}}, "ec2": {REGION: {"missing_instances": 1}}}}))
    session = assumed_session(PROD)
    servers = session.client("drs").describe_source_servers()["items"]
    ids = [server["sourceProperties"]["identificationHints"]["awsInstanceID"] for server in servers]
    ec2 = session.client("ec2")
    assert len(servers) == 4
    assert sorted(item["InstanceId"] for item in instances(ec2)) == sorted(ids[:3])
    with pytest.raises(ClientError) as raised:
        ec2.describe_instances(InstanceIds=[ids[3]])
    assert raised.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"


def test_cross_origin_instances_live_in_the_origin_account_and_region(local_world):
    local_world(
        scenario(
            accounts={
                PROD: {
                    "drs": {
                        REGION: {"servers": 3, "origin": {"account": STAGING, "region": "us-west-2"}},
                        "eu-west-1": {"servers": 1},
                    }
                },
                STAGING: {"ec2": {"us-west-2": {"missing_instances": 1}}},
            }
        )
    )
    prod, staging = assumed_session(PROD), assumed_session(STAGING)
    servers = prod.client("drs").describe_source_servers()["items"]
    assert len(servers) == 3
    for server in servers:
        assert server["arn"].startswith(f"arn:aws:drs:{REGION}:{PROD}:source-server/")
        assert server["stagingArea"]["stagingAccountID"] == PROD
        assert server["sourceCloudProperties"]["originAccountID"] == STAGING
        assert server["sourceCloudProperties"]["originRegion"] == "us-west-2"
        assert server["sourceProperties"]["identificationHints"]["fqdn"].endswith(".us-west-2.compute.internal")
    ids = [server["sourceProperties"]["identificationHints"]["awsInstanceID"] for server in servers]
    # The origin's missing_instances applies to the servers that originate there.
    assert sorted(item["InstanceId"] for item in instances(staging.client("ec2", region_name="us-west-2"))) == sorted(
        ids[:2]
    )
    assert instances(prod.client("ec2", region_name=REGION)) == []
    assert instances(prod.client("ec2", region_name="us-west-2")) == []
    assert len(instances(prod.client("ec2", region_name="eu-west-1"))) == 1
    assert instances(staging.client("ec2", region_name=REGION)) == []


EXPLICIT = [
    {
        "sourceServerID": "s-1a2b3c4d5e6f70001",
        "arn": f"arn:aws:drs:{REGION}:{PROD}:source-server/s-1a2b3c4d5e6f70001",
        "tags": {"Application": "billing"},
        "lifeCycle": {"addedToServiceDateTime": "2025-11-02T09:14:00+00:00"},
        "sourceProperties": {
            "identificationHints": {"hostname": "billing-db-01"},
            "ramBytes": 34359738368,
            "networkInterfaces": [{"macAddress": "00:50:56:9a:1c:01", "ips": ["10.20.1.11"], "isPrimary": True}],
        },
        "stagingArea": {"status": "NOT_EXTENDED", "stagingAccountID": PROD},
        "notAModeledField": {"kept": [1, 2.5, None]},
    },
    {"sourceServerID": "s-1a2b3c4d5e6f70002", "arn": None, "sourceProperties": {"networkInterfaces": []}},
]


def test_explicit_server_documents_are_served_verbatim(local_world):
    world = local_world(scenario(accounts={PROD: {"drs": {REGION: {"servers": EXPLICIT}}}}))
    drs = assumed_session(PROD).client("drs")
    raw_bodies: list[bytes] = []
    drs.meta.events.register(
        "after-call.drs.DescribeSourceServers",
        lambda http_response, **_: raw_bodies.append(http_response.content),
    )
    parsed = drs.describe_source_servers()["items"]
    assert json.loads(raw_bodies[0])["items"] == EXPLICIT
    assert parsed[0] == {key: value for key, value in EXPLICIT[0].items() if key != "notAModeledField"}
    assert parsed[1] == {"sourceServerID": "s-1a2b3c4d5e6f70002", "sourceProperties": {"networkInterfaces": []}}
    assert world.drs.backend(PROD, REGION).servers == EXPLICIT
    # Explicit documents launch no EC2 instances.
    assert instances(assumed_session(PROD).client("ec2")) == []


def test_tables_hold_the_scenario_rows_in_the_hub_account(local_world):
    local_world(RICH)
    dynamodb = boto3.client("dynamodb")
    assert dynamodb.describe_table(TableName="target-accounts")["Table"]["TableArn"].split(":")[4] == HUB
    item = dynamodb.get_item(TableName="target-accounts", Key={"accountId": {"S": PROD}})["Item"]
    assert item == {"accountId": {"S": PROD}, "accountName": {"S": "prod"}, "externalId": {"S": "ext-1"}}
    indexes = dynamodb.describe_table(TableName="source-server-inventory")["Table"]["GlobalSecondaryIndexes"]
    assert sorted(index["IndexName"] for index in indexes) == ["SourceAccountIndex", "StagingAccountIndex"]


def test_dump_tables_is_sorted_by_key_in_plain_json_types(local_world):
    world_scenario = as_scenario(RICH)
    local_world(world_scenario)
    dump = dump_tables(world_scenario)
    assert list(dump) == ["inventory", "target_accounts", "region_status"]
    assert [row["accountId"] for row in dump["target_accounts"]] == [PROD, STAGING]
    assert dump["region_status"] == [
        {"region": "eu-west-1", "serverCount": 0, "status": "UNINITIALIZED"},
        {"region": REGION, "serverCount": 4, "status": "AVAILABLE"},
        {"region": "us-west-2", "serverCount": 3, "status": "AVAILABLE"},
    ]
    assert [(row["sourceServerArn"], row["stagingAccountId"]) for row in dump["inventory"]] == [
        ("arn:a", PROD),
        ("arn:a", STAGING),
        ("arn:b", PROD),
    ]
    assert dump["inventory"][1]["replicated"] == 3
    assert type(dump["inventory"][1]["replicated"]) is int


def test_dump_tables_reads_what_clients_wrote(local_world):
    world_scenario = as_scenario(scenario())
    local_world(world_scenario)
    dynamodb = boto3.client("dynamodb")
    for account in ("000000000003", "000000000001", "000000000002"):
        dynamodb.put_item(TableName="target-accounts", Item={"accountId": {"S": account}, "ratio": {"N": "0.5"}})
    dump = dump_tables(world_scenario)
    assert dump["target_accounts"] == [{"accountId": f"00000000000{index}", "ratio": 0.5} for index in (1, 2, 3)]
    assert dump["inventory"] == []
    assert dump["region_status"] == []


def test_security_groups_are_created_in_the_default_vpc_and_given_to_every_instance(local_world):
    local_world(
        scenario(
            accounts={PROD: {"drs": {REGION: {"servers": 2}}, "ec2": {REGION: {"security_groups": ["web", "db"]}}}}
        )
    )
    ec2 = assumed_session(PROD).client("ec2", region_name=REGION)
    groups = {group["GroupName"]: group for group in ec2.describe_security_groups()["SecurityGroups"]}
    launched = instances(ec2)
    assert len(launched) == 2
    for instance in launched:
        assert [group["GroupId"] for group in instance["SecurityGroups"]] == [
            groups["web"]["GroupId"],
            groups["db"]["GroupId"],
        ]
        assert groups["web"]["VpcId"] == instance["VpcId"]


def test_without_security_groups_instances_have_none(local_world):
    local_world(scenario(accounts={PROD: {"drs": {REGION: {"servers": 1}}}}))
    assert [instance["SecurityGroups"] for instance in instances(assumed_session(PROD).client("ec2"))] == [[]]
