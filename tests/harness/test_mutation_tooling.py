"""The mutation driver's own logic (harness/mutation/), on hand-made mutants of the refactored sync.

Each test lays out the scratch copy mutmut would work in and runs the fast gate there the way a mutmut worker does
(pytest over `harness/mutation/gate_tests.py` with the ordering plugin and a mutant name in the environment): a
mutant must be killed and recorded with how it died, the unmutated file must pass. No mutmut run: that takes minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.mutation.plugin import DEADLINE_VARIABLE, KILLS_VARIABLE, MUTANT_VARIABLE
from harness.mutation.report import changed_lines, triage_line
from harness.mutation.results import Mutant, function_of
from harness.mutation.scratch import MODULE_FILE, TARGET, TEST_MODULE, build_scratch
from harness.mutation.suite import ordered_goldens, schedule_of

MUTANT = "inventory_sync.x_sync_source_server_inventory__mutmut_1"
# Appended to a copy of the sync: rebinding the entry point keeps these mutants valid whatever the file becomes.
CHANGES_STATUS = '''

_unmutated_sync = sync_source_server_inventory


def sync_source_server_inventory():
    """Hand-made mutant: the response's status code changes."""
    return {**_unmutated_sync(), "statusCode": 599}
'''
HANGS = '''

def sync_source_server_inventory():
    """Hand-made mutant: never returns."""
    import threading

    threading.Event().wait()
'''


def scratch_with(tmp_path: Path, appended: str) -> Path:
    """A scratch copy whose file under test is the real sync plus `appended`."""
    source = tmp_path / "source.py"
    source.write_text(TARGET.read_text(encoding="utf-8") + appended, encoding="utf-8")
    return build_scratch(tmp_path / "scratch", source)


def node(golden: Path) -> str:
    """The gate test's node id for one golden."""
    return f"{TEST_MODULE}::test_golden[{golden.name}]"


def run_gate_tests(
    scratch: Path, args: list[str], mutant: str | None, **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run the gate tests in `scratch` as a mutmut worker would (plugin loaded, harness plugin off)."""
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    environment[KILLS_VARIABLE] = str(scratch / "kills")
    environment[MUTANT_VARIABLE] = mutant or ""
    environment.update(extra)
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:harness", "-p", "no:cacheprovider"]
    command += ["-p", "harness.mutation.plugin", "--rootdir=.", *args]
    return subprocess.run(command, cwd=scratch, env=environment, capture_output=True, text=True, timeout=120)


def kill_record(scratch: Path, mutant: str) -> dict[str, str]:
    """The plugin's record of how `mutant` died."""
    return json.loads((scratch / "kills" / f"{mutant}.json").read_text(encoding="utf-8"))


def test_scratch_copy_leaves_the_sync_out_of_the_lambda_tree(tmp_path):
    scratch = build_scratch(tmp_path / "scratch")
    assert (scratch / MODULE_FILE).read_bytes() == TARGET.read_bytes()
    assert not (scratch / "lambda" / "query-handler" / MODULE_FILE).exists()
    assert (scratch / "lambda" / "query-handler" / "index.py").exists()
    assert 'source_paths = ["inventory_sync.py"]' in (scratch / "pyproject.toml").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="would contain the repository"):
        build_scratch(TARGET.parents[2])


def test_a_mutant_is_killed_by_the_first_golden_and_recorded_divergent(tmp_path):
    scratch = scratch_with(tmp_path, CHANGES_STATUS)
    first = ordered_goldens()[0]
    result = run_gate_tests(scratch, [TEST_MODULE], MUTANT)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout and "passed" not in result.stdout.splitlines()[-1]
    record = kill_record(scratch, MUTANT)
    assert record["golden"] == first.name
    assert record["how"] == "divergent"
    assert "DIVERGENT" in record["story"]


def test_the_unmutated_sync_passes_and_the_plugin_orders_the_goldens(tmp_path):
    scratch = build_scratch(tmp_path / "scratch")
    goldens = ordered_goldens()[:3]
    result = run_gate_tests(scratch, ["-vv", *[node(golden) for golden in reversed(goldens)]], MUTANT)
    assert result.returncode == 0, result.stdout + result.stderr
    ran = [line.split("[", 1)[1].split("]", 1)[0] for line in result.stdout.splitlines() if " PASSED" in line]
    assert ran == [golden.name for golden in goldens]
    assert not (scratch / "kills").exists()


def test_a_hanging_mutant_times_out_on_its_deadline(tmp_path):
    scratch = scratch_with(tmp_path, HANGS)
    result = run_gate_tests(scratch, [node(ordered_goldens()[0])], MUTANT, **{DEADLINE_VARIABLE: "1"})
    assert result.returncode == 1, result.stdout + result.stderr
    record = kill_record(scratch, MUTANT)
    assert record["how"] == "timeout"
    assert "after 1 s" in record["story"]


def test_goldens_run_one_schedule_first_smallest_first():
    goldens = ordered_goldens()
    schedules = [schedule_of(path) for path in goldens]
    first_other = schedules.index("reverse")
    assert set(schedules[:first_other]) == {"submission"}
    assert "submission" not in schedules[first_other:]
    sizes = [path.stat().st_size for path in goldens[:first_other]]
    assert sizes == sorted(sizes)


def test_function_names_and_triage_matching():
    assert function_of("inventory_sync.x_sync_accounts__mutmut_12") == "sync_accounts"
    assert function_of("inventory_sync.xǁStageClockǁsummary__mutmut_3") == "StageClock.summary"
    diff = "--- a\n+++ b\n@@ -1,2 +1,2 @@\n def f():\n-    return 1\n+    return 2\n"
    assert changed_lines(diff) == ("return 1", "return 2")
    mutant = Mutant("inventory_sync.x_f__mutmut_1", "f", "survived", 0, 1.0, diff=diff)
    entry = {"function": "f", "removed": "return 1", "added": "return 2", "verdict": "equivalent", "reason": "why"}
    assert triage_line(mutant, [entry]) == "equivalent: why"
    assert triage_line(mutant, [{**entry, "added": "return 3"}]).startswith("untriaged")
    unreached = Mutant("inventory_sync.x_f__mutmut_2", "f", "no tests", 33, None)
    assert triage_line(unreached, []).startswith("gap: no golden")
