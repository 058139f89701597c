"""mutmut's verdicts read back from a scratch copy, joined with how the gate killed each mutant.

mutmut keeps one exit code per mutant in `mutants/<module file>.meta`, one file per module of the package; the
plugin (`harness/mutation/plugin.py`) wrote a kill record for each mutant that failed a golden. A mutant counts as
killed only when the gate found a divergence, the replay raised, or it ran out of time (mutmut's own wall/CPU limit,
or the plugin's per-golden deadline).
"""

from __future__ import annotations

import json
import os
import statistics
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.mutation.scratch import PACKAGE, module_file

# mutmut's exit-code meanings (mutmut.stats.status_by_exit_code), reduced to what this report counts.
STATUS_BY_EXIT_CODE: dict[int | None, str] = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    36: "timeout",
    -24: "timeout",
    24: "timeout",
    152: "timeout",
    255: "timeout",
    None: "not checked",
}


@dataclass
class Mutant:
    """One mutant: mutmut's name and status, the function it lives in, and how it died (if it did)."""

    name: str
    function: str
    status: str
    exit_code: int | None
    duration_s: float | None
    golden: str | None = None
    how: str | None = None
    story: str | None = None
    diff: str | None = None
    triage: str | None = None


@dataclass
class Results:
    """Every mutant of one run, and the counts the report leads with."""

    mutants: list[Mutant]
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Count the statuses once."""
        self.counts = dict(Counter(mutant.status for mutant in self.mutants))

    @property
    def total(self) -> int:
        """Every mutant mutmut generated."""
        return len(self.mutants)

    @property
    def killed(self) -> int:
        """Mutants the gate killed: a divergence, a raise, or a timeout."""
        return self.counts.get("killed", 0) + self.counts.get("timeout", 0)

    @property
    def score(self) -> float:
        """Killed (timeouts included) over every mutant that was checked."""
        checked = self.total - self.counts.get("not checked", 0)
        return self.killed / checked if checked else 0.0

    @property
    def score_reached(self) -> float:
        """Killed over the checked mutants in functions some golden reaches (mutmut's `no tests` left out)."""
        reached = self.total - self.counts.get("not checked", 0) - self.counts.get("no tests", 0)
        return self.killed / reached if reached else 0.0

    @property
    def not_killed(self) -> list[Mutant]:
        """Survivors and the other checked mutants the gate did not kill (not the unchecked ones), by name."""
        return [mutant for mutant in self.mutants if mutant.status not in ("killed", "timeout", "not checked")]

    @property
    def limit_timeouts(self) -> list[Mutant]:
        """Mutants mutmut stopped at its own wall/CPU limit (no golden had failed yet): worth a look on a busy box."""
        return [mutant for mutant in self.mutants if mutant.status == "timeout"]

    def killed_by(self) -> dict[str, int]:
        """How the killed mutants died: divergent, raised, timeout (per-golden deadline or mutmut's limit)."""
        manners: Counter[str] = Counter()
        for mutant in self.mutants:
            if mutant.status == "timeout":
                manners["timeout (mutmut's limit)"] += 1
            elif mutant.status == "killed":
                manners[mutant.how or "failed (no record)"] += 1
        return dict(manners)

    def durations(self) -> dict[str, float]:
        """Per-mutant seconds (mean, median, max) over the mutants that ran."""
        seconds = [mutant.duration_s for mutant in self.mutants if mutant.duration_s]
        if not seconds:
            return {"mean": 0.0, "median": 0.0, "max": 0.0, "sum": 0.0}
        return {
            "mean": round(statistics.fmean(seconds), 3),
            "median": round(statistics.median(seconds), 3),
            "max": round(max(seconds), 3),
            "sum": round(sum(seconds), 1),
        }

    def to_list(self) -> list[dict[str, Any]]:
        """Every mutant as plain data."""
        return [asdict(mutant) for mutant in self.mutants]


def split_name(mutant_name: str) -> tuple[str, str]:
    """A mutant name's dotted module and mangled function: `inventory_sync.ec2.x_f__mutmut_3` ->
    (`inventory_sync.ec2`, `x_f`)."""
    module, _, mangled = mutant_name.partition("__mutmut_")[0].rpartition(".")
    return module, mangled


def module_of(mutant_name: str) -> str:
    """The package module a mutant lives in, without the package: `inventory_sync.orchestrator.x_f__mutmut_1` ->
    `orchestrator` (`__init__` for the package's own file, which mutmut names after the package)."""
    module = split_name(mutant_name)[0]
    return module.removeprefix(PACKAGE + ".") if module != PACKAGE else "__init__"


def function_of(mutant_name: str) -> str:
    """The module and source function a mutant name points at, the stratum of a sample:
    `inventory_sync.ec2.xǁStageClockǁsummary__mutmut_3` -> `ec2.StageClock.summary`."""
    mangled = split_name(mutant_name)[1]
    function = mangled[2:] if mangled.startswith("x_") else ".".join(part for part in mangled[1:].split("ǁ") if part)
    return f"{module_of(mutant_name)}.{function}"


def file_of(mutant_name: str) -> str:
    """The scratch-relative file mutmut generated a mutant in (`inventory_sync/orchestrator.py`)."""
    return module_file(split_name(mutant_name)[0])


def sort_key(mutant_name: str) -> tuple[str, int]:
    """Order mutants by function, then by mutmut's number."""
    head, _, number = mutant_name.rpartition("__mutmut_")
    return head, int(number) if number.isdigit() else 0


@contextmanager
def working_directory(path: Path) -> Iterator[None]:
    """chdir for the block (mutmut's API reads `mutants/` and `pyproject.toml` relative to the working directory)."""
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def meta_files(scratch: Path) -> list[Path]:
    """mutmut's per-module result files of the run in `scratch` (`mutants/inventory_sync/**/*.py.meta`), sorted."""
    return sorted((scratch / "mutants" / PACKAGE).rglob("*.py.meta"))


def read_results(scratch: Path, kills_dir: Path) -> Results:
    """The verdicts of the run in `scratch`, with kill records from `kills_dir` and diffs of every mutant not killed."""
    exit_codes: dict[str, int | None] = {}
    durations: dict[str, float | None] = {}
    paths = meta_files(scratch)
    if not paths:
        raise RuntimeError(f"{scratch / 'mutants' / PACKAGE}: mutmut left no results (no *.py.meta file)")
    for meta_path in paths:
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise RuntimeError(f"{meta_path}: mutmut left no readable results ({error})") from None
        exit_codes.update(meta["exit_code_by_key"])
        durations.update(meta.get("durations_by_key", {}))
    mutants = []
    for name in sorted(exit_codes, key=sort_key):
        exit_code = exit_codes[name]
        duration = durations.get(name)
        mutant = Mutant(
            name=name,
            function=function_of(name),
            status=STATUS_BY_EXIT_CODE.get(exit_code, "suspicious"),
            exit_code=exit_code,
            duration_s=round(duration, 3) if duration is not None else None,
        )
        record = kills_dir / f"{name}.json"
        if record.exists():
            kill = json.loads(record.read_text(encoding="utf-8"))
            mutant.golden, mutant.how, mutant.story = kill["golden"], kill["how"], kill["story"]
        mutants.append(mutant)
    results = Results(mutants)
    attach_diffs(scratch, results.not_killed + results.limit_timeouts)
    return results


def attach_diffs(scratch: Path, mutants: list[Mutant]) -> None:
    """Fill in the unified diff of each mutant, read from mutmut's generated file of its module."""
    if not mutants:
        return
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    with working_directory(scratch):
        for mutant in mutants:
            try:
                mutant.diff = get_diff_for_mutant(mutant.name, path=file_of(mutant.name))
            except Exception as error:  # a diff we cannot read must not lose the run's results
                mutant.diff = f"(diff unavailable: {type(error).__name__}: {error})"
