"""The CI a team can copy: .ci/run, the pull-request workflow and the SDK matrix agree with the Makefile.

The workflow cannot run here (it needs GitHub), so what it promises is checked on its text: the suite and the gate
on every pull request, a `.venv` cache keyed on the pins, the report and JUnit file uploaded, and a matrix job per
SDK the Makefile's `test-sdk` target knows.
"""

import re
from typing import Any

import pytest
import yaml

from harness.lambda_env import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "phase-gate.yml"
MAKEFILE = REPO_ROOT / "Makefile"
GATE_COMMAND = ".venv/bin/python -m harness gate --impl refactored --report gate-report.md --junit gate-junit.xml"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    """The workflow as GitHub reads it (YAML reads the `on` key as True)."""
    loaded: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return loaded


def run_lines(job: dict[str, Any]) -> list[str]:
    """Every command line the job's steps run."""
    return [line.strip() for step in job["steps"] for line in str(step.get("run", "")).splitlines() if line.strip()]


def step_using(job: dict[str, Any], action: str) -> dict[str, Any]:
    """The one step of the job that uses `action` (`actions/cache`, say), whatever its version."""
    [step] = [step for step in job["steps"] if str(step.get("uses", "")).split("@")[0] == action]
    return step


def test_ci_run_is_the_readmes_two_commands():
    lines = [line for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines() if line and line[0] != "#"]
    assert lines[-2:] == ["make test", "make gate"]


def test_pull_requests_run_the_suite_and_the_gate_and_keep_the_report_and_junit(workflow):
    assert "pull_request" in workflow[True]
    gate = workflow["jobs"]["gate"]
    commands = run_lines(gate)
    assert "make test" in commands
    assert GATE_COMMAND in commands
    cache = step_using(gate, "actions/cache")["with"]
    assert cache["path"] == ".venv"
    assert "hashFiles('pyproject.toml', 'constraints.txt')" in cache["key"]
    uploaded = step_using(gate, "actions/upload-artifact")
    assert uploaded["if"] == "always()"
    assert set(uploaded["with"]["path"].split()) == {"gate-report.md", "gate-junit.xml"}


def test_the_matrix_runs_test_sdk_for_every_sdk_the_makefile_pins(workflow):
    matrix = workflow["jobs"]["sdk-matrix"]
    sdks = matrix["strategy"]["matrix"]["sdk"]
    assert sdks == ["old", "new"]
    assert "make test-sdk SDK=${{ matrix.sdk }}" in run_lines(matrix)
    makefile = MAKEFILE.read_text(encoding="utf-8")
    pins = dict(re.findall(r"^SDK_PINS_(\w+) :=(.*)$", makefile, re.MULTILINE))
    assert set(pins) == set(sdks)
    old = pins["old"].split()
    assert {pin.split("==")[0] for pin in old} == {"boto3", "botocore"}
    assert all(pin.split("==")[1].startswith("1.34.") for pin in old)
    assert pins["new"].strip() == ""  # no pin: the newest release
    assert re.search(r"^test-sdk: ", makefile, re.MULTILINE)
