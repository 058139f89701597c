"""The gate's Markdown report fits a pull-request comment for any number of goldens; its JUnit file is well formed."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest

from harness.report import ApprovedUse, GateRow, gate_junit, gate_markdown

PULL_REQUEST_COMMENT_CHARS = 65_536
USES = tuple(
    ApprovedUse(f"defect-{number}-fixed", number, f"what the fix of defect {number} changes, at length. " * 8, 3)
    for number in range(1, 12)
)


def approved(index: int) -> GateRow:
    """A golden passing with two approved divergences."""
    uses = (USES[index % 11], USES[(index + 1) % 11])
    label = f"approved ({', '.join(use.name for use in uses)})"
    return GateRow(f"approved-{index:05d}.json", f"s{index}", "submission", label, True, 40, 9, uses)


def divergent(index: int) -> GateRow:
    """A failing golden with long details."""
    first = f"[write] missing write #{index}: dynamodb PutItem in us-east-1 as hub"
    details = f"divergent-{index:05d}.json: DIVERGENT\n" + "  [write] a difference, explained\n" * 400
    return GateRow(f"divergent-{index:05d}.json", f"d{index}", "reverse", "DIVERGENT", False, 12, 3, (), first, details)


def many_rows(count: int) -> list[GateRow]:
    """`count` goldens: mostly approved, some equivalent, divergent, stale and unreadable."""
    rows: list[GateRow] = []
    for index in range(count):
        kind = index % 10
        if kind < 6:
            rows.append(approved(index))
        elif kind < 8:
            rows.append(GateRow(f"equivalent-{index:05d}.json", "e", "seed:7", "equivalent", True, 13, 3))
        elif kind == 8:
            rows.append(divergent(index))
        else:
            command = f"python -m harness record --scenario scenarios/s{index}.yaml --out golden/s{index}.json"
            header = {"scenario": {"name": f"s{index}"}, "schedule": "submission"}
            rows.append(GateRow.stale(f"stale-{index:05d}.json", header, "its scenario changed", command))
    return rows


@pytest.mark.parametrize("count", [1, 96, 162, 2_000, 20_000])
def test_the_report_stays_under_a_pull_request_comment_and_starts_with_the_summary_table(count: int) -> None:
    rows = many_rows(count)

    markdown = gate_markdown(rows, "refactored")

    assert len(markdown) < PULL_REQUEST_COMMENT_CHARS
    lines = markdown.splitlines()
    assert lines[0].startswith("## Equivalence gate: `refactored` — ")
    assert lines[2:5] == [
        "| verdict | goldens |",
        "|---|---:|",
        f"| ✅ equivalent | {sum(r.verdict == 'equivalent' for r in rows)} |",
    ]
    assert f"| ☑️ approved | {sum(r.approved for r in rows)} |" in lines
    assert f"| ❌ DIVERGENT | {sum(r.verdict == 'DIVERGENT' for r in rows)} |" in lines
    assert markdown.count("<details>") == markdown.count("</details>")


def test_each_approved_divergence_is_explained_once_however_many_goldens_it_covers() -> None:
    markdown = gate_markdown([approved(index) for index in range(500)], "refactored")

    for use in USES:
        assert markdown.count(f"**{use.name}**") == 1
    assert (
        "- **defect-1-fixed** (defect 1, 273 differences) in 91 goldens: what the fix of defect 1 changes" in markdown
    )
    assert markdown.count("what the fix of defect 1 changes, at length.") == 8


def test_what_does_not_fit_is_left_out_with_a_note_failing_goldens_first() -> None:
    rows = many_rows(20_000)

    markdown = gate_markdown(rows, "refactored")

    failing = sum(not row.passed for row in rows)
    shown = markdown.count("<details><summary>") - 1  # every failing golden's block, then the table's
    assert 0 < shown < failing
    assert f"_{failing - shown} more failing goldens not shown (report size limit)" in markdown
    assert "more goldens not listed (report size limit)" in markdown
    assert markdown.index("<details><summary>❌ divergent-") < markdown.index("<details><summary>All 20000 goldens")


def test_a_failing_golden_is_a_details_block_summarised_by_its_first_difference() -> None:
    markdown = gate_markdown([divergent(3), approved(1)], "refactored")

    summary = (
        "<details><summary>❌ divergent-00003.json: DIVERGENT — [write] missing write #3: dynamodb PutItem in "
        "us-east-1 as hub</summary>"
    )
    assert summary in markdown
    assert "... (cut here: the report keeps each golden's details short)" in markdown
    assert markdown.startswith("## Equivalence gate: `refactored` — 1 of 2 goldens fail\n")


def test_the_junit_file_has_a_test_case_per_golden_with_failures_and_errors() -> None:
    rows = [*many_rows(10), GateRow.error("broken.json", "golden/broken.json: corrupt golden, not JSON (line 1)")]

    suite = ElementTree.fromstring(gate_junit(rows, "refactored")).find("testsuite")

    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("11", "2", "1")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert len(cases) == 11
    stale = cases["stale-00009.json"].find("failure")
    assert stale is not None and stale.get("type") == "STALE"
    assert stale.get("message") == "stale: its scenario changed"
    assert "re-record it with: python -m harness record --scenario scenarios/s9.yaml" in (stale.text or "")
    error = cases["broken.json"].find("error")
    assert error is not None and error.get("message") == "golden/broken.json: corrupt golden, not JSON (line 1)"
    assert cases["approved-00000.json"].find("failure") is None
