"""Building a world from a scenario: tables and rows, EC2 instances in their origin accounts, DRS source servers.

On-premises servers (`on_premises: true` in a DRS region) get no EC2 instance anywhere: their documents name none.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.client import BaseClient

from harness.world.core import World
from harness.world.drs.generator import InstanceFacts, generate_on_premises_server, generate_source_server
from harness.world.scenario import ErrorSpec, RegionStatusRow, Scenario
from harness.world.wire import ACCOUNT_HEADER, INTERNAL_HEADER, RESULT_HEADER

# Logical table names, the environment variables naming them, and their key schemas (LEGACY_CONTRACT.md).
TABLE_ENV = {
    "inventory": "SOURCE_SERVER_INVENTORY_TABLE",
    "target_accounts": "TARGET_ACCOUNTS_TABLE",
    "region_status": "DRS_REGION_STATUS_TABLE",
}
TABLE_KEYS = {
    "inventory": ("sourceServerArn", "stagingAccountId"),
    "target_accounts": ("accountId", None),
    "region_status": ("region", None),
}
IMAGE_ID = "ami-12c6146b"  # one of the AMIs moto ships
INSTANCE_PROFILE = "drs-replicated-instance"
_RUN_BATCH = 250


@dataclass(frozen=True)
class _Slot:
    """One server to generate: where DRS lists it and where its EC2 instance lives (none when on premises)."""

    drs_account: str
    region: str
    staging_account: str
    origin_account: str
    origin_region: str
    on_premises: bool = False


class InternalClients:
    """boto3 clients that act as a given account and bypass faults and latency: the world's own hands."""

    def __init__(self) -> None:
        """One botocore session for all of them, clients cached per (service, region, account)."""
        self._session = boto3.session.Session(
            aws_access_key_id="local-seeder", aws_secret_access_key="local-seeder", region_name="us-east-1"
        )
        self._clients: dict[tuple[str, str, str], BaseClient] = {}

    def client(self, service: str, region: str, account: str) -> Any:
        """A client for `service` in `region` whose requests act as `account`."""
        key = (service, region, account)
        if key not in self._clients:
            client = self._session.client(service, region_name=region)

            def mark(request: Any, **_kwargs: Any) -> None:
                """Tag the request as the world's own, acting as `account`."""
                request.headers[INTERNAL_HEADER] = "1"
                request.headers[ACCOUNT_HEADER] = account

            client.meta.events.register("before-sign", mark)
            self._clients[key] = client
        return self._clients[key]


def seed_world(world: World, scenario: Scenario) -> None:
    """Create everything the scenario describes; the in-process adapter must be active for `world`."""
    from moto.moto_api._internal import mock_random

    mock_random.seed(scenario.seed)
    rng = random.Random(scenario.seed)
    clients = InternalClients()
    environment = scenario.environment()
    region = environment.get("AWS_DEFAULT_REGION") or "us-east-1"
    _create_tables(clients, scenario, region)
    _generate_servers(world, clients, scenario, rng)


def table_names(scenario: Scenario) -> dict[str, str]:
    """Logical name -> table name for the tables the scenario's environment configures."""
    environment = scenario.environment()
    return {logical: name for logical, env in TABLE_ENV.items() if (name := environment.get(env))}


def _create_tables(clients: InternalClients, scenario: Scenario, region: str) -> None:
    """Create the configured tables in the hub account and put the scenario's rows in them."""
    dynamodb = clients.client("dynamodb", region, scenario.hub_account)
    names = table_names(scenario)
    for logical, name in names.items():
        dynamodb.create_table(**_table_definition(logical, name))
    resource_rows: dict[str, list[Mapping[str, Any]]] = {
        "target_accounts": [dict(row) for row in scenario.target_accounts],
        "region_status": [_region_row(row) for row in scenario.active_regions],
        "inventory": [dict(row) for row in scenario.inventory_before],
    }
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    for logical, rows in resource_rows.items():
        if logical not in names:
            continue
        for row in rows:
            item = {key: serializer.serialize(value) for key, value in row.items()}
            dynamodb.put_item(TableName=names[logical], Item=item)


def _region_row(row: RegionStatusRow) -> dict[str, Any]:
    """A region status row as the active region filter reads it."""
    count = row.server_count
    status = row.status or ("AVAILABLE" if count > 0 else "UNINITIALIZED")
    return {"region": row.region, "serverCount": count, "status": status}


def _table_definition(logical: str, name: str) -> dict[str, Any]:
    """CreateTable parameters with the contract's key schema for `logical`."""
    hash_key, range_key = TABLE_KEYS[logical]
    keys = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    attributes = [{"AttributeName": hash_key, "AttributeType": "S"}]
    if range_key:
        keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
        attributes.append({"AttributeName": range_key, "AttributeType": "S"})
    definition: dict[str, Any] = {
        "TableName": name,
        "KeySchema": keys,
        "AttributeDefinitions": attributes,
        "BillingMode": "PAY_PER_REQUEST",
    }
    if logical == "inventory":
        attributes.append({"AttributeName": "sourceAccountId", "AttributeType": "S"})
        definition["GlobalSecondaryIndexes"] = [
            _index("SourceAccountIndex", "sourceAccountId", "sourceServerArn"),
            _index("StagingAccountIndex", "stagingAccountId", "sourceServerArn"),
        ]
    return definition


def _index(name: str, hash_key: str, range_key: str) -> dict[str, Any]:
    """A global secondary index projecting every attribute."""
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": hash_key, "KeyType": "HASH"}, {"AttributeName": range_key, "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "ALL"},
    }


def _generate_servers(world: World, clients: InternalClients, scenario: Scenario, rng: random.Random) -> None:
    """Fill every DRS backend: explicit documents verbatim, generated ones with EC2 instances in their origin.

    On-premises slots launch nothing; every slot's document is then drawn in slot order.
    """
    slots: list[_Slot] = []
    for account_id, account in scenario.accounts.items():
        for region, spec in account.drs.items():
            backend = world.drs.backend(account_id, region)
            backend.page_size = spec.page_size
            if not isinstance(spec.servers, int):
                for document in spec.servers:
                    backend.add_server(_plain(document))
                continue
            origin_account = spec.origin.account if spec.origin else account_id
            origin_region = spec.origin.region if spec.origin else region
            staging = spec.staging_account or account_id
            slot = _Slot(account_id, region, staging, origin_account, origin_region, spec.on_premises)
            slots.extend(slot for _ in range(spec.servers))
    facts = iter(_create_instances(world, clients, scenario, [slot for slot in slots if not slot.on_premises], rng))
    on_premises_number = 0
    for slot in slots:
        if slot.on_premises:
            on_premises_number += 1
            document = generate_on_premises_server(
                rng,
                drs_account_id=slot.drs_account,
                region=slot.region,
                staging_account_id=slot.staging_account,
                number=on_premises_number,
            )
        else:
            document = generate_source_server(
                rng,
                drs_account_id=slot.drs_account,
                region=slot.region,
                staging_account_id=slot.staging_account,
                origin_account_id=slot.origin_account,
                origin_region=slot.origin_region,
                instance=next(facts),
            )
        world.drs.backend(slot.drs_account, slot.region).add_server(document)


def _create_instances(
    world: World, clients: InternalClients, scenario: Scenario, slots: list[_Slot], rng: random.Random
) -> list[InstanceFacts]:
    """Launch an EC2 instance per slot in its origin (the last `missing_instances` of each origin get none)."""
    by_origin: dict[tuple[str, str], list[int]] = {}
    for index, slot in enumerate(slots):
        by_origin.setdefault((slot.origin_account, slot.origin_region), []).append(index)
    facts: list[InstanceFacts | None] = [None] * len(slots)
    unserialized = not any(
        ec2.security_groups for account in scenario.accounts.values() for ec2 in account.ec2.values()
    )
    for (account, region), indexes in by_origin.items():
        missing = _missing_instances(scenario, account, region)
        launched = indexes[: max(len(indexes) - missing, 0)]
        for index in indexes[len(launched) :]:
            facts[index] = _missing_instance_facts(rng, len([f for f in facts if f is not None]))
        if launched:
            groups = _security_groups(scenario, account, region)
            if unserialized:
                made = _launch_unserialized(world, clients, account, region, len(launched), rng)
            else:
                made = _launch(clients, account, region, len(launched), rng, groups)
            for index, fact in zip(launched, made, strict=True):
                facts[index] = fact
    return [fact for fact in facts if fact is not None]


def _security_groups(scenario: Scenario, account: str, region: str) -> tuple[str, ...]:
    """The security groups the instances launched in (account, region) belong to."""
    spec = scenario.accounts.get(account)
    ec2 = spec.ec2.get(region) if spec else None
    return ec2.security_groups if ec2 else ()


def _missing_instances(scenario: Scenario, account: str, region: str) -> int:
    """How many servers originating in (account, region) have no EC2 instance."""
    spec = scenario.accounts.get(account)
    ec2 = spec.ec2.get(region) if spec else None
    return ec2.missing_instances if ec2 else 0


def _launch(
    clients: InternalClients,
    account: str,
    region: str,
    count: int,
    rng: random.Random,
    security_groups: tuple[str, ...] = (),
) -> list[InstanceFacts]:
    """Run `count` instances in (account, region) with an instance profile, tags and `security_groups` (created in
    the default VPC); return what DRS would see."""
    ec2 = clients.client("ec2", region, account)
    group_ids = [
        ec2.create_security_group(GroupName=name, Description=f"{name} (scenario)")["GroupId"]
        for name in security_groups
    ]
    placement: dict[str, Any] = {"SecurityGroupIds": group_ids} if group_ids else {}
    _ensure_instance_profile(clients, account)
    from moto.ec2.models import ec2_backends

    facts: list[InstanceFacts] = []
    while len(facts) < count:
        batch = min(_RUN_BATCH, count - len(facts))
        answer = ec2.run_instances(**_run_parameters(rng, account, region, len(facts), batch), **placement)
        backend = ec2_backends[account][region]
        for position, instance in enumerate(answer["Instances"]):
            hostname = f"{rng.choice(['app', 'db', 'web', 'api', 'batch'])}-{len(facts) + 1:05d}"
            # Per-instance Name tags straight into moto's model: one CreateTags request each would dominate big fleets.
            backend.create_tags([instance["InstanceId"]], {"Name": hostname})
            if position:  # moto gives the profile to the first instance of a RunInstances only; AWS to every one
                backend.associate_iam_instance_profile(
                    instance["InstanceId"], iam_instance_profile_name=INSTANCE_PROFILE
                )
            interfaces = instance.get("NetworkInterfaces") or [{}]
            facts.append(
                InstanceFacts(
                    instance_id=instance["InstanceId"],
                    hostname=hostname,
                    private_ip=instance.get("PrivateIpAddress", ""),
                    mac_address=interfaces[0].get("MacAddress") or _mac(rng),
                )
            )
    return facts


def _launch_unserialized(
    world: World, clients: InternalClients, account: str, region: str, count: int, rng: random.Random
) -> list[InstanceFacts]:
    """`_launch` without security groups, taking moto's Reservation as it is instead of its XML answer parsed back.

    Serializing 250 instances per RunInstances and parsing them back was most of the time a large fleet's world
    took to build. moto parses the request and runs its backend as for any other request, the random draws are the
    same and in the same order, so the instances are the same; only the answer is not serialized
    (`World.take_result`). Worlds with security groups keep `_launch`: moto orders an instance's security groups by
    object identity (a set of objects), so their order depends on the memory the serialization allocated, and their
    goldens were recorded through it.
    """
    ec2 = clients.client("ec2", region, account)
    _ensure_instance_profile(clients, account)
    from moto.ec2.models import ec2_backends

    facts: list[InstanceFacts] = []
    ec2.meta.events.register_first("before-sign.ec2.RunInstances", _ask_for_result)
    try:
        while len(facts) < count:
            batch = min(_RUN_BATCH, count - len(facts))
            ec2.run_instances(**_run_parameters(rng, account, region, len(facts), batch))
            backend = ec2_backends[account][region]
            for position, instance in enumerate(world.take_result().instances):
                hostname = f"{rng.choice(['app', 'db', 'web', 'api', 'batch'])}-{len(facts) + 1:05d}"
                backend.create_tags([instance.id], {"Name": hostname})
                if position:  # as in `_launch`: moto gives the profile to a RunInstances' first instance only
                    backend.associate_iam_instance_profile(instance.id, iam_instance_profile_name=INSTANCE_PROFILE)
                interfaces = instance.network_interfaces
                mac_address = interfaces[0].mac_address if interfaces else ""
                facts.append(InstanceFacts(instance.id, hostname, instance.private_ip or "", mac_address or _mac(rng)))
    finally:
        ec2.meta.events.unregister("before-sign.ec2.RunInstances", _ask_for_result)
    return facts


def _ensure_instance_profile(clients: InternalClients, account: str) -> None:
    """Create the seeded instances' profile in `account` unless it exists."""
    iam = clients.client("iam", "us-east-1", account)
    profiles = iam.list_instance_profiles()["InstanceProfiles"]
    if not any(profile["InstanceProfileName"] == INSTANCE_PROFILE for profile in profiles):
        iam.create_instance_profile(InstanceProfileName=INSTANCE_PROFILE)


def _run_parameters(rng: random.Random, account: str, region: str, launched: int, batch: int) -> dict[str, Any]:
    """One seeding RunInstances' parameters for `batch` instances: the instance type, then the tags, drawn from `rng`
    in that order (the order every golden was recorded with)."""
    return {
        "ImageId": IMAGE_ID,
        "MinCount": batch,
        "MaxCount": batch,
        "InstanceType": rng.choice(["t3.medium", "m5.large", "m5.xlarge", "r5.large", "c5.xlarge"]),
        "ClientToken": f"seed-{account}-{region}-{launched}",  # botocore would draw a random uuid4
        "IamInstanceProfile": {"Name": INSTANCE_PROFILE},
        "TagSpecifications": [
            {
                "ResourceType": "instance",
                "Tags": [
                    {"Key": "Environment", "Value": rng.choice(["prod", "staging", "dr-test"])},
                    {"Key": "Application", "Value": rng.choice(["billing", "orders", "identity", "search"])},
                    {"Key": "drs:protected", "Value": "true"},
                ],
            }
        ],
    }


def _ask_for_result(request: Any, **_kwargs: Any) -> None:
    """Have the world hand over moto's result object instead of serializing it (World.take_result)."""
    request.headers[RESULT_HEADER] = "1"


def _missing_instance_facts(rng: random.Random, number: int) -> InstanceFacts:
    """Facts for a server whose EC2 instance no longer exists: an id EC2 will not find."""
    instance_id = "i-" + "".join(rng.choice("0123456789abcdef") for _ in range(17))
    octets = (rng.randint(0, 255), rng.randint(1, 254))
    return InstanceFacts(instance_id, f"gone-{number + 1:05d}", f"10.99.{octets[0]}.{octets[1]}", _mac(rng))


def _mac(rng: random.Random) -> str:
    """A locally administered MAC address."""
    return "02:" + ":".join(f"{rng.randint(0, 255):02x}" for _ in range(5))


def _plain(value: Any) -> Any:
    """Deep-copy scenario data (mapping proxies, tuples) into plain dicts and lists."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def error_action_fields(error: ErrorSpec | str) -> tuple[str, str | None, int | None]:
    """(code, message, status) of a scenario error given as a code or as a full spec."""
    if isinstance(error, str):
        return error, None, None
    return error.code, error.message, error.status
