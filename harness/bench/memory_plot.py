"""`bench/memory.png`: run time and monthly cost against the configured memory, both implementations.

Two panels over the swept memory sizes (log scale, Lambda's CPU share memory / 1769 vCPU): seconds per run, and USD
per 30-day month at the template's schedule. The recommended size is a vertical line across both, labelled with
its time and cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

COLOURS = {"legacy": "#d95f02", "refactored": "#1b9e77"}


def draw_memory_plot(
    sweep: Sequence[Mapping[str, Any]], recommendation: Mapping[str, Any], path: Path, fleet: Mapping[str, Any]
) -> Path:
    """Draw time and cost against memory for each implementation in `sweep`, the recommendation marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [entry["memory_mb"] for entry in sweep]
    figure, (time_axis, cost_axis) = plt.subplots(1, 2, figsize=(13, 5), constrained_layout=True)
    for impl, colour in COLOURS.items():
        walls = [entry[impl]["wall_s"] for entry in sweep]
        costs = [entry[impl]["cost_per_month_usd"] for entry in sweep]
        time_axis.plot(sizes, walls, marker="o", color=colour, label=impl)
        cost_axis.plot(sizes, costs, marker="o", color=colour, label=impl)
        for size, wall, cost in zip(sizes, walls, costs, strict=True):
            time_axis.annotate(f"{wall:.1f}", (size, wall), textcoords="offset points", xytext=(4, 4), fontsize=8)
            cost_axis.annotate(f"{cost:.2f}", (size, cost), textcoords="offset points", xytext=(4, 4), fontsize=8)
    chosen = recommendation["memory_mb"]
    for axis, label in (
        (time_axis, f"recommended {chosen} MB: {recommendation['refactored_s']:.1f} s"),
        (cost_axis, f"recommended {chosen} MB: ${recommendation['cost_per_month_usd']:.2f}/month"),
    ):
        axis.axvline(chosen, color="black", linestyle="--", linewidth=1.2, label=label)
        axis.set_xscale("log")
        axis.set_xticks(sizes)
        axis.set_xticklabels([f"{size}\n({size / 1769:.2f} vCPU)" for size in sizes], fontsize=8)
        axis.set_xlabel("configured memory, MB (CPU share)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=9)
    time_axis.set_ylabel("seconds per run (replayed with AWS latency)")
    time_axis.set_ylim(bottom=0)
    cost_axis.set_ylabel("USD per 30-day month (GB-seconds + requests)")
    cost_axis.set_ylim(bottom=0)
    figure.suptitle(
        f"{fleet['scenario']} ({fleet['servers']:,} servers) under Lambda's CPU share of each memory size", fontsize=12
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
