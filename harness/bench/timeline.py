"""`bench/timeline.png`: every AWS call of each replayed run as a bar, implementations one above the other.

Each implementation gets a panel on the same time axis; inside it a lane per kind of call (STS, DRS, EC2,
DynamoDB reads, DynamoDB writes), coloured by service, writes in their own red lane. Calls that overlap in time
are stacked on thin sub-rows of their lane, so concurrency shows as height. Every lane's label carries its busy
time (the union of its calls' spans). The write-bound limit is a vertical line across both panels: the writes
lane of a fast run is a nearly solid bar ending close to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.bench.measure import CallSpan

# (lane key, label, colour); writes are marked by their own lane and colour.
LANES: tuple[tuple[str, str, str], ...] = (
    ("sts", "STS", "#7b3294"),
    ("drs", "DRS", "#e66101"),
    ("ec2", "EC2", "#2c7bb6"),
    ("dynamodb-read", "DynamoDB reads", "#1a9641"),
    ("dynamodb-write", "DynamoDB writes", "#d7191c"),
)
# Bars narrower than this fraction of the time axis are widened to it, so 5 ms calls stay visible.
MIN_BAR_FRACTION = 0.0008


@dataclass(frozen=True)
class TimelineRun:
    """One implementation's run to draw: its name, how long it took, and its calls."""

    impl: str
    elapsed_s: float
    spans: Sequence[CallSpan]


def lane_of(span: CallSpan) -> str:
    """The lane a call is drawn in."""
    if span.service == "dynamodb":
        return "dynamodb-write" if span.write else "dynamodb-read"
    return span.service


def pack_rows(spans: Sequence[CallSpan]) -> list[int]:
    """A sub-row for every span (in the given order) such that spans on one row never overlap; lowest row first."""
    order = sorted(range(len(spans)), key=lambda index: (spans[index].start, spans[index].end))
    row_ends: list[float] = []
    rows = [0] * len(spans)
    for index in order:
        span = spans[index]
        for row, end in enumerate(row_ends):
            if end <= span.start:
                row_ends[row] = span.end
                rows[index] = row
                break
        else:
            rows[index] = len(row_ends)
            row_ends.append(span.end)
    return rows


def busy_seconds(spans: Sequence[CallSpan]) -> float:
    """Seconds during which at least one of the spans was in flight."""
    total = 0.0
    current_start: float | None = None
    current_end = 0.0
    for span in sorted(spans, key=lambda item: item.start):
        if current_start is None or span.start > current_end:
            if current_start is not None:
                total += current_end - current_start
            current_start, current_end = span.start, span.end
        else:
            current_end = max(current_end, span.end)
    if current_start is not None:
        total += current_end - current_start
    return total


def draw_timeline(runs: Sequence[TimelineRun], limit_s: float, path: Path, title: str) -> Path:
    """Draw the runs one above the other on one time axis, with the write-bound limit, into a PNG at `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.artist import Artist
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    horizon = max([run.elapsed_s for run in runs] + [limit_s]) * 1.03
    min_width = horizon * MIN_BAR_FRACTION
    figure, axes = plt.subplots(
        len(runs), 1, sharex=True, figsize=(14, 2.0 + 2.2 * len(runs)), squeeze=False, constrained_layout=True
    )
    for axis, run in zip(axes[:, 0], runs, strict=True):
        labels: list[str] = []
        for position, (lane, label, colour) in enumerate(LANES):
            spans = [span for span in run.spans if lane_of(span) == lane]
            rows = pack_rows(spans)
            depth = max(rows, default=0) + 1
            height = 0.8 / depth
            base = len(LANES) - 1 - position  # first lane on top
            by_row: dict[int, list[tuple[float, float]]] = {}
            for span, row in zip(spans, rows, strict=True):
                by_row.setdefault(row, []).append((span.start, max(span.end - span.start, min_width)))
            for row, bars in by_row.items():
                axis.broken_barh(bars, (base - 0.4 + row * height, height * 0.9), facecolors=colour, linewidth=0)
            labels.append(f"{label}\n{len(spans)} calls, busy {busy_seconds(spans):.1f} s")
        axis.set_yticks(range(len(LANES)))
        axis.set_yticklabels(list(reversed(labels)), fontsize=8)
        axis.set_ylim(-0.6, len(LANES) - 0.4)
        axis.axvline(limit_s, color="black", linestyle="--", linewidth=1.2)
        axis.axvline(run.elapsed_s, color="grey", linestyle=":", linewidth=1.2)
        axis.text(
            run.elapsed_s,
            len(LANES) - 0.45,
            f" done {run.elapsed_s:.1f} s",
            fontsize=9,
            va="top",
            ha="left" if run.elapsed_s < horizon * 0.85 else "right",
        )
        axis.set_title(f"{run.impl}: {run.elapsed_s:.1f} s", loc="left", fontsize=11, fontweight="bold")
        axis.grid(axis="x", alpha=0.3)
    axes[-1, 0].set_xlim(0, horizon)
    axes[-1, 0].set_xlabel("seconds since the sync started (replayed, each call sleeping as long as AWS would)")
    handles: list[Artist] = [Patch(color=colour, label=label) for _, label, colour in LANES]
    handles.append(Line2D([], [], color="black", linestyle="--", label=f"write-bound limit {limit_s:.1f} s"))
    figure.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=9, frameon=False)
    figure.suptitle(title, fontsize=12)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
