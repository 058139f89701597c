"""`make bench-harness`: the same legacy run on the in-process local AWS and replayed from its golden, side by side."""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.clock import frozen_clock
from harness.golden import GOLDEN_DIR, find_golden, golden_name, read_golden
from harness.impls import resolve_impl
from harness.interception import intercept
from harness.lambda_env import REPO_ROOT, cold_start
from harness.recorder import Recorder
from harness.replay_session import replay
from harness.runner import call_capturing
from harness.scheduling import Schedule, controlled_scheduling
from harness.world.local import local_aws
from harness.world.scenario import load_scenario

SCENARIO = REPO_ROOT / "scenarios" / "fleet-2000.yaml"
RESULTS = REPO_ROOT / "bench" / "harness-results.json"
TARGET_RATIO = 7.0


@dataclass
class HarnessBench:
    """Seconds for the legacy's run on the local AWS and from its golden; the ratio is the replay's speed-up."""

    scenario: str
    calls: int
    world_run_s: float
    world_build_s: float
    replay_s: float
    ratio: float
    target_ratio: float


def time_world_run(scenario_path: Path) -> tuple[float, float, int]:
    """(build seconds, run seconds, calls) of the legacy on a fresh in-process world, recorded as in `record`."""
    scenario = load_scenario(scenario_path)
    started = time.perf_counter()
    with frozen_clock(scenario.clock), local_aws(scenario), cold_start(scenario.environment()):
        built = time.perf_counter()
        with controlled_scheduling(Schedule("submission")):
            function = resolve_impl("legacy")
            recorder = Recorder()
            with intercept(recorder):
                call_capturing(function)
        finished = time.perf_counter()
    return built - started, finished - built, len(recorder.interactions)


def time_replay(golden_path: Path, repeats: int = 3) -> float:
    """Median seconds to replay the golden into the legacy (golden read once, outside the timing)."""
    cassette = read_golden(golden_path)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        replay(cassette, "legacy")
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> int:
    """Run both, print a table and write bench/harness-results.json."""
    golden = find_golden(GOLDEN_DIR, golden_name(SCENARIO.stem, "submission"))
    if golden is None:
        print(f"no golden for {SCENARIO.name}: run `make goldens` first")
        return 2
    build_s, run_s, calls = time_world_run(SCENARIO)
    replay_s = time_replay(golden)
    result = HarnessBench(
        SCENARIO.stem,
        calls,
        round(run_s, 3),
        round(build_s, 3),
        round(replay_s, 3),
        round(run_s / replay_s, 2),
        TARGET_RATIO,
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(asdict(result), indent=2) + "\n", encoding="utf-8")
    print(f"scenario            {result.scenario} ({calls} calls)")
    print(f"local AWS run       {result.world_run_s:8.2f} s   (world build {result.world_build_s:.2f} s, not counted)")
    print(f"replay from golden  {result.replay_s:8.2f} s   (median of 3)")
    print(f"ratio               {result.ratio:8.2f} x   (target >= {TARGET_RATIO:g} x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
