"""Which goldens should exist (every scenario under every gate schedule) and whether each is fresh."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from harness.golden import GOLDEN_DIR, GoldenError, find_golden, golden_name, read_golden
from harness.golden_validation import staleness
from harness.lambda_env import HANDLER_DIR, REPO_ROOT

SCENARIOS_DIR = REPO_ROOT / "scenarios"
LEGACY_MODULE = HANDLER_DIR / "inventory_sync_legacy.py"
# Every scenario is recorded, and gated, under each of these completion orders.
GATE_SCHEDULES = ("submission", "reverse", "seed:7")


@dataclass(frozen=True)
class GoldenStatus:
    """A golden the project expects: its scenario, schedule, file (if any) and whether it is up to date."""

    scenario: Path
    schedule: str
    path: Path | None
    problem: str | None

    @property
    def fresh(self) -> bool:
        """True when the golden exists and matches its scenario and the legacy module."""
        return self.problem is None

    @property
    def record_command(self) -> str:
        """The command that (re-)records this golden."""
        stored = self.path if self.path is not None else GOLDEN_DIR / golden_name(self.scenario.stem, self.schedule)
        out = stored.relative_to(REPO_ROOT) if stored.is_relative_to(REPO_ROOT) else stored
        scenario = self.scenario.relative_to(REPO_ROOT) if self.scenario.is_relative_to(REPO_ROOT) else self.scenario
        return f"python -m harness record --scenario {scenario} --schedule {self.schedule} --out {out}"


def legacy_fingerprint() -> str:
    """sha256 of the frozen legacy module: goldens recorded from another legacy are stale."""
    return hashlib.sha256(LEGACY_MODULE.read_bytes()).hexdigest()


def scenario_files(directory: Path = SCENARIOS_DIR) -> list[Path]:
    """Every scenario file, in name order."""
    return sorted(directory.glob("*.yaml"))


def expected_goldens(directory: Path = GOLDEN_DIR) -> list[GoldenStatus]:
    """Every (scenario, schedule) pair with the state of its golden."""
    statuses: list[GoldenStatus] = []
    for scenario_path in scenario_files():
        for schedule in GATE_SCHEDULES:
            path = find_golden(directory, golden_name(scenario_path.stem, schedule))
            statuses.append(GoldenStatus(scenario_path, schedule, path, _problem(path)))
    return statuses


def _problem(path: Path | None) -> str | None:
    """Why a golden is not fresh (missing, unreadable, or stale: `golden_validation.staleness`), or None."""
    if path is None:
        return "missing"
    try:
        header = read_golden(path).header
    except GoldenError as error:
        return str(error)
    return staleness(header)


def orphan_goldens(directory: Path = GOLDEN_DIR) -> list[Path]:
    """Goldens whose scenario file no longer exists (or that follow no known naming)."""
    expected = {
        name
        for scenario in scenario_files()
        for schedule in GATE_SCHEDULES
        for name in (golden_name(scenario.stem, schedule), golden_name(scenario.stem, schedule) + ".gz")
    }
    present = [*directory.glob("*.json"), *directory.glob("*.json.gz")]
    return sorted(path for path in present if path.name not in expected)
