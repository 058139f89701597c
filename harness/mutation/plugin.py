"""pytest plugin for the mutation runs: goldens in kill order, per-golden deadlines, and how each mutant died.

mutmut runs the gate tests (`harness/mutation/gate_tests.py`) once clean, to learn which goldens reach which
function, then once per mutant in a fork of that process, only the goldens that reach the mutated function, stopping
at the first failure. This plugin (loaded with `-p harness.mutation.plugin`):

- orders those goldens as `suite.ordered_goldens` does (mutmut passes them in no particular order);
- remembers how long each golden took in the clean runs; a mutant's run inherits that memory through the fork, and
  gets `DEADLINE_FACTOR` times it (at least `MIN_DEADLINE_S`) per golden before the golden counts as timed out;
- lets Python cache the compiled sync (below);
- imports what only a divergence needs (the replayer describes an unexpected call with deepdiff, which pulls in
  numpy): a clean run never diverges, so without this every killed mutant's fork paid seconds of imports;
- writes, for a mutant that fails a golden, `<MUTATION_KILLS_DIR>/<mutant>.json`: the golden, and whether the gate
  found a divergence, the replay raised, or the golden timed out.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import deepdiff  # noqa: F401 - imported here, in the process mutmut forks from: see below
import pytest

from harness.mutation.suite import GoldenTimeout, ordered_goldens

MUTANT_VARIABLE = "MUTANT_UNDER_TEST"
KILLS_VARIABLE = "MUTATION_KILLS_DIR"
# Fixes every golden's deadline (seconds), overriding the clean-time multiple (tests of the tooling use it).
DEADLINE_VARIABLE = "MUTATION_GOLDEN_DEADLINE_S"
DEADLINE_FACTOR = 8.0
MIN_DEADLINE_S = 5.0
# Before any clean run measured the golden (a mutant run never starts without one; this guards direct use).
UNMEASURED_DEADLINE_S = 120.0

_clean_seconds: dict[str, float] = {}

# mutmut's trampolined copy of the sync's package is some 48,000 lines, and every golden's cold start re-imports it:
# without cached .pyc files (PYTHONDONTWRITEBYTECODE may be set) each import recompiles it, seconds per golden.
sys.dont_write_bytecode = False


def mutant_under_test() -> str | None:
    """The mutmut mutant this process runs, or None in the clean and statistics runs."""
    name = os.environ.get(MUTANT_VARIABLE, "")
    return name if "__mutmut_" in name else None


def deadline_for(golden: str) -> float:
    """Seconds a golden may take in a mutant's run: a multiple of its clean time, with a floor."""
    fixed = os.environ.get(DEADLINE_VARIABLE)
    if fixed:
        return float(fixed)
    clean = _clean_seconds.get(golden)
    if clean is None:
        return UNMEASURED_DEADLINE_S
    return max(MIN_DEADLINE_S, DEADLINE_FACTOR * clean)


def golden_of(item: pytest.Item) -> str | None:
    """The golden a gate test item replays (its `golden` parameter), if it is one."""
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("golden") if callspec is not None else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the gate tests in kill order; anything else keeps its place after them."""
    rank = {path.name: index for index, path in enumerate(ordered_goldens())}
    items.sort(key=lambda item: rank.get(golden_of(item) or "", len(rank)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """Remember clean durations; record the golden and the manner of death of a mutant's first failure."""
    outcome = yield
    report = outcome.get_result()
    golden = golden_of(item)
    if call.when != "call" or golden is None:
        return
    mutant = mutant_under_test()
    if mutant is None:
        if report.passed:
            _clean_seconds[golden] = max(_clean_seconds.get(golden, 0.0), call.duration)
        return
    if report.failed:
        record_kill(mutant, golden, call.excinfo)


def record_kill(mutant: str, golden: str, excinfo: pytest.ExceptionInfo[BaseException] | None) -> None:
    """Write how `mutant` died on `golden` (divergent / timeout / raised) where the driver collects it."""
    directory = os.environ.get(KILLS_VARIABLE)
    if not directory:
        return
    how, story = "raised", "no exception information"
    if excinfo is not None:
        error = excinfo.value
        if isinstance(error, GoldenTimeout):
            how, story = "timeout", str(error)
        elif isinstance(error, AssertionError):
            how, story = "divergent", str(error).splitlines()[0] if str(error) else "DIVERGENT"
        else:
            how, story = "raised", f"{type(error).__name__}: {error}"[:500]
    record = {"mutant": mutant, "golden": golden, "how": how, "story": story}
    path = Path(directory) / f"{mutant}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, sort_keys=True) + "\n", encoding="utf-8")
