"""Golden files: one reviewed JSON recording per scenario and schedule, pretty-printed with sorted keys."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

from harness.cassette import Cassette, Interaction, Outputs
from harness.filters import refuse_secrets
from harness.matchers import is_write

FORMAT_NAME = "drs-inventory-sync-golden"
FORMAT_VERSION = 1
GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
# Goldens larger than this are stored gzip-compressed (`.json.gz`, deterministic bytes); smaller ones stay plain
# so a pull request shows their diff. `git config diff.gzip.textconv "gzip -dc"` makes git diff read both.
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
    """Write a golden atomically, compressed when large; returns the path written (`.json` or `.json.gz`)."""
    text = dumps(cassette, str(path))
    base = path.with_name(path.name.removesuffix(".gz"))
    payload = text.encode("utf-8")
    target = base
    if len(payload) > COMPRESS_ABOVE_BYTES:
        target = base.with_name(base.name + ".gz")
        payload = _gzip(payload)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_bytes(payload)
    temporary.replace(target)
    stale = base.with_name(base.name + ".gz") if target == base else base
    stale.unlink(missing_ok=True)
    return target


def _gzip(payload: bytes) -> bytes:
    """gzip with no timestamp or file name, so the same golden always has the same bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0, filename="") as stream:
        stream.write(payload)
    return buffer.getvalue()


def read_golden(path: Path) -> Cassette:
    """Read and check a golden; GoldenError says what is wrong and where."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise GoldenError(f"{path}: no such golden; record it with `python -m harness record`") from None
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
    interactions = data.get("interactions")
    if not isinstance(interactions, list):
        raise GoldenError(f"{where}: corrupt golden, 'interactions' must be a list")
    parsed: list[Interaction] = []
    for index, entry in enumerate(interactions):
        try:
            parsed.append(Interaction.from_dict(entry))
        except (KeyError, TypeError, ValueError) as error:
            raise GoldenError(f"{where}: corrupt golden, interaction {index} is malformed ({error!r})") from None
    outputs = data.get("outputs")
    if not isinstance(outputs, dict) or not ({"result", "exception"} & set(outputs)):
        raise GoldenError(f"{where}: corrupt golden, 'outputs' must hold 'result' or 'exception'")
    header = {key: value for key, value in header.items() if key != "counts"}
    return Cassette(header=header, interactions=parsed, outputs=Outputs.from_dict(outputs))
