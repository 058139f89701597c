"""The mutation driver's own logic (harness/mutation/), on hand-made mutants of the refactored sync's package.

Each test lays out the scratch copy mutmut would work in and runs the fast gate there the way a mutmut worker does
(pytest over `harness/mutation/gate_tests.py` with the ordering plugin and a mutant name in the environment): a
mutant must be killed and recorded with how it died, the unmutated file must pass. No mutmut run: that takes minutes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from harness.approved.records import APPROVED_DIR
from harness.golden_seals import SEALS_FILE
from harness.mutation.driver import (
    DEFAULT_MAX_GOLDEN_MB,
    exclusions,
    file_digests,
    generated_mutants,
    left_out_goldens,
    parse_args,
    sample_plan,
    sha256_of,
)
from harness.mutation.launch import SORT_KEY, random_rank, shuffle_mutmut_order
from harness.mutation.plugin import DEADLINE_VARIABLE, KILLS_VARIABLE, MUTANT_VARIABLE
from harness.mutation.report import changed_lines, triage_line, write_report
from harness.mutation.results import Mutant, Results, file_of, function_of, meta_files, module_of, read_results
from harness.mutation.sampling import DEFAULT_SEED, allocate, stratified_sample, wilson_interval
from harness.mutation.scratch import (
    PACKAGE,
    TARGET,
    TEST_MODULE,
    build_scratch,
    goldens_larger_than,
    module_file,
    scratch_pyproject,
    source_files,
)
from harness.mutation.suite import ordered_goldens, schedule_of

MUTANT = "inventory_sync.orchestrator.x_sync_source_server_inventory__mutmut_1"
# The module of the package that defines the entry point, and what is appended to a copy of it: rebinding the entry
# point keeps these mutants valid whatever the module becomes (the package imports it from there).
ENTRY_MODULE = "orchestrator.py"
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
    """A scratch copy whose package under test is the real sync with `appended` at the end of its entry module."""
    source = tmp_path / "source" / PACKAGE
    shutil.copytree(TARGET, source, ignore=shutil.ignore_patterns("__pycache__"))
    entry = source / ENTRY_MODULE
    entry.write_text(entry.read_text(encoding="utf-8") + appended, encoding="utf-8")
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
    files = source_files(TARGET)
    assert Path(PACKAGE, "orchestrator.py") in files and Path(PACKAGE, "__init__.py") in files
    assert source_files(scratch / PACKAGE) == files
    for relative in files:
        assert (scratch / relative).read_bytes() == (TARGET.parent / relative).read_bytes()
    assert not (scratch / "lambda" / "query-handler" / PACKAGE).exists()
    assert (scratch / "lambda" / "query-handler" / "index.py").exists()
    assert (scratch / "lambda" / "shared" / "__init__.py").exists()
    assert 'source_paths = ["inventory_sync"]' in (scratch / "pyproject.toml").read_text(encoding="utf-8")
    digests = file_digests(scratch / PACKAGE, Path("lambda/query-handler") / PACKAGE)
    assert digests["lambda/query-handler/inventory_sync/orchestrator.py"] == sha256_of(TARGET / "orchestrator.py")
    assert len(digests) == len(files)
    with pytest.raises(ValueError, match="would contain the repository"):
        build_scratch(TARGET.parents[2])
    with pytest.raises(FileNotFoundError, match="expected the sync's package directory"):
        build_scratch(tmp_path / "other", TARGET / "orchestrator.py")


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
    assert function_of("inventory_sync.orchestrator.x_sync_accounts__mutmut_12") == "orchestrator.sync_accounts"
    assert function_of("inventory_sync.ec2.xǁPendingǁsummary__mutmut_3") == "ec2.Pending.summary"
    assert module_of("inventory_sync.ec2.xǁPendingǁsummary__mutmut_3") == "ec2"
    assert function_of("inventory_sync.x_helper__mutmut_1") == "__init__.helper"
    assert file_of("inventory_sync.ec2.x_f__mutmut_1") == module_file("inventory_sync.ec2") == "inventory_sync/ec2.py"
    assert file_of("inventory_sync.x_helper__mutmut_1") == "inventory_sync/__init__.py"
    diff = "--- a\n+++ b\n@@ -1,2 +1,2 @@\n def f():\n-    return 1\n+    return 2\n"
    assert changed_lines(diff) == ("return 1", "return 2")
    mutant = Mutant("inventory_sync.rows.x_f__mutmut_1", "rows.f", "survived", 0, 1.0, diff=diff)
    entry = {"function": "rows.f", "removed": "return 1", "added": "return 2", "verdict": "equivalent", "reason": "why"}
    assert triage_line(mutant, [entry]) == "equivalent: why"
    assert triage_line(mutant, [{**entry, "added": "return 3"}]).startswith("untriaged")
    unreached = Mutant("inventory_sync.rows.x_f__mutmut_2", "rows.f", "no tests", 33, None)
    assert triage_line(unreached, []).startswith("gap: no golden")
    whole = {"function": "rows.f", "removed": "*", "added": "*", "verdict": "equivalent", "reason": "never run"}
    assert triage_line(unreached, [whole]) == "equivalent: never run"
    assert triage_line(mutant, [whole]) == "equivalent: never run"
    assert triage_line(mutant, [{**whole, "function": "rows.g"}]).startswith("untriaged")


def test_the_mutation_score_leaves_the_equivalent_mutants_out(tmp_path):
    diff = "--- a\n+++ b\n@@ -1 +1 @@\n-    return 1\n+    return 2\n"
    mutants = [Mutant(f"inventory_sync.rows.x_f__mutmut_{index}", "rows.f", "killed", 1, 1.0) for index in range(1, 9)]
    mutants += [
        Mutant(f"inventory_sync.rows.x_f__mutmut_{index}", "rows.f", "survived", 0, 1.0, diff=diff) for index in (9, 10)
    ]
    triage = tmp_path / "triage.json"
    entry = {
        "function": "rows.f",
        "removed": "return 1",
        "added": "return 2",
        "verdict": "equivalent",
        "reason": "same",
    }
    triage.write_text(json.dumps([entry]), encoding="utf-8")
    run = {
        "tool": "mutmut",
        "tool_version": "3",
        "file": "lambda/query-handler/inventory_sync",
        "files": {"lambda/query-handler/inventory_sync/rows.py": "0"},
        "command": "python -m harness.mutation",
        "workers": 2,
        "finished": "now",
        "duration_s": 1.0,
        "mutants_phase_s": 1.0,
        "exclusions": [],
    }

    document = write_report(Results(mutants), run, tmp_path, triage)

    assert (document["score"], document["equivalent"], document["mutation_score"]) == (0.8, 2, 1.0)
    assert document["mutation_score_interval"] == [round(bound, 4) for bound in wilson_interval(8, 8)]
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| **mutation score** (killed over checked, less the equivalent) | **100.0%**" in report
    document = write_report(Results(mutants), run, tmp_path, tmp_path / "no-triage.json")
    assert (document["equivalent"], document["mutation_score"]) == (0, 0.8)


def test_allocation_is_proportional_and_gives_every_function_one():
    sizes = {"big": 350, "mid": 99, "small": 10, "tiny": 1, "none": 0}
    shares = allocate(sizes, 20)
    assert sum(shares.values()) == 20
    assert "none" not in shares
    # Quotas 15.2, 4.3, 0.43, 0.04: largest remainders give small its one, tiny's one is taken from big.
    assert shares == {"big": 14, "mid": 4, "small": 1, "tiny": 1}
    assert allocate(sizes, 2) == {"big": 1, "mid": 1, "small": 1, "tiny": 1}
    assert allocate(sizes, 10_000) == {"big": 350, "mid": 99, "small": 10, "tiny": 1}
    with pytest.raises(ValueError, match="at least 1"):
        allocate(sizes, 0)


def test_stratified_sample_is_reproducible_and_covers_every_function():
    names = [f"inventory_sync.rows.x_f{index % 7}__mutmut_{index}" for index in range(700)]
    names += ["inventory_sync.cleanup.x_lonely__mutmut_1"]
    first = stratified_sample(names, 71, function_of, seed=3)
    assert first == stratified_sample(list(reversed(names)), 71, function_of, seed=3)
    assert first != stratified_sample(names, 71, function_of, seed=4)
    assert len(first) == len(set(first)) == 71
    per_function = Counter(function_of(name) for name in first)
    assert per_function["cleanup.lonely"] == 1
    assert sorted(per_function.values()) == [1, 10, 10, 10, 10, 10, 10, 10]


def test_wilson_interval():
    low, high = wilson_interval(90, 100)
    assert (round(low, 4), round(high, 4)) == (0.8256, 0.9448)
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and round(high, 4) == 0.2775
    low, high = wilson_interval(10, 10)
    assert round(low, 4) == 0.7225 and high == pytest.approx(1.0)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match="successes <= trials"):
        wilson_interval(3, 2)


def test_a_sample_run_is_reported_as_a_sample_with_its_interval(tmp_path):
    mutants = [
        Mutant(f"inventory_sync.rows.x_f__mutmut_{index}", "rows.f", "killed" if index < 9 else "survived", 0, 1.0)
        for index in range(1, 11)
    ]
    mutants += [
        Mutant(f"inventory_sync.rows.x_g__mutmut_{index}", "rows.g", "not checked", None, None) for index in range(5)
    ]
    sample = {
        "requested": 10,
        "size": 10,
        "total": 40,
        "seed": 7,
        "functions": 2,
        "modules": 1,
        "module_totals": {"rows": 40},
        "mutants": [mutant.name for mutant in mutants[:10]],
    }
    left_out = {"limit_mb": 5.0, "goldens": ["estate-50000.json.gz"], "reason": "the same functions at scale"}
    run = {
        "tool": "mutmut",
        "tool_version": "3",
        "file": "lambda/query-handler/inventory_sync",
        "files": {"lambda/query-handler/inventory_sync/rows.py": "0"},
        "command": "python -m harness.mutation --sample 10 --seed 7",
        "workers": 2,
        "finished": "now",
        "duration_s": 1.0,
        "mutants_phase_s": 1.0,
        "exclusions": ["logging calls"],
        "sample": sample,
        "left_out_goldens": left_out,
    }
    document = write_report(Results(mutants), run, tmp_path, tmp_path / "no-triage.json")
    assert (document["mutants_total"], document["killed"], document["survived"], document["not_checked"]) == (
        10,
        8,
        2,
        0,
    )
    assert document["score"] == 0.8
    assert document["score_interval"] == [round(bound, 4) for bound in wilson_interval(8, 10)]
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "**This is a sample**: 10 of the package's 40 mutants" in report
    assert "stratified by module and function: each of the 2 functions (in 1 modules)" in report
    assert "| `rows` | 40 | 10 | 8 | 2 | 0 |" in report
    assert "| `rows.f` | 10 | 8 | 2 | 0 |" in report
    assert "| `lambda/query-handler/inventory_sync/rows.py` | `0` |" in report
    assert "| mutants (sampled) | 10 of 40 |" in report
    assert "| 95% confidence interval of the score (Wilson) | 49.0% to 94.3% |" in report
    assert "## What is not mutated or not run" in report
    assert "- goldens not run against the mutants (over 5 MB on disk): `estate-50000.json.gz`; the same" in report
    assert "Incomplete" not in report
    unchecked = [*mutants[:9], Mutant(mutants[9].name, "rows.f", "not checked", None, None)]
    document = write_report(Results(unchecked), run, tmp_path, tmp_path / "no-triage.json")
    assert (document["not_checked"], document["score"]) == (1, 0.8889)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "**Incomplete**: the budget ran out before 1 of the sampled mutants were checked" in report
    full_run = {**run, "sample": None, "left_out_goldens": None, "command": "python -m harness.mutation"}
    full = write_report(Results(mutants), full_run, tmp_path, tmp_path / "x")
    assert full["mutants_total"] == 15
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "sample" not in report and "confidence" not in report and "goldens not run" not in report
    assert "| `rows` | 15 | 8 | 2 | 5 |" in report


def test_large_goldens_are_left_out_of_the_scratch_copy(tmp_path):
    large = goldens_larger_than(int(DEFAULT_MAX_GOLDEN_MB * 1024 * 1024))
    assert large == ["estate-50000.json.gz", "estate-50000@reverse.json.gz", "estate-50000@seed-7.json.gz"]
    assert left_out_goldens(0) is None
    assert left_out_goldens(DEFAULT_MAX_GOLDEN_MB)["goldens"] == large
    scratch = build_scratch(tmp_path / "scratch", left_out_goldens=large)
    copied = {path.name for path in (scratch / "golden").iterdir()}
    assert copied.isdisjoint(large)
    # The seals come along: the mutation suite's gate checks the goldens it replays, as the gate does; and so do the
    # approved records of the goldens copied (not those of the goldens left out).
    assert copied == ({path.name for path in ordered_goldens()} - set(large)) | {SEALS_FILE, APPROVED_DIR}
    records = {path.name for path in (scratch / "golden" / APPROVED_DIR).iterdir()}
    assert records and records.isdisjoint(large) and SEALS_FILE in records


def test_sample_options_are_checked(capsys):
    assert parse_args(["--sample", "200"]).seed == DEFAULT_SEED
    assert parse_args([]).sample is None
    assert parse_args([]).max_golden_mb == DEFAULT_MAX_GOLDEN_MB
    for argv, message in ((["--sample", "0"], "expected a number"), (["--sample", "5", "--mutant", "x*"], "combine")):
        with pytest.raises(SystemExit):
            parse_args(argv)
        assert message in capsys.readouterr().err


def test_the_sample_plan_draws_from_mutmuts_own_mutant_names(tmp_path):
    names = generated_mutants(build_scratch(tmp_path / "scratch"))
    assert len(names) == len(set(names)) > 1000
    assert all("__mutmut_" in name for name in names)
    plan = sample_plan(names, 200, DEFAULT_SEED)
    assert plan["size"] == 200 and plan["total"] == len(names)
    assert {function_of(name) for name in plan["mutants"]} == {function_of(name) for name in names}
    assert set(plan["mutants"]) <= set(names)


def test_results_are_read_from_every_modules_meta_file(tmp_path):
    mutants_dir = tmp_path / "mutants" / PACKAGE
    mutants_dir.mkdir(parents=True)
    metas: dict[str, dict[str, int | None]] = {
        "__init__.py.meta": {"inventory_sync.x_helper__mutmut_1": 1},
        "rows.py.meta": {"inventory_sync.rows.x_f__mutmut_1": 1, "inventory_sync.rows.x_f__mutmut_2": None},
        "cleanup.py.meta": {"inventory_sync.cleanup.x_g__mutmut_1": 36},
    }
    for name, exit_codes in metas.items():
        meta = {"exit_code_by_key": exit_codes, "durations_by_key": dict.fromkeys(exit_codes, 2.5)}
        (mutants_dir / name).write_text(json.dumps(meta), encoding="utf-8")
    kills = tmp_path / "kills"
    kills.mkdir()
    record = {"mutant": "inventory_sync.rows.x_f__mutmut_1", "golden": "g.json", "how": "divergent", "story": "s"}
    (kills / "inventory_sync.rows.x_f__mutmut_1.json").write_text(json.dumps(record), encoding="utf-8")

    results = read_results(tmp_path, kills)

    assert len(meta_files(tmp_path)) == 3
    by_name = {mutant.name: mutant for mutant in results.mutants}
    assert {name: mutant.status for name, mutant in by_name.items()} == {
        "inventory_sync.x_helper__mutmut_1": "killed",
        "inventory_sync.rows.x_f__mutmut_1": "killed",
        "inventory_sync.rows.x_f__mutmut_2": "not checked",
        "inventory_sync.cleanup.x_g__mutmut_1": "timeout",
    }
    assert by_name["inventory_sync.rows.x_f__mutmut_1"].how == "divergent"
    assert by_name["inventory_sync.cleanup.x_g__mutmut_1"].function == "cleanup.g"
    assert (results.killed, results.score) == (3, 1.0)
    with pytest.raises(RuntimeError, match=r"no \*\.py\.meta file"):
        read_results(tmp_path / "empty", kills)


def test_exclusions_name_the_decorated_functions_by_module_and_leave_out_lambda_shared(tmp_path):
    package = tmp_path / PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "ec2.py").write_text(
        "import functools\n\n\n@functools.cache\ndef cached():\n    return 1\n\n\n"
        "class Pending:\n    @staticmethod\n    def plain():\n        return 2\n\n    @property\n"
        "    def size(self):\n        return 3\n",
        encoding="utf-8",
    )
    lines = exclusions(package)
    assert "(mutmut skips them): `ec2.Pending.size`, `ec2.cached`" in "\n".join(lines)
    assert any("`lambda/shared/`" in line and "botocore" in line for line in lines)


def test_the_launcher_gives_mutmut_a_seeded_random_order(monkeypatch, tmp_path):
    # mutmut reads its configuration when imported: import it where a scratch copy's pyproject.toml would be.
    (tmp_path / PACKAGE).mkdir()
    (tmp_path / "pyproject.toml").write_text(scratch_pyproject(10.0, 10.0), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    import mutmut.__main__ as mutmut_main

    names = [f"inventory_sync.rows.x_f__mutmut_{index}" for index in range(200)]
    ranks = [random_rank(name, "20260101") for name in names]
    assert ranks == [random_rank(name, "20260101") for name in names]
    assert all(0 <= rank < 1 for rank in ranks)
    assert ranks != [random_rank(name, "7") for name in names]
    order = sorted(names, key=lambda name: random_rank(name, "20260101"))
    assert order != sorted(names) and sorted(order) == sorted(names)
    # The pinned mutmut sorts its mutants by this key; the launcher replaces it.
    monkeypatch.setattr(mutmut_main, SORT_KEY, getattr(mutmut_main, SORT_KEY))
    shuffle_mutmut_order(mutmut_main, "20260101")
    assert getattr(mutmut_main, SORT_KEY)(names[0]) == ranks[0]
    with pytest.raises(SystemExit, match="mutmut has no estimated_worst_case_time"):
        shuffle_mutmut_order(object(), "1")
