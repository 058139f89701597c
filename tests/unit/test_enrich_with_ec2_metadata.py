"""Unit tests of the EC2 enrichment: `enrich_with_ec2_metadata` and the helpers it delegates to.

`group_instances_by_origin` (which instances, grouped by origin account and region), `origin_account_role` (which
role reaches an origin account), `origin_ec2_client` (the hub's own client or an assumed role's) and
`describe_origin_group` (DescribeInstances in chunks of 100, per-id retry of a failed chunk, the rest of the group
skipped on any other failure).

The cross-account world: PROD's DRS replicates servers whose EC2 instances live in other accounts (WORKLOADS, whose
target accounts row names a custom role; UNLISTED, which has no row; DENIED, whose AssumeRole fails; the hub) and in
PROD itself.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from harness.lambda_env import lambda_environment
from harness.recorder import Recorder
from harness.scheduling import Schedule, controlled_scheduling
from tests.unit.support import (
    HUB,
    OTHER,
    PROD,
    WORKLOADS,
    SyncWorld,
    calls,
    client_signed_as,
    open_sync_world,
    operations,
    recording,
    role_arn,
    scenario,
    target_row,
)

UNLISTED = "444444444444"
DENIED = OTHER
WORKLOADS_ROLE = f"arn:aws:iam::{WORKLOADS}:role/InventoryReader"

# DRS region (in PROD) -> where the servers' EC2 instances live.
ORIGINS = {
    "us-east-1": (WORKLOADS, "us-west-2"),
    "us-east-2": (PROD, "us-east-2"),
    "eu-west-1": (DENIED, "eu-west-1"),
    "ap-south-1": (UNLISTED, "ap-south-1"),
    "ca-central-1": (HUB, "ca-central-1"),
}
SERVER_COUNTS = {"us-east-1": 3, "us-east-2": 2, "eu-west-1": 1, "ap-south-1": 1, "ca-central-1": 1}


def cross_account_scenario(**fields: Any) -> dict[str, Any]:
    """PROD's DRS with servers originating in each account of ORIGINS, and the target accounts rows."""
    drs = {
        region: {"servers": SERVER_COUNTS[region], "origin": {"account": account, "region": origin_region}}
        for region, (account, origin_region) in ORIGINS.items()
    }
    return scenario(
        target_accounts=[
            target_row(PROD, "ext-prod-7f3a"),
            target_row(WORKLOADS, "ext-workloads-9e6c", roleArn=WORKLOADS_ROLE),
            target_row(DENIED, "ext-denied-0000"),
        ],
        accounts={PROD: {"drs": drs}, DENIED: {"assume_role_error": "AccessDenied"}},
        **fields,
    )


def prod_servers(credentials: dict[str, str]) -> list[dict[str, Any]]:
    """Every DRS server of PROD, tagged with `_queryRegion` as the DRS query tags them, in ORIGINS order."""
    servers = []
    for region in ORIGINS:
        drs = boto3.client(
            "drs",
            region_name=region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        for server in drs.describe_source_servers()["items"]:
            servers.append({**server, "_queryRegion": region, "_queryAccount": PROD})
    return servers


def instance_id(server: dict[str, Any]) -> str:
    """The EC2 instance id a DRS server names."""
    return str(server["sourceProperties"]["identificationHints"]["awsInstanceID"])


def ids_from(servers: list[dict[str, Any]], drs_region: str) -> list[str]:
    """The instance ids of the servers PROD's DRS holds in `drs_region`."""
    return [instance_id(server) for server in servers if server["_queryRegion"] == drs_region]


@pytest.fixture(scope="class")
def cross_world() -> Iterator[SyncWorld]:
    """The cross-account world (shared read-only by a class)."""
    with open_sync_world(cross_account_scenario()) as world:
        yield world


@pytest.fixture(scope="class")
def servers(cross_world: SyncWorld) -> list[dict[str, Any]]:
    """PROD's DRS servers."""
    return prod_servers(cross_world.credentials(PROD))


@dataclass
class Enrichment:
    """One enrichment of PROD's servers: what it returned, the calls it made, the documents before it."""

    details: dict[str, dict[str, Any]]
    recorder: Recorder
    before: list[dict[str, Any]]


@pytest.fixture(scope="class")
def enrichment(cross_world: SyncWorld, servers: list[dict[str, Any]]) -> Enrichment:
    """`enrich_with_ec2_metadata` of PROD's servers, run once and recorded."""
    before = copy.deepcopy(servers)
    # The groups run inline, one after another in group order: their calls come in a fixed order.
    with recording() as recorder, controlled_scheduling(Schedule("submission")):
        details = cross_world.module.enrich_with_ec2_metadata(servers, PROD)
    return Enrichment(details, recorder, before)


class TestEnrichWithEc2Metadata:
    """The whole enrichment of one account's servers (run once, read by each test)."""

    def test_every_reachable_origin_is_enriched_and_the_denied_one_skipped(
        self, enrichment: Enrichment, servers: list[dict[str, Any]]
    ) -> None:
        details = enrichment.details

        reachable = [instance for region in ORIGINS if region != "eu-west-1" for instance in ids_from(servers, region)]
        assert sorted(details) == sorted(reachable)
        assert not set(ids_from(servers, "eu-west-1")) & set(details)

    def test_details_carry_network_profile_and_tags(
        self, enrichment: Enrichment, servers: list[dict[str, Any]]
    ) -> None:
        details = enrichment.details

        for instance in ids_from(servers, "us-east-1"):
            entry = details[instance]
            assert entry["vpcId"].startswith("vpc-")
            assert entry["subnetId"].startswith("subnet-")
            assert entry["privateIp"]
            assert entry["instanceProfile"].startswith(f"arn:aws:iam::{WORKLOADS}:instance-profile/")
            assert entry["tags"]["drs:protected"] == "true"

    def test_each_origin_is_reached_through_its_own_role(
        self, enrichment: Enrichment, servers: list[dict[str, Any]]
    ) -> None:
        recorder = enrichment.recorder
        assume_roles = [call.params for call in calls(recorder, "sts", "AssumeRole")]
        assert assume_roles == [
            # WORKLOADS: the role and external id of its target accounts row.
            {
                "RoleArn": WORKLOADS_ROLE,
                "RoleSessionName": "inventory-ec2-query",
                "ExternalId": "ext-workloads-9e6c",
                "DurationSeconds": 900,
            },
            {
                "RoleArn": role_arn(PROD),
                "RoleSessionName": "inventory-ec2-query",
                "ExternalId": "ext-prod-7f3a",
                "DurationSeconds": 900,
            },
            {
                "RoleArn": role_arn(DENIED),
                "RoleSessionName": "inventory-ec2-query",
                "ExternalId": "ext-denied-0000",
                "DurationSeconds": 900,
            },
            # UNLISTED has no row: the conventional role and the default external id.
            {
                "RoleArn": role_arn(UNLISTED),
                "RoleSessionName": "inventory-ec2-query",
                "ExternalId": "drs-orchestration-cross-account",
                "DurationSeconds": 900,
            },
            # The hub's own instances: no AssumeRole.
        ]

    def test_describe_instances_runs_in_each_origin_region_as_the_origin_account(
        self, enrichment: Enrichment, servers: list[dict[str, Any]]
    ) -> None:
        recorder = enrichment.recorder
        describe = calls(recorder, "ec2", "DescribeInstances")
        assert [(call.identity, call.region) for call in describe] == [
            (WORKLOADS, "us-west-2"),
            (PROD, "us-east-2"),
            (UNLISTED, "ap-south-1"),
            ("hub", "ca-central-1"),
        ]
        assert describe[0].params == {"InstanceIds": ids_from(servers, "us-east-1")}

    def test_one_caller_identity_and_one_row_lookup_per_group(
        self, enrichment: Enrichment, servers: list[dict[str, Any]]
    ) -> None:
        recorder = enrichment.recorder
        assert operations(recorder).count("sts:GetCallerIdentity") == len(ORIGINS)
        lookups = [call.params["Key"]["accountId"]["S"] for call in calls(recorder, "dynamodb", "GetItem")]
        assert lookups == [WORKLOADS, PROD, DENIED, UNLISTED]

    def test_the_server_documents_are_left_untouched(
        self, enrichment: Enrichment, servers: list[dict[str, Any]]
    ) -> None:
        assert servers == enrichment.before

    def test_no_servers_with_instances_make_no_call(self, cross_world: SyncWorld) -> None:
        with recording() as recorder:
            details = cross_world.module.enrich_with_ec2_metadata([{"sourceServerID": "s-1"}], PROD)

        assert details == {}
        assert recorder.interactions == []


class TestReachingAnOrigin:
    """`origin_ec2_client` (the EC2 client of one origin account) and `origin_account_role` (its role)."""

    def test_the_hub_gets_its_own_client_without_assume_role(self, cross_world: SyncWorld) -> None:
        with recording() as recorder:
            ec2_client = cross_world.module.ec2.origin_ec2_client(HUB, "ca-central-1")

        assert ec2_client.meta.region_name == "ca-central-1"
        assert ec2_client.describe_instances()["Reservations"]  # the hub's own instances
        assert operations(recorder) == ["sts:GetCallerIdentity"]

    def test_another_account_gets_an_assumed_roles_client(self, cross_world: SyncWorld) -> None:
        with recording() as recorder:
            ec2_client = cross_world.module.ec2.origin_ec2_client(WORKLOADS, "us-west-2")

        assert operations(recorder) == ["sts:GetCallerIdentity", "dynamodb:GetItem", "sts:AssumeRole"]
        assert ec2_client.meta.region_name == "us-west-2"
        assert ec2_client.describe_instances()["Reservations"]  # WORKLOADS' instances are visible

    def test_the_clients_use_the_short_timeout_single_retry_config(self, cross_world: SyncWorld) -> None:
        ec2_client = cross_world.module.ec2.origin_ec2_client(WORKLOADS, "us-west-2")

        assert (ec2_client.meta.config.connect_timeout, ec2_client.meta.config.read_timeout) == (5, 10)
        # retries={"max_attempts": 1}: one retry, two attempts in all.
        assert ec2_client.meta.config.retries["total_max_attempts"] == 2

    def test_a_failed_assume_role_propagates(self, cross_world: SyncWorld) -> None:
        with pytest.raises(ClientError, match="AccessDenied"):
            cross_world.module.ec2.origin_ec2_client(DENIED, "eu-west-1")

    def test_a_row_gives_its_role_and_external_id(self, cross_world: SyncWorld) -> None:
        assert cross_world.module.ec2.origin_account_role(WORKLOADS) == (WORKLOADS_ROLE, "ext-workloads-9e6c")

    def test_no_row_gives_the_defaults(self, cross_world: SyncWorld) -> None:
        assert cross_world.module.ec2.origin_account_role(UNLISTED) == (
            role_arn(UNLISTED),
            "drs-orchestration-cross-account",
        )

    def test_without_a_target_accounts_table_the_defaults_are_used(self, cross_world: SyncWorld) -> None:
        with lambda_environment({"TARGET_ACCOUNTS_TABLE": None}), recording() as recorder:
            role = cross_world.module.ec2.origin_account_role(WORKLOADS)

        assert role == (role_arn(WORKLOADS), "drs-orchestration-cross-account")
        assert recorder.interactions == []


ACCOUNTS = st.sampled_from([PROD, WORKLOADS, UNLISTED])
REGIONS = st.sampled_from(["us-east-1", "us-west-2", "eu-west-1"])


@st.composite
def drs_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A DRS server document with or without an instance id, origin account and origin region."""
    document: dict[str, Any] = {"_queryRegion": draw(REGIONS)}
    hints: dict[str, Any] = {}
    if draw(st.booleans()):
        hints["awsInstanceID"] = draw(st.sampled_from(["", *(f"i-{n:04d}" for n in range(6))]))
    document["sourceProperties"] = {"identificationHints": hints}
    cloud: dict[str, Any] = {}
    if draw(st.booleans()):
        cloud["originAccountID"] = draw(ACCOUNTS)
    if draw(st.booleans()):
        cloud["originRegion"] = draw(REGIONS)
    keep_empty_section: bool = draw(st.booleans())
    if cloud or keep_empty_section:
        document["sourceCloudProperties"] = cloud
    return document


@pytest.fixture(scope="class")
def bare_world() -> Iterator[SyncWorld]:
    """An empty world: the module for tests that make no AWS call."""
    with open_sync_world(scenario()) as world:
        yield world


class TestGroupInstancesByOrigin:
    """Grouping instance ids by origin (account, region)."""

    def test_groups_by_origin_in_first_seen_order(self, bare_world: SyncWorld) -> None:
        servers = [
            {"sourceProperties": {"identificationHints": {"awsInstanceID": "i-1"}}, "_queryRegion": "us-east-1"},
            {
                "sourceProperties": {"identificationHints": {"awsInstanceID": "i-2"}},
                "sourceCloudProperties": {"originAccountID": WORKLOADS, "originRegion": "us-west-2"},
                "_queryRegion": "us-east-1",
            },
            {
                "sourceProperties": {"identificationHints": {"awsInstanceID": "i-3"}},
                "sourceCloudProperties": {"originRegion": "eu-west-1"},
                "_queryRegion": "us-east-1",
            },
            {"sourceProperties": {"identificationHints": {"awsInstanceID": "i-4"}}, "_queryRegion": "us-east-1"},
        ]

        groups = bare_world.module.ec2.group_instances_by_origin(servers, PROD)

        assert list(groups.items()) == [
            ((PROD, "us-east-1"), ["i-1", "i-4"]),  # defaults: the account and the query region
            ((WORKLOADS, "us-west-2"), ["i-2"]),
            ((PROD, "eu-west-1"), ["i-3"]),
        ]

    @pytest.mark.parametrize(
        "server",
        [
            {"_queryRegion": "us-east-1"},
            {"sourceProperties": {}, "_queryRegion": "us-east-1"},
            {"sourceProperties": {"identificationHints": {"awsInstanceID": ""}}, "_queryRegion": "us-east-1"},
        ],
        ids=["no-source-properties", "no-hints", "empty-instance-id"],
    )
    def test_servers_without_an_instance_id_are_left_out(self, bare_world: SyncWorld, server: dict[str, Any]) -> None:
        assert bare_world.module.ec2.group_instances_by_origin([server], PROD) == {}

    @pytest.mark.parametrize(
        ("server", "groups"),
        [
            ({"sourceProperties": None, "_queryRegion": "us-east-1"}, {}),
            ({"sourceProperties": {"identificationHints": None}, "_queryRegion": "us-east-1"}, {}),
            (
                {
                    "sourceProperties": {"identificationHints": {"awsInstanceID": "i-0a1"}},
                    "sourceCloudProperties": None,
                    "_queryRegion": "us-east-1",
                },
                {(PROD, "us-east-1"): ["i-0a1"]},
            ),
        ],
        ids=["null-source-properties", "null-hints", "null-cloud-properties"],
    )
    def test_a_null_section_counts_as_missing(
        self, bare_world: SyncWorld, server: dict[str, Any], groups: dict[tuple[str, str], list[str]]
    ) -> None:
        # Approved divergence (defect 11 fixed): the legacy raised AttributeError here, outside any handler.
        assert bare_world.module.ec2.group_instances_by_origin([server], PROD) == groups

    @given(servers=st.lists(drs_documents(), max_size=12))
    def test_every_instance_lands_once_in_its_origin_group_in_order(
        self, bare_world: SyncWorld, servers: list[dict[str, Any]]
    ) -> None:
        groups = bare_world.module.ec2.group_instances_by_origin(servers, PROD)

        expected: dict[tuple[str, str], list[str]] = {}
        for server in servers:
            instance = server["sourceProperties"]["identificationHints"].get("awsInstanceID")
            if not instance:
                continue
            cloud = server.get("sourceCloudProperties", {})
            origin = (cloud.get("originAccountID", PROD), cloud.get("originRegion", server["_queryRegion"]))
            expected.setdefault(origin, []).append(instance)
        assert list(groups.items()) == list(expected.items())
        assert sum(len(ids) for ids in groups.values()) == sum(
            1 for server in servers if server["sourceProperties"]["identificationHints"].get("awsInstanceID")
        )


def test_a_failed_row_lookup_falls_back_to_the_defaults(sync_world: Any) -> None:
    world = sync_world(
        scenario(
            target_accounts=[target_row(WORKLOADS, "ext-workloads-9e6c")],
            faults=[{"service": "dynamodb", "operation": "GetItem", "error": {"code": "InternalServerError"}}],
        )
    )

    assert world.module.ec2.origin_account_role(WORKLOADS) == (role_arn(WORKLOADS), "drs-orchestration-cross-account")


def test_a_row_replaces_only_the_fields_it_has_even_with_null(sync_world: Any) -> None:
    world = sync_world(
        scenario(
            target_accounts=[
                {"accountId": WORKLOADS, "roleArn": WORKLOADS_ROLE},
                {"accountId": PROD, "externalId": None},
            ]
        )
    )

    assert world.module.ec2.origin_account_role(WORKLOADS) == (WORKLOADS_ROLE, "drs-orchestration-cross-account")
    assert world.module.ec2.origin_account_role(PROD) == (role_arn(PROD), None)


def test_a_null_external_id_fails_the_origin_assume_role_and_skips_the_group(sync_world: Any) -> None:
    world = sync_world(
        scenario(
            target_accounts=[{"accountId": WORKLOADS, "externalId": None}],
            accounts={
                PROD: {"drs": {"us-east-1": {"servers": 1, "origin": {"account": WORKLOADS, "region": "us-east-1"}}}}
            },
        )
    )
    servers = prod_servers(world.credentials(PROD))[:1]

    with recording() as recorder:
        details = world.module.enrich_with_ec2_metadata(servers, PROD)

    # The ExternalId is always sent, even null (as the legacy): botocore rejects it before any request.
    assert details == {}
    [assume_role] = calls(recorder, "sts", "AssumeRole")
    assert assume_role.params == {
        "RoleArn": role_arn(WORKLOADS),
        "RoleSessionName": "inventory-ec2-query",
        "ExternalId": None,
        "DurationSeconds": 900,
    }
    assert assume_role.exception is not None and assume_role.exception["type"] == "ParamValidationError"
    assert calls(recorder, "ec2") == []


def test_a_connection_failure_skips_the_group_and_keeps_the_others(sync_world: Any) -> None:
    world = sync_world(
        cross_account_scenario(
            faults=[{"service": "ec2", "operation": "DescribeInstances", "region": "us-west-2", "connection": True}]
        )
    )
    servers = prod_servers(world.credentials(PROD))

    with recording() as recorder:
        details = world.module.enrich_with_ec2_metadata(servers, PROD)

    assert not set(ids_from(servers, "us-east-1")) & set(details)
    assert set(ids_from(servers, "us-east-2")) <= set(details)
    # Not a ClientError: no per-id retry (the first attempt and botocore's one retry only).
    assert [call.region for call in calls(recorder, "ec2")].count("us-west-2") == 1


@pytest.fixture(scope="class")
def chunk_world() -> Iterator[SyncWorld]:
    """PROD with 102 servers in us-east-1, the last one without an EC2 instance."""
    spec = scenario(
        accounts={PROD: {"drs": {"us-east-1": {"servers": 102}}, "ec2": {"us-east-1": {"missing_instances": 1}}}}
    )
    with open_sync_world(spec) as world:
        yield world


@pytest.fixture(scope="class")
def chunk_ids(chunk_world: SyncWorld) -> list[str]:
    """The 102 instance ids, the missing one last."""
    credentials = chunk_world.credentials(PROD)
    drs = boto3.client(
        "drs",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    found = [
        instance_id(server)
        for page in drs.get_paginator("describe_source_servers").paginate()
        for server in page["items"]
    ]
    ec2 = boto3.client(
        "ec2",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    known = {
        instance["InstanceId"]
        for page in ec2.get_paginator("describe_instances").paginate()
        for reservation in page["Reservations"]
        for instance in reservation["Instances"]
    }
    missing = [instance for instance in found if instance not in known]
    assert len(found) == 102 and len(missing) == 1
    return [instance for instance in found if instance in known] + missing


class TestDescribeOriginGroup:
    """One origin group: DescribeInstances in chunks of 100, a failed chunk retried id by id."""

    def test_chunks_of_100_and_a_per_id_retry_of_the_failed_chunk(
        self, chunk_world: SyncWorld, chunk_ids: list[str]
    ) -> None:
        with recording() as recorder:
            details = chunk_world.module.ec2.describe_origin_group(PROD, "us-east-1", chunk_ids)

        sent = [call.params["InstanceIds"] for call in calls(recorder, "ec2", "DescribeInstances")]
        # Chunk 1: ids 1-100. Chunk 2: ids 101-102 fails on the missing id, then each id alone.
        assert sent == [chunk_ids[:100], chunk_ids[100:], [chunk_ids[100]], [chunk_ids[101]]]
        assert sorted(details) == sorted(chunk_ids[:101])
        # One client for the group: one STS round (GetCallerIdentity, lookup, AssumeRole) before the chunks.
        assert operations(recorder)[:3] == ["sts:GetCallerIdentity", "dynamodb:GetItem", "sts:AssumeRole"]
        assert len(calls(recorder, "sts")) == 2

    def test_a_given_sts_client_is_used_for_the_group(self, chunk_world: SyncWorld, chunk_ids: list[str]) -> None:
        sts = boto3.client("sts")

        with recording() as recorder:
            details = chunk_world.module.ec2.describe_origin_group(PROD, "us-east-1", chunk_ids[:3], sts)

        assert set(details) == set(chunk_ids[:3])
        assert [call.operation for call in calls(recorder, "sts")] == ["GetCallerIdentity", "AssumeRole"]


def test_a_failure_other_than_a_client_error_skips_the_rest_of_the_group(
    sync_world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # 150 instances: chunk 1 answers, chunk 2's connection drops (botocore's one retry too); no per-id retry.
    world = sync_world(
        scenario(
            accounts={PROD: {"drs": {"us-east-1": {"servers": 150}}}},
            faults=[
                {
                    "service": "ec2",
                    "operation": "DescribeInstances",
                    "on_call": 2,
                    "connection": True,
                },
                {
                    "service": "ec2",
                    "operation": "DescribeInstances",
                    "on_call": 3,
                    "connection": True,
                },
            ],
        )
    )
    credentials = world.credentials(PROD)
    ids = [
        instance_id(server)
        for page in client_signed_as("drs", credentials).get_paginator("describe_source_servers").paginate()
        for server in page["items"]
    ]

    with recording() as recorder, caplog.at_level(logging.WARNING):
        details = world.module.ec2.describe_origin_group(PROD, "us-east-1", ids)

    assert sorted(details) == sorted(ids[:100])
    # One recorded call per chunk (botocore's retry is inside the call), and no call per id after the failure.
    assert [len(call.params["InstanceIds"]) for call in calls(recorder, "ec2", "DescribeInstances")] == [100, 50]
    assert any("skipped" in record.getMessage() and PROD in record.getMessage() for record in caplog.records)


def test_a_later_group_wins_an_instance_id_both_describe(sync_world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two origin groups answer for the same id: the details merged last (in group order) are kept, as the legacy.
    world = sync_world(scenario())
    ec2 = world.module.ec2
    answers = {
        (PROD, "us-east-1"): {"i-1": {"vpcId": "vpc-first"}, "i-2": {"vpcId": "vpc-only-first"}},
        (PROD, "us-west-2"): {"i-1": {"vpcId": "vpc-second"}},
    }

    def described(account: Any, region: Any, ids: list[str], sts_client: Any = None) -> dict[str, Any]:
        """The canned details of one origin group."""
        return answers[(account, region)]

    monkeypatch.setattr(ec2, "describe_origin_group", described)
    servers = [
        {"_queryRegion": region, "sourceProperties": {"identificationHints": {"awsInstanceID": instance}}}
        for region, instance in (("us-east-1", "i-1"), ("us-west-2", "i-1"), ("us-east-1", "i-2"))
    ]

    details = world.module.enrich_with_ec2_metadata(servers, PROD)

    assert details == {"i-1": {"vpcId": "vpc-second"}, "i-2": {"vpcId": "vpc-only-first"}}


def test_the_origin_groups_are_described_at_the_same_time(sync_world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every group waits until all have started: only a pool running them side by side gets through.
    world = sync_world(scenario())
    ec2 = world.module.ec2
    regions = ["us-east-1", "us-east-2", "us-west-1", "us-west-2"]
    barrier = threading.Barrier(len(regions), timeout=30)

    def described(account: Any, region: Any, ids: list[str], sts_client: Any = None) -> dict[str, Any]:
        """One group's details, once every group has started."""
        barrier.wait()
        return {ids[0]: {"region": region}}

    monkeypatch.setattr(ec2, "describe_origin_group", described)
    servers = [
        {"_queryRegion": region, "sourceProperties": {"identificationHints": {"awsInstanceID": f"i-{region}"}}}
        for region in regions
    ]

    details = world.module.enrich_with_ec2_metadata(servers, PROD)

    assert details == {f"i-{region}": {"region": region} for region in regions}
