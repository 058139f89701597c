"""Every scenario has a fresh golden under every gate schedule; `pytest --golden-update` re-records stale ones."""

import pytest

from harness.experiment import record_scenario
from harness.golden import GOLDEN_DIR, golden_name, store_golden
from harness.golden_set import GoldenStatus, expected_goldens
from harness.scheduling import Schedule
from harness.world.scenario import load_scenario

STATUSES = expected_goldens()


@pytest.mark.parametrize("status", STATUSES, ids=lambda status: f"{status.scenario.stem}@{status.schedule}")
def test_golden_is_recorded_from_the_current_scenario_and_legacy(status: GoldenStatus, golden_update: bool) -> None:
    """A golden is stale when its scenario or the legacy changed; the failure says how to re-record it."""
    if status.fresh:
        return
    if golden_update:
        cassette = record_scenario(load_scenario(status.scenario), "legacy", Schedule.parse(status.schedule))
        store_golden(cassette, GOLDEN_DIR, golden_name(status.scenario.stem, status.schedule))
        return
    pytest.fail(
        f"golden for {status.scenario.name} under schedule {status.schedule}: {status.problem}.\n"
        f"Re-record it from the legacy with:\n  {status.record_command}\nor all stale goldens with: make goldens"
    )
