"""The gate: every golden replayed into an implementation; one difference no approved divergence covers fails it.

`judge` is where replay meets the approved-divergence registry (harness/divergences.py): the gate and `replay` both
go through it, so the registry is looked up in one place.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from harness.cassette import Cassette
from harness.comparison import compare
from harness.divergences import (
    ApprovedDivergence,
    DivergenceContext,
    Triage,
    answered_cassette,
    applicable,
    approved_divergences,
    triage,
)
from harness.golden import GOLDEN_DIR, GoldenError, read_golden
from harness.matchers import EXACT, Matching
from harness.replay_session import replay
from harness.replayer import ReplayCancelled
from harness.report import GateRow
from harness.scheduling import Schedule

Progress = Callable[[int, int, str], None]


def golden_paths(directory: Path = GOLDEN_DIR) -> list[Path]:
    """Every golden file, in name order."""
    return sorted([*directory.glob("*.json"), *directory.glob("*.json.gz")])


def judge(
    cassette: Cassette,
    impl: str,
    schedule: Schedule | None = None,
    registry: Sequence[ApprovedDivergence] | None = None,
    *,
    matching: Matching = EXACT,
    freeze_clock: bool = True,
    cancelled: threading.Event | None = None,
) -> Triage:
    """Replay `impl` against a golden and triage the differences against the approved divergences.

    The divergences in force for this golden may declare answers for the new calls their fix makes: the candidate is
    answered from the golden plus those answers, and compared with the golden alone. `registry` defaults to the
    production one (`approved_divergences()`). Once `cancelled` is set (shadow mode's deadline), every replayed call
    raises `ReplayCancelled` and so does the judgement, without comparing.
    """
    divergences = applicable(approved_divergences() if registry is None else registry, cassette.header)
    answered = answered_cassette(cassette, divergences)
    run = replay(answered, impl, schedule, matching=matching, freeze_clock=freeze_clock, cancelled=cancelled)
    if cancelled is not None and cancelled.is_set():
        raise ReplayCancelled(f"judgement of {impl} given up before comparing")
    comparison = compare(cassette, run.observed, run.outputs, run.unrecorded, matching)
    context = DivergenceContext(cassette, tuple(run.observed), run.outputs, matching=matching, answered=answered)
    return triage(comparison, divergences, context)


def run_gate(
    impl: str,
    paths: list[Path],
    progress: Progress | None = None,
    registry: Sequence[ApprovedDivergence] | None = None,
) -> list[GateRow]:
    """Replay `impl` against each golden; an unreadable golden is an ERROR row, not a crash."""
    rows: list[GateRow] = []
    for number, path in enumerate(paths, start=1):
        if progress is not None:
            progress(number, len(paths), path.name)
        try:
            cassette = read_golden(path)
        except GoldenError as error:
            rows.append(GateRow(path.name, "?", "?", None, str(error)))
            continue
        verdict = judge(cassette, impl, registry=registry)
        rows.append(
            GateRow(
                path.name,
                cassette.header["scenario"]["name"],
                cassette.header["schedule"],
                verdict.comparison,
                triage=verdict,
            )
        )
    return rows


def stderr_progress(stream: TextIO | None = None) -> Progress:
    """A progress callback writing `[3/24] name` lines (one per golden) to `stream`, or to sys.stderr as it is then."""

    def report(number: int, total: int, name: str) -> None:
        """Print one progress line."""
        target = stream if stream is not None else sys.stderr
        target.write(f"[{number}/{total}] {name}\n")
        target.flush()

    return report
