"""Divergence reports for people: a terminal block per golden, a gate table, and the same as Markdown for CI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.comparison import Comparison, Difference

MAX_DIFFERENCES_SHOWN = 5


@dataclass(frozen=True)
class GateRow:
    """One golden's line in the gate table."""

    golden: str
    scenario: str
    schedule: str
    comparison: Comparison | None
    error: str | None = None

    @property
    def verdict(self) -> str:
        """`equivalent`, `DIVERGENT` or `ERROR`."""
        if self.error is not None:
            return "ERROR"
        assert self.comparison is not None
        return "equivalent" if self.comparison.equivalent else "DIVERGENT"


def describe_comparison(title: str, comparison: Comparison) -> str:
    """A terminal block: the verdict, then each difference with its details indented."""
    verdict = "equivalent" if comparison.equivalent else "DIVERGENT"
    lines = [f"{title}: {verdict} ({comparison.calls} calls, {comparison.writes} writes)"]
    for difference in comparison.differences[:MAX_DIFFERENCES_SHOWN]:
        lines.extend(_difference_lines(difference))
    hidden = len(comparison.differences) - MAX_DIFFERENCES_SHOWN
    if hidden > 0:
        lines.append(f"  ... {hidden} more differences")
    return "\n".join(lines)


def _difference_lines(difference: Difference) -> list[str]:
    """One difference as indented lines."""
    return [f"  [{difference.kind}] {difference.summary}", *(f"      {detail}" for detail in difference.details)]


def gate_table(rows: Sequence[GateRow]) -> str:
    """The gate's terminal table: golden, schedule, calls, writes, verdict."""
    header = ("golden", "schedule", "calls", "writes", "verdict")
    body = [
        (
            row.golden,
            row.schedule,
            str(row.comparison.calls) if row.comparison else "-",
            str(row.comparison.writes) if row.comparison else "-",
            row.verdict,
        )
        for row in rows
    ]
    widths = [max(len(cells[i]) for cells in [header, *body]) for i in range(len(header))]
    rendered = [
        "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) for cells in [header, *body]
    ]
    rendered.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(rendered)


def gate_markdown(rows: Sequence[GateRow], impl: str) -> str:
    """The gate as Markdown: a summary line, the table, then the details of every failing golden."""
    failing = [row for row in rows if row.verdict != "equivalent"]
    status = "all equivalent" if not failing else f"{len(failing)} of {len(rows)} goldens not equivalent"
    lines = [
        f"## Equivalence gate: `{impl}` — {status}",
        "",
        "| golden | schedule | calls | writes | verdict |",
        "|---|---|---:|---:|---|",
    ]
    for row in rows:
        calls = str(row.comparison.calls) if row.comparison else "-"
        writes = str(row.comparison.writes) if row.comparison else "-"
        mark = "✅" if row.verdict == "equivalent" else "❌"
        lines.append(f"| `{row.golden}` | {row.schedule} | {calls} | {writes} | {mark} {row.verdict} |")
    for row in failing:
        lines += ["", f"### `{row.golden}`", "", "```"]
        lines.append(row.error if row.error else describe_comparison(row.golden, row.comparison))  # type: ignore[arg-type]
        lines.append("```")
    return "\n".join(lines) + "\n"
