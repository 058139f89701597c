"""Defect 11's approved fix: a null `sourceProperties`, `identificationHints` or `sourceCloudProperties` is missing.

botocore drops null structure members, so no recording (golden) can hold such a null: the `drs-documents-malformed`
goldens, whose scenario puts these nulls in its DRS documents, show them dropped, and the fixed sync replays them
equivalently. To show both behaviours the nulls are injected after parsing, on the local AWS: the legacy fails after
the first account's region statuses, the fixed sync writes every account's rows and cleans up. A wrong variant of the
fix (servers with a null or missing section left out) is DIVERGENT on those goldens.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.client import BaseClient

from harness.approved import registered_divergences
from harness.cassette import Outputs
from harness.clock import frozen_clock
from harness.gate import judge
from harness.golden import GOLDEN_DIR, read_golden
from harness.impls import resolve_impl
from harness.interception import intercept, original_make_api_call
from harness.lambda_env import cold_start, import_lambda_module
from harness.runner import call_capturing
from harness.scheduling import Schedule, controlled_scheduling
from harness.world.local import local_aws
from harness.world.scenario import parse_scenario
from harness.world.state import dump_tables

NAME = "defect-11-null-document-sections"
HUB, ACCOUNT_A, ACCOUNT_B = "999999999999", "111111111111", "222222222222"
MALFORMED = [
    "drs-documents-malformed.json",
    "drs-documents-malformed@reverse.json",
    "drs-documents-malformed@seed-7.json",
]
HERE = "tests.harness.test_approved_defect_11"

# How each null reaches a parsed DRS document.
NULLS: dict[str, Callable[[dict[str, Any]], None]] = {
    "sourceProperties": lambda server: server.update(sourceProperties=None),
    "identificationHints": lambda server: server["sourceProperties"].update(identificationHints=None),
    "sourceCloudProperties": lambda server: server.update(sourceCloudProperties=None),
}


class NullSections:
    """An interceptor making real calls, then nulling one section in every parsed DescribeSourceServers item."""

    def __init__(self, section: str) -> None:
        """Null `section` (a key of NULLS)."""
        self.null = NULLS[section]
        self.steps: list[str] = []

    def make_api_call(self, client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        """Call botocore for real; null the section in the parsed DRS items."""
        self.steps.append(f"{client.meta.service_model.service_name} {operation_name}")
        parsed = original_make_api_call(client, operation_name, api_params)
        if operation_name == "DescribeSourceServers":
            for server in parsed.get("items", []):
                self.null(server)
        return parsed

    def params_built(self, client: BaseClient, params: dict[str, Any]) -> None:
        """Nothing to do."""

    def response_received(self, client: BaseClient, http: Any, parsed: dict[str, Any]) -> None:
        """Nothing to do."""


def world() -> dict[str, Any]:
    """Two accounts, two generated servers each (with EC2 instances), one stale row of the last account."""
    return {
        "name": "defect-11-null-sections",
        "seed": 11,
        "hub_account": HUB,
        "active_regions": [{"region": "us-east-1", "serverCount": 2}],
        "target_accounts": [
            {
                "accountId": account,
                "roleArn": f"arn:aws:iam::{account}:role/DRSOrchestrationRole",
                "externalId": "ext-11",
            }
            for account in (ACCOUNT_A, ACCOUNT_B)
        ],
        "accounts": {account: {"drs": {"us-east-1": {"servers": 2}}} for account in (ACCOUNT_A, ACCOUNT_B)},
        "inventory_before": [
            {
                "sourceServerArn": f"arn:aws:drs:us-east-1:{ACCOUNT_B}:source-server/s-0000000000000dead",
                "stagingAccountId": ACCOUNT_B,
                "sourceAccountId": ACCOUNT_B,
            }
        ],
    }


def run_with_nulls(impl: str, section: str) -> tuple[Outputs, list[str], dict[str, list[dict[str, Any]]]]:
    """Run `impl` on the world with `section` nulled in every DRS document: outputs, calls made, tables after."""
    scenario = parse_scenario(world())
    interceptor = NullSections(section)
    with local_aws(scenario), cold_start(scenario.environment()), frozen_clock(scenario.clock):
        with controlled_scheduling(Schedule("submission")):
            function = resolve_impl(impl)
            with intercept(interceptor):
                outputs = call_capturing(function)
        tables = dump_tables(scenario)
    return outputs, interceptor.steps, tables


@pytest.mark.parametrize("section", sorted(NULLS))
def test_the_legacy_fails_after_the_first_accounts_region_statuses(section: str) -> None:
    outputs, steps, tables = run_with_nulls("legacy", section)

    assert outputs.exception == {"type": "AttributeError", "message": "'NoneType' object has no attribute 'get'"}
    assert steps[-2:] == ["dynamodb PutItem", "dynamodb BatchWriteItem"]
    assert steps.count("drs DescribeSourceServers") == 1
    assert [row["accountId"] for row in tables["region_status"]] == [ACCOUNT_A]
    assert len(tables["inventory"]) == 1  # only the stale row that was there before


@pytest.mark.parametrize("section", sorted(NULLS))
def test_the_fixed_sync_counts_the_null_as_missing_and_goes_on(section: str) -> None:
    outputs, steps, tables = run_with_nulls("refactored", section)

    assert outputs.exception is None
    body = json.loads(outputs.result["body"])
    assert (body["totalSynced"], body["totalErrors"], body["staleRecordsDeleted"]) == (4, 0, 1)
    rows = tables["inventory"]
    assert sorted({row["sourceServerArn"].split(":")[4] for row in rows}) == [ACCOUNT_A, ACCOUNT_B]
    assert len(rows) == 4
    if section == "sourceProperties":
        assert {(row["hostname"], row["instanceId"], row["cpuCores"]) for row in rows} == {("", "", 0)}
        assert "drs DescribeSourceServers" in steps and "ec2 DescribeInstances" not in steps
    if section == "sourceCloudProperties":
        # The contract's defaults: the origin is the queried account and region, so EC2 is still described there.
        assert {(row["sourceAccountId"], row["sourceRegion"]) for row in rows} == {
            (ACCOUNT_A, "us-east-1"),
            (ACCOUNT_B, "us-east-1"),
        }
        assert all("networkConfig" in row for row in rows)


@pytest.fixture(params=MALFORMED)
def malformed(request: pytest.FixtureRequest) -> Any:
    """A golden of the scenario whose DRS documents hold these nulls."""
    return read_golden(GOLDEN_DIR / request.param)


def test_botocore_dropped_the_scenarios_nulls_so_the_fixed_sync_replays_equivalently(malformed: Any) -> None:
    documents = [
        server
        for interaction in malformed.interactions
        if interaction.operation == "DescribeSourceServers"
        for server in interaction.response["items"]
    ]
    assert documents[1]["sourceProperties"] == {}  # the file says {identificationHints: null, cpus: null, ...}
    assert "sourceCloudProperties" not in documents[1]  # the file says null

    assert judge(malformed, "refactored").verdict == "equivalent"
    assert NAME in {divergence.name for divergence in registered_divergences()}


def skip_servers_without_source_properties() -> dict[str, Any]:
    """A wrong fix: servers whose sourceProperties is null or missing are left out instead of defaulted."""
    sync = import_lambda_module("inventory_sync")
    prepare = sync.orchestrator.build_inventory_rows

    def without(servers: list[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        """Only the servers that have sourceProperties."""
        return prepare([server for server in servers if server.get("sourceProperties")], *args, **kwargs)

    sync.orchestrator.build_inventory_rows = without
    return dict(sync.sync_source_server_inventory())


def test_a_wrong_variant_of_the_fix_is_divergent(malformed: Any) -> None:
    assert judge(malformed, f"{HERE}:skip_servers_without_source_properties").verdict == "DIVERGENT"
