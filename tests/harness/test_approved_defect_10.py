"""Defect 10's approved fix: a first NIC with an empty `ips` list is written with primaryIp "" instead of failing.

The `nic-without-ips` goldens show the legacy: the server counts as an error and is never written. Replayed into
the refactored sync they pass only as `approved (defect-10-nic-without-ips)`; a variant of the fix writing another
primaryIp, or writing the row in another place, is still DIVERGENT. The expected rows are built independently of the
refactored code (`harness.approved.inventory_items`), which must rebuild every row the legacy wrote, exactly.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from harness.approved import defect_10_nic_without_ips as defect_10
from harness.approved import registered_divergences
from harness.approved.golden_accounts import account_runs, inventory_puts, now_of
from harness.approved.inventory_items import expected_item, wire_item
from harness.cassette import Cassette
from harness.comparison import compare
from harness.divergences import DivergenceContext, dynamodb_item
from harness.gate import judge
from harness.golden import GOLDEN_DIR, read_golden
from harness.lambda_env import import_lambda_module

NAME = "defect-10-nic-without-ips"
GOLDENS = ["nic-without-ips.json", "nic-without-ips@reverse.json", "nic-without-ips@seed-7.json"]
BAD = "arn:aws:drs:us-east-1:111111111111:source-server/s-0c1d2e3f405162701"
GOOD = "arn:aws:drs:us-east-1:111111111111:source-server/s-0c1d2e3f405162702"
HERE = "tests.harness.test_approved_defect_10"


def inventory_rows(calls: list[Any]) -> list[dict[str, Any]]:
    """The inventory rows (plain values) of BatchWriteItem calls, in order."""
    return [
        dynamodb_item(request["PutRequest"]["Item"])
        for call in calls
        if call.operation == "BatchWriteItem"
        for request in call.params["RequestItems"].get("source-server-inventory", [])
    ]


def body(outputs: dict[str, Any]) -> dict[str, Any]:
    """The decoded body of a returned response."""
    return dict(json.loads(outputs["result"]["body"]))


@pytest.fixture(params=GOLDENS)
def golden(request: pytest.FixtureRequest) -> Cassette:
    """One of the scenario's goldens."""
    return read_golden(GOLDEN_DIR / request.param)


def test_the_legacy_counts_the_server_as_an_error_and_never_writes_it(golden: Cassette) -> None:
    assert [row["sourceServerArn"] for row in inventory_rows(list(golden.interactions))] == [GOOD]
    assert (body(golden.outputs.to_dict())["totalSynced"], body(golden.outputs.to_dict())["totalErrors"]) == (1, 1)


def test_the_refactored_sync_writes_it_with_an_empty_primary_ip_approved_by_name(golden: Cassette) -> None:
    verdict = judge(golden, "refactored")

    assert verdict.label == f"approved ({NAME})"
    assert verdict.uncovered == ()
    rows = inventory_rows(list(verdict_calls(golden, "refactored")))
    assert [row["sourceServerArn"] for row in rows] == [BAD, GOOD]
    assert (rows[0]["primaryIp"], rows[0]["macAddress"]) == ("", "00:50:56:9a:2d:01")
    assert rows[0]["hostname"] == "edge-proxy-01"
    assert rows[1]["primaryIp"] == "10.30.0.12"


def verdict_calls(golden: Cassette, impl: str) -> list[Any]:
    """The calls `impl` made when replayed against the golden plus the production registry's answers."""
    from harness.divergences import answered_cassette, applicable
    from harness.replay_session import replay

    divergences = applicable(registered_divergences(), golden.header)
    return list(replay(answered_cassette(golden, divergences), impl).observed)


def test_without_the_approval_the_fix_is_divergent(golden: Cassette) -> None:
    others = tuple(divergence for divergence in registered_divergences() if divergence.name != NAME)

    assert judge(golden, "refactored", registry=others).verdict == "DIVERGENT"


def primary_ip_zero() -> dict[str, Any]:
    """A wrong fix: the empty `ips` list gives "0.0.0.0"."""
    sync = import_lambda_module("inventory_sync")
    real = sync.rows.first_nic_ip

    def wrong(nics: list[dict[str, Any]]) -> Any:
        """The real answer, except for an empty `ips` list."""
        return "0.0.0.0" if nics and nics[0].get("ips") == [] else real(nics)

    sync.rows.first_nic_ip = wrong
    return dict(sync.sync_source_server_inventory())


def written_last() -> dict[str, Any]:
    """A wrong fix: the row is written, but after the account's other rows instead of at its place."""
    sync = import_lambda_module("inventory_sync")
    prepare = sync.orchestrator.build_inventory_rows

    def reordered(servers: list[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        """The servers with an empty first NIC moved to the end."""
        empty = [server for server in servers if server.get("arn") == BAD]
        return prepare([server for server in servers if server.get("arn") != BAD] + empty, *args, **kwargs)

    sync.orchestrator.build_inventory_rows = reordered
    return dict(sync.sync_source_server_inventory())


@pytest.mark.parametrize("variant", ["primary_ip_zero", "written_last"])
def test_a_wrong_variant_of_the_fix_is_still_divergent(variant: str) -> None:
    golden = read_golden(GOLDEN_DIR / GOLDENS[0])

    verdict = judge(golden, f"{HERE}:{variant}")

    assert verdict.verdict == "DIVERGENT"


@pytest.mark.parametrize(
    "name",
    ["single-account-basic.json", "cross-account-origin.json", "ec2-faults.json", "drs-documents-malformed.json"],
)
def test_the_expected_rows_rebuild_every_row_the_legacy_wrote(name: str) -> None:
    golden = read_golden(GOLDEN_DIR / name)
    checked = 0
    for run in account_runs(golden):
        written = {dynamodb_item(row)["sourceServerArn"]: row for row in inventory_puts(golden, run) or []}
        for server, _ in run.all_servers():
            if server.get("arn") in written:
                assert (
                    wire_item(expected_item(server, run.account_id, now_of(golden), run.ec2_details))
                    == written[server["arn"]]
                )
                checked += 1
    assert checked > 0


def test_goldens_without_such_a_server_need_no_plan() -> None:
    assert defect_10.plan(read_golden(GOLDEN_DIR / "single-account-basic.json")) is None


def test_the_matcher_refuses_a_row_with_other_values_even_when_answered() -> None:
    golden = read_golden(GOLDEN_DIR / GOLDENS[0])
    calls = verdict_calls(golden, "refactored")
    tampered = copy.deepcopy(calls)
    batch = next(call for call in tampered if "source-server-inventory" in call.params.get("RequestItems", {}))
    batch.params["RequestItems"]["source-server-inventory"][0]["PutRequest"]["Item"]["primaryIp"] = {"S": "0.0.0.0"}
    (divergence,) = defect_10.DIVERGENCES
    context = DivergenceContext(golden, tuple(tampered))
    comparison = compare(golden, tampered, golden.outputs, [])

    assert [divergence.covers(part, context) for part in comparison.differences[0].atoms()] == [False]
    assert all(
        divergence.covers(part, DivergenceContext(golden, tuple(calls)))
        for part in compare(golden, calls, golden.outputs, []).differences[0].atoms()
    )
