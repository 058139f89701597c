"""The fast gate: the goldens ordered so a mutant dies early, each judged alone, under a deadline.

Order: the submission-schedule goldens first, smallest first (small goldens of distinct scenarios are quick and each
exercises a different path), then the `reverse` goldens, then the seeded ones. Goldens and the approved-divergence
registry are read once per process and kept: a mutant's run (a fork of the process that ran the clean suite) replays
from memory. Judging is the gate's own `judge`, so an approved divergence still covers what it covers.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import FrameType

from harness.cassette import Cassette
from harness.divergences import ApprovedDivergence
from harness.gate import golden_paths
from harness.gate import judge_golden as judge_golden_file
from harness.golden import GOLDEN_DIR, read_golden

# Schedules in the order their goldens run: one schedule covers every scenario, the others then catch what an
# ordering-sensitive mutant changes.
SCHEDULE_RANK = {"submission": 0, "reverse": 1}
OTHER_SCHEDULE_RANK = 2


class GoldenTimeout(BaseException):
    """A golden's replay overran its deadline (a mutant looping or deadlocked).

    A BaseException, so the sync's own `except Exception` handlers cannot swallow it.
    """


@dataclass(frozen=True)
class GoldenOutcome:
    """One golden judged: whether it passed, and the first uncovered difference when it did not."""

    golden: str
    verdict: str
    story: str

    @property
    def passed(self) -> bool:
        """True for `equivalent` and `approved`."""
        return self.verdict != "DIVERGENT"


def schedule_of(path: Path) -> str:
    """The schedule a golden's file name says (`name@reverse.json` -> reverse; no `@` -> submission)."""
    stem = path.name.removesuffix(".gz").removesuffix(".json")
    return stem.partition("@")[2] or "submission"


def ordered_goldens(directory: Path = GOLDEN_DIR) -> list[Path]:
    """Every golden, in the order most likely to kill a mutant quickly (see the module docstring)."""
    return sorted(
        golden_paths(directory),
        key=lambda path: (
            SCHEDULE_RANK.get(schedule_of(path), OTHER_SCHEDULE_RANK),
            path.stat().st_size,
            path.name,
        ),
    )


@cache
def cassette_of(path: Path) -> Cassette:
    """A golden, read once per process."""
    return read_golden(path)


@cache
def production_registry() -> tuple[ApprovedDivergence, ...]:
    """The approved-divergence registry the gate judges with, assembled once per process."""
    from harness.divergences import approved_divergences

    return tuple(approved_divergences())


def judge_golden(
    path: Path, impl: str = "refactored", registry: Sequence[ApprovedDivergence] | None = None
) -> GoldenOutcome:
    """Replay `impl` against one golden and judge it as the gate does (production registry by default)."""
    verdict = judge_golden_file(path, cassette_of(path), impl, production_registry() if registry is None else registry)
    story = ""
    if verdict.uncovered:
        first = verdict.uncovered[0]
        story = f"[{first.kind}] {first.summary}"
        if len(verdict.uncovered) > 1:
            story += f" (and {len(verdict.uncovered) - 1} more)"
    return GoldenOutcome(path.name, verdict.verdict, story)


@contextmanager
def deadline(seconds: float, golden: str) -> Iterator[None]:
    """Raise GoldenTimeout in the main thread if the block runs longer than `seconds` (SIGALRM; main thread only)."""

    def expire(signum: int, frame: FrameType | None) -> None:
        """The alarm rang: abandon the golden."""
        raise GoldenTimeout(f"{golden}: replay still running after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
