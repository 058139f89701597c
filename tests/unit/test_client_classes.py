"""Unit tests of `shared.botocore_internals.reusing_client_classes`: one client class and service model per session
and service inside the block.

The clients themselves stay apart (region, credentials), and the calls they make are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import boto3
import pytest
from botocore.client import ClientCreator

from tests.unit.support import PROD, SyncWorld, client_signed_as, open_sync_world, scenario

BOTOCORE_FACTORY = ClientCreator._create_client_class
BOTOCORE_MODEL_LOADER = ClientCreator._load_service_model


@pytest.fixture
def world() -> Iterator[SyncWorld]:
    """A local AWS where PROD has one DRS server, with `shared.botocore_internals` imported fresh inside it."""
    with open_sync_world(
        scenario(accounts={PROD: {"drs": {"us-east-1": {"servers": 1}}}}), "shared.botocore_internals"
    ) as sync_world:
        yield sync_world


def test_clients_of_a_session_and_service_share_one_class_inside_the_block(world: SyncWorld) -> None:
    module: ModuleType = world.module
    with module.reusing_client_classes():
        first = boto3.client("ec2", region_name="us-east-1")
        second = boto3.client("ec2", region_name="eu-west-1")
        drs = boto3.client("drs", region_name="us-east-1")

    assert type(first) is type(second)
    assert first.meta.service_model is second.meta.service_model
    assert type(drs) is not type(first)
    assert first is not second and first.meta.region_name != second.meta.region_name


def test_outside_the_block_botocore_builds_a_class_per_client(world: SyncWorld) -> None:
    module: ModuleType = world.module
    with module.reusing_client_classes():
        boto3.client("ec2", region_name="us-east-1")

    assert ClientCreator._create_client_class is BOTOCORE_FACTORY
    assert ClientCreator._load_service_model is BOTOCORE_MODEL_LOADER
    one, other = boto3.client("ec2", region_name="us-east-1"), boto3.client("ec2", region_name="us-east-1")
    assert type(one) is not type(other)
    assert one.meta.service_model is not other.meta.service_model


def test_another_session_gets_its_own_class(world: SyncWorld) -> None:
    module: ModuleType = world.module
    with module.reusing_client_classes():
        default_session_client = boto3.client("sts", region_name="us-east-1")
        other_session_client = boto3.Session().client("sts", region_name="us-east-1")

    assert type(default_session_client) is not type(other_session_client)
    assert default_session_client.meta.service_model is not other_session_client.meta.service_model


def test_nested_blocks_keep_the_reuse_until_the_outer_one_ends(world: SyncWorld) -> None:
    module: ModuleType = world.module
    with module.reusing_client_classes():
        with module.reusing_client_classes():
            pass
        assert ClientCreator._create_client_class is not BOTOCORE_FACTORY
        assert type(boto3.client("ec2", region_name="us-east-1")) is type(boto3.client("ec2", region_name="us-east-1"))

    assert ClientCreator._create_client_class is BOTOCORE_FACTORY


def test_clients_sharing_a_class_sign_with_their_own_credentials(world: SyncWorld) -> None:
    module: ModuleType = world.module
    prod = world.credentials(PROD)
    with module.reusing_client_classes():
        hub_drs = boto3.client("drs", region_name="us-east-1")
        prod_drs = client_signed_as("drs", prod)
        hub_servers = hub_drs.describe_source_servers()["items"]
        prod_servers = prod_drs.describe_source_servers()["items"]

    assert type(hub_drs) is type(prod_drs)
    assert (len(hub_servers), len(prod_servers)) == (0, 1)  # the hub has no DRS server, PROD has one
