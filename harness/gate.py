"""The gate: every golden replayed into an implementation; one difference no approved divergence covers fails it.

`judge` is where replay meets the approved-divergence registry (harness/divergences.py): the gate and `replay` both
go through it, so the registry is looked up in one place.
"""

from __future__ import annotations

import dataclasses
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

from harness.approved.records import ApprovedRecord, read_record, record_path
from harness.cassette import Cassette, Interaction, Outputs
from harness.comparison import Difference, compare
from harness.divergences import (
    ApprovalError,
    ApprovedDivergence,
    Triage,
    answered_cassette,
    applicable,
    apply_changes,
    approved_divergences,
    attribute,
    changes_between,
    unattributed,
)
from harness.golden import GOLDEN_DIR, GoldenError, read_golden
from harness.golden_seals import seal_problem
from harness.golden_validation import record_command, staleness
from harness.impls import runs_legacy
from harness.matchers import EXACT, Matching, is_write
from harness.replay_session import replay
from harness.replayer import ObservedCall, ReplayCancelled
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
    record: ApprovedRecord | None = None,
    matching: Matching = EXACT,
    freeze_clock: bool = True,
    cancelled: threading.Event | None = None,
) -> Triage:
    """Replay `impl` against a golden and judge it against the approved divergences.

    The legacy is judged against the golden itself, never through a divergence. With an approved `record`, the
    candidate must reproduce the golden with the record's changes exactly, and each change must be the divergence's
    it names. With neither (`registry=()`) the golden is the expected behaviour as it is. Otherwise (a recording with
    no record: shadow mode, benchmarks) the candidate's differences, read as changes, must each be attributed to a
    divergence by the predicates (`Triage.exact` False). `registry` defaults to the production one. Once `cancelled`
    is set (shadow mode's deadline), every replayed call raises `ReplayCancelled` and so does the judgement.
    """
    legacy = runs_legacy(impl)
    divergences = (
        () if legacy else applicable(approved_divergences() if registry is None else registry, cassette.header)
    )
    expected, problems = cassette, []
    if record is not None and not legacy:
        try:
            expected = apply_changes(cassette, record.changes, record.outputs)
            problems = unattributed(record.changes, attribute(record.changes, divergences, cassette))
        except ApprovalError as error:
            problems = [Difference("approval", str(error))]
    live = record is None and bool(divergences)
    answered = answered_cassette(cassette, divergences) if live else expected
    run = replay(answered, impl, schedule, matching=matching, freeze_clock=freeze_clock, cancelled=cancelled)
    if cancelled is not None and cancelled.is_set():
        raise ReplayCancelled(f"judgement of {impl} given up before comparing")
    comparison = compare(expected, run.observed, run.outputs, run.unrecorded, matching)
    if not live:
        kept = record.changes if record is not None and not legacy else ()
        return Triage(comparison, tuple(kept), (*problems, *comparison.differences), divergences)
    # Both sides as the matching sees them (a live run's clock attributes masked), so only the fix's changes show.
    baseline = Cassette(
        cassette.header,
        [_as_matched(interaction, matching) for interaction in cassette.interactions],
        Outputs.from_dict(matching.outputs(cassette.outputs.to_dict())),
    )
    made = [answered.interactions[c.answered_by] if c.answered_by is not None else _unanswered(c) for c in run.observed]
    fixed = Cassette(
        cassette.header,
        [_as_matched(interaction, matching) for interaction in made],
        Outputs.from_dict(matching.outputs(run.outputs.to_dict())),
    )
    changes = attribute(changes_between(baseline, fixed), divergences, baseline)
    uncovered = [change.describe() for change in changes if not change.divergence]
    unrecorded = [difference for difference in comparison.differences if difference.kind == "unrecorded"]
    return Triage(comparison, tuple(changes), (*unrecorded, *uncovered), divergences, exact=False)


def _as_matched(interaction: Interaction, matching: Matching) -> Interaction:
    """The interaction with its parameters as `matching` compares them (unchanged under EXACT)."""
    if matching is EXACT or not is_write(interaction.operation):
        return interaction
    return dataclasses.replace(interaction, params=matching.params(interaction.params))


def _unanswered(call: ObservedCall) -> Interaction:
    """A call nothing answered, as an interaction (it differs from every recorded one)."""
    return Interaction(call.service, call.region, call.identity, call.operation, call.params)


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
        verdict = judge_golden(path, cassette, impl, registry)
    except Exception as error:  # a replay that cannot be judged fails this golden, not the whole gate
        return GateRow.error(path.name, f"{path}: the replay could not be judged: {type(error).__name__}: {error}")
    return GateRow.judged(path.name, cassette.header, verdict, time.perf_counter() - started)


def judge_golden(
    path: Path,
    cassette: Cassette,
    impl: str,
    registry: Sequence[ApprovedDivergence] | None = None,
    schedule: Schedule | None = None,
) -> Triage:
    """Judge a golden file exactly: against its approved record when it has one, else against itself as it is.

    A record that is edited (in a sealed directory) or unreadable is an approval difference: the golden fails.
    """
    try:
        problem = seal_problem(record_path(path)) if record_path(path).exists() else None
        record = read_record(path)
    except ApprovalError as error:
        problem, record = str(error), None
    if problem is not None:
        triage = judge(cassette, impl, schedule, registry=())
        return Triage(triage.comparison, (), (Difference("approval", problem), *triage.uncovered))
    return judge(cassette, impl, schedule, registry=registry if record is not None else (), record=record)


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
