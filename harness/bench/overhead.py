"""The recorder's cost: the legacy on the in-process local AWS, recorded versus not recorded.

Each run gets a fresh world (building it is not timed), a cold start, the frozen clock and the submission schedule,
exactly as `record` runs; the only difference is whether the harness Recorder intercepts the calls. Runs alternate
(unrecorded, recorded, unrecorded, ...) so drift on a busy machine hits both alike; medians are compared.
"""

from __future__ import annotations

import gc
import logging
import statistics
import time
from dataclasses import dataclass
from typing import Any

from harness.cassette import capture_outputs
from harness.clock import frozen_clock
from harness.impls import resolve_impl
from harness.interception import intercept
from harness.lambda_env import cold_start
from harness.recorder import Recorder
from harness.scheduling import Schedule, controlled_scheduling
from harness.world.local import local_aws
from harness.world.scenario import Scenario


@dataclass(frozen=True)
class RecordingOverhead:
    """Seconds of every run, recorded and not, and the ratio of the medians."""

    scenario: str
    recorded_runs_s: tuple[float, ...]
    unrecorded_runs_s: tuple[float, ...]

    @property
    def recorded_s(self) -> float:
        """Median seconds of the recorded runs."""
        return statistics.median(self.recorded_runs_s)

    @property
    def unrecorded_s(self) -> float:
        """Median seconds of the unrecorded runs."""
        return statistics.median(self.unrecorded_runs_s)

    @property
    def ratio(self) -> float:
        """Recorded over unrecorded (1.0 means recording costs nothing)."""
        return self.recorded_s / self.unrecorded_s

    def summary(self) -> dict[str, Any]:
        """The measurement as results.json reports it."""
        return {
            "scenario": self.scenario,
            "recorded_s": round(self.recorded_s, 3),
            "unrecorded_s": round(self.unrecorded_s, 3),
            "ratio": round(self.ratio, 3),
            "runs": len(self.recorded_runs_s),
            "recorded_runs_s": [round(value, 3) for value in self.recorded_runs_s],
            "unrecorded_runs_s": [round(value, 3) for value in self.unrecorded_runs_s],
        }


def time_legacy_run(scenario: Scenario, *, recorded: bool) -> float:
    """Seconds of one legacy run on a fresh in-process world, with or without the Recorder intercepting."""
    with (
        frozen_clock(scenario.clock),
        local_aws(scenario),
        cold_start(scenario.environment()),
        controlled_scheduling(Schedule("submission")),
    ):
        function = resolve_impl("legacy")
        gc.collect()
        started = time.perf_counter()
        if recorded:
            with intercept(Recorder()):
                capture_outputs(function)
        else:
            capture_outputs(function)
        return time.perf_counter() - started


def recording_overhead(scenario: Scenario, runs: int = 3) -> RecordingOverhead:
    """Median recorded and unrecorded legacy runs over `runs` alternating pairs."""
    recorded: list[float] = []
    unrecorded: list[float] = []
    # The legacy's warnings (a scenario's missing instances, say) would go to stderr through logging's last resort.
    quiet = logging.NullHandler()
    logging.getLogger().addHandler(quiet)
    try:
        for _ in range(runs):
            unrecorded.append(time_legacy_run(scenario, recorded=False))
            recorded.append(time_legacy_run(scenario, recorded=True))
    finally:
        logging.getLogger().removeHandler(quiet)
    return RecordingOverhead(scenario.name, tuple(recorded), tuple(unrecorded))
