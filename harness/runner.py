"""One run of an implementation against a scenario's world: cold start, frozen clock, controlled schedule, recorded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.cassette import Interaction, Outputs
from harness.cassette import capture_outputs as call_capturing
from harness.clock import frozen_clock
from harness.impls import resolve_impl
from harness.interception import intercept
from harness.lambda_env import cold_start
from harness.recorder import Recorder
from harness.scheduling import Schedule, controlled_scheduling
from harness.world.local import local_aws
from harness.world.scenario import Scenario
from harness.world.state import dump_tables


@dataclass
class RunReport:
    """What a run produced: outputs, the recorded interactions and every table afterwards."""

    outputs: Outputs
    interactions: list[Interaction]
    tables: dict[str, list[dict[str, Any]]]

    def to_json(self) -> dict[str, Any]:
        """The `harness run --json` object."""
        return {**self.outputs.to_dict(), "tables": self.tables, "calls": len(self.interactions)}


def run_scenario(scenario: Scenario, impl: str, schedule: Schedule | None = None, *, tables: bool = True) -> RunReport:
    """Run `impl` once on a fresh in-process world built from `scenario`, recording every AWS call.

    `tables=False` skips reading every table back afterwards (a recording does not keep them: on a 9,000-server
    fleet moto's Scan of the inventory table took longer than the run itself).
    """
    recorder = Recorder()
    # The clock stops before the world is built, so seeded timestamps (EC2 launch times) are the same every run.
    with frozen_clock(scenario.clock), local_aws(scenario), cold_start(scenario.environment()):
        with controlled_scheduling(schedule or Schedule("submission")):
            function = resolve_impl(impl)
            with intercept(recorder):
                outputs = call_capturing(function)
        dumped = dump_tables(scenario) if tables else {}
    return RunReport(outputs, recorder.interactions, dumped)
