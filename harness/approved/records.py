"""Approved records: what the reviewed fixes change in one legacy golden, kept beside it and sealed like it.

`golden/approved/<golden file name>` (gzipped when the golden is) lists the `Change`s that turn the legacy
golden into the fixed behaviour, each naming its divergence, and the fixed outputs. It is recorded, never written by
hand: `python -m harness approve --golden golden/NAME.json` replays the refactored sync against the golden, answering
the calls the golden lacks from a recording of the refactored sync on the scenario's local AWS (or `--answers FILE`),
takes the differences as changes and names each by the registry's predicates; a change no divergence accepts is
refused. The legacy golden is never re-recorded from the refactor.
"""

from __future__ import annotations

import gzip
import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.cassette import Cassette, Interaction, Outputs
from harness.codec import to_json
from harness.divergences import (
    ApprovalError,
    ApprovedDivergence,
    Change,
    applicable,
    approved_divergences,
    attribute,
    changes_between,
)
from harness.golden import _write_text
from harness.golden_seals import seal
from harness.replay_session import replay

APPROVED_DIR = "approved"


@dataclass(frozen=True)
class ApprovedRecord:
    """The changes the fixes make to one golden, and the fixed outputs."""

    golden: str
    changes: tuple[Change, ...]
    outputs: Outputs

    def to_text(self) -> str:
        """The record as the JSON text kept (and sealed) in `golden/approved/`."""
        data = {
            "golden": self.golden,
            "changes": [change.to_dict() for change in self.changes],
            "outputs": self.outputs.to_dict(),
        }
        return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def record_path(golden_path: Path) -> Path:
    """Where the approved record of a golden lives: `approved/` beside it, named as it is (gzipped as it is)."""
    return golden_path.parent / APPROVED_DIR / golden_path.name


def read_record(golden_path: Path) -> ApprovedRecord | None:
    """The approved record of a golden, or None when it has none; ApprovalError when it cannot be read."""
    path = record_path(golden_path)
    if not path.is_file():
        return None
    try:
        raw = path.read_bytes()
        data = json.loads(gzip.decompress(raw) if path.name.endswith(".gz") else raw)
        changes = tuple(Change.from_dict(change) for change in data["changes"])
        return ApprovedRecord(str(data["golden"]), changes, Outputs.from_dict(data["outputs"]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ApprovalError(f"{path}: not an approved record: {type(error).__name__}: {error}") from error


def fixed_behaviour(golden: Cassette, answers: Cassette, impl: str = "refactored") -> Cassette:
    """`impl` replayed against the golden, the calls it lacks answered from `answers`: each call with its answer.

    Raises ApprovalError when a call is answered by neither.
    """
    answering = Cassette(golden.header, [*golden.interactions, *answers.interactions], golden.outputs)
    run = replay(answering, impl)
    if run.unrecorded:
        raise ApprovalError(f"the fixed sync made calls nothing answers: {run.unrecorded[0].splitlines()[0]}")
    calls = []
    for call in run.observed:
        source = answering.interactions[call.answered_by or 0]
        calls.append(
            Interaction(
                call.service,
                call.region,
                call.identity,
                call.operation,
                to_json(call.params),
                source.response,
                source.error,
                source.exception,
            )
        )
    return Cassette(golden.header, calls, run.outputs)


def make_record(
    golden_path: Path, golden: Cassette, fixed: Cassette, registry: tuple[ApprovedDivergence, ...] | None = None
) -> ApprovedRecord:
    """The record of a fixed behaviour, every change named by the first divergence whose predicate accepts it.

    Raises ApprovalError naming the first change no divergence in force accepts.
    """
    divergences = applicable(approved_divergences() if registry is None else registry, golden.header)
    changes = attribute(changes_between(golden, fixed), divergences, golden)
    for number, change in enumerate(changes, start=1):
        if not change.divergence:
            raise ApprovalError(
                f"{golden_path}: change {number} is no approved divergence's: {change.describe().summary}"
            )
    return ApprovedRecord(golden_path.name, tuple(changes), fixed.outputs)


def write_record(golden_path: Path, record: ApprovedRecord) -> Path | None:
    """Write (and seal, in a sealed directory) a golden's record; a record with no change removes the file."""
    path = record_path(golden_path)
    if not record.changes:
        path.unlink(missing_ok=True)
        return None
    text = record.to_text()
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_text(text, path)
    seal(path, text.encode("utf-8"))
    return path


def world_answers(golden: Cassette, impl: str = "refactored") -> Cassette:
    """A recording of `impl` on the golden's scenario and schedule, on the in-process local AWS: answers for the
    calls a fix adds (the world is the one the golden was recorded in, built from the same scenario and seed)."""
    from harness.lambda_env import REPO_ROOT
    from harness.scheduling import Schedule

    # The local AWS is imported by name: the Lambda package (shadow mode) leaves it out and never records.
    record_scenario = importlib.import_module("harness.experiment").record_scenario
    load_scenario = importlib.import_module("harness.world.scenario").load_scenario
    scenario = golden.header.get("scenario", {})
    if not scenario.get("file"):
        raise ApprovalError(f"golden {scenario.get('name')!r} names no scenario file: give --answers")
    recorded: Cassette = record_scenario(
        load_scenario(REPO_ROOT / scenario["file"]), impl, Schedule.parse(golden.header["schedule"])
    )
    return recorded


def record_summary(record: ApprovedRecord) -> dict[str, Any]:
    """How many changes each divergence makes in a record (for the `approve` command's line)."""
    counts: dict[str, int] = {}
    for change in record.changes:
        counts[change.divergence] = counts.get(change.divergence, 0) + 1
    return counts
