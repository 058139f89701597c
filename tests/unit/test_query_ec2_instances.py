"""Unit tests of `query_ec2_instances` and `instance_details`: EC2 details by instance id.

The world launches PROD's instances in moto's EC2 (with an instance profile and tags) behind its DRS servers; one of
them has no instance any more, and EC2 in us-west-2 refuses every DescribeInstances.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from tests.unit.support import PROD, SyncWorld, calls, client_signed_as, open_sync_world, recording, scenario

DETAIL_KEYS = {"vpcId", "subnetId", "privateIp", "securityGroups", "instanceProfile", "tags"}


@pytest.fixture(scope="module")
def ec2_world() -> Iterator[SyncWorld]:
    """PROD: three servers in us-east-1 (the last without an instance), one in us-west-2 where EC2 is denied."""
    spec = scenario(
        accounts={
            PROD: {
                "drs": {"us-east-1": {"servers": 3}, "us-west-2": {"servers": 1}},
                "ec2": {
                    "us-east-1": {"missing_instances": 1},
                    "us-west-2": {"error": {"code": "UnauthorizedOperation", "message": "You are not authorized"}},
                },
            }
        }
    )
    with open_sync_world(spec) as world:
        yield world


@pytest.fixture(scope="module")
def prod_credentials(ec2_world: SyncWorld) -> dict[str, str]:
    """Credentials of PROD's orchestration role."""
    return ec2_world.credentials(PROD)


@pytest.fixture(scope="module")
def instance_ids(ec2_world: SyncWorld, prod_credentials: dict[str, str]) -> dict[str, list[str]]:
    """The EC2 instance ids PROD's DRS servers name, per region (us-east-1's last one does not exist)."""
    ids: dict[str, list[str]] = {}
    for region in ("us-east-1", "us-west-2"):
        drs = client_signed_as("drs", prod_credentials, region)
        servers = drs.describe_source_servers()["items"]
        ids[region] = [server["sourceProperties"]["identificationHints"]["awsInstanceID"] for server in servers]
    return ids


@pytest.fixture(scope="module")
def existing_ids(instance_ids: dict[str, list[str]], prod_credentials: dict[str, str]) -> list[str]:
    """The us-east-1 instance ids EC2 knows."""
    reservations = client_signed_as("ec2", prod_credentials, "us-east-1").describe_instances()["Reservations"]
    known = {instance["InstanceId"] for reservation in reservations for instance in reservation["Instances"]}
    existing = [instance_id for instance_id in instance_ids["us-east-1"] if instance_id in known]
    assert len(existing) == 2
    return existing


class TestQueryEc2Instances:
    """One DescribeInstances in a region, answered as a map of details, or `{}` on any error."""

    def test_maps_each_instance_id_to_its_details(
        self, ec2_world: SyncWorld, prod_credentials: dict[str, str], existing_ids: list[str]
    ) -> None:
        details = ec2_world.module.query_ec2_instances("us-east-1", existing_ids, prod_credentials)

        assert set(details) == set(existing_ids)
        assert all(set(entry) == DETAIL_KEYS for entry in details.values())

    def test_details_are_what_describe_instances_says(
        self, ec2_world: SyncWorld, prod_credentials: dict[str, str], existing_ids: list[str]
    ) -> None:
        details = ec2_world.module.query_ec2_instances("us-east-1", existing_ids, prod_credentials)

        raw = client_signed_as("ec2", prod_credentials, "us-east-1").describe_instances(InstanceIds=existing_ids)
        for reservation in raw["Reservations"]:
            for instance in reservation["Instances"]:
                assert details[instance["InstanceId"]] == {
                    "vpcId": instance["VpcId"],
                    "subnetId": instance["SubnetId"],
                    "privateIp": instance["PrivateIpAddress"],
                    "securityGroups": [group["GroupId"] for group in instance["SecurityGroups"]],
                    "instanceProfile": instance["IamInstanceProfile"]["Arn"],
                    "tags": {tag["Key"]: tag["Value"] for tag in instance["Tags"]},
                }

    def test_the_instance_profile_and_tags_are_filled_in(
        self, ec2_world: SyncWorld, prod_credentials: dict[str, str], existing_ids: list[str]
    ) -> None:
        details = ec2_world.module.query_ec2_instances("us-east-1", existing_ids, prod_credentials)

        for entry in details.values():
            assert entry["instanceProfile"].startswith(f"arn:aws:iam::{PROD}:instance-profile/")
            assert entry["tags"]["drs:protected"] == "true"

    def test_one_describe_instances_in_the_region_with_the_ids(
        self, ec2_world: SyncWorld, prod_credentials: dict[str, str], existing_ids: list[str]
    ) -> None:
        with recording() as recorder:
            ec2_world.module.query_ec2_instances("us-east-1", existing_ids, prod_credentials)

        describe = calls(recorder, "ec2")
        assert [(call.operation, call.region) for call in describe] == [("DescribeInstances", "us-east-1")]
        assert describe[0].params == {"InstanceIds": existing_ids}

    def test_an_unknown_instance_id_makes_the_whole_answer_empty(
        self, ec2_world: SyncWorld, prod_credentials: dict[str, str], instance_ids: dict[str, list[str]]
    ) -> None:
        with recording() as recorder:
            details = ec2_world.module.query_ec2_instances("us-east-1", instance_ids["us-east-1"], prod_credentials)

        assert details == {}
        error = calls(recorder, "ec2", "DescribeInstances")[0].error
        assert error is not None and error["code"] == "InvalidInstanceID.NotFound"

    def test_an_ec2_error_in_the_region_gives_an_empty_answer(
        self, ec2_world: SyncWorld, prod_credentials: dict[str, str], instance_ids: dict[str, list[str]]
    ) -> None:
        details = ec2_world.module.query_ec2_instances("us-west-2", instance_ids["us-west-2"], prod_credentials)

        assert details == {}

    def test_without_credentials_the_lambdas_own_account_does_not_see_the_instances(
        self, ec2_world: SyncWorld, existing_ids: list[str]
    ) -> None:
        assert ec2_world.module.query_ec2_instances("us-east-1", existing_ids, None) == {}

    def test_a_given_client_is_used_instead_of_a_new_one(
        self, ec2_world: SyncWorld, prod_credentials: dict[str, str], existing_ids: list[str]
    ) -> None:
        east = client_signed_as("ec2", prod_credentials, "us-east-1")

        with recording() as recorder:
            # The region argument names another region: only the given client's region is asked.
            details = ec2_world.module.query_ec2_instances("eu-west-1", existing_ids, None, east)

        assert set(details) == set(existing_ids)
        assert [call.region for call in calls(recorder, "ec2")] == ["us-east-1"]


class TestRaiseErrors:
    """`raise_errors=True`: the caller (an origin group's chunk loop) sees the failure instead of `{}`."""

    def test_a_client_error_propagates(
        self, ec2_world: SyncWorld, prod_credentials: dict[str, str], instance_ids: dict[str, list[str]]
    ) -> None:
        east = client_signed_as("ec2", prod_credentials, "us-east-1")

        with recording() as recorder, pytest.raises(ClientError, match=r"InvalidInstanceID\.NotFound"):
            ec2_world.module.query_ec2_instances(
                "us-east-1", instance_ids["us-east-1"], ec2_client=east, raise_errors=True
            )

        assert len(calls(recorder, "ec2", "DescribeInstances")) == 1

    def test_unusable_credentials_propagate_before_any_call(
        self, ec2_world: SyncWorld, existing_ids: list[str]
    ) -> None:
        with recording() as recorder, pytest.raises(KeyError):
            ec2_world.module.query_ec2_instances(
                "us-east-1", existing_ids, {"AccessKeyId": "AKIA-only"}, raise_errors=True
            )

        assert recorder.interactions == []

    def test_a_success_is_the_same_answer(
        self, ec2_world: SyncWorld, prod_credentials: dict[str, str], existing_ids: list[str]
    ) -> None:
        details = ec2_world.module.query_ec2_instances("us-east-1", existing_ids, prod_credentials, raise_errors=True)

        assert sorted(details) == sorted(existing_ids)
        assert all(set(entry) == DETAIL_KEYS for entry in details.values())


class TestInstanceDetails:
    """The legacy's details of one DescribeInstances instance."""

    def test_a_bare_instance_gets_empty_defaults(self, ec2_world: SyncWorld) -> None:
        assert ec2_world.module.ec2.instance_details({"InstanceId": "i-0"}) == {
            "vpcId": "",
            "subnetId": "",
            "privateIp": "",
            "securityGroups": [],
            "instanceProfile": "",
            "tags": {},
        }

    def test_every_field_is_read(self, ec2_world: SyncWorld) -> None:
        instance = {
            "InstanceId": "i-1",
            "VpcId": "vpc-1",
            "SubnetId": "subnet-1",
            "PrivateIpAddress": "10.0.0.5",
            "SecurityGroups": [{"GroupId": "sg-1", "GroupName": "a"}, {"GroupId": "sg-2", "GroupName": "b"}],
            "IamInstanceProfile": {"Arn": "arn:aws:iam::1:instance-profile/p", "Id": "AIP"},
            "Tags": [{"Key": "Name", "Value": "web"}, {"Key": "Env", "Value": "prod"}],
        }

        assert ec2_world.module.ec2.instance_details(instance) == {
            "vpcId": "vpc-1",
            "subnetId": "subnet-1",
            "privateIp": "10.0.0.5",
            "securityGroups": ["sg-1", "sg-2"],
            "instanceProfile": "arn:aws:iam::1:instance-profile/p",
            "tags": {"Name": "web", "Env": "prod"},
        }
