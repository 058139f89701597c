"""`python -m harness`: output shapes and exit codes (0 ok/equivalent, 1 divergent, 2 bad input)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import replace
from pathlib import Path

import pytest

from harness.cli import main
from harness.experiment import record_scenario
from harness.gate import run_gate
from harness.golden import GOLDEN_DIR, golden_name, write_golden
from harness.lambda_env import HANDLER_DIR, REPO_ROOT
from harness.world.scenario import load_scenario

BASIC = "scenarios/single-account-basic.yaml"
NO_TARGETS = "scenarios/no-target-accounts.yaml"
DIVERGENT_IMPL = "tests.harness.impls_for_tests:changed_status_code"


def harness(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m harness ARGS` from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def goldens(tmp_path_factory) -> dict[str, Path]:
    """Goldens of two different scenarios, each alone in its own directory (for gate)."""
    paths = {}
    for key, scenario_file in (("basic", BASIC), ("no_targets", NO_TARGETS)):
        directory = tmp_path_factory.mktemp(key)
        scenario = load_scenario(REPO_ROOT / scenario_file)
        paths[key] = write_golden(record_scenario(scenario), directory / golden_name(scenario.name, "submission"))
    return paths


def test_run_json_prints_the_result_the_tables_and_the_call_count():
    completed = harness("run", "--scenario", BASIC, "--impl", "legacy", "--json")

    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    assert set(data) == {"result", "tables", "calls"}
    assert set(data["tables"]) == {"inventory", "region_status", "target_accounts"}
    assert data["result"]["statusCode"] == 200
    assert json.loads(data["result"]["body"])["totalSynced"] == 5
    assert len(data["tables"]["inventory"]) == 5
    assert data["calls"] == 13


def test_a_bad_scenario_exits_2_naming_the_file_and_the_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text('name: bad\nhub_account: "12345"\nseed: 1\n', encoding="utf-8")

    completed = harness("run", "--scenario", str(bad), "--impl", "legacy")

    assert completed.returncode == 2
    assert completed.stderr.startswith(f"error: {bad}: hub_account")
    assert "Traceback" not in completed.stderr


def test_an_unknown_implementation_exits_2_listing_the_accepted_forms(goldens, capsys):
    assert main(["replay", "--golden", str(goldens["basic"]), "--impl", "no_such_module_anywhere:sync"]) == 2
    err = capsys.readouterr().err
    assert "implementation 'no_such_module_anywhere:sync': no module named 'no_such_module_anywhere'" in err
    assert "legacy, refactored, handler, module:function" in err

    for command in (["run", "--scenario", BASIC], ["gate", "--golden-dir", str(goldens["basic"].parent)]):
        assert main([*command, "--impl", "not-a-name"]) == 2
        assert capsys.readouterr().err == (
            "error: unknown implementation 'not-a-name': the accepted forms are legacy, refactored, handler, "
            "module:function\n"
        )


def test_a_bad_schedule_exits_2(capsys):
    assert main(["run", "--scenario", BASIC, "--impl", "legacy", "--schedule", "sideways"]) == 2
    assert "unknown schedule 'sideways'" in capsys.readouterr().err


def test_replay_of_the_legacy_into_its_own_golden_exits_0(goldens, capsys):
    assert main(["replay", "--golden", str(goldens["basic"]), "--impl", "legacy"]) == 0
    assert capsys.readouterr().out.strip().endswith("replayed into legacy: equivalent (13 calls, 3 writes)")


def test_replay_of_a_divergent_implementation_exits_1_and_reports_it(goldens, tmp_path, capsys):
    report = tmp_path / "replay.md"

    code = main(["replay", "--golden", str(goldens["basic"]), "--impl", DIVERGENT_IMPL, "--report", str(report)])

    assert code == 1
    out = capsys.readouterr().out
    assert f"replayed into {DIVERGENT_IMPL}: DIVERGENT" in out
    assert "root['result']['statusCode']: recorded 200, now 207" in out
    assert "❌ DIVERGENT" in report.read_text(encoding="utf-8")


def test_replay_of_a_corrupt_golden_exits_2(tmp_path, capsys):
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"header": {', encoding="utf-8")

    assert main(["replay", "--golden", str(corrupt), "--impl", "legacy"]) == 2
    assert f"error: {corrupt}: corrupt golden, not JSON (line 1, column 13" in capsys.readouterr().err


def test_diff_of_goldens_of_different_scenarios_exits_1_and_of_the_same_golden_0(goldens, capsys):
    assert main(["diff", str(goldens["basic"]), str(goldens["no_targets"])]) == 1
    assert "DIVERGENT" in capsys.readouterr().out

    assert main(["diff", str(goldens["basic"]), str(goldens["basic"])]) == 0


def test_gate_over_a_directory_exits_0_and_writes_a_markdown_report(goldens, tmp_path, capsys):
    report = tmp_path / "gate.md"

    code = main(["gate", "--golden-dir", str(goldens["basic"].parent), "--impl", "legacy", "--report", str(report)])

    assert code == 0
    out = capsys.readouterr().out
    assert "gate: 1 of 1 goldens equivalent for impl 'legacy'" in out
    markdown = report.read_text(encoding="utf-8")
    assert markdown.startswith("## Equivalence gate: `legacy` — all equivalent\n\n| verdict | goldens |\n")
    assert "| ✅ equivalent | 1 |" in markdown
    assert "<details><summary>All 1 goldens</summary>" in markdown
    assert "| golden | schedule | calls | writes | verdict |" in markdown
    assert "| `single-account-basic.json` | submission | 13 | 3 | ✅ equivalent |" in markdown


def test_gate_with_a_divergent_implementation_exits_1_and_writes_junit_with_the_first_difference(
    goldens, tmp_path, capsys
):
    junit = tmp_path / "gate.xml"

    code = main(["gate", "--golden-dir", str(goldens["basic"].parent), "--impl", DIVERGENT_IMPL, "--junit", str(junit)])

    assert code == 1
    assert f"gate: 0 of 1 goldens equivalent for impl {DIVERGENT_IMPL!r}: 1 DIVERGENT" in capsys.readouterr().out
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("1", "1", "0")
    [case] = suite.findall("testcase")
    assert case.get("name") == "single-account-basic.json"
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == "[output] the outputs differ: root['result']['statusCode']: recorded 200, now 207"
    assert "DIVERGENT" in (failure.text or "")


def test_gate_junit_has_one_passing_test_case_per_golden(goldens, tmp_path, capsys):
    directory = tmp_path / "two"
    directory.mkdir()
    names = [goldens["basic"].name, "single-account-basic@reverse.json"]
    shutil.copy(goldens["basic"], directory / names[0])
    shutil.copy(GOLDEN_DIR / names[1], directory / names[1])
    junit = tmp_path / "gate.xml"

    code = main(["gate", "--golden-dir", str(directory), "--impl", "legacy", "--junit", str(junit)])

    assert code == 0, capsys.readouterr().out

    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert sorted(case.get("name") for case in cases) == sorted(names)
    assert all(not list(case) for case in cases)
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "0", "0")


def test_gate_appends_its_summary_to_the_github_step_summary(goldens, tmp_path, monkeypatch, capsys):
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    assert main(["gate", "--golden-dir", str(goldens["basic"].parent), "--impl", "legacy"]) == 0

    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## Equivalence gate: `legacy` — all equivalent\n")
    assert "| ✅ equivalent | 1 |" in text


def test_replay_of_a_directory_or_a_malformed_golden_exits_2_naming_the_file_and_field(goldens, tmp_path):
    spoilt = tmp_path / "spoilt.json"
    data = json.loads(goldens["basic"].read_text(encoding="utf-8"))
    data["interactions"][0]["operation"] = ["Scan"]
    spoilt.write_text(json.dumps(data), encoding="utf-8")

    for golden, expected in (
        (tmp_path, f"error: {tmp_path}: is a directory, expected a golden file (.json or .json.gz)"),
        (spoilt, f"{spoilt}: interactions[0].operation: expected a string, got a list ['Scan']"),
    ):
        completed = harness("replay", "--golden", str(golden), "--impl", "legacy")
        assert completed.returncode == 2
        assert expected in completed.stderr
        assert "Traceback" not in completed.stderr


def test_gate_over_a_malformed_golden_judges_the_others_and_exits_2(goldens, tmp_path, capsys):
    shutil.copy(goldens["basic"], tmp_path / goldens["basic"].name)
    data = json.loads(goldens["basic"].read_text(encoding="utf-8"))
    drs = next(entry for entry in data["interactions"] if entry["operation"] == "DescribeSourceServers")
    drs["operation"] = "DescribeSourceServer"
    (tmp_path / "misspelt.json").write_text(json.dumps(data), encoding="utf-8")

    assert main(["gate", "--golden-dir", str(tmp_path), "--impl", "legacy", "--jobs", "1"]) == 2

    out = capsys.readouterr().out
    assert "single-account-basic.json  submission  13     3       equivalent" in out
    assert "misspelt.json              ?           -      -       ERROR" in out
    assert "'DescribeSourceServer' is not an operation of drs (did you mean 'DescribeSourceServers'?)" in out
    assert "1 ERROR" in out


@pytest.fixture
def stale_golden(tmp_path) -> Path:
    """A golden recorded from a scenario file that was edited afterwards (one server more)."""
    scenario_file = tmp_path / "scenario" / "single-account-basic.yaml"
    scenario_file.parent.mkdir()
    shutil.copy(REPO_ROOT / BASIC, scenario_file)
    directory = tmp_path / "goldens"
    golden = write_golden(record_scenario(load_scenario(scenario_file)), directory / "single-account-basic.json")
    text = scenario_file.read_text(encoding="utf-8")
    scenario_file.write_text(text.replace("us-east-1: {servers: 5}", "us-east-1: {servers: 6}"), encoding="utf-8")
    return golden


def test_a_stale_golden_is_a_stale_verdict_with_the_command_that_re_records_it(stale_golden, capsys):
    scenario_file = stale_golden.parent.parent / "scenario" / "single-account-basic.yaml"
    command = f"python -m harness record --scenario {scenario_file} --schedule submission --out {stale_golden}"

    assert main(["gate", "--golden-dir", str(stale_golden.parent), "--impl", "legacy"]) == 1
    out = capsys.readouterr().out
    assert "single-account-basic.json  submission  -      -       STALE" in out
    assert f"STALE: its scenario {scenario_file} changed since it was recorded" in out
    assert f"re-record it with: {command}" in out
    assert "gate: 0 of 1 goldens equivalent for impl 'legacy': 1 STALE" in out

    assert main(["replay", "--golden", str(stale_golden), "--impl", "legacy"]) == 1
    assert command in capsys.readouterr().out


def test_the_gate_gives_the_same_verdicts_in_parallel_as_one_at_a_time(goldens, stale_golden, tmp_path):
    paths = [
        *(GOLDEN_DIR / name for name in ("assume-role-denied.json", "defect-06-lost-batches.json")),
        GOLDEN_DIR / "ddb-empty-key-attribute@reverse.json",
        goldens["basic"],
        stale_golden,
        tmp_path / "missing.json",
    ]

    serial = run_gate("refactored", paths, jobs=1)
    parallel = run_gate("refactored", paths, jobs=2)

    assert [replace(row, seconds=0.0) for row in parallel] == [replace(row, seconds=0.0) for row in serial]
    assert [row.kind for row in serial] == ["approved", "approved", "approved", "equivalent", "STALE", "ERROR"]


@pytest.mark.parametrize(
    "golden", ["single-account-basic.json", "assume-role-denied@seed-7.json", "defect-06-lost-batches.json"]
)
def test_the_handler_replays_goldens_as_the_sync_does(golden):
    [row] = run_gate("handler", [GOLDEN_DIR / golden])

    assert row.passed, row.describe()


def test_the_handler_running_the_legacy_replays_a_golden_whose_sync_raised_as_equivalent(monkeypatch):
    monkeypatch.setenv("INVENTORY_SYNC_IMPL", "legacy")

    [row] = run_gate("handler", [GOLDEN_DIR / "ddb-empty-key-attribute.json"])

    assert row.verdict == "equivalent", row.describe()


def test_gate_over_an_empty_directory_exits_2(tmp_path, capsys):
    assert main(["gate", "--golden-dir", str(tmp_path), "--impl", "legacy"]) == 2
    assert f"no goldens in {tmp_path}" in capsys.readouterr().err


def test_gate_before_the_refactor_lands_exits_2_saying_so(goldens, capsys):
    if (HANDLER_DIR / "inventory_sync.py").exists() or (HANDLER_DIR / "inventory_sync").is_dir():
        impl, expected = "clearly_nonexistent_module_xyz:sync", "implementation 'clearly_nonexistent_module_xyz:sync'"
    else:
        impl, expected = "refactored", "the refactor has not landed yet"

    assert main(["gate", "--golden-dir", str(goldens["basic"].parent), "--impl", impl]) == 2
    assert expected in capsys.readouterr().err
