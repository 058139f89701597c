"""Golden files: one reviewed JSON recording per scenario and schedule, pretty-printed with sorted keys."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

from harness.cassette import Cassette, Interaction, Outputs
from harness.filters import refuse_secrets
from harness.golden_seals import seal
from harness.golden_validation import describe_problems, problems
from harness.matchers import is_write

FORMAT_NAME = "drs-inventory-sync-golden"
FORMAT_VERSION = 1
GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
# golden/ stores goldens larger than this gzip-compressed (`.json.gz`, deterministic bytes; `store_golden`); smaller
# ones stay plain so a pull request shows their diff. `write_golden` writes exactly the path it is given.
# `git config diff.gzip.textconv "gzip -dc"` makes git diff read both.
COMPRESS_ABOVE_BYTES = 1 << 20
_REQUIRED_HEADER = ("format", "version", "scenario", "recorded_from", "clock", "schedule", "environment")


class GoldenError(Exception):
    """A golden that cannot be used: missing, corrupt, or of a version this harness does not read."""


def golden_name(scenario_name: str, schedule: str) -> str:
    """Base file name of a scenario's golden under a schedule: `<name>.json`, or `<name>@<schedule>.json`."""
    if schedule == "submission":
        return f"{scenario_name}.json"
    return f"{scenario_name}@{schedule.replace(':', '-')}.json"


def find_golden(directory: Path, base_name: str) -> Path | None:
    """The golden stored under `base_name` (plain or compressed), if there is one."""
    for candidate in (directory / base_name, directory / f"{base_name}.gz"):
        if candidate.exists():
            return candidate
    return None


def make_header(
    *,
    scenario: dict[str, Any],
    recorded_from: dict[str, str],
    clock: str,
    schedule: str,
    environment: dict[str, str | None],
    allowances: dict[str, list[str]],
) -> dict[str, Any]:
    """A golden header in the current format version."""
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "scenario": scenario,
        "recorded_from": recorded_from,
        "clock": clock,
        "schedule": schedule,
        "environment": environment,
        "allowances": allowances,
    }


def to_data(cassette: Cassette) -> dict[str, Any]:
    """The golden as plain data, counts included so a reviewer sees the size of the run at the top."""
    interactions = [interaction.to_dict() for interaction in cassette.interactions]
    header = {
        **cassette.header,
        "counts": {
            "calls": len(interactions),
            "writes": sum(1 for interaction in cassette.interactions if is_write(interaction.operation)),
        },
    }
    return {"header": header, "interactions": interactions, "outputs": cassette.outputs.to_dict()}


def dumps(cassette: Cassette, where: str = "golden") -> str:
    """The golden's text: sorted keys, one-space indent; refuses anything key-, secret- or token-like."""
    data = to_data(cassette)
    refuse_secrets(data, where)
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_golden(cassette: Cassette, path: Path) -> Path:
    """Write a golden atomically to exactly `path`: gzip-compressed if and only if its name ends in `.gz`.

    Nothing else is touched: no other file is written, renamed or deleted, but for the golden's seal when its
    directory is sealed (`harness.golden_seals`). Returns `path`.
    """
    text = dumps(cassette, str(path))
    _write_text(text, path)
    seal(path, text.encode("utf-8"))
    return path


def store_golden(cassette: Cassette, directory: Path, base_name: str) -> Path:
    """Keep a golden in a golden directory by its convention: `base_name`, or `base_name.gz` when over 1 MiB.

    `golden/` holds each golden once, plain or compressed: the form not written (left by an earlier recording of
    another size) is removed. A sealed directory gets the golden's seal (`harness.golden_seals`). Returns the path
    written.
    """
    text = dumps(cassette, str(directory / base_name))
    large = len(text.encode("utf-8")) > COMPRESS_ABOVE_BYTES
    target = _write_text(text, directory / (f"{base_name}.gz" if large else base_name))
    (directory / (base_name if large else f"{base_name}.gz")).unlink(missing_ok=True)
    seal(target, text.encode("utf-8"))
    return target


def _write_text(text: str, path: Path) -> Path:
    """Write golden text to `path` atomically (through a temporary file beside it), gzipped iff it ends in `.gz`."""
    payload = text.encode("utf-8")
    if path.name.endswith(".gz"):
        payload = _gzip(payload)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(payload)
    temporary.replace(path)
    return path


def _gzip(payload: bytes) -> bytes:
    """gzip with no timestamp or file name, so the same golden always has the same bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0, filename="") as stream:
        stream.write(payload)
    return buffer.getvalue()


def read_golden(path: Path) -> Cassette:
    """Read and check a golden; GoldenError says what is wrong and where."""
    if path.is_dir():
        raise GoldenError(f"{path}: is a directory, expected a golden file (.json or .json.gz)")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise GoldenError(f"{path}: no such golden; record it with `python -m harness record`") from None
    except OSError as error:
        raise GoldenError(f"{path}: cannot read the golden ({error.strerror or error})") from None
    try:
        text = (gzip.decompress(raw) if path.name.endswith(".gz") else raw).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise GoldenError(f"{path}: corrupt golden, cannot be read ({error})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise GoldenError(
            f"{path}: corrupt golden, not JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    return from_data(data, str(path))


def from_data(data: Any, where: str) -> Cassette:
    """A Cassette from golden data, checked field by field."""
    if not isinstance(data, dict) or not isinstance(data.get("header"), dict):
        raise GoldenError(f"{where}: corrupt golden, expected an object with a 'header' object")
    header = data["header"]
    if header.get("format") != FORMAT_NAME:
        raise GoldenError(
            f"{where}: not a golden (header.format is {header.get('format')!r}, expected {FORMAT_NAME!r})"
        )
    if header.get("version") != FORMAT_VERSION:
        raise GoldenError(
            f"{where}: golden format version {header.get('version')!r} is not supported (this harness reads version "
            f"{FORMAT_VERSION}); re-record it from the legacy with `python -m harness record`"
        )
    missing = [key for key in _REQUIRED_HEADER if key not in header]
    if missing:
        raise GoldenError(f"{where}: corrupt golden, header lacks {', '.join(missing)}")
    found = problems(data)
    if found:
        raise GoldenError(describe_problems(where, found))
    parsed = [Interaction.from_dict(entry) for entry in data["interactions"]]
    header = {key: value for key, value in header.items() if key != "counts"}
    return Cassette(header=header, interactions=parsed, outputs=Outputs.from_dict(data["outputs"]))
