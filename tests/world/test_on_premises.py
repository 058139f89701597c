"""On-premises source servers (`on_premises: true`): what DRS shows of them, no EC2 anywhere, and bad values refused."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from harness.pytest_plugin import as_scenario
from harness.runner import run_scenario
from harness.world.scenario import ScenarioError, parse_scenario
from tests.world.helpers import HUB, PROD, REGION, STAGING, assumed_session, instances, pages_of, role_arn, scenario

ON_PREMISES = {"servers": 12, "page_size": 5, "on_premises": True}

# PROD holds on-premises servers in us-east-1 and EC2-origin servers in eu-west-1; STAGING only on-premises ones.
MIXED = scenario(
    seed=31,
    active_regions=[{"region": REGION, "serverCount": 15}, {"region": "eu-west-1", "serverCount": 2}],
    target_accounts=[
        {"accountId": PROD, "accountName": "prod", "roleArn": role_arn(PROD), "externalId": "ext-prod"},
        {"accountId": STAGING, "accountName": "staging", "roleArn": role_arn(STAGING), "externalId": "ext-staging"},
    ],
    accounts={
        PROD: {"drs": {REGION: ON_PREMISES, "eu-west-1": {"servers": 2}}},
        STAGING: {"drs": {REGION: {"servers": 3, "on_premises": True}}},
    },
)

_MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")
_VMWARE_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def on_premises_listing(local_world: Any) -> tuple[Any, list[dict[str, Any]]]:
    """Build MIXED and list PROD's us-east-1 servers through a real DescribeSourceServers paginator."""
    world = local_world(MIXED)
    drs = assumed_session(PROD).client("drs", region_name=REGION)
    pages = pages_of(drs)
    assert [len(page) for page in pages] == [5, 5, 2]
    return world, [server for page in pages for server in page]


def test_describe_source_servers_shows_on_premises_documents(local_world):
    _, servers = on_premises_listing(local_world)
    vmware = 0
    for server in servers:
        properties = server["sourceProperties"]
        hints = properties["identificationHints"]
        assert "awsInstanceID" not in hints
        assert "sourceCloudProperties" not in server
        assert hints["fqdn"].startswith(hints["hostname"] + ".")
        assert hints["fqdn"].endswith(".corp.example.com")
        if "vmWareUuid" in hints:
            vmware += 1
            assert _VMWARE_UUID.fullmatch(hints["vmWareUuid"])
            assert all(nic["macAddress"].startswith("00:50:56:") for nic in properties["networkInterfaces"])
        assert server["arn"] == f"arn:aws:drs:{REGION}:{PROD}:source-server/{server['sourceServerID']}"
        assert server["stagingArea"] == {"status": "NOT_EXTENDED", "stagingAccountID": PROD}
        primary = properties["networkInterfaces"][0]
        assert primary["isPrimary"] is True
        assert re.fullmatch(r"10\.\d+\.\d+\.\d+", primary["ips"][0])
        assert all(_MAC.fullmatch(nic["macAddress"]) for nic in properties["networkInterfaces"])
        assert properties["disks"] and properties["cpus"] and properties["ramBytes"] > 0
    assert 0 < vmware < len(servers)  # VMware virtual machines and physical machines both


def test_boto3_parses_the_on_premises_document_exactly_as_stored(local_world):
    world, servers = on_premises_listing(local_world)
    assert servers == world.drs.backend(PROD, REGION).servers


def test_a_vmware_uuid_finds_its_server_through_the_hardware_id_filter(local_world):
    _, servers = on_premises_listing(local_world)
    server = next(item for item in servers if "vmWareUuid" in item["sourceProperties"]["identificationHints"])
    drs = assumed_session(PROD).client("drs", region_name=REGION)
    uuid = server["sourceProperties"]["identificationHints"]["vmWareUuid"]
    found = drs.describe_source_servers(filters={"hardwareId": uuid})["items"]
    assert [item["sourceServerID"] for item in found] == [server["sourceServerID"]]


def test_on_premises_servers_get_no_ec2_instance(local_world):
    local_world(MIXED)
    assert instances(assumed_session(STAGING).client("ec2", region_name=REGION)) == []
    assert instances(assumed_session(PROD).client("ec2", region_name=REGION)) == []
    assert len(instances(assumed_session(PROD).client("ec2", region_name="eu-west-1"))) == 2


@pytest.mark.parametrize("impl", ["legacy", "refactored"])
def test_the_sync_makes_no_ec2_call_for_on_premises_servers(impl):
    report = run_scenario(as_scenario(MIXED), impl)
    assert json.loads(report.outputs.result["body"])["totalSynced"] == 17
    ec2_calls = [call for call in report.interactions if call.service == "ec2"]
    assert {(call.identity, call.region) for call in ec2_calls} == {(PROD, "eu-west-1")}
    asked = sorted(instance for call in ec2_calls for instance in call.params["InstanceIds"])
    ec2_rows = [row for row in report.tables["inventory"] if row["replicationRegion"] == "eu-west-1"]
    assert asked == sorted(row["instanceId"] for row in ec2_rows)
    on_premises_rows = [row for row in report.tables["inventory"] if row["replicationRegion"] == REGION]
    assert len(on_premises_rows) == 15
    for row in on_premises_rows:
        assert row["instanceId"] == ""
        assert "networkConfig" not in row and "sourceTags" not in row
        assert row["sourceAccountId"] == row["stagingAccountId"]  # no origin: the DRS account itself
        assert row["sourceRegion"] == REGION


def test_an_all_on_premises_estate_makes_no_ec2_call_at_all():
    spec = {**MIXED, "accounts": {PROD: {"drs": {REGION: ON_PREMISES}}, STAGING: MIXED["accounts"][STAGING]}}
    report = run_scenario(as_scenario(spec), "legacy")
    assert report.interactions, "the sync ran"
    assert [call.operation for call in report.interactions if call.service == "ec2"] == []


# --- the option in scenario files -------------------------------------------------------------------------------------


def drs_problems(settings: dict[str, Any]) -> list[str]:
    """The problems parse_scenario reports for one account's us-east-1 DRS `settings`."""
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(
            {"name": "t", "hub_account": HUB, "accounts": {PROD: {"drs": {REGION: settings}}}},
            source="scenarios/t.yaml",
        )
    return list(caught.value.problems)


def test_a_non_boolean_on_premises_is_a_clear_error():
    assert drs_problems({"servers": 3, "on_premises": "yes"}) == [
        f"accounts.{PROD}.drs.{REGION}.on_premises: expected true or false "
        "(generate on-premises servers, with no EC2 instance), got 'yes'"
    ]


def test_on_premises_with_an_origin_or_explicit_documents_is_refused():
    assert drs_problems({"servers": 3, "on_premises": True, "origin": {"account": STAGING, "region": REGION}}) == [
        f"accounts.{PROD}.drs.{REGION}.on_premises: expected on_premises without origin: "
        "on-premises servers have no EC2 instance anywhere"
    ]
    assert drs_problems({"servers": [{"sourceServerID": "s-1"}], "on_premises": True}) == [
        f"accounts.{PROD}.drs.{REGION}.on_premises: expected on_premises only with a count of servers to generate, "
        "not explicit documents"
    ]


def test_a_misspelt_on_premises_suggests_the_field():
    (problem,) = drs_problems({"servers": 3, "on_premise": True})
    assert problem.startswith(f"accounts.{PROD}.drs.{REGION}.on_premise: unknown field; allowed: ")
    assert problem.endswith("(did you mean 'on_premises'?)")


def test_on_premises_takes_part_in_the_content_hash_only_when_true():
    plain = scenario(accounts={PROD: {"drs": {REGION: {"servers": 3}}}})
    false = scenario(accounts={PROD: {"drs": {REGION: {"servers": 3, "on_premises": False}}}})
    true = scenario(accounts={PROD: {"drs": {REGION: {"servers": 3, "on_premises": True}}}})
    assert parse_scenario(false).content_hash() == parse_scenario(plain).content_hash()
    assert "on_premises" not in parse_scenario(plain).to_dict()["accounts"][PROD]["drs"][REGION]
    parsed = parse_scenario(true)
    assert parsed.accounts[PROD].drs[REGION].on_premises is True
    assert parsed.content_hash() != parse_scenario(plain).content_hash()
    assert parse_scenario(parsed.to_dict()) == parsed
