"""The whole bench (`make bench`, `python -m harness.bench`): fleet replays, limit, memory, recording overhead.

1. Record the fleet once from the legacy (latency off) into the cache, or reuse the cached recording.
2. Replay the legacy, then the refactored sync, each in its own process, on real threads, with the fleet's latency
   profile applied per call; compare their write sequences; compute the write-bound limit from the recording.
3. The memory fleet (latency off): peak RSS and traced peak of each implementation, each in its own process.
4. The recorder's overhead on the local AWS (legacy, recorded vs unrecorded).
5. Write `bench/results.json`, print the same as a table, draw `bench/timeline.png`.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.approved.inventory_state import remember_scenario
from harness.bench.fleet import (
    BENCH_DIR,
    BENCH_SCENARIOS_DIR,
    CACHE_DIR,
    cached_recording,
    fleet_size,
    without_latency,
)
from harness.bench.limit import write_bound_limit
from harness.bench.measure import Measurement, first_difference, measure_in_subprocess
from harness.bench.overhead import recording_overhead
from harness.bench.timeline import busy_seconds
from harness.gate import judge
from harness.golden import read_golden
from harness.lambda_env import REPO_ROOT
from harness.world.scenario import load_scenario

FLEET = BENCH_SCENARIOS_DIR / "fleet-9000.yaml"
MEMORY_FLEET = BENCH_SCENARIOS_DIR / "fleet-50000.yaml"
OVERHEAD_SCENARIO = REPO_ROOT / "scenarios" / "fleet-2000.yaml"
IMPLS = ("legacy", "refactored")

# The targets: (results key, comparison, bound).
TARGETS: tuple[tuple[str, str, float], ...] = (
    ("speedup", ">=", 4.5),
    ("refactored_over_limit", "<=", 1.15),
    ("rss_ratio", "<=", 1.2),
    ("sync_rss_ratio", "<=", 1.2),
    ("memory_fleet.sync_rss_mb_refactored", "<=", 512.0),
    ("recording_overhead.ratio", "<=", 1.3),
)


def _mb(value: float | None) -> float | None:
    """Megabytes rounded for the report."""
    return None if value is None else round(value, 1)


def sync_rss_mb(measurement: Measurement) -> float | None:
    """The resident memory the sync would need on its own: the bare process plus the sync's traced peak."""
    if measurement.traced_peak_mb is None:
        return None
    return measurement.rss_baseline_mb + measurement.traced_peak_mb


def fleet_results(
    fleet: Path, cache_dir: Path, log: Callable[[str], None]
) -> tuple[dict[str, Any], dict[str, Measurement], float]:
    """Timed replays of both implementations over the fleet: the results fields, the measurements, the limit."""
    scenario = load_scenario(fleet)
    recording = cached_recording(scenario, cache_dir, log)
    limit = write_bound_limit(read_golden(recording.path), scenario.latency_for)
    measurements: dict[str, Measurement] = {}
    for impl in IMPLS:
        log(f"replaying {impl} over {scenario.name} with latency per call ...")
        measurements[impl] = measure_in_subprocess(recording.path, impl, fleet, latency=True, traced=True)
        log(f"  {measurements[impl].elapsed_s:.2f} s, {measurements[impl].calls} calls")
    legacy, refactored = measurements["legacy"], measurements["refactored"]
    difference = first_difference(legacy.write_digests, refactored.write_digests)
    # Writes may differ only where an approved divergence (a legacy defect the refactored sync fixes) says so:
    # judged by the gate on the same recording (answers need the latency-free world the recording was made in).
    remember_scenario(without_latency(scenario))
    gate_verdict = judge(read_golden(recording.path), "refactored")
    results: dict[str, Any] = {
        "fleet": {**fleet_size(scenario), "latency_ms": {k: dict(v) for k, v in scenario.latency_ms.items()}},
        "legacy_s": round(legacy.elapsed_s, 3),
        "refactored_s": round(refactored.elapsed_s, 3),
        "speedup": round(legacy.elapsed_s / refactored.elapsed_s, 3),
        "writes_identical": difference is None,
        "first_write_difference": difference,
        "outputs_identical": legacy.outputs_digest == refactored.outputs_digest,
        "writes_equivalent": gate_verdict.passed,
        "approved_divergences": [divergence.name for divergence in gate_verdict.approved],
        "writes": {"legacy": legacy.writes, "refactored": refactored.writes},
        "calls": {"legacy": legacy.calls, "refactored": refactored.calls},
        "unrecorded_calls": {"legacy": legacy.unrecorded, "refactored": refactored.unrecorded},
        "limit_s": round(limit.total_s, 3),
        "limit": limit.summary(),
        "refactored_over_limit": round(refactored.elapsed_s / limit.total_s, 3),
        "peak_rss_mb_legacy": _mb(legacy.peak_rss_mb),
        "peak_rss_mb_refactored": _mb(refactored.peak_rss_mb),
        "rss_ratio": round(refactored.peak_rss_mb / legacy.peak_rss_mb, 3),
        "rss_at_start_mb": _mb(legacy.rss_at_start_mb),
        "traced_peak_mb_legacy": _mb(legacy.traced_peak_mb),
        "traced_peak_mb_refactored": _mb(refactored.traced_peak_mb),
        "rss_baseline_mb": _mb(legacy.rss_baseline_mb),
        "sync_rss_mb_legacy": _mb(sync_rss_mb(legacy)),
        "sync_rss_mb_refactored": _mb(sync_rss_mb(refactored)),
        "sync_rss_ratio": _ratio(sync_rss_mb(refactored), sync_rss_mb(legacy)),
        # Seconds with a write in flight (latency and per-call CPU): against `limit.writes_s`, what CPU adds.
        "writes_busy_s": {
            impl: round(busy_seconds([span for span in measurement.spans if span.write]), 3)
            for impl, measurement in measurements.items()
        },
        "recordings": {scenario.name: recording.summary()},
    }
    return results, measurements, limit.total_s


def memory_results(memory_fleet: Path, cache_dir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """Peak RSS and traced peak of both implementations over the memory fleet, latency off."""
    scenario = load_scenario(memory_fleet)
    recording = cached_recording(scenario, cache_dir, log)
    results: dict[str, Any] = {**fleet_size(scenario), "recording": recording.summary()}
    for impl in IMPLS:
        log(f"replaying {impl} over {scenario.name} (latency off) for peak memory ...")
        measurement = measure_in_subprocess(recording.path, impl, memory_fleet, latency=False, traced=True)
        results[f"{impl}_s"] = round(measurement.elapsed_s, 3)
        results[f"peak_rss_mb_{impl}"] = _mb(measurement.peak_rss_mb)
        results[f"traced_peak_mb_{impl}"] = _mb(measurement.traced_peak_mb)
        results[f"sync_rss_mb_{impl}"] = _mb(sync_rss_mb(measurement))
        results["rss_at_start_mb"] = _mb(measurement.rss_at_start_mb)
        results["rss_baseline_mb"] = _mb(measurement.rss_baseline_mb)
    return results


def verdicts(results: dict[str, Any]) -> dict[str, bool | None]:
    """Each target met (True), missed (False) or not measured (None)."""
    verdict: dict[str, bool | None] = {}
    for key, comparison, bound in TARGETS:
        value = _lookup(results, key)
        if not isinstance(value, int | float):
            verdict[key] = None
        elif key == "speedup":
            verdict[key] = value >= bound and bool(results.get("writes_equivalent", results.get("writes_identical")))
        else:
            verdict[key] = value >= bound if comparison == ">=" else value <= bound
    return verdict


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator rounded, or None when either is missing."""
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 3)


def _load_average() -> float | None:
    """The one-minute load average, where the platform has one."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _lookup(results: dict[str, Any], dotted: str) -> Any:
    """A value of the results by dotted path, or None."""
    value: Any = results
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def table(results: dict[str, Any]) -> str:
    """The results as a plain-text table."""
    fleet = results["fleet"]
    marks = {True: "ok", False: "MISSED", None: "-"}
    verdict = results["verdicts"]

    def row(label: str, value: Any, unit: str = "", target: str = "", key: str = "") -> str:
        """One line: label, value, target and verdict."""
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        mark = marks[verdict.get(key)] if key else ""
        return f"  {label:<38} {shown + ' ' + unit:>14}  {target:<12} {mark}"

    lines = [
        f"fleet {fleet['scenario']}: {fleet['accounts']} accounts x {fleet['regions']} regions, "
        f"{fleet['servers']:,} servers, pages of {fleet['page_size']}",
        row("legacy", results["legacy_s"], "s"),
        row("refactored", results["refactored_s"], "s"),
        row("speedup", results["speedup"], "x", ">= 4.5", "speedup"),
        row("writes identical", results["writes_identical"]),
        row("outputs identical", results["outputs_identical"]),
        row("writes equal but for approved fixes", results["writes_equivalent"]),
        row("write-bound limit", results["limit_s"], "s"),
        row("  of which writes (latency only)", results["limit"]["writes_s"], "s"),
        row("writes in flight, refactored", results["writes_busy_s"]["refactored"], "s"),
        row("refactored / limit", results["refactored_over_limit"], "x", "<= 1.15", "refactored_over_limit"),
        row("peak RSS legacy (process)", results["peak_rss_mb_legacy"], "MB"),
        row("peak RSS refactored (process)", results["peak_rss_mb_refactored"], "MB"),
        row("RSS refactored / legacy", results["rss_ratio"], "x", "<= 1.2", "rss_ratio"),
        row("  RSS at start (recording loaded)", results["rss_at_start_mb"], "MB"),
        row("traced peak legacy (sync only)", results["traced_peak_mb_legacy"], "MB"),
        row("traced peak refactored (sync only)", results["traced_peak_mb_refactored"], "MB"),
        row("sync RSS legacy (bare process + traced)", results["sync_rss_mb_legacy"], "MB"),
        row("sync RSS refactored", results["sync_rss_mb_refactored"], "MB"),
        row("sync RSS refactored / legacy", results["sync_rss_ratio"], "x", "<= 1.2", "sync_rss_ratio"),
    ]
    memory = results.get("memory_fleet")
    if memory:
        lines += [
            f"memory fleet {memory['scenario']}: {memory['servers']:,} servers, latency off",
            row("peak RSS legacy (process)", memory["peak_rss_mb_legacy"], "MB"),
            row("peak RSS refactored (process)", memory["peak_rss_mb_refactored"], "MB"),
            row("  RSS at start (recording loaded)", memory["rss_at_start_mb"], "MB"),
            row("traced peak legacy (sync only)", memory["traced_peak_mb_legacy"], "MB"),
            row("traced peak refactored (sync only)", memory["traced_peak_mb_refactored"], "MB"),
            row("sync RSS legacy (bare process + traced)", memory["sync_rss_mb_legacy"], "MB"),
            row(
                "sync RSS refactored",
                memory["sync_rss_mb_refactored"],
                "MB",
                "<= 512",
                "memory_fleet.sync_rss_mb_refactored",
            ),
        ]
    overhead = results.get("recording_overhead")
    if overhead:
        lines += [
            f"recording overhead on {overhead['scenario']} (legacy, local AWS, median of {overhead['runs']}):",
            row("unrecorded", overhead["unrecorded_s"], "s"),
            row("recorded", overhead["recorded_s"], "s"),
            row("recorded / unrecorded", overhead["ratio"], "x", "<= 1.3", "recording_overhead.ratio"),
        ]
    machine = results.get("machine")
    if machine:
        lines.append(
            f"machine: {machine['cpus']} CPUs, load average {machine['load_average_before']} before, "
            f"{machine['load_average_after']} after (timings stretch on a busy machine)"
        )
    return "\n".join(lines)


def run_bench(
    *,
    fleet: Path = FLEET,
    memory_fleet: Path | None = MEMORY_FLEET,
    overhead_scenario: Path | None = OVERHEAD_SCENARIO,
    overhead_runs: int = 3,
    out_dir: Path = BENCH_DIR,
    cache_dir: Path = CACHE_DIR,
    timeline: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the bench; write results.json (and timeline.png) into `out_dir`; return the results."""
    started = time.perf_counter()
    load_before = _load_average()
    results, measurements, limit_s = fleet_results(fleet, cache_dir, log)
    if memory_fleet is not None:
        results["memory_fleet"] = memory_results(memory_fleet, cache_dir, log)
    if overhead_scenario is not None:
        log(f"recording overhead on {overhead_scenario.name}: {overhead_runs} unrecorded and recorded runs ...")
        results["recording_overhead"] = recording_overhead(load_scenario(overhead_scenario), overhead_runs).summary()
    results["verdicts"] = verdicts(results)
    results["bench_s"] = round(time.perf_counter() - started, 1)
    # Timings stretch when other work competes for the CPUs: say how busy the machine was.
    results["machine"] = {
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": _load_average(),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if timeline:
        from harness.bench.timeline import TimelineRun, draw_timeline

        fleet_info = results["fleet"]
        title = (
            f"{fleet_info['scenario']} ({fleet_info['servers']:,} servers): legacy {results['legacy_s']:.1f} s, "
            f"refactored {results['refactored_s']:.1f} s (x{results['speedup']:.2f}), "
            f"write-bound limit {limit_s:.1f} s"
        )
        runs = [TimelineRun(impl, measurements[impl].elapsed_s, measurements[impl].spans) for impl in IMPLS]
        draw_timeline(runs, limit_s, out_dir / "timeline.png", title)
    return results


def main(argv: list[str] | None = None) -> int:
    """`python -m harness.bench`: run the bench, print the table; exit 1 if the write sequences differ."""
    parser = argparse.ArgumentParser(description="Legacy vs refactored sync over a fleet, replayed with latency.")
    parser.add_argument("--fleet", type=Path, default=FLEET)
    parser.add_argument("--memory-fleet", type=Path, default=MEMORY_FLEET)
    parser.add_argument("--overhead-scenario", type=Path, default=OVERHEAD_SCENARIO)
    parser.add_argument("--overhead-runs", type=int, default=3)
    parser.add_argument("--skip-memory", action="store_true", help="skip the memory fleet")
    parser.add_argument("--skip-overhead", action="store_true", help="skip the recording overhead")
    parser.add_argument("--no-timeline", action="store_true", help="do not draw timeline.png")
    parser.add_argument("--out-dir", type=Path, default=BENCH_DIR)
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    args = parser.parse_args(argv)
    results = run_bench(
        fleet=args.fleet,
        memory_fleet=None if args.skip_memory else args.memory_fleet,
        overhead_scenario=None if args.skip_overhead else args.overhead_scenario,
        overhead_runs=args.overhead_runs,
        out_dir=args.out_dir,
        cache_dir=args.cache_dir,
        timeline=not args.no_timeline,
    )
    print()
    print(table(results))
    print(
        f"\nresults: {args.out_dir / 'results.json'}"
        + ("" if args.no_timeline else f", {args.out_dir / 'timeline.png'}")
    )
    return 0 if results["writes_equivalent"] else 1
