"""What a run costs on Lambda, which memory size to configure, and how run time grows with the estate.

- **Billing** (public x86 price): duration x memory in GB-seconds at `USD_PER_GB_S`, plus `USD_PER_REQUEST` per
  invocation; the duration is billed in whole milliseconds, rounded up. A month is 30 days of the template's
  schedule (`runs_per_month`, from `template.yaml`'s `rate(...)` expression).
- **Recommendation**: among the sizes whose memory holds the sync (`min_memory_mb`: the sync's resident memory at
  the largest measured estate, with headroom), the cheapest per run whose refactored time is within
  `RECOMMEND_WITHIN` (10%) of the fastest refactored time measured. Below that the sync's own CPU decides and the
  run stretches; above it more memory buys almost no speed and costs more.
- **Growth**: a least-squares line through (servers, seconds) at one memory size: the slope as seconds per 1,000
  servers, and where the line crosses Lambda's 900-second limit. Past the largest fleet measured that is an
  extrapolation, and is reported as one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

USD_PER_GB_S = 0.0000166667
USD_PER_REQUEST = 0.20 / 1_000_000
LAMBDA_TIMEOUT_S = 900.0
RECOMMEND_WITHIN = 0.10
# Headroom over the sync's measured resident memory for the smallest size the recommendation may pick.
MEMORY_HEADROOM = 1.5
_RATE = re.compile(r"Schedule:\s*rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)")
_MINUTES = {"minute": 1, "hour": 60, "day": 1440}


@dataclass(frozen=True)
class Schedule:
    """How often the function runs: the template's rate expression and the runs in a 30-day month."""

    expression: str
    minutes: int

    @property
    def runs_per_month(self) -> int:
        """Invocations in 30 days."""
        return 30 * 24 * 60 // self.minutes


def template_schedule(template: Path) -> Schedule:
    """The sync's schedule from `template.yaml` (its `Schedule: rate(N unit)`), or a ValueError naming the file."""
    text = template.read_text(encoding="utf-8")
    match = _RATE.search(text)
    if match is None:
        raise ValueError(f"{template}: no 'Schedule: rate(N minutes|hours|days)' found for the sync's schedule")
    count, unit = int(match.group(1)), match.group(2).rstrip("s")
    return Schedule(f"rate({count} {match.group(2)})", count * _MINUTES[unit])


def billed_gb_s(duration_s: float, memory_mb: int) -> float:
    """GB-seconds Lambda bills for one run: the duration in whole milliseconds, rounded up, times the memory."""
    return math.ceil(duration_s * 1000) / 1000 * memory_mb / 1024


def cost_per_run_usd(duration_s: float, memory_mb: int) -> float:
    """USD for one invocation: compute plus the request charge."""
    return billed_gb_s(duration_s, memory_mb) * USD_PER_GB_S + USD_PER_REQUEST


def run_cost(wall_s: float, cpu_s: float, memory_mb: int, schedule: Schedule) -> dict[str, Any]:
    """One implementation at one memory size as results.json reports it: time, CPU, GB-seconds and cost."""
    per_run = cost_per_run_usd(wall_s, memory_mb)
    return {
        "wall_s": round(wall_s, 3),
        "cpu_s": round(cpu_s, 3),
        "billed_gb_s": round(billed_gb_s(wall_s, memory_mb), 3),
        "cost_per_run_usd": round(per_run, 8),
        "cost_per_month_usd": round(per_run * schedule.runs_per_month, 6),
    }


def recommend(sweep: Sequence[Mapping[str, Any]], min_memory_mb: float = 0.0) -> dict[str, Any]:
    """The memory to configure from the sweep's refactored figures (see the module docstring for the rule).

    `sweep` holds one entry per memory size with `memory_mb` and `refactored` (`wall_s`, `cost_per_run_usd`).
    """
    if not sweep:
        raise ValueError("no memory sizes measured: nothing to recommend")
    fastest = min(entry["refactored"]["wall_s"] for entry in sweep)
    bound = fastest * (1 + RECOMMEND_WITHIN)
    fits = [entry for entry in sweep if entry["memory_mb"] >= min_memory_mb] or list(sweep)
    candidates = [entry for entry in fits if entry["refactored"]["wall_s"] <= bound]
    if not candidates:  # the fastest size is below the memory floor: take the fastest that fits
        candidates = [min(fits, key=lambda entry: entry["refactored"]["wall_s"])]
    chosen = min(candidates, key=lambda entry: (entry["refactored"]["cost_per_run_usd"], entry["memory_mb"]))
    refactored = chosen["refactored"]
    return {
        "memory_mb": chosen["memory_mb"],
        "rule": (
            f"cheapest per run among the sizes whose refactored time is within {RECOMMEND_WITHIN:.0%} of the "
            f"fastest ({fastest:.2f} s, so at most {bound:.2f} s) and whose memory is at least "
            f"{min_memory_mb:.0f} MB ({MEMORY_HEADROOM}x the sync's resident memory at the largest fleet)"
        ),
        "fastest_refactored_s": round(fastest, 3),
        "refactored_s": refactored["wall_s"],
        "cost_per_run_usd": refactored["cost_per_run_usd"],
        "cost_per_month_usd": refactored["cost_per_month_usd"],
        "candidates_mb": [entry["memory_mb"] for entry in candidates],
    }


def growth(points: Sequence[tuple[int, float]]) -> dict[str, Any]:
    """Seconds per 1,000 servers and the largest estate within Lambda's 900 s, from a line through the points.

    `points` are (servers, seconds) at one memory size. The estate limit extrapolates the line beyond the largest
    fleet measured (`extrapolated` says whether it does).
    """
    if len(points) < 2:
        raise ValueError(f"a growth line needs at least two fleet sizes, got {len(points)}")
    count = len(points)
    mean_x = sum(x for x, _ in points) / count
    mean_y = sum(y for _, y in points) / count
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        raise ValueError("a growth line needs fleets of different sizes")
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    intercept = mean_y - slope * mean_x
    largest: int | None = int((LAMBDA_TIMEOUT_S - intercept) / slope) if slope > 0 else None
    return {
        "seconds_per_1000_servers": round(slope * 1000, 3),
        "intercept_s": round(intercept, 3),
        "largest_estate_within_900_s": largest,
        "extrapolated": largest is None or largest > max(x for x, _ in points),
    }
