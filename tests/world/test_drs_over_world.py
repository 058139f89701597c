"""DRS through the in-process world and real boto3 clients: page counts, maxResults, filters, per-account isolation."""

from __future__ import annotations

import math
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from harness.pytest_plugin import as_scenario
from harness.world.core import World
from harness.world.local import local_aws
from tests.world.helpers import PROD, REGION, STAGING, assumed_session, instances, pages_of, scenario, server_ids

# (account, region) -> (servers, page_size); page_size None is the DRS default.
LAYOUT: dict[tuple[str, str], tuple[int, int | None]] = {
    (PROD, REGION): (5, 2),
    (PROD, "us-west-2"): (0, 2),
    (PROD, "eu-west-1"): (7, 3),
    (PROD, "ap-southeast-2"): (3, None),
    (PROD, "eu-central-1"): (4, 4),
    (STAGING, REGION): (2, 1),
}


def layout_scenario() -> dict:
    """A scenario holding LAYOUT, with eu-central-1's servers staged in STAGING."""
    accounts: dict[str, dict] = {}
    for (account, region), (servers, page_size) in LAYOUT.items():
        spec: dict = {"servers": servers}
        if page_size is not None:
            spec["page_size"] = page_size
        if region == "eu-central-1":
            spec["staging_account"] = STAGING
        accounts.setdefault(account, {"drs": {}})["drs"][region] = spec
    return scenario(accounts=accounts)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One world for the whole module: every test here only reads."""
    with local_aws(as_scenario(layout_scenario())) as built:
        yield built


@pytest.fixture(scope="module")
def sessions(world: World) -> dict[str, boto3.session.Session]:
    """Assumed-role sessions for PROD and STAGING, created once."""
    return {account: assumed_session(account) for account in (PROD, STAGING)}


def drs_client(sessions, account: str, region: str):
    """A DRS client acting as `account` in `region`."""
    return sessions[account].client("drs", region_name=region)


@pytest.mark.parametrize(("account", "region"), list(LAYOUT), ids=[f"{a}-{r}" for a, r in LAYOUT])
def test_paginator_pages_match_the_page_size(sessions, account, region):
    servers, page_size = LAYOUT[account, region]
    pages = pages_of(drs_client(sessions, account, region))
    size = page_size or 100
    assert len(pages) == max(1, math.ceil(servers / size))
    assert all(len(page) <= size for page in pages)
    assert all(len(page) == size for page in pages[:-1])
    ids = [server["sourceServerID"] for page in pages for server in page]
    assert len(ids) == len(set(ids)) == servers


def test_only_the_last_page_has_no_next_token(sessions):
    drs = drs_client(sessions, PROD, REGION)
    tokens = []
    answer = drs.describe_source_servers()
    tokens.append(answer.get("nextToken"))
    while answer.get("nextToken"):
        answer = drs.describe_source_servers(nextToken=answer["nextToken"])
        tokens.append(answer.get("nextToken"))
    assert len(tokens) == 3
    assert all(tokens[:-1])
    assert tokens[-1] is None


def test_max_results_below_the_page_size_makes_more_pages(sessions):
    drs = drs_client(sessions, PROD, "ap-southeast-2")
    assert [len(page) for page in pages_of(drs, PaginationConfig={"PageSize": 1})] == [1, 1, 1]
    assert [len(page) for page in pages_of(drs, PaginationConfig={"PageSize": 2})] == [2, 1]
    assert len(drs.describe_source_servers(maxResults=2)["items"]) == 2


def test_max_results_above_the_page_size_is_capped(sessions):
    drs = drs_client(sessions, PROD, REGION)
    assert [len(page) for page in pages_of(drs, PaginationConfig={"PageSize": 50})] == [2, 2, 1]


def test_max_results_out_of_range_is_a_validation_exception(sessions):
    drs = drs_client(sessions, PROD, REGION)
    with pytest.raises(drs.exceptions.ValidationException):
        drs.describe_source_servers(maxResults=1001)


def test_source_server_ids_filter(sessions):
    drs = drs_client(sessions, PROD, "eu-west-1")
    every = server_ids(drs)
    wanted = [every[6], every[0], every[3], every[4]]
    pages = pages_of(drs, filters={"sourceServerIDs": wanted})
    assert [len(page) for page in pages] == [3, 1]
    # Listing order, not filter order.
    assert [server["sourceServerID"] for page in pages for server in page] == sorted(wanted, key=every.index)


def test_source_server_ids_filter_with_unknown_ids_finds_nothing(sessions):
    drs = drs_client(sessions, PROD, REGION)
    assert server_ids(drs, filters={"sourceServerIDs": ["s-00000000000000000"]}) == []


def test_empty_filters_do_not_constrain(sessions):
    drs = drs_client(sessions, PROD, REGION)
    assert server_ids(drs, filters={"sourceServerIDs": [], "stagingAccountIDs": []}) == server_ids(drs)


def test_staging_account_ids_filter(sessions):
    drs = drs_client(sessions, PROD, "eu-central-1")
    staged = drs.describe_source_servers()["items"]
    assert {server["stagingArea"]["stagingAccountID"] for server in staged} == {STAGING}
    assert len(server_ids(drs, filters={"stagingAccountIDs": [STAGING]})) == 4
    assert server_ids(drs, filters={"stagingAccountIDs": [PROD]}) == []
    own = drs_client(sessions, PROD, REGION)
    assert server_ids(own, filters={"stagingAccountIDs": [PROD]}) == server_ids(own)


def test_hardware_id_filter_matches_instance_id_and_mac_address(sessions):
    drs = drs_client(sessions, PROD, REGION)
    target = drs.describe_source_servers()["items"][1]
    instance_id = target["sourceProperties"]["identificationHints"]["awsInstanceID"]
    mac = target["sourceProperties"]["networkInterfaces"][0]["macAddress"]
    assert server_ids(drs, filters={"hardwareId": instance_id}) == [target["sourceServerID"]]
    assert server_ids(drs, filters={"hardwareId": mac}) == [target["sourceServerID"]]
    assert server_ids(drs, filters={"hardwareId": "i-0000000000000000f"}) == []


def test_a_token_for_other_filters_is_rejected(sessions):
    drs = drs_client(sessions, PROD, REGION)
    token = drs.describe_source_servers()["nextToken"]
    with pytest.raises(drs.exceptions.ValidationException):
        drs.describe_source_servers(nextToken=token, filters={"stagingAccountIDs": [PROD]})


def test_accounts_see_only_their_own_servers(sessions):
    prod = server_ids(drs_client(sessions, PROD, REGION))
    staging = server_ids(drs_client(sessions, STAGING, REGION))
    assert len(prod) == 5
    assert len(staging) == 2
    assert not set(prod) & set(staging)
    # Asking for the other account's servers by id finds nothing.
    assert server_ids(drs_client(sessions, PROD, REGION), filters={"sourceServerIDs": staging}) == []
    assert server_ids(drs_client(sessions, STAGING, REGION), filters={"sourceServerIDs": prod}) == []


def test_regions_of_one_account_are_separate(sessions):
    for (account, region), (servers, _) in LAYOUT.items():
        listed = pages_of(drs_client(sessions, account, region))
        arns = [server["arn"] for page in listed for server in page]
        assert len(arns) == servers
        assert all(arn.startswith(f"arn:aws:drs:{region}:{account}:source-server/") for arn in arns)


def test_hub_sees_no_servers_in_any_region(world):
    for region in {region for _, region in LAYOUT}:
        assert boto3.client("drs", region_name=region).describe_source_servers()["items"] == []


def test_accounts_see_only_their_own_ec2_instances(sessions):
    prod_ec2 = sessions[PROD].client("ec2", region_name=REGION)
    staging_ec2 = sessions[STAGING].client("ec2", region_name=REGION)
    prod_ids = [item["InstanceId"] for item in instances(prod_ec2)]
    staging_ids = [item["InstanceId"] for item in instances(staging_ec2)]
    assert len(prod_ids) == 5
    assert len(staging_ids) == 2
    assert not set(prod_ids) & set(staging_ids)
    with pytest.raises(ClientError) as raised:
        staging_ec2.describe_instances(InstanceIds=prod_ids[:1])
    assert raised.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"
