"""Scenario files: validation errors people can act on, defaults, the canonical form and its hash."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.world.scenario import (
    DEFAULT_ENV,
    DRS_REGIONS,
    AccountSpec,
    Allowances,
    DrsRegionSpec,
    Ec2RegionSpec,
    ErrorSpec,
    FaultSpec,
    OriginSpec,
    RegionStatusRow,
    ScenarioError,
    TransportSpec,
    load_scenario,
    parse_scenario,
    thaw,
)

SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "scenarios"
HUB = "999999999999"
A = "111111111111"
B = "222222222222"


def minimal(**fields: Any) -> dict[str, Any]:
    """The smallest valid scenario, with `fields` added or replaced."""
    return {"name": "t", "hub_account": HUB, **fields}


def problems(data: object) -> list[str]:
    """The problems parse_scenario reports for `data` (fails the test when it is valid)."""
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(data, source="scenarios/t.yaml")
    lines = str(caught.value).splitlines()
    assert all(line.startswith("scenarios/t.yaml: ") for line in lines)
    assert list(caught.value.problems) == [line.removeprefix("scenarios/t.yaml: ") for line in lines]
    return list(caught.value.problems)


def only_problem(data: object) -> str:
    """The single problem reported for `data`."""
    found = problems(data)
    assert len(found) == 1, found
    return found[0]


def write(tmp_path: Path, name: str, text: str) -> Path:
    """Write a scenario file under tmp_path/scenarios and return its path."""
    path = tmp_path / "scenarios" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def account(**fields: Any) -> dict[str, Any]:
    """A scenario with one account `A` holding `fields`."""
    return minimal(accounts={A: fields})


# --- files ------------------------------------------------------------------------------------------------------------


def test_error_message_names_file_field_path_and_expectation(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "x",
        """
        name: x
        hub_account: "999999999999"
        accounts:
          "111111111111":
            drs:
              us-east-1: {servers: 3, page_size: ten}
        """,
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == (
        f"{path}: accounts.111111111111.drs.us-east-1.page_size: expected an integer from 1 to 1000, got 'ten'"
    )
    assert caught.value.source == str(path)


def test_load_accepts_str_paths_and_keeps_the_source(tmp_path: Path) -> None:
    path = write(tmp_path, "ok", 'name: ok\nhub_account: "999999999999"\n')
    scenario = load_scenario(str(path))
    assert scenario.source == str(path)
    assert scenario == parse_scenario({"name": "ok", "hub_account": HUB})  # source takes no part in equality


def test_name_must_equal_the_file_stem(tmp_path: Path) -> None:
    path = write(tmp_path, "x", 'name: y\nhub_account: "999999999999"\n')
    with pytest.raises(ScenarioError, match=r"x\.yaml: name: expected 'x' \(the file's stem\), got 'y'$"):
        load_scenario(path)


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "x", 'name: x\nhub_account: "999999999999"\naccounts: {"111111111111": {drs: {}}\n')
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: line 4, column 1: invalid YAML: ")
    assert "began at line 3" in message


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_empty_file_is_a_clear_error(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "x", text)
    with pytest.raises(ScenarioError, match=r"x\.yaml: the file is empty: expected a mapping with at least name"):
        load_scenario(path)


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"nope\.yaml: cannot read the file"):
        load_scenario(tmp_path / "nope.yaml")


def test_duplicate_yaml_keys_are_reported_with_their_line(tmp_path: Path) -> None:
    path = write(tmp_path, "x", 'name: x\nhub_account: "999999999999"\nseed: 1\nseed: 2\n')
    with pytest.raises(ScenarioError, match=r"x\.yaml: line 4: duplicate key 'seed'"):
        load_scenario(path)


def test_duplicate_keys_are_reported_together_with_validation_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "x", 'name: x\nhub_account: "999999999999"\nseed: 1\nseed: -2\n')
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.problems == (
        "line 4: duplicate key 'seed': expected each key once in a mapping",
        "seed: expected an integer >= 0, got -2",
    )


def test_a_top_level_list_is_rejected() -> None:
    assert only_problem(["name", "t"]) == (
        "(top level): expected a mapping of scenario fields (name, hub_account, ...), got a list"
    )


def test_parse_of_none_says_empty() -> None:
    assert "the scenario is empty" in only_problem(None)


# --- every kind of problem --------------------------------------------------------------------------------------------


def test_all_problems_are_reported_together_one_per_line() -> None:
    found = problems(
        {
            "name": "Bad Name",
            "hub_account": 999999999999,
            "seed": "seven",
            "regions": [],
            "accounts": {A: {"drs": {"us-east1": {"servers": 1}, "eu-west-1": {"page_size": 0}}}},
        }
    )
    assert found == [
        "regions: unknown field; allowed: name, description, seed, hub_account, clock, env, active_regions, "
        "target_accounts, accounts, inventory_before, faults, latency_ms, allowances (did you mean 'active_regions'?)",
        "name: expected a slug of lowercase letters, digits and hyphens, like 'two-accounts', got 'Bad Name'",
        "hub_account: expected a 12-digit account id as a quoted string, got 999999999999",
        "seed: expected an integer >= 0, got 'seven'",
        "accounts.111111111111.drs.us-east1: expected a DRS region like 'us-east-1', got 'us-east1' "
        "(did you mean 'us-east-1'?)",
        "accounts.111111111111.drs.eu-west-1.page_size: expected an integer from 1 to 1000, got 0",
    ]


def test_missing_required_fields() -> None:
    assert problems({"seed": 1}) == ["name: missing required field", "hub_account: missing required field"]


def test_unknown_nested_field_lists_allowed_ones_and_suggests() -> None:
    assert only_problem(account(drs={"us-east-1": {"servers": 2, "pagesize": 2}})) == (
        "accounts.111111111111.drs.us-east-1.pagesize: unknown field; allowed: servers, page_size, origin, error, "
        "staging_account, on_premises (did you mean 'page_size'?)"
    )


@pytest.mark.parametrize(
    ("value", "got"),
    [(111111111111, "111111111111"), ("11111111111", "'11111111111'"), ("11111111111a", "'11111111111a'")],
)
def test_account_ids_must_be_quoted_12_digit_strings(value: object, got: str) -> None:
    assert only_problem(minimal(hub_account=value)) == (
        f"hub_account: expected a 12-digit account id as a quoted string, got {got}"
    )


def test_account_keys_must_be_quoted() -> None:
    assert only_problem(minimal(accounts={111111111111: {}})) == (
        "accounts.111111111111: expected a 12-digit account id as a quoted string, got 111111111111"
    )


@pytest.mark.parametrize(
    ("data", "path", "suggestion"),
    [
        (minimal(active_regions=[{"region": "eu-wst-1", "serverCount": 1}]), "active_regions[0].region", "eu-west-1"),
        (account(ec2={"ap-southeast-5": {}}), "accounts.111111111111.ec2.ap-southeast-5", "ap-southeast-"),
        (
            account(drs={"us-east-1": {"servers": 1, "origin": {"account": B, "region": "us-wets-2"}}}),
            "accounts.111111111111.drs.us-east-1.origin.region",
            "us-west-2",
        ),
        (
            minimal(faults=[{"service": "drs", "region": "useast1", "connection": True}]),
            "faults[0].region",
            "us-east-1",
        ),
    ],
)
def test_bad_region_suggests_the_closest(data: dict[str, Any], path: str, suggestion: str) -> None:
    problem = only_problem(data)
    assert problem.startswith(f"{path}: expected a DRS region like 'us-east-1', got ")
    assert re.search(rf"\(did you mean '{suggestion}[^']*'\?\)$", problem), problem


def test_name_must_be_a_slug() -> None:
    assert "expected a slug" in only_problem(minimal(name="-leading-hyphen"))


@pytest.mark.parametrize(
    ("clock", "got"),
    [
        ("2026-01-15T12:00:00", "'2026-01-15T12:00:00'"),
        (datetime(2026, 1, 15, 12), "'2026-01-15T12:00:00' (a YAML timestamp)"),
        ("noon", "'noon'"),
        (1736942400, "1736942400"),
    ],
)
def test_clock_needs_a_timezone(clock: object, got: str) -> None:
    assert only_problem(minimal(clock=clock)) == (
        f"clock: expected an ISO-8601 datetime with a timezone, like '2026-01-15T12:00:00+00:00', got {got}"
    )


def test_clock_accepts_strings_and_yaml_timestamps(tmp_path: Path) -> None:
    path = write(tmp_path, "c", 'name: c\nhub_account: "999999999999"\nclock: 2026-03-01T08:30:00+02:00\n')
    from_yaml = load_scenario(path).clock
    from_text = parse_scenario(minimal(clock="2026-03-01T08:30:00+02:00")).clock
    assert from_yaml == from_text == datetime(2026, 3, 1, 8, 30, tzinfo=timezone(timedelta(hours=2)))
    assert from_text.utcoffset() == timedelta(hours=2)
    assert parse_scenario(minimal(clock="2026-01-15T12:00:00Z")).clock == datetime(2026, 1, 15, 12, tzinfo=UTC)


def test_env_values_must_be_strings_or_null() -> None:
    assert problems(minimal(env={"PAGE": 5, "1BAD": "x"})) == [
        "env.PAGE: expected a string (quote numbers and booleans) or null to unset the variable, got 5",
        "env.1BAD: expected an environment variable name like 'AWS_DEFAULT_REGION', got '1BAD'",
    ]


def test_active_regions_problems() -> None:
    assert problems(
        minimal(
            active_regions=[
                {"region": "us-east-1", "serverCount": 1},
                {"region": "us-east-1", "serverCount": -1, "status": 3},
                {"serverCount": 2},
            ]
        )
    ) == [
        "active_regions[1].region: expected each region once; 'us-east-1' is also active_regions[0]",
        "active_regions[1].serverCount: expected an integer >= 0, got -1",
        "active_regions[1].status: expected a string, got 3",
        "active_regions[2].region: missing required field",
    ]


@pytest.mark.parametrize("row", [{"accountName": "prod"}, {"accountId": 111111111111}, {"accountId": None}])
def test_target_account_rows_need_a_string_account_id(row: dict[str, Any]) -> None:
    assert only_problem(minimal(target_accounts=[{"accountId": A}, {"accountId": B}, row])).startswith(
        "target_accounts[2].accountId: expected a string (the table's key), got "
    )


def test_target_account_rows_may_be_malformed_otherwise() -> None:
    rows = [
        {"accountId": A},
        {"accountId": B, "roleArn": None, "externalId": 5, "flags": [True, {"deep": ["x"]}]},
        {"accountId": "not-an-account-id", "accountName": ""},
    ]
    scenario = parse_scenario(minimal(target_accounts=rows))
    assert thaw(scenario.target_accounts) == rows


def test_target_account_keys_are_unique() -> None:
    assert only_problem(minimal(target_accounts=[{"accountId": A}, {"accountId": A}])) == (
        "target_accounts[1].accountId: expected a unique key; '111111111111' is also target_accounts[0]"
    )


def test_floats_are_rejected_anywhere_in_rows() -> None:
    found = problems(
        minimal(
            target_accounts=[{"accountId": A, "limits": {"ratio": [1, 0.5]}}],
            inventory_before=[{"sourceServerArn": "arn:x", "stagingAccountId": A, "cpu": 1.0}],
        )
    )
    assert found == [
        "target_accounts[0].limits.ratio[1]: expected no floats in a DynamoDB row (DynamoDB needs Decimal): "
        "use an integer or a string, got 0.5",
        "inventory_before[0].cpu: expected no floats in a DynamoDB row (DynamoDB needs Decimal): "
        "use an integer or a string, got 1.0",
    ]


def test_rows_reject_unquoted_dates_with_a_hint() -> None:
    problem = only_problem(minimal(target_accounts=[{"accountId": A, "since": datetime(2026, 1, 1, tzinfo=UTC)}]))
    assert problem.startswith("target_accounts[0].since: expected a string, integer, boolean, null, list or mapping")
    assert problem.endswith("(quote dates and times so YAML keeps them as strings)")


def test_rows_must_be_mappings() -> None:
    assert only_problem(minimal(target_accounts=["111111111111"])) == (
        "target_accounts[0]: expected a mapping (a table row), got '111111111111'"
    )


def test_inventory_rows_need_their_keys() -> None:
    assert problems(minimal(inventory_before=[{"sourceServerArn": "arn:x"}, {"stagingAccountId": 7}])) == [
        "inventory_before[0].stagingAccountId: expected a non-empty string, got null",
        "inventory_before[1].sourceServerArn: expected a non-empty string, got null",
        "inventory_before[1].stagingAccountId: expected a non-empty string, got 7",
    ]


def test_inventory_rows_are_unique_per_table_key() -> None:
    row = {"sourceServerArn": "arn:x", "stagingAccountId": A}
    assert only_problem(minimal(inventory_before=[row, row])) == (
        "inventory_before[1]: expected unique rows; the same server is also inventory_before[0]"
    )


def test_drs_servers_problems() -> None:
    assert problems(
        account(drs={"us-east-1": {"servers": -1}, "us-west-2": {"servers": [{"sourceServerID": "s-1"}, "s-2"]}})
    ) == [
        "accounts.111111111111.drs.us-east-1.servers: expected an integer >= 0 (servers to generate) or a list of "
        "DRS documents, got -1",
        "accounts.111111111111.drs.us-west-2.servers[1]: expected a mapping (a DRS source server document), got 's-2'",
    ]


def test_drs_error_problems() -> None:
    assert problems(
        account(
            drs={
                "us-east-1": {"servers": 5, "page_size": 2, "error": {"code": "ThrottlingException", "on_page": 4}},
                "us-west-2": {"servers": 1, "error": {"code": "Throttling Exception", "status": 200, "on_page": 0}},
                "eu-west-1": {"servers": 1, "error": {"message": "no code"}},
            }
        )
    ) == [
        "accounts.111111111111.drs.us-east-1.error.on_page: expected a page that exists: 5 servers at page_size 2 "
        "make 3 page(s), got 4",
        "accounts.111111111111.drs.us-west-2.error.code: expected an AWS error code like 'ThrottlingException', "
        "got 'Throttling Exception'",
        "accounts.111111111111.drs.us-west-2.error.on_page: expected an integer >= 1, got 0",
        "accounts.111111111111.drs.us-west-2.error.status: expected an integer from 400 to 599, got 200",
        "accounts.111111111111.drs.eu-west-1.error.code: missing required field",
    ]


def test_drs_origin_and_staging_account_are_account_ids() -> None:
    assert problems(account(drs={"us-east-1": {"servers": 1, "origin": {"account": 2}, "staging_account": "abc"}})) == [
        "accounts.111111111111.drs.us-east-1.origin.region: missing required field",
        "accounts.111111111111.drs.us-east-1.origin.account: expected a 12-digit account id as a quoted string, got 2",
        "accounts.111111111111.drs.us-east-1.staging_account: expected a 12-digit account id as a quoted string, "
        "got 'abc'",
    ]


def test_ec2_errors_have_no_page() -> None:
    assert problems(account(ec2={"us-east-1": {"missing_instances": -1, "error": {"code": "X", "on_page": 1}}})) == [
        "accounts.111111111111.ec2.us-east-1.missing_instances: expected an integer >= 0, got -1",
        "accounts.111111111111.ec2.us-east-1.error.on_page: unknown field; allowed: code, message, status",
    ]


def test_ec2_security_groups_are_distinct_names() -> None:
    assert problems(account(ec2={"us-east-1": {"security_groups": ["web", 7, "web"]}})) == [
        "accounts.111111111111.ec2.us-east-1.security_groups[1]: expected a string, got 7",
        "accounts.111111111111.ec2.us-east-1.security_groups: expected distinct security group names, got a list",
    ]
    assert problems(account(ec2={"us-east-1": {"security_groups": "web"}})) == [
        "accounts.111111111111.ec2.us-east-1.security_groups: expected a list of security group names, got 'web'"
    ]


def test_assume_role_error_forms() -> None:
    as_code = parse_scenario(account(assume_role_error="AccessDenied")).accounts[A].assume_role_error
    as_map = parse_scenario(account(assume_role_error={"code": "AccessDenied", "message": "nope"}))
    assert as_code == ErrorSpec("AccessDenied")
    assert as_map.accounts[A].assume_role_error == ErrorSpec("AccessDenied", "nope")
    assert parse_scenario(account(assume_role_error=None)).accounts[A].assume_role_error is None
    assert only_problem(account(assume_role_error={"code": "AccessDenied", "status": 403})) == (
        "accounts.111111111111.assume_role_error.status: unknown field; allowed: code, message"
    )
    assert only_problem(account(assume_role_error=403)) == (
        "accounts.111111111111.assume_role_error: expected a mapping with fields code, message, got 403"
    )


def test_fault_problems() -> None:
    assert problems(
        minimal(
            faults=[
                {"service": "dynamo", "connection": True},
                {"service": "ec2", "on_page": 2, "error": {"code": "InternalError"}},
                {"service": "dynamodb", "operation": "PutItem", "unprocessed": 2},
                {"service": "drs", "error": {"code": "X"}, "connection": True},
                {"service": "sts"},
                {"service": "sts", "connection": False},
                {"service": "drs", "operation": "describe_source_servers", "on_call": 0, "connection": True},
                {"operation": "AssumeRole", "connection": True},
            ]
        )
    ) == [
        "faults[0].service: expected one of drs, ec2, sts, dynamodb, got 'dynamo' (did you mean 'dynamodb'?)",
        "faults[1].on_page: expected on_page only with service drs (the only paginated service here)",
        "faults[2].unprocessed: expected unprocessed only with service dynamodb and operation BatchWriteItem",
        "faults[3]: expected exactly one of error, unprocessed, connection, transport; got error, connection",
        "faults[4]: expected exactly one of error, unprocessed, connection, transport; got none",
        "faults[5].connection: expected true (the connection drops), got false",
        "faults[6].operation: expected an operation name like 'DescribeSourceServers', got 'describe_source_servers' "
        "(did you mean 'DescribeSourceServers'?)",
        "faults[6].on_call: expected an integer >= 1, got 0",
        "faults[7].service: missing required field",
    ]


def test_valid_faults() -> None:
    scenario = parse_scenario(
        minimal(
            faults=[
                {"service": "dynamodb", "operation": "BatchWriteItem", "on_call": 2, "unprocessed": 3},
                {"service": "drs", "account": A, "region": "eu-west-1", "on_page": 1, "error": {"code": "X"}},
                {"service": "sts", "operation": "AssumeRole", "connection": True},
            ]
        )
    )
    assert scenario.faults == (
        FaultSpec("dynamodb", "BatchWriteItem", on_call=2, unprocessed=3),
        FaultSpec("drs", account=A, region="eu-west-1", on_page=1, error=ErrorSpec("X")),
        FaultSpec("sts", "AssumeRole", connection=True),
    )
    assert [fault.kind for fault in scenario.faults] == ["unprocessed", "error", "connection"]


def test_transport_faults() -> None:
    scenario = parse_scenario(
        minimal(
            faults=[
                {"service": "drs", "region": "eu-west-1", "transport": {"error": "ReadTimeoutError"}},
                {"service": "drs", "transport": {"error": "HTTPClientError", "detail": "proxy said no"}},
            ]
        )
    )
    assert scenario.faults == (
        FaultSpec("drs", region="eu-west-1", transport=TransportSpec("ReadTimeoutError")),
        FaultSpec("drs", transport=TransportSpec("HTTPClientError", "proxy said no")),
    )
    assert [fault.kind for fault in scenario.faults] == ["transport", "transport"]
    assert scenario.to_dict()["faults"][1]["transport"] == {"error": "HTTPClientError", "detail": "proxy said no"}
    assert problems(
        minimal(
            faults=[
                {"service": "drs", "transport": {"error": "ReadTimeout"}},
                {"service": "drs", "transport": {"error": "HTTPClientError"}},
                {"service": "drs", "transport": {"detail": "x", "kind": 1}},
                {"service": "drs", "transport": {"error": "ReadTimeoutError"}, "connection": True},
            ]
        )
    ) == [
        "faults[0].transport.error: expected one of ReadTimeoutError, ConnectTimeoutError, ConnectionClosedError, "
        "HTTPClientError, got 'ReadTimeout'",
        "faults[1].transport.detail: expected the text of the failure (HTTPClientError's message shows it)",
        "faults[2].transport.kind: unknown field; allowed: error, detail",
        "faults[2].transport.error: missing required field",
        "faults[3]: expected exactly one of error, unprocessed, connection, transport; got connection, transport",
    ]


def test_latency_problems_and_lookup() -> None:
    assert problems(minimal(latency_ms={"drs": -1, "s3": 1, "ec2": {"describe_instances": 2, "default": "fast"}})) == [
        "latency_ms.drs: expected a number of milliseconds >= 0, got -1",
        "latency_ms.s3: expected one of drs, ec2, sts, dynamodb, got 's3'",
        "latency_ms.ec2.describe_instances: expected an operation name like 'DescribeSourceServers' or 'default', "
        "got 'describe_instances' (did you mean 'DescribeInstances'?)",
        "latency_ms.ec2.default: expected a number of milliseconds >= 0, got 'fast'",
    ]
    scenario = parse_scenario(minimal(latency_ms={"drs": 80, "dynamodb": {"BatchWriteItem": 25.5, "default": 10}}))
    assert scenario.latency_for("drs", "DescribeSourceServers") == 80.0
    assert scenario.latency_for("dynamodb", "BatchWriteItem") == 25.5
    assert scenario.latency_for("dynamodb", "Scan") == 10.0
    assert scenario.latency_for("sts", "AssumeRole") == 0.0
    no_default = parse_scenario(minimal(latency_ms={"ec2": {"DescribeInstances": 5}}))
    assert no_default.latency_for("ec2", "DescribeInstances") == 5.0
    assert no_default.latency_for("ec2", "DescribeTags") == 0.0


def test_allowances() -> None:
    scenario = parse_scenario(minimal(allowances={"fewer_reads": ["Scan", "GetItem", "Scan"]}))
    assert scenario.allowances == Allowances(("GetItem", "Scan"))
    assert problems(minimal(allowances={"fewer_reads": "Scan", "more": 1})) == [
        "allowances.more: unknown field; allowed: fewer_reads",
        "allowances.fewer_reads: expected a list of operation names, got 'Scan'",
    ]


def test_wrong_container_types() -> None:
    assert problems(minimal(accounts=[A], faults={"service": "drs"}, env="X=1", target_accounts={"accountId": A})) == [
        "env: expected a mapping of variable names to strings or null, got 'X=1'",
        "target_accounts: expected a list of table rows (mappings), got a mapping",
        "accounts: expected a mapping of account ids to account settings, got a list",
        "faults: expected a list of faults, got a mapping",
    ]


def test_booleans_are_not_integers() -> None:
    assert only_problem(minimal(seed=True)) == "seed: expected an integer >= 0, got true"


# --- the validated model ----------------------------------------------------------------------------------------------


def test_defaults() -> None:
    scenario = parse_scenario(minimal(accounts={A: {"drs": {"us-east-1": {}}, "ec2": {"us-east-1": {}}}}))
    assert scenario.description == ""
    assert scenario.seed == 0
    assert scenario.clock == datetime(2026, 1, 15, 12, tzinfo=UTC)
    assert scenario.env == {}
    assert scenario.environment() == dict(DEFAULT_ENV)
    assert scenario.active_regions == ()
    assert scenario.target_accounts == ()
    assert scenario.inventory_before == ()
    assert scenario.faults == ()
    assert scenario.latency_ms == {}
    assert scenario.allowances == Allowances(())
    assert scenario.accounts[A] == AccountSpec(
        A,
        None,
        {"us-east-1": DrsRegionSpec("us-east-1", 0, 100, None, A, None)},
        {"us-east-1": Ec2RegionSpec("us-east-1")},
    )
    assert scenario.accounts[A].drs["us-east-1"].page_count == 1


def test_null_optional_fields_mean_defaults() -> None:
    nulls = minimal(description=None, env=None, active_regions=None, accounts=None, faults=None, allowances=None)
    assert parse_scenario(nulls) == parse_scenario(minimal())


def test_environment_overlays_and_unsets() -> None:
    scenario = parse_scenario(minimal(env={"TARGET_ACCOUNTS_TABLE": "accounts-v2", "DRS_REGION_STATUS_TABLE": None}))
    assert scenario.environment() == {
        "SOURCE_SERVER_INVENTORY_TABLE": "source-server-inventory",
        "TARGET_ACCOUNTS_TABLE": "accounts-v2",
        "DRS_REGION_STATUS_TABLE": None,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    scenario.environment()["AWS_DEFAULT_REGION"] = "x"  # a fresh dict each time
    assert scenario.environment()["AWS_DEFAULT_REGION"] == "us-east-1"


def test_drs_region_details() -> None:
    documents = [{"sourceServerID": "s-1", "arn": "arn:aws:drs:us-east-1:111111111111:source-server/s-1", "x": 1.5}]
    scenario = parse_scenario(
        account(
            drs={
                "us-east-1": {"servers": documents},
                "eu-west-1": {
                    "servers": 5,
                    "page_size": 2,
                    "origin": {"account": B, "region": "eu-west-2"},
                    "staging_account": B,
                    "error": {"code": "ThrottlingException", "on_page": 3, "status": 429, "message": "slow"},
                },
            }
        )
    )
    explicit, generated = scenario.accounts[A].drs["us-east-1"], scenario.accounts[A].drs["eu-west-1"]
    assert thaw(explicit.servers) == documents  # explicit documents may hold floats (JSON, not DynamoDB)
    assert explicit.server_count == 1
    assert explicit.staging_account == A
    assert generated == DrsRegionSpec(
        "eu-west-1", 5, 2, OriginSpec(B, "eu-west-2"), B, ErrorSpec("ThrottlingException", "slow", 3, 429)
    )
    assert generated.page_count == 3


def test_region_status_rows() -> None:
    scenario = parse_scenario(
        minimal(
            active_regions=[
                {"region": "us-east-1", "serverCount": 4, "status": "AVAILABLE"},
                {"region": "eu-west-1", "serverCount": 0},
            ]
        )
    )
    assert scenario.active_regions == (
        RegionStatusRow("us-east-1", 4, "AVAILABLE"),
        RegionStatusRow("eu-west-1", 0, None),
    )


def test_scenarios_are_deeply_immutable() -> None:
    scenario = parse_scenario(
        minimal(target_accounts=[{"accountId": A, "tags": ["a"]}], accounts={A: {"drs": {"us-east-1": {}}}})
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        scenario.seed = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        scenario.accounts[B] = scenario.accounts[A]  # type: ignore[index]
    with pytest.raises(TypeError):
        scenario.target_accounts[0]["accountId"] = B  # type: ignore[index]
    assert isinstance(scenario.target_accounts[0]["tags"], tuple)
    assert thaw(scenario.target_accounts) == [{"accountId": A, "tags": ["a"]}]


def test_parse_does_not_keep_references_to_the_input() -> None:
    data = minimal(target_accounts=[{"accountId": A, "tags": ["a"]}])
    scenario = parse_scenario(data)
    data["target_accounts"][0]["tags"].append("b")
    assert thaw(scenario.target_accounts) == [{"accountId": A, "tags": ["a"]}]


# --- canonical form and hash ------------------------------------------------------------------------------------------

ORIGINAL = """\
name: h
hub_account: "999999999999"
seed: 7
active_regions:
  - {region: us-east-1, serverCount: 4}
accounts:
  "111111111111":
    drs:
      us-east-1: {servers: 4, page_size: 2}
latency_ms: {drs: 80, ec2: 60}
"""

REORDERED = """\
# the same scenario, keys in another order, comments, flow style and defaults spelled out
latency_ms:
  ec2: 60.0
  drs: {default: 80}
accounts:
  "111111111111":
    drs:
      us-east-1:
        page_size: 2     # two a page
        servers: 4
        staging_account: "111111111111"
    assume_role_error: null
active_regions: [{serverCount: 4, region: us-east-1}]
seed: 7
clock: "2026-01-15T12:00:00+00:00"
hub_account: "999999999999"
description: ""
name: h
"""


def test_content_hash_ignores_key_order_comments_and_spelled_out_defaults(tmp_path: Path) -> None:
    first = load_scenario(write(tmp_path / "a", "h", ORIGINAL))
    second = load_scenario(write(tmp_path / "b", "h", REORDERED))
    assert first == second
    assert first.content_hash() == second.content_hash()
    assert re.fullmatch(r"[0-9a-f]{64}", first.content_hash())


@pytest.mark.parametrize(
    "change",
    [
        {"seed": 8},
        {"description": "other"},
        {"clock": "2026-01-15T12:00:01+00:00"},
        {"latency_ms": {"drs": 81, "ec2": 60}},
        {"accounts": {A: {"drs": {"us-east-1": {"servers": 4, "page_size": 3}}}}},
        {"active_regions": [{"region": "us-east-1", "serverCount": 4, "status": "AVAILABLE"}]},
    ],
)
def test_content_hash_changes_with_the_content(change: dict[str, Any]) -> None:
    base = yaml.safe_load(ORIGINAL)
    assert parse_scenario({**base, **change}).content_hash() != parse_scenario(base).content_hash()


def test_to_dict_is_canonical_plain_json_data() -> None:
    scenario = parse_scenario(yaml.safe_load(REORDERED))
    data = scenario.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["latency_ms"] == {"drs": {"default": 80.0}, "ec2": {"default": 60.0}}
    assert data["accounts"][A]["drs"]["us-east-1"] == {
        "servers": 4,
        "page_size": 2,
        "origin": None,
        "staging_account": A,
        "error": None,
    }
    assert parse_scenario(data) == scenario


def test_every_error_kind_round_trips() -> None:
    scenario = parse_scenario(
        minimal(
            accounts={
                A: {
                    "assume_role_error": "AccessDenied",
                    "drs": {"us-east-1": {"servers": 2, "error": {"code": "X", "on_page": 1, "status": 500}}},
                    "ec2": {"us-east-1": {"error": {"code": "Y", "message": "m", "status": 503}}},
                }
            },
            faults=[{"service": "drs", "error": {"code": "Z"}}, {"service": "ec2", "connection": True}],
        )
    )
    assert parse_scenario(scenario.to_dict()) == scenario
    assert parse_scenario(copy.deepcopy(scenario.to_dict())).content_hash() == scenario.content_hash()


# --- a property over generated valid scenarios ------------------------------------------------------------------------

ACCOUNT_IDS = st.sampled_from([A, B, "333333333333", "444444444444", "012345678901"])
REGIONS = st.sampled_from(DRS_REGIONS)
TEXT = st.text(alphabet="abcXYZ-_ 019", max_size=8)
OPERATIONS = st.sampled_from(["DescribeSourceServers", "DescribeInstances", "AssumeRole", "BatchWriteItem", "Scan"])
SCALARS = st.none() | st.booleans() | st.integers(-(10**12), 10**12) | TEXT
ROW_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=6
)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`strategy` or None."""
    return st.none() | strategy


def error_dicts(code: str, fields: tuple[str, ...], max_page: int = 1) -> st.SearchStrategy[dict[str, Any]]:
    """Valid error specs with `code` and any of the optional `fields`."""
    optional_fields: dict[str, st.SearchStrategy[Any]] = {
        "message": optional(TEXT.filter(bool)),
        "status": optional(st.integers(400, 599)),
        "on_page": optional(st.integers(1, max_page)),
    }
    chosen = {name: strategy for name, strategy in optional_fields.items() if name in fields}
    return st.fixed_dictionaries({"code": st.just(code)}, optional=chosen)


@st.composite
def drs_regions(draw: st.DrawFn) -> dict[str, Any]:
    """A valid DRS region spec; its error's page exists."""
    page_size = draw(st.integers(1, 1000))
    documents = st.dictionaries(TEXT, ROW_VALUES | st.floats(allow_nan=False, allow_infinity=False), max_size=3)
    servers: Any = draw(st.integers(0, 3000) | st.lists(documents, max_size=3))
    count = servers if isinstance(servers, int) else len(servers)
    pages = max(1, -(-count // page_size))
    spec: dict[str, Any] = {"servers": servers, "page_size": page_size}
    if draw(st.booleans()):
        spec["origin"] = {"account": draw(ACCOUNT_IDS), "region": draw(REGIONS)}
    if draw(st.booleans()):
        spec["staging_account"] = draw(ACCOUNT_IDS)
    if draw(st.booleans()):
        spec["error"] = draw(error_dicts("ThrottlingException", ("message", "status", "on_page"), pages))
    return spec


def accounts() -> st.SearchStrategy[dict[str, Any]]:
    """Valid accounts mappings."""
    ec2_region = st.fixed_dictionaries(
        {},
        optional={
            "missing_instances": st.integers(0, 5),
            "error": optional(error_dicts("InternalError", ("message", "status"))),
        },
    )
    account_spec = st.fixed_dictionaries(
        {},
        optional={
            "assume_role_error": st.none()
            | st.sampled_from(["AccessDenied", "ExpiredToken"])
            | error_dicts("AccessDenied", ("message",)),
            "drs": st.dictionaries(REGIONS, drs_regions(), max_size=3),
            "ec2": st.dictionaries(REGIONS, ec2_region, max_size=2),
        },
    )
    return st.dictionaries(ACCOUNT_IDS, account_spec, max_size=3)


@st.composite
def faults(draw: st.DrawFn) -> dict[str, Any]:
    """A valid fault."""
    service = draw(st.sampled_from(["drs", "ec2", "sts", "dynamodb"]))
    fault: dict[str, Any] = {"service": service}
    effects = ["error", "connection", "unprocessed"] if service == "dynamodb" else ["error", "connection"]
    effect = draw(st.sampled_from(effects))
    if effect == "unprocessed":
        fault.update(operation="BatchWriteItem", unprocessed=draw(st.integers(1, 25)))
    elif effect == "error":
        fault["error"] = draw(error_dicts("InternalError", ("message", "status")))
    else:
        fault["connection"] = True
    if "operation" not in fault and draw(st.booleans()):
        fault["operation"] = draw(OPERATIONS)
    for name, strategy in (("account", ACCOUNT_IDS), ("region", REGIONS), ("on_call", st.integers(1, 9))):
        if draw(st.booleans()):
            fault[name] = draw(strategy)
    if service == "drs" and draw(st.booleans()):
        fault["on_page"] = draw(st.integers(1, 9))
    return fault


@st.composite
def target_accounts(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Raw target account rows: unique string keys, anything else (but floats) around them."""
    keys = draw(st.lists(TEXT.filter(bool), unique=True, max_size=4))
    extras = st.dictionaries(TEXT.filter(lambda key: key != "accountId"), ROW_VALUES, max_size=3)
    return [{**draw(extras), "accountId": key} for key in keys]


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A valid scenario as plain data, with optional fields present or not."""
    region_row = st.fixed_dictionaries(
        {"region": REGIONS, "serverCount": st.integers(0, 50)},
        optional={"status": st.sampled_from(["AVAILABLE", "ERROR"])},
    )
    inventory_row = st.fixed_dictionaries(
        {"sourceServerArn": TEXT.filter(bool), "stagingAccountId": ACCOUNT_IDS}, optional={"hostname": TEXT}
    )
    latency = st.integers(0, 500) | st.dictionaries(OPERATIONS | st.just("default"), st.floats(0, 1000), max_size=2)
    clock = st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))]))
    optional_fields: dict[str, st.SearchStrategy[Any]] = {
        "description": TEXT,
        "seed": st.integers(0, 2**31),
        "clock": clock.flatmap(lambda moment: st.sampled_from([moment, moment.isoformat()])),
        "env": st.dictionaries(st.sampled_from([*DEFAULT_ENV, "INVENTORY_SYNC_IMPL"]), optional(TEXT), max_size=3),
        "active_regions": st.lists(region_row, unique_by=lambda row: row["region"], max_size=4),
        "target_accounts": target_accounts(),
        "accounts": accounts(),
        "inventory_before": st.lists(
            inventory_row, unique_by=lambda row: (row["sourceServerArn"], row["stagingAccountId"]), max_size=3
        ),
        "faults": st.lists(faults(), max_size=3),
        "latency_ms": st.dictionaries(st.sampled_from(["drs", "ec2", "sts", "dynamodb"]), latency, max_size=3),
        "allowances": st.fixed_dictionaries({}, optional={"fewer_reads": st.lists(OPERATIONS, max_size=3)}),
    }
    base = {"name": draw(st.from_regex(r"[a-z0-9][a-z0-9-]{0,12}", fullmatch=True)), "hub_account": draw(ACCOUNT_IDS)}
    return {**base, **draw(st.fixed_dictionaries({}, optional=optional_fields))}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_to_dict_round_trips_through_parse_and_yaml(data: dict[str, Any]) -> None:
    scenario = parse_scenario(data)
    canonical = scenario.to_dict()
    again = parse_scenario(canonical)
    assert again == scenario
    assert again.to_dict() == canonical
    assert again.content_hash() == scenario.content_hash()
    via_yaml = parse_scenario(yaml.safe_load(yaml.safe_dump(canonical, sort_keys=False)))
    assert via_yaml.content_hash() == scenario.content_hash()


# --- the checked-in scenarios -----------------------------------------------------------------------------------------

SCENARIO_FILES = sorted(SCENARIOS_DIR.glob("*.yaml"))


def test_there_are_scenario_files() -> None:
    assert len(SCENARIO_FILES) >= 6


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda path: path.stem)
def test_every_scenario_file_loads(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.description.strip()
    assert parse_scenario(scenario.to_dict()) == scenario
