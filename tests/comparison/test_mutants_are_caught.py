"""Mutation sanity: a candidate with one behaviour changed (tests/comparison/mutants.py) is reported DIVERGENT.

If the comparison could not tell these apart from the legacy, "equivalent" would mean nothing. Each mutant is
replayed against the goldens of one scenario under the gate's three schedules and judged as the gate does, through
the approved divergences (fixed legacy defects); at least one must diverge, and the report must say what differs.
The completion-order mutant also shows why the schedules exist: it passes under `submission` and is only caught when
regions complete in another order.
"""

from __future__ import annotations

import pytest

from harness.divergences import Triage
from harness.gate import judge_golden
from harness.golden import GOLDEN_DIR, read_golden
from harness.report import describe_triage
from harness.scheduling import Schedule
from tests.comparison.mutants import MUTANTS

SCHEDULE_SUFFIXES = {"submission": "", "reverse": "@reverse", "seed:7": "@seed-7"}
# Mutant -> the scenario whose goldens must expose it, and the kind of difference expected.
CAUGHT_BY = {
    "statuses_in_submission_order": ("demo-two-accounts", "write"),
    "assume_role_without_external_id": ("single-account-basic", "unrecorded"),
    "cleanup_with_own_servers": ("origin-account-cleaned-first", "write"),
    "region_errors_without_message": ("drs-error-types", "write"),
}


def verdicts(mutant: str, scenario: str) -> dict[str, Triage]:
    """The gate's verdict on `mutant` for each of the scenario's goldens, by schedule (approved fixes allowed)."""
    paths = {schedule: GOLDEN_DIR / f"{scenario}{suffix}.json" for schedule, suffix in SCHEDULE_SUFFIXES.items()}
    return {
        schedule: judge_golden(path, read_golden(path), MUTANTS[mutant], schedule=Schedule.parse(schedule))
        for schedule, path in paths.items()
    }


def test_every_mutant_has_a_scenario_that_catches_it() -> None:
    assert set(CAUGHT_BY) == set(MUTANTS)


@pytest.mark.parametrize("mutant", sorted(CAUGHT_BY))
def test_mutant_is_reported_divergent_under_some_schedule(mutant: str) -> None:
    scenario, kind = CAUGHT_BY[mutant]

    comparisons = verdicts(mutant, scenario)

    divergent = {schedule: verdict for schedule, verdict in comparisons.items() if not verdict.passed}
    assert divergent, f"mutant {mutant} passed every {scenario} golden"
    for schedule, verdict in divergent.items():
        report = describe_triage(f"{mutant} on {scenario} under {schedule}", verdict)
        assert "DIVERGENT" in report
        assert kind in {difference.kind for difference in verdict.uncovered}, report


def test_completion_order_mutant_is_only_caught_when_regions_complete_out_of_submission_order() -> None:
    comparisons = verdicts("statuses_in_submission_order", "demo-two-accounts")

    assert comparisons["submission"].passed, describe_triage("submission", comparisons["submission"])
    assert not comparisons["reverse"].passed
    first_write = next(d for d in comparisons["reverse"].uncovered if d.kind in ("write", "unrecorded"))
    assert "drs-region-status" in first_write.summary + "".join(first_write.details)
