"""The whole bench (`make bench`, `python -m harness.bench`): Lambda's CPU share, cost, growth, limit, memory.

1. Record the fleets once from the legacy (latency off) into the cache, or reuse the cached recordings: the
   headline fleet first, the others in a process of their own while the sweep runs (`harness.bench.background`).
2. **Memory sweep**: replay the legacy and the refactored sync over the fleet, each in its own process on real
   threads with the fleet's latency per call, each capped at Lambda's CPU share of 128, 512, 1,024, 1,769 and
   3,008 MB (`harness.bench.cpu_share`); wall and CPU seconds, billed GB-seconds and cost (`lambda_cost`). The
   headline figures (speed-up, limit ratio, timeline, process memory) are those at 1,769 MB, one vCPU. Where no
   cgroup can be made the bench says why and replays once, unconstrained.
3. Compare the write sequences; compute the write-bound limit from the recording.
4. The memory fleet (latency off): peak RSS and traced peak of each implementation, each in its own process.
5. Recommend a memory size; replay the growth fleets at it (about 1,000 and 50,000 servers besides the sweep's
   9,000): seconds per 1,000 servers and the largest estate within Lambda's 900 s, extrapolated.
6. The recorder's overhead on the local AWS (legacy, recorded vs unrecorded).
7. Write `bench/results.json`, print the same as a table with how long each stage took, draw `bench/timeline.png`
   and `bench/memory.png`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.approved.inventory_state import remember_scenario
from harness.bench.background import BackgroundRecordings
from harness.bench.code_lines import sync_code_lines
from harness.bench.cpu_share import MEMORY_SIZES_MB, quota_us, vcpus
from harness.bench.fleet import (
    BENCH_DIR,
    BENCH_SCENARIOS_DIR,
    CACHE_DIR,
    Recording,
    cached_recording,
    fleet_size,
    without_latency,
)
from harness.bench.lambda_cost import (
    MEMORY_HEADROOM,
    USD_PER_GB_S,
    USD_PER_REQUEST,
    Schedule,
    growth,
    recommend,
    run_cost,
    template_schedule,
)
from harness.bench.limit import write_bound_limit
from harness.bench.measure import Measurement, first_difference
from harness.bench.overhead import recording_overhead
from harness.bench.sweep import CpuShareSupport, Job, cpu_share_support, measure_at, run_packed, sweep
from harness.bench.timeline import busy_seconds
from harness.gate import judge
from harness.golden import read_golden
from harness.lambda_env import REPO_ROOT
from harness.world.scenario import load_scenario

FLEET = BENCH_SCENARIOS_DIR / "fleet-9000.yaml"
MEMORY_FLEET = BENCH_SCENARIOS_DIR / "fleet-50000.yaml"
GROWTH_FLEETS = (BENCH_SCENARIOS_DIR / "fleet-1000.yaml", MEMORY_FLEET)
OVERHEAD_SCENARIO = REPO_ROOT / "scenarios" / "fleet-2000.yaml"
TEMPLATE = REPO_ROOT / "template.yaml"
IMPLS = ("legacy", "refactored")
# The headline figures are measured at one full vCPU; the budgets below name the sizes they are judged at.
HEADLINE_MEMORY_MB = 1769
# The memory fleet's replays measure memory, not time: they yield the CPU to the timed replays beside them.
MEMORY_NICE = 10

# The issues' targets: (results key, comparison, bound). `speedup*` also needs the writes to be equivalent.
TARGETS: tuple[tuple[str, str, float], ...] = (
    ("speedup", ">=", 4.5),
    ("refactored_over_limit", "<=", 1.3),
    ("speedup_by_memory.512", ">=", 4.0),
    ("speedup_by_memory.128", ">=", 2.0),
    ("rss_ratio", "<=", 1.2),
    ("sync_rss_ratio", "<=", 1.2),
    ("memory_fleet.sync_rss_mb_refactored", "<=", 512.0),
    ("recording_overhead.ratio", "<=", 1.3),
    ("code_lines.total", "<=", 800),
)


class Stages:
    """How long each stage of the bench took, logged as each ends and kept for results.json."""

    def __init__(self, log: Callable[[str], None]) -> None:
        """No stage timed yet."""
        self.log = log
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage `name` (repeated names add up)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            self.seconds[name] = round(self.seconds.get(name, 0.0) + elapsed, 1)
            self.log(f"[stage] {name}: {elapsed:.1f} s")

    def recording(self, scenario_path: Path, cache_dir: Path) -> Recording:
        """A fleet's recording (cached or made now), timed as its own stage."""
        scenario = load_scenario(scenario_path)
        with self.stage(f"record {scenario.name}"):
            return cached_recording(scenario, cache_dir, self.log)


def _mb(value: float | None) -> float | None:
    """Megabytes rounded for the report."""
    return None if value is None else round(value, 1)


def sync_rss_mb(measurement: Measurement) -> float | None:
    """The resident memory the sync would need on its own: the bare process plus the sync's traced peak."""
    if measurement.traced_peak_mb is None:
        return None
    return measurement.rss_baseline_mb + measurement.traced_peak_mb


def headline_memory(support: CpuShareSupport, memory_sizes: Sequence[int]) -> int | None:
    """The memory size the headline figures come from: 1,769 MB if swept, else the largest; None unconstrained."""
    if not support.available or not memory_sizes:
        return None
    return HEADLINE_MEMORY_MB if HEADLINE_MEMORY_MB in memory_sizes else max(memory_sizes)


def sweep_results(
    measured: dict[int, dict[str, Measurement]], limit_s: float, schedule: Schedule, headline: int
) -> list[dict[str, Any]]:
    """One entry per memory size, smallest first: both implementations' time, CPU and cost, and their ratios."""
    reference = measured[headline]["refactored"].write_digests
    entries = []
    for memory_mb in sorted(measured):
        legacy, refactored = measured[memory_mb]["legacy"], measured[memory_mb]["refactored"]
        entries.append(
            {
                "memory_mb": memory_mb,
                "vcpus": round(vcpus(memory_mb), 3),
                "quota_us": quota_us(memory_mb),
                **{
                    impl: run_cost(measurement.elapsed_s, measurement.cpu_s, memory_mb, schedule)
                    for impl, measurement in measured[memory_mb].items()
                },
                "speedup": round(legacy.elapsed_s / refactored.elapsed_s, 3),
                "refactored_over_limit": round(refactored.elapsed_s / limit_s, 3),
                # The refactored writes do not depend on the CPU it gets: the same sequence at every size.
                "refactored_writes_as_at_headline": refactored.write_digests == reference,
            }
        )
    return entries


def fleet_results(
    measurements: dict[str, Measurement], recording: Recording, scenario_path: Path, memory_mb: int | None
) -> tuple[dict[str, Any], float]:
    """The headline figures from one measurement per implementation (at `memory_mb`): results fields and limit."""
    scenario = load_scenario(scenario_path)
    limit = write_bound_limit(read_golden(recording.path), scenario.latency_for)
    legacy, refactored = measurements["legacy"], measurements["refactored"]
    difference = first_difference(legacy.write_digests, refactored.write_digests)
    # Writes may differ only where an approved divergence (a legacy defect the refactored sync fixes) says so:
    # judged by the gate on the same recording (answers need the latency-free world the recording was made in).
    remember_scenario(without_latency(scenario))
    gate_verdict = judge(read_golden(recording.path), "refactored")
    results: dict[str, Any] = {
        "fleet": {**fleet_size(scenario), "latency_ms": {k: dict(v) for k, v in scenario.latency_ms.items()}},
        "measured_at_memory_mb": memory_mb,
        "legacy_s": round(legacy.elapsed_s, 3),
        "refactored_s": round(refactored.elapsed_s, 3),
        "legacy_cpu_s": round(legacy.cpu_s, 3),
        "refactored_cpu_s": round(refactored.cpu_s, 3),
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
    return results, limit.total_s


def memory_results(
    support: CpuShareSupport, memory_fleet: Path, recording: Recording, log: Callable[[str], None]
) -> dict[str, Any]:
    """Peak RSS and traced peak of both implementations over the memory fleet, latency off, unconstrained.

    The two run side by side, each in its own process: what they measure is their own process's memory, which a
    neighbour does not change (their seconds, latency off and sharing the machine, are only reported). They run at
    a lower priority (`MEMORY_NICE`), so timed replays beside them (the growth fleets') keep their CPU share.
    """
    scenario = load_scenario(memory_fleet)
    results: dict[str, Any] = {**fleet_size(scenario), "recording": recording.summary()}
    log(f"replaying {' and '.join(IMPLS)} over {scenario.name} side by side (latency off, unconstrained) for memory")
    with ThreadPoolExecutor(max_workers=len(IMPLS)) as pool:
        replays = {
            impl: pool.submit(
                measure_at,
                support,
                None,
                recording.path,
                impl,
                memory_fleet,
                latency=False,
                traced=True,
                nice=MEMORY_NICE,
            )
            for impl in IMPLS
        }
    for impl, replay in replays.items():
        measurement = replay.result()
        results[f"{impl}_s"] = round(measurement.elapsed_s, 3)
        results[f"peak_rss_mb_{impl}"] = _mb(measurement.peak_rss_mb)
        results[f"traced_peak_mb_{impl}"] = _mb(measurement.traced_peak_mb)
        results[f"sync_rss_mb_{impl}"] = _mb(sync_rss_mb(measurement))
        results["rss_at_start_mb"] = _mb(measurement.rss_at_start_mb)
        results["rss_baseline_mb"] = _mb(measurement.rss_baseline_mb)
    return results


GrowthPoints = dict[str, tuple[int, dict[str, Measurement]]]


def growth_measurements(
    support: CpuShareSupport,
    memory_mb: int | None,
    fleets: Sequence[tuple[Path, Recording]],
    log: Callable[[str], None],
) -> GrowthPoints:
    """Both implementations over each fleet at `memory_mb`, side by side as `run_packed` allows: name to points."""
    jobs: list[tuple[str, int, Job]] = []
    for path, recording in fleets:
        size = fleet_size(load_scenario(path))
        jobs += [(size["scenario"], size["servers"], Job(memory_mb, impl, recording.path, path)) for impl in IMPLS]
    if jobs:
        log(f"replaying {', '.join(path.stem for path, _ in fleets)} at {memory_mb or 'unconstrained'} MB with latency")
    points: GrowthPoints = {}
    for (name, servers, job), measurement in zip(
        jobs, run_packed(support, [job for *_, job in jobs], log), strict=True
    ):
        points.setdefault(name, (servers, {}))[1][job.impl] = measurement
    return points


def growth_results(memory_mb: int | None, points: GrowthPoints) -> dict[str, Any]:
    """The growth figures at `memory_mb` from every fleet's measurements: per fleet, and the line of each impl."""
    ordered = sorted(points.items(), key=lambda item: item[1][0])
    return {
        "memory_mb": memory_mb,
        "fleets": [
            {
                "scenario": name,
                "servers": servers,
                **{f"{impl}_s": round(measured[impl].elapsed_s, 3) for impl in IMPLS},
                **{f"{impl}_cpu_s": round(measured[impl].cpu_s, 3) for impl in IMPLS},
            }
            for name, (servers, measured) in ordered
        ],
        **{impl: growth([(servers, measured[impl].elapsed_s) for _, (servers, measured) in ordered]) for impl in IMPLS},
        "note": "a least-squares line through the measured fleets; the 900 s estate is extrapolated along it",
    }


def _recommended(results: dict[str, Any], sync_rss_mb: float | None) -> int | None:
    """The recommended memory (kept in results) for a sync needing `sync_rss_mb`; None without a sweep."""
    if not results.get("memory_sweep"):
        return None
    results["recommendation"] = recommend(results["memory_sweep"], MEMORY_HEADROOM * (sync_rss_mb or 0))
    return int(results["recommendation"]["memory_mb"])


def verdicts(results: dict[str, Any]) -> dict[str, bool | None]:
    """Each target met (True), missed (False) or not measured (None)."""
    verdict: dict[str, bool | None] = {}
    equivalent = bool(results.get("writes_equivalent", results.get("writes_identical")))
    for key, comparison, bound in TARGETS:
        value = _lookup(results, key)
        if not isinstance(value, int | float):
            verdict[key] = None
        elif key.startswith("speedup"):
            verdict[key] = value >= bound and equivalent
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


def _target_text(key: str) -> str:
    """The target of a verdict key as the table prints it ("" when the key has none)."""
    for target_key, comparison, bound in TARGETS:
        if target_key == key:
            return f"{comparison} {bound:g}"
    return ""


def table(results: dict[str, Any]) -> str:
    """The results as a plain-text table."""
    fleet = results["fleet"]
    marks = {True: "ok", False: "MISSED", None: "-"}
    verdict = results["verdicts"]

    def row(label: str, value: Any, unit: str = "", key: str = "") -> str:
        """One line: label, value, target and verdict."""
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        mark = marks[verdict.get(key)] if key else ""
        return f"  {label:<40} {shown + ' ' + unit:>14}  {_target_text(key):<10} {mark}"

    share = results.get("cpu_share", {})
    at = results.get("measured_at_memory_mb")
    where = f"at {at} MB ({vcpus(at):.2f} vCPU, Lambda's CPU share)" if at else "unconstrained (whole machine)"
    lines = []
    if not share.get("available", False):
        lines.append(f"no Lambda CPU share: {share.get('reason')}; unconstrained figures only")
    lines += [
        f"fleet {fleet['scenario']}: {fleet['accounts']} accounts x {fleet['regions']} regions, "
        f"{fleet['servers']:,} servers, pages of {fleet['page_size']}; headline figures {where}",
        row("legacy", results["legacy_s"], "s"),
        row("refactored", results["refactored_s"], "s"),
        row(f"speedup ({at or 'unconstrained'} MB)", results["speedup"], "x", "speedup"),
        row("writes identical", results["writes_identical"]),
        row("outputs identical", results["outputs_identical"]),
        row("writes equal but for approved fixes", results["writes_equivalent"]),
        row("write-bound limit", results["limit_s"], "s"),
        row("  of which writes (latency only)", results["limit"]["writes_s"], "s"),
        row("writes in flight, refactored", results["writes_busy_s"]["refactored"], "s"),
        row(
            f"refactored / limit ({at or 'unconstrained'} MB)",
            results["refactored_over_limit"],
            "x",
            key="refactored_over_limit",
        ),
        row("peak RSS legacy (process)", results["peak_rss_mb_legacy"], "MB"),
        row("peak RSS refactored (process)", results["peak_rss_mb_refactored"], "MB"),
        row("RSS refactored / legacy", results["rss_ratio"], "x", "rss_ratio"),
        row("  RSS at start (recording loaded)", results["rss_at_start_mb"], "MB"),
        row("traced peak legacy (sync only)", results["traced_peak_mb_legacy"], "MB"),
        row("traced peak refactored (sync only)", results["traced_peak_mb_refactored"], "MB"),
        row("sync RSS legacy (bare process + traced)", results["sync_rss_mb_legacy"], "MB"),
        row("sync RSS refactored", results["sync_rss_mb_refactored"], "MB"),
        row("sync RSS refactored / legacy", results["sync_rss_ratio"], "x", "sync_rss_ratio"),
    ]
    lines += _sweep_lines(results)
    memory = results.get("memory_fleet")
    if memory:
        lines += [
            f"memory fleet {memory['scenario']}: {memory['servers']:,} servers, latency off, unconstrained",
            row("peak RSS legacy (process)", memory["peak_rss_mb_legacy"], "MB"),
            row("peak RSS refactored (process)", memory["peak_rss_mb_refactored"], "MB"),
            row("  RSS at start (recording loaded)", memory["rss_at_start_mb"], "MB"),
            row("traced peak legacy (sync only)", memory["traced_peak_mb_legacy"], "MB"),
            row("traced peak refactored (sync only)", memory["traced_peak_mb_refactored"], "MB"),
            row("sync RSS legacy (bare process + traced)", memory["sync_rss_mb_legacy"], "MB"),
            row("sync RSS refactored", memory["sync_rss_mb_refactored"], "MB", "memory_fleet.sync_rss_mb_refactored"),
        ]
    lines += _growth_lines(results.get("growth"))
    overhead = results.get("recording_overhead")
    if overhead:
        lines += [
            f"recording overhead on {overhead['scenario']} (legacy, local AWS, median of {overhead['runs']}):",
            row("unrecorded", overhead["unrecorded_s"], "s"),
            row("recorded", overhead["recorded_s"], "s"),
            row("recorded / unrecorded", overhead["ratio"], "x", "recording_overhead.ratio"),
        ]
    if results.get("code_lines"):
        lines.append(row("refactored sync, code lines", results["code_lines"]["total"], "", "code_lines.total"))
    stages = results.get("stages_s")
    if stages:
        lines.append("stages: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in stages.items()))
    machine = results.get("machine")
    if machine:
        lines.append(
            f"machine: {machine['cpus']} CPUs, load average {machine['load_average_before']} before, "
            f"{machine['load_average_after']} after (timings stretch on a busy machine)"
        )
    return "\n".join(lines)


def _sweep_lines(results: dict[str, Any]) -> list[str]:
    """The memory sweep as table lines: per size, both implementations' seconds, CPU, GB-s and monthly cost."""
    entries = results.get("memory_sweep") or []
    if not entries:
        return []
    pricing = results["pricing"]
    verdict = results["verdicts"]
    lines = [
        f"memory sweep, Lambda's CPU share (memory / 1769 vCPU), {pricing['runs_per_month']:,} runs a month "
        f"({pricing['schedule']}):",
        f"  {'MB':>5} {'vCPU':>5}  {'legacy s':>9} {'CPU s':>6} {'GB-s':>6} {'$/month':>8}"
        f"  {'refact. s':>9} {'CPU s':>6} {'GB-s':>6} {'$/month':>8}  {'speedup':>7}",
    ]
    for entry in entries:
        legacy, refactored = entry["legacy"], entry["refactored"]
        key = f"speedup_by_memory.{entry['memory_mb']}"
        mark = {True: f"ok ({_target_text(key)})", False: f"MISSED ({_target_text(key)})"}.get(verdict.get(key), "")
        lines.append(
            f"  {entry['memory_mb']:>5} {entry['vcpus']:>5.2f}  {legacy['wall_s']:>9.2f} {legacy['cpu_s']:>6.2f} "
            f"{legacy['billed_gb_s']:>6.2f} {legacy['cost_per_month_usd']:>8.2f}  {refactored['wall_s']:>9.2f} "
            f"{refactored['cpu_s']:>6.2f} {refactored['billed_gb_s']:>6.2f} {refactored['cost_per_month_usd']:>8.2f}"
            f"  {entry['speedup']:>6.2f}x {mark}"
        )
    recommendation = results.get("recommendation")
    if recommendation:
        lines.append(
            f"  recommended: {recommendation['memory_mb']} MB (refactored {recommendation['refactored_s']:.2f} s, "
            f"${recommendation['cost_per_month_usd']:.2f} a month): {recommendation['rule']}"
        )
    return lines


def _growth_lines(growth_figures: dict[str, Any] | None) -> list[str]:
    """The growth fleets as table lines."""
    if not growth_figures:
        return []
    at = growth_figures["memory_mb"]
    lines = [f"growth at {at or 'unconstrained'} MB (latency on):"]
    for fleet in growth_figures["fleets"]:
        lines.append(
            f"  {fleet['scenario']:<14} {fleet['servers']:>7,} servers: legacy {fleet['legacy_s']:8.2f} s, "
            f"refactored {fleet['refactored_s']:7.2f} s"
        )
    for impl in IMPLS:
        line = growth_figures[impl]
        largest = line["largest_estate_within_900_s"]
        lines.append(
            f"  {impl:<10} {line['seconds_per_1000_servers']:6.2f} s per 1,000 servers; within 900 s up to "
            f"{largest:,} servers" + (" (extrapolated)" if line["extrapolated"] else "")
            if largest is not None
            else f"  {impl:<10} {line['seconds_per_1000_servers']:6.2f} s per 1,000 servers: no growth measured"
        )
    return lines


def say(line: str) -> None:
    """Print one log line in a single write, so lines of stages running side by side never run together."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def run_bench(
    *,
    fleet: Path = FLEET,
    memory_fleet: Path | None = MEMORY_FLEET,
    growth_fleets: Sequence[Path] = GROWTH_FLEETS,
    memory_sizes: Sequence[int] = MEMORY_SIZES_MB,
    overhead_scenario: Path | None = OVERHEAD_SCENARIO,
    overhead_runs: int = 3,
    out_dir: Path = BENCH_DIR,
    cache_dir: Path = CACHE_DIR,
    timeline: bool = True,
    log: Callable[[str], None] = say,
) -> dict[str, Any]:
    """Run the bench; write results.json (timeline.png, memory.png) into `out_dir`; return the results."""
    started = time.perf_counter()
    load_before = _load_average()
    stages = Stages(log)
    schedule = template_schedule(TEMPLATE)
    support = cpu_share_support()
    if not support.available:
        log(f"no Lambda CPU share on this machine ({support.reason}): unconstrained figures only")
    # The memory fleet (minutes of moto on a fresh clone) records from the start, beside everything up to its replays.
    background = BackgroundRecordings([memory_fleet] if memory_fleet not in (None, fleet) else [], cache_dir, log)
    recording = stages.recording(fleet, cache_dir)
    early_growth = [
        (path, stages.recording(path, cache_dir))
        for path in dict.fromkeys(growth_fleets)
        if path not in (fleet, memory_fleet)
    ]
    headline = headline_memory(support, memory_sizes)
    sizes: list[int] = list(memory_sizes) if headline is not None else []
    with stages.stage("memory sweep" if sizes else "unconstrained replays"):
        log(f"replaying {fleet.stem} with latency per call, each implementation in its own process ...")
        measured: dict[int | None, dict[str, Measurement]]
        if sizes:
            swept = sweep(support, sizes, recording.path, fleet, IMPLS, log, traced_at=headline)
            measured = {size: by_impl for size, by_impl in swept.items()}
        else:
            measured = {
                None: {impl: measure_at(support, None, recording.path, impl, fleet, traced=True) for impl in IMPLS}
            }
    results, limit_s = fleet_results(measured[headline], recording, fleet, headline)
    results["cpu_share"] = support.summary()
    results["pricing"] = {
        "usd_per_gb_s": USD_PER_GB_S,
        "usd_per_request": USD_PER_REQUEST,
        "schedule": schedule.expression,
        "runs_per_month": schedule.runs_per_month,
    }
    if sizes:
        constrained = {size: by_impl for size, by_impl in measured.items() if size is not None}
        results["memory_sweep"] = sweep_results(constrained, limit_s, schedule, headline or max(sizes))
        results["speedup_by_memory"] = {str(entry["memory_mb"]): entry["speedup"] for entry in results["memory_sweep"]}
    # Growth replays start at the memory the headline fleet's own resident memory allows; the memory fleet's, known
    # later, decides the recommendation, and the growth fleets are replayed again should it move it.
    provisional = _recommended(results, results["sync_rss_mb_refactored"])
    size = fleet_size(load_scenario(fleet))
    points: GrowthPoints = {size["scenario"]: (size["servers"], measured[provisional])}
    if early_growth:
        with stages.stage("growth fleets"):
            points.update(growth_measurements(support, provisional, early_growth, log))
    if overhead_scenario is not None:
        with stages.stage("recording overhead"):
            log(f"recording overhead on {overhead_scenario.name}: {overhead_runs} unrecorded and recorded runs ...")
            results["recording_overhead"] = recording_overhead(
                load_scenario(overhead_scenario), overhead_runs
            ).summary()
    with stages.stage("waiting for the background recording"):
        stages.seconds["background recording, in all"] = round(background.wait(), 1)
    memory_recording = stages.recording(memory_fleet, cache_dir) if memory_fleet is not None else None
    late_growth = [(path, memory_recording) for path in growth_fleets if memory_recording and path == memory_fleet]
    if memory_recording is not None and memory_fleet is not None:
        with stages.stage("memory fleet, its growth replays beside it"), ThreadPoolExecutor(max_workers=2) as pool:
            memory = pool.submit(memory_results, support, memory_fleet, memory_recording, log)
            points.update(growth_measurements(support, provisional, late_growth, log))
            results["memory_fleet"] = memory.result()
    memory_rss = _lookup(results, "memory_fleet.sync_rss_mb_refactored")
    recommended = _recommended(results, memory_rss or results["sync_rss_mb_refactored"])
    if recommended != provisional and len(points) > 1:
        log(f"the memory fleet moves the recommendation to {recommended} MB: the growth fleets again at that size")
        with stages.stage("growth fleets at the recommended memory"):
            points = {size["scenario"]: (size["servers"], measured[recommended])}
            points.update(growth_measurements(support, recommended, [*early_growth, *late_growth], log))
    if len(points) > 1:
        results["growth"] = growth_results(recommended, points)
    results["recordings"].update({rec.scenario: rec.summary() for _, rec in [*early_growth, *late_growth]})
    results["code_lines"] = sync_code_lines()
    results["verdicts"] = verdicts(results)
    out_dir.mkdir(parents=True, exist_ok=True)
    if timeline:
        with stages.stage("pictures"):
            _draw(results, measured[headline], limit_s, out_dir)
    results["stages_s"] = stages.seconds
    results["bench_s"] = round(time.perf_counter() - started, 1)
    # Timings stretch when other work competes for the CPUs: say how busy the machine was.
    results["machine"] = {
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": _load_average(),
    }
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


def _draw(results: dict[str, Any], measurements: dict[str, Measurement], limit_s: float, out_dir: Path) -> None:
    """timeline.png from the headline replays; memory.png from the sweep, when there is one."""
    from harness.bench.memory_plot import draw_memory_plot
    from harness.bench.timeline import TimelineRun, draw_timeline

    fleet_info = results["fleet"]
    at = results["measured_at_memory_mb"]
    title = (
        f"{fleet_info['scenario']} ({fleet_info['servers']:,} servers) at {at or 'unconstrained'} MB: legacy "
        f"{results['legacy_s']:.1f} s, refactored {results['refactored_s']:.1f} s (x{results['speedup']:.2f}), "
        f"write-bound limit {limit_s:.1f} s"
    )
    runs = [TimelineRun(impl, measurements[impl].elapsed_s, measurements[impl].spans) for impl in IMPLS]
    draw_timeline(runs, limit_s, out_dir / "timeline.png", title)
    if results.get("memory_sweep"):
        draw_memory_plot(results["memory_sweep"], results["recommendation"], out_dir / "memory.png", fleet_info)


def main(argv: list[str] | None = None) -> int:
    """`python -m harness.bench`: run the bench, print the table; exit 1 if the write sequences differ."""
    parser = argparse.ArgumentParser(description="Legacy vs refactored sync over a fleet, replayed with latency.")
    parser.add_argument("--fleet", type=Path, default=FLEET)
    parser.add_argument("--memory-fleet", type=Path, default=MEMORY_FLEET)
    parser.add_argument("--overhead-scenario", type=Path, default=OVERHEAD_SCENARIO)
    parser.add_argument("--overhead-runs", type=int, default=3)
    parser.add_argument(
        "--memory-sizes", type=lambda text: [int(part) for part in text.split(",")], default=list(MEMORY_SIZES_MB)
    )
    parser.add_argument("--skip-memory", action="store_true", help="skip the memory fleet")
    parser.add_argument(
        "--growth-fleets",
        type=lambda text: [Path(part) for part in text.split(",") if part],
        default=list(GROWTH_FLEETS),
        help="comma-separated fleet scenarios replayed at the recommended memory besides the sweep's fleet",
    )
    parser.add_argument("--skip-growth", action="store_true", help="skip the growth fleets")
    parser.add_argument("--skip-overhead", action="store_true", help="skip the recording overhead")
    parser.add_argument("--no-timeline", action="store_true", help="do not draw timeline.png and memory.png")
    parser.add_argument("--out-dir", type=Path, default=BENCH_DIR)
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    args = parser.parse_args(argv)
    results = run_bench(
        fleet=args.fleet,
        memory_fleet=None if args.skip_memory else args.memory_fleet,
        growth_fleets=() if args.skip_growth else args.growth_fleets,
        memory_sizes=args.memory_sizes,
        overhead_scenario=None if args.skip_overhead else args.overhead_scenario,
        overhead_runs=args.overhead_runs,
        out_dir=args.out_dir,
        cache_dir=args.cache_dir,
        timeline=not args.no_timeline,
    )
    print()
    print(table(results))
    pictures = "" if args.no_timeline else f", {args.out_dir / 'timeline.png'}, {args.out_dir / 'memory.png'}"
    print(f"\nresults: {args.out_dir / 'results.json'}{pictures}")
    return 0 if results["writes_equivalent"] else 1
