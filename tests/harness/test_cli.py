"""`python -m harness`: output shapes and exit codes (0 ok/equivalent, 1 divergent, 2 bad input)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.experiment import record_scenario
from harness.golden import golden_name, write_golden
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


def test_an_unknown_implementation_exits_2(goldens, capsys):
    assert main(["replay", "--golden", str(goldens["basic"]), "--impl", "no_such_module_anywhere:sync"]) == 2
    assert "implementation 'no_such_module_anywhere:sync' does not exist" in capsys.readouterr().err

    assert main(["run", "--scenario", BASIC, "--impl", "not-a-name"]) == 2
    assert "unknown implementation 'not-a-name'" in capsys.readouterr().err


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
    assert markdown.startswith("## Equivalence gate: `legacy` — all equivalent\n")
    assert "| golden | schedule | calls | writes | verdict |" in markdown
    assert "| `single-account-basic.json` | submission | 13 | 3 | ✅ equivalent |" in markdown


def test_gate_with_a_divergent_implementation_exits_1(goldens, capsys):
    assert main(["gate", "--golden-dir", str(goldens["basic"].parent), "--impl", DIVERGENT_IMPL]) == 1
    assert "gate: 0 of 1 goldens equivalent" in capsys.readouterr().out


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
