"""The gate: every golden replayed into an implementation; one difference no approved divergence covers fails it.

`judge` is where replay meets the approved-divergence registry (harness/divergences.py): the gate and `replay` both
go through it, so the registry is looked up in one place.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
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
from harness.golden_seals import seal_problem
from harness.golden_validation import record_command, staleness
from harness.impls import NAMED_IMPLS
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
    production one (`approved_divergences()`); none applies to the legacy, which every golden is recorded from. Once
    `cancelled` is set (shadow mode's deadline), every replayed call raises `ReplayCancelled` and so does the
    judgement, without comparing.
    """
    divergences = applicable(approved_divergences() if registry is None else registry, cassette.header)
    if impl in ("legacy", NAMED_IMPLS["legacy"]):
        # Goldens are recorded from the legacy: replayed into it, a golden must be reproduced exactly.
        divergences = ()
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
    jobs: int = 1,
) -> list[GateRow]:
    """Replay `impl` against each golden, `jobs` goldens at a time in worker processes; rows in `paths` order.

    A golden that cannot be read or is malformed is an ERROR row, a stale one a STALE row (not replayed); neither
    stops the gate. Each golden is judged alone, the same way in a worker as in this process, so the verdicts do not
    depend on `jobs`. The largest goldens are started first, so the last one to finish is a small one.
    """
    if jobs <= 1 or len(paths) <= 1:
        rows = []
        for number, path in enumerate(paths, start=1):
            if progress is not None:
                progress(number, len(paths), path.name)
            rows.append(gate_row(impl, path, registry))
        return rows
    return _run_in_workers(impl, paths, progress, registry, jobs)


def gate_row(impl: str, path: Path, registry: Sequence[ApprovedDivergence] | None = None) -> GateRow:
    """One golden's row: ERROR when it cannot be used, EDITED when it is not as recorded, STALE when its scenario or
    legacy changed, else the triage."""
    started = time.perf_counter()
    try:
        cassette = read_golden(path)
    except GoldenError as error:
        return GateRow.error(path.name, str(error))
    unusable = edited_row(path, cassette) or stale_row(path, cassette)
    if unusable is not None:
        return unusable
    try:
        verdict = judge(cassette, impl, registry=registry)
    except Exception as error:  # a replay that cannot be judged fails this golden, not the whole gate
        return GateRow.error(path.name, f"{path}: the replay could not be judged: {type(error).__name__}: {error}")
    return GateRow.judged(path.name, cassette.header, verdict, time.perf_counter() - started)


def edited_row(path: Path, cassette: Cassette) -> GateRow | None:
    """The EDITED row of a golden of a sealed directory whose content is not what the recorder sealed, or None."""
    reason = seal_problem(path)
    if reason is None:
        return None
    return GateRow.edited(path.name, cassette.header, reason, record_command(cassette.header, path))


def stale_row(path: Path, cassette: Cassette) -> GateRow | None:
    """The STALE row of a golden whose scenario or legacy changed since it was recorded, or None when it is fresh."""
    reason = staleness(cassette.header)
    if reason is None:
        return None
    return GateRow.stale(path.name, cassette.header, reason, record_command(cassette.header, path))


# What a forked worker judges with: set before the pool forks (a registry of test divergences need not pickle).
_WORKER_REGISTRY: Sequence[ApprovedDivergence] | None = None


def _worker_row(impl: str, path: Path) -> GateRow:
    """`gate_row` in a worker process, with the registry the gate was started with."""
    logging.disable(logging.CRITICAL)  # the code under test's logs would interleave with the gate's progress
    return gate_row(impl, path, _WORKER_REGISTRY)


def _run_in_workers(
    impl: str,
    paths: list[Path],
    progress: Progress | None,
    registry: Sequence[ApprovedDivergence] | None,
    jobs: int,
) -> list[GateRow]:
    """`run_gate` over a pool of `jobs` worker processes (forked, so each starts with this process's imports)."""
    global _WORKER_REGISTRY
    methods = multiprocessing.get_all_start_methods()
    if registry is not None and "fork" not in methods:
        return run_gate(impl, paths, progress, registry, jobs=1)
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    order = sorted(range(len(paths)), key=lambda index: -_size(paths[index]))
    rows: list[GateRow | None] = [None] * len(paths)
    _WORKER_REGISTRY = registry
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = {pool.submit(_worker_row, impl, paths[index]): index for index in order}
            for done, future in enumerate(as_completed(futures), start=1):
                index = futures[future]
                if progress is not None:
                    progress(done, len(paths), paths[index].name)
                rows[index] = future.result()
    finally:
        _WORKER_REGISTRY = None
    return [row for row in rows if row is not None]


def _size(path: Path) -> int:
    """A golden's size on disk (0 when it cannot be read: it fails fast anyway)."""
    try:
        return path.stat().st_size * (8 if path.name.endswith(".gz") else 1)
    except OSError:
        return 0


def default_jobs() -> int:
    """Worker processes for the gate by default: one per core."""
    return os.cpu_count() or 1


def stderr_progress(stream: TextIO | None = None) -> Progress:
    """A progress callback writing `[3/24] name` lines (one per golden) to `stream`, or to sys.stderr as it is then."""

    def report(number: int, total: int, name: str) -> None:
        """Print one progress line."""
        target = stream if stream is not None else sys.stderr
        target.write(f"[{number}/{total}] {name}\n")
        target.flush()

    return report
