"""Gate reports for people and for CI: a terminal block per golden, the gate table, Markdown, and JUnit XML.

A golden whose every difference an approved divergence covers passes as `approved (<names>)`, and its report lists
the divergences and what each covered; any uncovered difference is reported as before. The Markdown report fits a
pull-request comment whatever the number of goldens; the JUnit file has one test case per golden.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.comparison import Comparison, Difference
from harness.divergences import Triage

MAX_DIFFERENCES_SHOWN = 5


@dataclass(frozen=True)
class ApprovedUse:
    """One approved divergence as it covered a golden's differences: its name, defect, description and how many."""

    name: str
    defect: int
    description: str
    covered: int


@dataclass(frozen=True)
class GateRow:
    """One golden's verdict, as plain data (it crosses process boundaries when the gate runs in parallel).

    `verdict` is `equivalent`, `approved (<names>)`, `DIVERGENT`, `STALE` (its scenario or the legacy changed since
    it was recorded; `record_command` re-records it), `EDITED` (its content is not what the recorder wrote and
    sealed: `harness.golden_seals`) or `ERROR` (the golden cannot be used, or its replay could not be judged).
    `first_difference` is one line saying why a failing golden fails; `details` is its terminal block.
    """

    golden: str
    scenario: str
    schedule: str
    verdict: str
    passed: bool
    calls: int | None = None
    writes: int | None = None
    uses: tuple[ApprovedUse, ...] = ()
    first_difference: str = ""
    details: str = ""
    seconds: float = 0.0
    record_command: str | None = None

    @classmethod
    def judged(cls, golden: str, header: dict[str, Any], triage: Triage, seconds: float = 0.0) -> GateRow:
        """The row of a golden replayed and triaged against the approved divergences."""
        comparison = triage.comparison
        uses = tuple(
            ApprovedUse(
                divergence.name, divergence.defect, divergence.description, len(triage.covered_by(divergence.name))
            )
            for divergence in (triage.approved if triage.passed else ())
        )
        first = "" if triage.passed or not triage.uncovered else _one_line(triage.uncovered[0])
        return cls(
            golden,
            str(header["scenario"]["name"]),
            str(header["schedule"]),
            triage.label,
            triage.passed,
            comparison.calls,
            comparison.writes,
            uses,
            first,
            describe_triage(golden, triage),
            seconds,
        )

    @classmethod
    def stale(cls, golden: str, header: dict[str, Any], reason: str, command: str | None) -> GateRow:
        """The row of a golden that no longer stands for its scenario: not replayed, and failing the gate."""
        how = (
            f"re-record it with: {command}" if command else "re-record it (see README, Re-record against a dev account)"
        )
        more = "(or every stale golden of golden/ at once: make goldens)"
        return cls.not_replayed(golden, header, "STALE", reason, f"{how}\n  {more}", command)

    @classmethod
    def edited(cls, golden: str, header: dict[str, Any], reason: str, command: str | None) -> GateRow:
        """The row of a golden changed since the recorder wrote it: not replayed, and failing the gate."""
        how = f"restore it (git checkout), or re-record it from the legacy: {command}" if command else "restore it"
        return cls.not_replayed(golden, header, "EDITED", reason, how, command)

    @classmethod
    def not_replayed(
        cls, golden: str, header: dict[str, Any], verdict: str, reason: str, how: str, command: str | None
    ) -> GateRow:
        """A failing row of a golden the gate does not replay (`verdict` STALE or EDITED), saying why and what to do."""
        return cls(
            golden,
            str(header["scenario"]["name"]),
            str(header["schedule"]),
            verdict,
            False,
            first_difference=f"{verdict.lower()}: {reason}",
            details=f"{golden}: {verdict}: {reason}\n  {how}",
            record_command=command,
        )

    @classmethod
    def error(cls, golden: str, message: str) -> GateRow:
        """The row of a golden that cannot be used (unreadable, malformed) or whose replay could not be judged."""
        return cls(golden, "?", "?", "ERROR", False, first_difference=message.splitlines()[0], details=message)

    @property
    def approved(self) -> bool:
        """True when the row passes thanks to approved divergences (it is not plainly equivalent)."""
        return self.passed and self.verdict != "equivalent"

    @property
    def approved_names(self) -> tuple[str, ...]:
        """The names of the approved divergences that covered this golden's differences."""
        return tuple(use.name for use in self.uses)

    @property
    def kind(self) -> str:
        """The verdict without the divergence names: equivalent, approved, DIVERGENT, STALE, EDITED or ERROR."""
        return "approved" if self.approved else self.verdict

    def describe(self) -> str:
        """The row's terminal block: the triage, the staleness or the error."""
        return self.details


def _one_line(difference: Difference) -> str:
    """A difference as one line: its kind, summary and first detail."""
    detail = f": {difference.details[0].strip()}" if difference.details else ""
    return f"[{difference.kind}] {difference.summary}{detail}"


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
    body = [(row.golden, row.schedule, _count(row.calls), _count(row.writes), row.verdict) for row in rows]
    widths = [max(len(cells[i]) for cells in [header, *body]) for i in range(len(header))]
    rendered = [
        "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) for cells in [header, *body]
    ]
    rendered.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(rendered)


def _count(value: int | None) -> str:
    """A count for a table cell, `-` when the golden was not replayed."""
    return "-" if value is None else str(value)


def gate_summary(rows: Sequence[GateRow], impl: str) -> str:
    """The gate's last line: how many goldens are equivalent, pass with which approved divergences, or fail how."""
    equivalent = sum(1 for row in rows if row.verdict == "equivalent")
    line = f"gate: {equivalent} of {len(rows)} goldens equivalent"
    approved = [row for row in rows if row.approved]
    if approved:
        names = sorted({name for row in approved for name in row.approved_names})
        line += f", {len(approved)} with approved divergences ({', '.join(names)})"
    failing = ("DIVERGENT", "STALE", "EDITED", "ERROR")
    failed = [f"{count} {verdict}" for verdict in failing if (count := _counted(rows, verdict))]
    return f"{line} for impl {impl!r}" + (f": {', '.join(failed)}" if failed else "")


def _counted(rows: Sequence[GateRow], verdict: str) -> int:
    """How many rows have this verdict."""
    return sum(1 for row in rows if row.verdict == verdict)


# A pull-request comment holds 65,536 characters: the report stays under this whatever the number of goldens.
MAX_REPORT_CHARS = 65_000
MAX_DETAILS_CHARS = 6_000
_MARKS = {"equivalent": "✅", "approved": "☑️", "DIVERGENT": "❌", "STALE": "⏳", "EDITED": "✏️", "ERROR": "⚠️"}
_ROOM_FOR_NOTES = 400


def gate_markdown(rows: Sequence[GateRow], impl: str, limit: int = MAX_REPORT_CHARS) -> str:
    """The gate as Markdown for CI, always under `limit` characters.

    In order: a status line; the summary table (goldens per verdict); each approved divergence explained once (how
    many goldens and differences it covered); each failing golden's details in a `<details>` block; every golden's
    row in a `<details>` table. What does not fit is left out with a note saying how much, failing goldens first.
    """
    failing = [row for row in rows if not row.passed]
    approved = [row for row in rows if row.approved]
    if failing:
        status = f"{len(failing)} of {len(rows)} goldens fail"
    elif approved:
        status = f"all pass, {len(approved)} of {len(rows)} with approved divergences"
    else:
        status = "all equivalent"
    head = [f"## Equivalence gate: `{impl}` — {status}", "", "| verdict | goldens |", "|---|---:|"]
    head += [f"| {mark} {kind} | {sum(1 for row in rows if row.kind == kind)} |" for kind, mark in _MARKS.items()]
    head += _approved_section(approved, limit // 4)
    parts = ["\n".join(head) + "\n"]
    budget = limit - len(parts[0]) - _ROOM_FOR_NOTES
    failures, budget = _fitting([_failure_block(row) for row in failing], budget)
    parts += failures
    if len(failures) < len(failing):
        parts.append(
            f"\n_{len(failing) - len(failures)} more failing goldens not shown (report size limit): see the gate's "
            "output or its JUnit file._\n"
        )
    table_head = f"\n<details><summary>All {len(rows)} goldens</summary>\n\n"
    table_head += "| golden | schedule | calls | writes | verdict |\n|---|---|---:|---:|---|\n"
    lines = [
        f"| `{row.golden}` | {row.schedule} | {_count(row.calls)} | {_count(row.writes)} | "
        f"{_MARKS[row.kind]} {row.verdict} |\n"
        for row in rows
    ]
    listed, budget = _fitting(lines, budget - len(table_head))
    parts += [table_head, *listed]
    if len(listed) < len(lines):
        parts.append(f"\n_{len(lines) - len(listed)} more goldens not listed (report size limit)._\n")
    parts.append("\n</details>\n")
    return "".join(parts)


def _fitting(pieces: Sequence[str], budget: int) -> tuple[list[str], int]:
    """The leading pieces that fit in `budget` characters, and the budget left."""
    kept: list[str] = []
    for piece in pieces:
        if len(piece) > budget:
            break
        kept.append(piece)
        budget -= len(piece)
    return kept, budget


def _approved_section(approved: Sequence[GateRow], limit: int) -> list[str]:
    """Each approved divergence once: its defect, description, and how many goldens and differences it covered."""
    if not approved:
        return []
    explained: dict[str, tuple[ApprovedUse, int, int]] = {}
    for row in approved:
        for use in row.uses:
            _, goldens, differences = explained.get(use.name, (use, 0, 0))
            explained[use.name] = (use, goldens + 1, differences + use.covered)
    lines = ["", "### Approved divergences", ""]
    each = max(200, limit // max(1, len(explained)))
    for use, goldens, differences in explained.values():
        golden_count = f"{goldens} golden" + ("s" if goldens != 1 else "")
        line = f"- **{use.name}** (defect {use.defect}, {differences} differences) in {golden_count}: "
        lines.append((line + use.description)[:each])
    return lines


def _failure_block(row: GateRow) -> str:
    """One failing golden as a `<details>` block: the verdict and first difference as its summary, then the details."""
    details = row.describe()
    if len(details) > MAX_DETAILS_CHARS:
        details = details[:MAX_DETAILS_CHARS] + "\n... (cut here: the report keeps each golden's details short)"
    details = details.replace("```", "` ` `")
    summary = html.escape(f"{row.golden}: {row.verdict} — {row.first_difference}"[:300])
    return f"\n<details><summary>{_MARKS[row.kind]} {summary}</summary>\n\n```\n{details}\n```\n\n</details>\n"


def gate_junit(rows: Sequence[GateRow], impl: str) -> str:
    """The gate as JUnit XML: one test case per golden, a failure (message: the first difference) for each failing."""
    failures = sum(1 for row in rows if not row.passed and row.verdict != "ERROR")
    errors = sum(1 for row in rows if row.verdict == "ERROR")
    suite = ElementTree.Element(
        "testsuite",
        name=f"equivalence-gate[{impl}]",
        tests=str(len(rows)),
        failures=str(failures),
        errors=str(errors),
        skipped="0",
        time=f"{sum(row.seconds for row in rows):.3f}",
    )
    for row in rows:
        case = ElementTree.SubElement(
            suite, "testcase", classname=f"gate.{impl}", name=row.golden, time=f"{row.seconds:.3f}"
        )
        if row.passed:
            if row.approved:
                ElementTree.SubElement(case, "system-out").text = row.verdict
            continue
        tag = "error" if row.verdict == "ERROR" else "failure"
        failure = ElementTree.SubElement(case, tag, message=row.first_difference or row.verdict, type=row.verdict)
        failure.text = row.describe()
    root = ElementTree.Element("testsuites")
    root.append(suite)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"
