"""Defects 1-3 fixed in the refactored sync's stale cleanup, each an approved divergence the gate names.

On the local AWS the legacy's behaviour and the approved one are shown side by side (tables after the run); on the
goldens the gate approves the refactored sync by name, reports the legacy (which lacks the fixes) as having lost
them, and still fails a plausible but wrong fix: cleaning each account against its own server list only.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.divergences import Triage
from harness.gate import judge
from harness.golden import GOLDEN_DIR, read_golden
from harness.lambda_env import REPO_ROOT
from harness.runner import run_scenario
from harness.world.scenario import load_scenario

# The fix's calls (one Scan of every account read), each row judged against its own account's servers only.
OWN_LIST_CLEANUP = "tests.comparison.mutants:cleanup_with_own_servers"
SCENARIOS = REPO_ROOT / "scenarios"


def inventory_keys(tables: dict[str, list[dict[str, Any]]]) -> set[tuple[str, str]]:
    """(sourceServerArn, stagingAccountId) of every inventory row."""
    return {(row["sourceServerArn"], row["stagingAccountId"]) for row in tables["inventory"]}


def body(outputs: Any) -> dict[str, Any]:
    """The decoded body of a run's returned response."""
    import json

    assert outputs.exception is None, outputs.exception
    return dict(json.loads(outputs.result["body"]))


def gate(golden: str, impl: str = "refactored") -> Triage:
    """The gate's verdict for one golden (production registry)."""
    return judge(read_golden(GOLDEN_DIR / golden), impl)


def test_defect_1_every_read_account_loses_its_stale_row() -> None:
    scenario = load_scenario(SCENARIOS / "stale-cleanup-multi-account.yaml")
    stale_a = ("arn:aws:drs:us-east-1:111111111111:source-server/s-00000000000000f01", "111111111111")
    stale_b = ("arn:aws:drs:us-east-1:222222222222:source-server/s-00000000000000f02", "222222222222")

    legacy, refactored = run_scenario(scenario, "legacy"), run_scenario(scenario, "refactored")

    assert stale_a in inventory_keys(legacy.tables) and stale_b not in inventory_keys(legacy.tables)
    assert not {stale_a, stale_b} & inventory_keys(refactored.tables)
    assert (body(legacy.outputs)["staleRecordsDeleted"], body(refactored.outputs)["staleRecordsDeleted"]) == (1, 2)


def test_defect_2_rows_of_an_account_that_could_not_be_read_stay() -> None:
    scenario = load_scenario(SCENARIOS / "assume-role-fails-last.yaml")
    unread_rows = {
        row["sourceServerArn"] for row in scenario.inventory_before if "222222222222" in row["sourceServerArn"]
    }

    legacy, refactored = run_scenario(scenario, "legacy"), run_scenario(scenario, "refactored")

    assert unread_rows and not unread_rows & {arn for arn, _ in inventory_keys(legacy.tables)}
    assert unread_rows <= {arn for arn, _ in inventory_keys(refactored.tables)}


def test_defect_3_no_account_read_completes_and_keeps_every_row() -> None:
    scenario = load_scenario(SCENARIOS / "every-account-unreachable.yaml")

    legacy, refactored = run_scenario(scenario, "legacy"), run_scenario(scenario, "refactored")

    assert legacy.outputs.exception is not None and legacy.outputs.exception["type"] == "UnboundLocalError"
    answer = body(refactored.outputs)
    assert (answer["totalSynced"], answer["totalErrors"], answer["staleRecordsDeleted"]) == (0, 0, 0)
    assert inventory_keys(refactored.tables) == {
        (row["sourceServerArn"], row["stagingAccountId"]) for row in scenario.inventory_before
    }


@pytest.mark.parametrize(
    ("golden", "names"),
    [
        ("stale-cleanup-multi-account.json", {"defect-1-cleanup-every-account"}),
        ("cross-account-origin@reverse.json", {"defect-1-cleanup-every-account"}),
        ("assume-role-fails-last@seed-7.json", {"defect-1-cleanup-every-account", "defect-2-keep-unread-rows"}),
        ("no-target-accounts.json", {"defect-3-nothing-read"}),
        ("every-account-unreachable@reverse.json", {"defect-3-nothing-read"}),
    ],
)
def test_the_gate_approves_the_refactored_cleanup_by_name(golden: str, names: set[str]) -> None:
    verdict = gate(golden)

    assert verdict.verdict == "approved", verdict.uncovered
    assert names <= {divergence.name for divergence in verdict.approved}


@pytest.mark.parametrize(
    "golden", ["stale-cleanup-multi-account.json", "assume-role-fails-last.json", "no-target-accounts.json"]
)
def test_a_candidate_behaving_as_the_legacy_has_lost_the_fix(golden: str) -> None:
    # A candidate that is not the legacy but makes its calls (the legacy itself is judged with no divergence at all).
    verdict = gate(golden, "tests.harness.impls_for_tests:legacy")

    assert verdict.verdict == "DIVERGENT"
    assert [difference.kind for difference in verdict.uncovered] == ["absent"]
    assert "the fix was lost" in verdict.uncovered[0].summary


def test_cleaning_each_account_against_its_own_servers_only_is_still_divergent() -> None:
    # origin-account-cleaned-first: the first account's rows are the servers the second account's DRS lists (their
    # origin is the first account); judged by its own (empty) server list, the first account's cleanup deletes them.
    verdict = gate("origin-account-cleaned-first.json", OWN_LIST_CLEANUP)

    assert verdict.verdict == "DIVERGENT"
    extra_deletes = [d for d in verdict.uncovered if d.kind == "write" and d.change == "extra"]
    assert extra_deletes and all(d.operation == "DeleteItem" for d in extra_deletes)


def test_the_refactored_cleanup_keeps_fresh_rows_of_an_origin_account_and_removes_its_stale_one() -> None:
    verdict = gate("origin-account-cleaned-first@seed-7.json")

    assert verdict.verdict == "approved", verdict.uncovered
    deleted = [
        d.candidate["params"]["Key"]["sourceServerArn"]["S"]
        for d in verdict.covered_by("defect-1-cleanup-every-account")
        if d.operation == "DeleteItem"
    ]
    assert deleted == ["arn:aws:drs:us-east-1:222222222222:source-server/s-00000000000000d01"]
