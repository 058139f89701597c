"""Defect 7's approved fixes: pages before a failing page kept; "scp" only as a word; UnrecognizedClientException.

The goldens show the legacy: `throttled-page-two` and `drs-connection-reset` discard page 1 of a region whose page 2
fails; `defect-07-scp-as-a-word` files an "ISCP" message as SCP_DENIED; `drs-error-types` files an
UnrecognizedClientException under ERROR. Replayed into the refactored sync each passes only as its named approval;
without it, or with a wrong variant of a fix, it is DIVERGENT.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from harness.approved import defect_07_drs_region_errors as defect_7
from harness.approved import registered_divergences
from harness.cassette import Cassette
from harness.comparison import compare
from harness.divergences import DivergenceContext, answered_cassette, applicable, dynamodb_item
from harness.gate import judge
from harness.golden import GOLDEN_DIR, read_golden
from harness.lambda_env import import_lambda_module
from harness.replay_session import replay

PAGES, SCP, UNRECOGNIZED = (divergence.name for divergence in defect_7.DIVERGENCES)
SCHEDULES = ["", "@reverse", "@seed-7"]
STATUS, INVENTORY = "drs-region-status", "source-server-inventory"
HERE = "tests.harness.test_approved_defect_07"


def golden(scenario: str, schedule: str = "") -> Cassette:
    """A golden of the scenario under a schedule suffix."""
    return read_golden(GOLDEN_DIR / f"{scenario}{schedule}.json")


def candidate_calls(cassette: Cassette, impl: str = "refactored") -> list[Any]:
    """The calls `impl` made replayed against the golden plus the production registry's answers."""
    divergences = applicable(registered_divergences(), cassette.header)
    return list(replay(answered_cassette(cassette, divergences), impl).observed)


def status_rows(calls: list[Any]) -> dict[str, dict[str, Any]]:
    """Region -> the last region status batch row written (plain values)."""
    rows: dict[str, dict[str, Any]] = {}
    for call in calls:
        if call.operation == "BatchWriteItem":
            for request in call.params["RequestItems"].get(STATUS, []):
                row = dynamodb_item(request["PutRequest"]["Item"])
                rows[str(row["region"])] = row
    return rows


def inventory_arns(calls: list[Any]) -> list[str]:
    """The sourceServerArn of every inventory row written, in order."""
    return [
        str(dynamodb_item(request["PutRequest"]["Item"])["sourceServerArn"])
        for call in calls
        if call.operation == "BatchWriteItem"
        for request in call.params["RequestItems"].get(INVENTORY, [])
    ]


def first_page_arns(cassette: Cassette, region: str) -> list[str]:
    """The servers of the first DescribeSourceServers page of a region (the one the legacy discards)."""
    first = next(
        call
        for call in cassette.interactions
        if call.operation == "DescribeSourceServers" and call.region == region and not call.params
    )
    return [server["arn"] for server in first.response["items"]]


def body(outputs: dict[str, Any]) -> dict[str, Any]:
    """The decoded body of a returned response."""
    return dict(json.loads(outputs["result"]["body"]))


# (a) pages read before a failing page ---------------------------------------------------------------------------


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("scenario", ["throttled-page-two", "drs-connection-reset"])
def test_the_legacy_discards_page_one_and_the_fix_keeps_it_approved_by_name(scenario: str, schedule: str) -> None:
    recorded = golden(scenario, schedule)
    kept = first_page_arns(recorded, "us-east-1")
    assert len(kept) == 2
    assert not set(kept) & set(inventory_arns(list(recorded.interactions)))
    assert status_rows(list(recorded.interactions))["us-east-1"]["serverCount"] == 0

    verdict = judge(recorded, "refactored")
    calls = candidate_calls(recorded)

    assert verdict.label == f"approved ({PAGES})"
    assert set(kept) <= set(inventory_arns(calls))
    row = status_rows(calls)["us-east-1"]
    assert row["serverCount"] == 2
    assert (row["status"], row["errorMessage"]) == (
        status_rows(list(recorded.interactions))["us-east-1"]["status"],
        status_rows(list(recorded.interactions))["us-east-1"]["errorMessage"],
    )
    assert body(verdict.comparison.differences[0].candidate)["totalSynced"] == body(recorded.outputs.to_dict())[
        "totalSynced"
    ] + len(kept)


def test_the_kept_servers_are_enriched_from_the_world_the_golden_was_recorded_in() -> None:
    recorded = golden("throttled-page-two")
    calls = candidate_calls(recorded)
    described = [call for call in calls if call.operation == "DescribeInstances" and call.region == "us-east-1"]
    rows = {
        str(dynamodb_item(request["PutRequest"]["Item"])["sourceServerArn"]): dynamodb_item(
            request["PutRequest"]["Item"]
        )
        for call in calls
        if call.operation == "BatchWriteItem"
        for request in call.params["RequestItems"].get(INVENTORY, [])
    }

    assert len(described) == 1 and len(described[0].params["InstanceIds"]) == 2
    for arn in first_page_arns(recorded, "us-east-1"):
        assert rows[arn]["networkConfig"]["vpcId"].startswith("vpc-")
        assert rows[arn]["sourceTags"]["drs:protected"] == "true"


# (b) "scp" as a word --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_an_iscp_message_is_no_scp_denial_while_a_real_scp_still_is(schedule: str) -> None:
    recorded = golden("defect-07-scp-as-a-word", schedule)
    legacy = status_rows(list(recorded.interactions))
    assert legacy["eu-west-1"]["status"] == legacy["ca-central-1"]["status"] == "SCP_DENIED"

    verdict = judge(recorded, "refactored")
    fixed = status_rows(candidate_calls(recorded))

    assert verdict.label == f"approved ({SCP})"
    assert (fixed["eu-west-1"]["status"], fixed["eu-west-1"]["errorMessage"]) == (
        "ERROR",
        "ValidationException: Recovery settings do not meet the ISCP recovery time objective of this account",
    )
    assert fixed["ca-central-1"] == legacy["ca-central-1"]
    assert fixed["us-east-1"] == legacy["us-east-1"]


# (c) UnrecognizedClientException --------------------------------------------------------------------------------


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_an_unrecognized_client_error_is_region_not_enabled(schedule: str) -> None:
    recorded = golden("drs-error-types", schedule)
    legacy = status_rows(list(recorded.interactions))
    assert legacy["us-west-1"]["status"] == "ERROR"
    assert legacy["us-west-1"]["errorMessage"].startswith("UnrecognizedClientException: ")

    verdict = judge(recorded, "refactored")
    fixed = status_rows(candidate_calls(recorded))

    assert verdict.label == f"approved ({UNRECOGNIZED})"
    assert (fixed["us-west-1"]["status"], fixed["us-west-1"]["errorMessage"]) == (
        "REGION_NOT_ENABLED",
        "Region not enabled in account",
    )
    assert {region: row for region, row in fixed.items() if region != "us-west-1"} == {
        region: row for region, row in legacy.items() if region != "us-west-1"
    }


# Precision ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "name"),
    [
        ("throttled-page-two", PAGES),
        ("defect-07-scp-as-a-word", SCP),
        ("drs-error-types", UNRECOGNIZED),
    ],
)
def test_without_its_approval_the_fix_is_divergent(scenario: str, name: str) -> None:
    others = tuple(divergence for divergence in registered_divergences() if divergence.name != name)

    assert judge(golden(scenario), "refactored", registry=others).verdict == "DIVERGENT"


def status_message_tampered(cassette: Cassette, region: str) -> tuple[DivergenceContext, list[Any]]:
    """The refactored run with one region's batch row errorMessage changed (as if the fix wrote another text)."""
    calls = copy.deepcopy(candidate_calls(cassette))
    for call in calls:
        if call.operation == "BatchWriteItem":
            for request in call.params["RequestItems"].get(STATUS, []):
                if request["PutRequest"]["Item"]["region"]["S"] == region:
                    request["PutRequest"]["Item"]["errorMessage"] = {"S": "Something else"}
    return DivergenceContext(cassette, tuple(calls)), calls


@pytest.mark.parametrize(
    ("scenario", "region"),
    [("defect-07-scp-as-a-word", "eu-west-1"), ("drs-error-types", "us-west-1"), ("throttled-page-two", "us-east-1")],
)
def test_a_status_row_with_other_values_is_not_covered(scenario: str, region: str) -> None:
    cassette = golden(scenario)
    context, calls = status_message_tampered(cassette, region)
    comparison = compare(cassette, calls, cassette.outputs, [])
    status_parts = [
        part for difference in comparison.differences for part in difference.atoms() if part.table == STATUS
    ]

    assert status_parts
    assert not any(divergence.covers(part, context) for part in status_parts for divergence in defect_7.DIVERGENCES)


def error_without_code() -> dict[str, Any]:
    """A wrong fix of (b): the misfiled error lands in ERROR, but its message lacks the "{code}: " prefix."""
    sync = import_lambda_module("inventory_sync")
    real = sync.drs_errors.classify_drs_client_error

    def classify(error: Any) -> tuple[str, str]:
        """The real classification, with ERROR messages stripped of their code."""
        status, message = real(error)
        return (status, error.response["Error"]["Message"]) if status == "ERROR" else (status, message)

    sync.drs_errors.classify_drs_client_error = classify
    return dict(sync.sync_source_server_inventory())


def page_one_kept_twice() -> dict[str, Any]:
    """A wrong fix of (a): the servers read are counted twice in serverCount."""
    sync = import_lambda_module("inventory_sync")
    real = sync.regions.region_status_of

    def doubled(result: dict[str, Any]) -> dict[str, Any]:
        """serverCount doubled for a failed region."""
        status = real(result)
        return status if result["status"] == "success" else {**status, "serverCount": 2 * status["serverCount"]}

    sync.regions.region_status_of = doubled
    return dict(sync.sync_source_server_inventory())


@pytest.mark.parametrize(
    ("scenario", "variant"),
    [("defect-07-scp-as-a-word", "error_without_code"), ("throttled-page-two", "page_one_kept_twice")],
)
def test_a_wrong_variant_of_the_fix_is_divergent(scenario: str, variant: str) -> None:
    assert judge(golden(scenario), f"{HERE}:{variant}").verdict == "DIVERGENT"


def test_goldens_without_a_failing_region_need_no_plan() -> None:
    assert defect_7.plan(golden("single-account-basic")) is None
    assert defect_7.plan(golden("drs-scp-denied")) is None


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        ("ValidationException", "the ISCP objective", ("ERROR", "ValidationException: the ISCP objective")),
        ("ValidationException", "bad dscp value", ("ERROR", "ValidationException: bad dscp value")),
        ("AccessDenied", "explicit deny in an SCP", ("SCP_DENIED", "Blocked by Service Control Policy")),
        ("AccessDenied", "denied by SCPs", ("SCP_DENIED", "Blocked by Service Control Policy")),
        ("AccessDenied", "a Service Control Policy", ("SCP_DENIED", "Blocked by Service Control Policy")),
        ("UnrecognizedClientException", "bad token", ("REGION_NOT_ENABLED", "Region not enabled in account")),
    ],
)
def test_the_approvals_table_and_the_refactored_one_agree(code: str, message: str, expected: tuple[str, str]) -> None:
    from botocore.exceptions import ClientError

    error = ClientError({"Error": {"Code": code, "Message": message}}, "DescribeSourceServers")

    assert defect_7.fixed_classification(error) == expected
