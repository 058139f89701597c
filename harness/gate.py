"""The gate: every golden replayed into an implementation; one divergence fails it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from harness.golden import GOLDEN_DIR, GoldenError, read_golden
from harness.replay_session import check
from harness.report import GateRow

Progress = Callable[[int, int, str], None]


def golden_paths(directory: Path = GOLDEN_DIR) -> list[Path]:
    """Every golden file, in name order."""
    return sorted([*directory.glob("*.json"), *directory.glob("*.json.gz")])


def run_gate(impl: str, paths: list[Path], progress: Progress | None = None) -> list[GateRow]:
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
        comparison = check(cassette, impl)
        rows.append(GateRow(path.name, cassette.header["scenario"]["name"], cassette.header["schedule"], comparison))
    return rows


def stderr_progress(stream: TextIO | None = None) -> Progress:
    """A progress callback writing `[3/24] name` lines (one per golden) to `stream`, or to sys.stderr as it is then."""

    def report(number: int, total: int, name: str) -> None:
        """Print one progress line."""
        target = stream if stream is not None else sys.stderr
        target.write(f"[{number}/{total}] {name}\n")
        target.flush()

    return report
