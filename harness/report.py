"""Divergence reports for people: a terminal block per golden, a gate table, and the same as Markdown for CI.

A golden whose every difference an approved divergence covers passes as `approved (<names>)`, and its report lists
the divergences and what each covered; any uncovered difference is reported as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.comparison import Comparison, Difference
from harness.divergences import Triage

MAX_DIFFERENCES_SHOWN = 5


@dataclass(frozen=True)
class GateRow:
    """One golden's line in the gate table (`triage` set when approved divergences were consulted)."""

    golden: str
    scenario: str
    schedule: str
    comparison: Comparison | None
    error: str | None = None
    triage: Triage | None = None

    @property
    def verdict(self) -> str:
        """`equivalent`, `approved (<names>)`, `DIVERGENT` or `ERROR`."""
        if self.error is not None:
            return "ERROR"
        if self.triage is not None:
            return self.triage.label
        assert self.comparison is not None
        return "equivalent" if self.comparison.equivalent else "DIVERGENT"

    @property
    def passed(self) -> bool:
        """True when equivalent, or when every difference is covered by an approved divergence."""
        if self.error is not None:
            return False
        if self.triage is not None:
            return self.triage.passed
        assert self.comparison is not None
        return self.comparison.equivalent

    @property
    def approved(self) -> bool:
        """True when the row passes thanks to approved divergences (it is not plainly equivalent)."""
        return self.passed and self.verdict != "equivalent"

    def describe(self) -> str:
        """The row's terminal block: the error, the triage, or the comparison."""
        if self.error is not None:
            return self.error
        if self.triage is not None:
            return describe_triage(self.golden, self.triage)
        assert self.comparison is not None
        return describe_comparison(self.golden, self.comparison)


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


def describe_triage(title: str, triage: Triage) -> str:
    """A terminal block for a comparison judged against approved divergences.

    Equivalent: as `describe_comparison`. Approved: the divergences that covered the differences, each with its
    defect, description and the differences it covered. Divergent: only the uncovered differences (and, after
    them, which divergences covered the rest).
    """
    comparison = triage.comparison
    if comparison.equivalent and triage.passed:
        return describe_comparison(title, comparison)
    sizes = f"({comparison.calls} calls, {comparison.writes} writes)"
    if triage.passed:
        names = ", ".join(divergence.name for divergence in triage.approved)
        lines = [f"{title}: equivalent with approved divergences: {names} {sizes}"]
    else:
        lines = [f"{title}: DIVERGENT {sizes}"]
        for difference in triage.uncovered[:MAX_DIFFERENCES_SHOWN]:
            lines.extend(_difference_lines(difference))
        hidden = len(triage.uncovered) - MAX_DIFFERENCES_SHOWN
        if hidden > 0:
            lines.append(f"  ... {hidden} more differences")
        if any(difference.kind == "unrecorded" for difference in triage.uncovered) and triage.divergences:
            lines.append(
                "  (an approved divergence whose fix makes a new call must declare its answer: ApprovedDivergence"
                ".answers)"
            )
    for divergence in triage.approved:
        covered = triage.covered_by(divergence.name)
        lines.append(
            f"  approved {divergence.name} (defect {divergence.defect}): {len(covered)} differences covered"
            f" — {divergence.description}"
        )
        for difference in covered[:MAX_DIFFERENCES_SHOWN]:
            body_lines = [detail for detail in difference.details if detail.startswith("body[")]
            lines.append(f"      {difference.summary}" + (f": {'; '.join(body_lines)}" if body_lines else ""))
        if len(covered) > MAX_DIFFERENCES_SHOWN:
            lines.append(f"      ... {len(covered) - MAX_DIFFERENCES_SHOWN} more")
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
    """The gate as Markdown: a summary line, the table, the details of every failing golden, then the approved ones."""
    failing = [row for row in rows if not row.passed]
    approved = [row for row in rows if row.approved]
    if failing:
        status = f"{len(failing)} of {len(rows)} goldens not equivalent"
    elif approved:
        status = f"all pass, {len(approved)} of {len(rows)} with approved divergences"
    else:
        status = "all equivalent"
    lines = [
        f"## Equivalence gate: `{impl}` — {status}",
        "",
        "| golden | schedule | calls | writes | verdict |",
        "|---|---|---:|---:|---|",
    ]
    for row in rows:
        calls = str(row.comparison.calls) if row.comparison else "-"
        writes = str(row.comparison.writes) if row.comparison else "-"
        mark = "✅" if row.verdict == "equivalent" else ("☑️" if row.passed else "❌")
        lines.append(f"| `{row.golden}` | {row.schedule} | {calls} | {writes} | {mark} {row.verdict} |")
    for row in failing:
        lines += ["", f"### `{row.golden}`", "", "```", row.describe(), "```"]
    if approved:
        lines += ["", "### Approved divergences"]
    for row in approved:
        assert row.triage is not None
        lines += ["", f"`{row.golden}`:", ""]
        for divergence in row.triage.approved:
            covered = len(row.triage.covered_by(divergence.name))
            lines.append(
                f"- **{divergence.name}** (defect {divergence.defect}, {covered} differences): {divergence.description}"
            )
    return "\n".join(lines) + "\n"
