"""Comparison tests (requirement 16): the refactored sync equals the legacy, call for call and write for write.

Equal but for the legacy defects fixed on purpose: each comparison is judged through the approved-divergence
registry (`harness/approved/`), so a difference passes only when a named, reviewed divergence covers it exactly.

- A property: for generated worlds and completion orders P, the legacy recorded under P on the local AWS and the
  refactored replayed under P against that recording are equivalent (outputs equal, the same writes in the same
  order, the same multiset of reads), or differ only as approved divergences cover exactly.
- Every small (uncompressed) golden replayed into the refactored sync is equivalent, or differs only as approved
  divergences (fixed legacy defects, harness/approved/) cover exactly: 21 scenarios under three schedules, including
  the eight DRS error types, region status overwrites and DynamoDB batch behaviour.
- A focused check that the region status writes of every DRS error golden are identical, item for item and in order,
  except the rows defect 7's approved fixes change (checked value for value by their divergences).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings

from harness.approved.records import fixed_behaviour, make_record
from harness.cassette import Cassette
from harness.experiment import record_scenario
from harness.gate import judge, judge_golden
from harness.golden import GOLDEN_DIR, read_golden
from harness.report import describe_triage
from harness.scheduling import Schedule
from harness.world.scenario import parse_scenario
from tests.property.strategies import scenarios, schedules

SMALL_GOLDENS = sorted(GOLDEN_DIR.glob("*.json"))
REGION_STATUS_TABLE = "drs-region-status"
# Goldens whose scenario makes DRS fail in some region, under every gate schedule.
DRS_ERROR_SCENARIOS = (
    "drs-error-types",
    "drs-connection-failure",
    "drs-opt-in-required",
    "drs-scp-denied",
    "drs-uninitialized-account",
    "throttled-page-two",
)
DRS_ERROR_GOLDENS = sorted(
    path for path in SMALL_GOLDENS if path.name.partition("@")[0].removesuffix(".json") in DRS_ERROR_SCENARIOS
)
# The approved divergences that may change a DRS error golden's region status rows.
DEFECT_7_DIVERGENCES = {
    "defect-7-keep-pages-read",
    "defect-7-scp-as-a-word",
    "defect-7-unrecognized-client-region-not-enabled",
}
# What the legacy's classification makes of each region of drs-error-types: the eight DRS error types of the
# requirements (six ClientErrors carrying their code, UnrecognizedClientException among them, and a connection
# failure), next to the healthy us-east-1 and ConflictException, an extra ClientError landing in ERROR.
DRS_ERROR_TYPE_STATUSES = {
    "us-east-1": ("ACTIVE", None),
    "us-east-2": (
        "IAM_PERMISSION_DENIED",
        "IAM permissions denied: User is not authorized to perform drs:DescribeSourceServers",
    ),
    "us-west-1": ("ERROR", "UnrecognizedClientException: "),
    "us-west-2": ("ERROR", "InvalidRequestException: The request is not valid for this account"),
    "eu-west-1": ("THROTTLED", "API rate limit exceeded"),
    "eu-west-2": ("ERROR", "ServiceQuotaExceededException: Quota for source servers exceeded"),
    "eu-west-3": ("ERROR", "InternalServerException: An internal error occurred"),
    "eu-central-1": ("ERROR", "ConflictException: A conflicting operation is in progress"),
    "eu-north-1": ("ENDPOINT_UNREACHABLE", "Cannot connect to DRS endpoint"),
}


def golden_id(path: Path) -> str:
    """A readable test id: the golden's file name without its extension."""
    return path.name.removesuffix(".json")


def region_status_writes(calls: list[tuple[str, dict]]) -> list[tuple[str, str]]:
    """The (operation, canonical params) of every write to the region status table, in call order."""
    writes = []
    for operation, params in calls:
        put = operation == "PutItem" and params.get("TableName") == REGION_STATUS_TABLE
        batch = operation == "BatchWriteItem" and REGION_STATUS_TABLE in params.get("RequestItems", {})
        if put or batch:
            writes.append((operation, json.dumps(params, sort_keys=True)))
    return writes


def golden_region_status_writes(cassette: Cassette) -> list[tuple[str, str]]:
    """The region status writes a golden recorded."""
    return region_status_writes([(i.operation, i.params) for i in cassette.interactions])


def batch_rows(cassette: Cassette) -> dict[str, tuple[str, str | None]]:
    """Region -> (status, errorMessage) of the region status batch rows a golden recorded (the last one wins)."""
    rows: dict[str, tuple[str, str | None]] = {}
    for interaction in cassette.interactions:
        if interaction.operation != "BatchWriteItem":
            continue
        for request in interaction.params["RequestItems"].get(REGION_STATUS_TABLE, []):
            item = request["PutRequest"]["Item"]
            rows[item["region"]["S"]] = (item["status"]["S"], item.get("errorMessage", {}).get("S"))
    return rows


def test_the_golden_set_covers_at_least_ten_scenarios_and_every_schedule() -> None:
    scenario_names = {path.name.partition("@")[0].removesuffix(".json") for path in SMALL_GOLDENS}
    assert len(scenario_names) >= 10
    for name in scenario_names:
        for suffix in ("", "@reverse", "@seed-7"):
            assert (GOLDEN_DIR / f"{name}{suffix}.json").exists(), f"{name}{suffix}"


@pytest.mark.parametrize("golden_path", SMALL_GOLDENS, ids=golden_id)
def test_refactored_replays_every_small_golden_equivalently_but_for_approved_fixes(golden_path: Path) -> None:
    verdict = judge_golden(golden_path, read_golden(golden_path), "refactored")

    assert verdict.passed, describe_triage(golden_id(golden_path), verdict)


def test_drs_error_types_golden_holds_all_eight_error_types() -> None:
    rows = batch_rows(read_golden(GOLDEN_DIR / "drs-error-types.json"))

    assert set(rows) == set(DRS_ERROR_TYPE_STATUSES)
    for region, (status, message_start) in DRS_ERROR_TYPE_STATUSES.items():
        assert rows[region][0] == status, region
        assert (rows[region][1] or "").startswith(message_start or ""), region


@pytest.mark.parametrize("golden_path", DRS_ERROR_GOLDENS, ids=golden_id)
def test_region_status_writes_are_identical_for_every_drs_error(golden_path: Path) -> None:
    golden = read_golden(golden_path)

    verdict = judge_golden(golden_path, golden, "refactored")

    # Identical, except where a defect 7 fix (pages kept, "scp" as a word, UnrecognizedClientException) changes a
    # region's status row, which the approved divergence checks value for value.
    assert verdict.passed, describe_triage(golden_id(golden_path), verdict)
    # Passed exactly: the candidate's status writes are the golden's but for the record's changes to them.
    changed_by = {change.divergence for change in verdict.changes if change.table == REGION_STATUS_TABLE}
    assert changed_by <= DEFECT_7_DIVERGENCES
    assert golden_region_status_writes(golden), "the golden writes region statuses"


@settings(max_examples=12)
@given(scenario_dict=scenarios(), schedule_text=schedules)
def test_refactored_replayed_against_the_legacy_under_the_same_schedule_is_equivalent(scenario_dict, schedule_text):
    scenario = parse_scenario(scenario_dict, source="<property>")
    cassette = record_scenario(scenario, "legacy", Schedule.parse(schedule_text))

    # No approved record exists for a generated world: the refactored sync's own run there answers the calls the
    # legacy's recording lacks, and each change it makes must be an approved divergence's (by its predicate).
    fixed = fixed_behaviour(cassette, record_scenario(scenario, "refactored", Schedule.parse(schedule_text)))
    record = make_record(Path("property.json"), cassette, fixed)
    verdict = judge(cassette, "refactored", Schedule.parse(schedule_text), record=record)

    assert verdict.passed, describe_triage(f"{scenario_dict} under {schedule_text}", verdict)
