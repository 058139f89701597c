"""Checking a golden's data before anything uses it, and telling when a golden is stale.

`problems` lists, field by field, what is wrong with a golden's parsed JSON: the header's types, every interaction's
fields and types, services and operations unknown to botocore's service models (with the nearest name), header
counts that disagree with the interactions, outputs of the wrong shape. `harness.golden.from_data` refuses a golden
with any problem, so every command that reads a golden (replay, gate, diff, the benchmarks) refuses it the same way.

`staleness` says why a golden no longer stands for its scenario (the scenario file it names is gone, fails to load
or changed since the recording, or the golden was recorded from another legacy module): the gate's STALE verdict.
"""

from __future__ import annotations

import difflib
import functools
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
from botocore.exceptions import UnknownServiceError

from harness.lambda_env import REPO_ROOT
from harness.matchers import is_write

MAX_PROBLEMS_SHOWN = 10
_INTERACTION_STRINGS = ("service", "region", "identity", "operation")
_INTERACTION_OBJECTS = ("response", "error", "exception")
_KINDS = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}


@functools.cache
def _session() -> botocore.session.Session:
    """One botocore session whose loader reads the service models (shared with the rest of the process)."""
    return botocore.session.get_session()


@functools.cache
def known_services() -> tuple[str, ...]:
    """The service names botocore has models for."""
    return tuple(sorted(_session().get_available_services()))


@functools.cache
def operations_of(service: str) -> frozenset[str] | None:
    """The operation names of a service's model, or None when botocore has no such service."""
    try:
        return frozenset(_session().get_service_model(service).operation_names)
    except UnknownServiceError:
        return None


def _nearest(name: str, choices: Any) -> str:
    """`(did you mean 'X'?)` for the closest known name, or nothing."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _kind(value: Any) -> str:
    """A JSON type name for messages."""
    if value is None:
        return "null"
    return _KINDS.get(type(value), type(value).__name__)


def _interaction_problems(index: int, entry: Any) -> Iterator[str]:
    """What is wrong with one interaction, one field per line."""
    where = f"interactions[{index}]"
    if not isinstance(entry, dict):
        yield f"{where}: expected an object, got {_kind(entry)}"
        return
    for name in _INTERACTION_STRINGS:
        if name not in entry:
            yield f"{where}.{name}: missing (expected a string)"
        elif not isinstance(entry[name], str):
            yield f"{where}.{name}: expected a string, got {_kind(entry[name])} {entry[name]!r}"
    if not isinstance(entry.get("params"), dict):
        yield f"{where}.params: expected an object, got {_kind(entry.get('params'))}"
    for name in _INTERACTION_OBJECTS:
        if entry.get(name) is not None and not isinstance(entry[name], dict):
            yield f"{where}.{name}: expected an object or nothing, got {_kind(entry[name])}"
    unknown = sorted(set(entry) - {*_INTERACTION_STRINGS, "params", *_INTERACTION_OBJECTS})
    if unknown:
        yield f"{where}: unknown fields {', '.join(unknown)}"
    service, operation = entry.get("service"), entry.get("operation")
    if not isinstance(service, str):
        return
    operations = operations_of(service)
    if operations is None:
        yield f"{where}.service: {service!r} is not a service botocore knows{_nearest(service, known_services())}"
    elif isinstance(operation, str) and operation not in operations:
        yield f"{where}.operation: {operation!r} is not an operation of {service}{_nearest(operation, operations)}"


def _header_problems(header: dict[str, Any], interactions: list[Any]) -> Iterator[str]:
    """What is wrong with the header's fields, and counts that disagree with the interactions."""
    expected = {
        "scenario": dict,
        "recorded_from": dict,
        "clock": str,
        "schedule": str,
        "environment": dict,
    }
    for name, kind in expected.items():
        if name in header and not isinstance(header[name], kind):
            yield f"header.{name}: expected {_kind(kind())}, got {_kind(header[name])}"
    scenario = header.get("scenario")
    if isinstance(scenario, dict) and not isinstance(scenario.get("name"), str):
        yield f"header.scenario.name: expected a string, got {_kind(scenario.get('name'))}"
    if isinstance(header.get("schedule"), str):
        from harness.scheduling import Schedule

        try:
            Schedule.parse(header["schedule"])
        except ValueError as error:
            yield f"header.schedule: {error}"
    counts = header.get("counts")
    if counts is None:
        return
    if not isinstance(counts, dict):
        yield f"header.counts: expected an object, got {_kind(counts)}"
        return
    calls = len(interactions)
    operations = [entry.get("operation") for entry in interactions if isinstance(entry, dict)]
    writes = sum(1 for operation in operations if isinstance(operation, str) and is_write(operation))
    for name, actual in (("calls", calls), ("writes", writes)):
        if name in counts and counts[name] != actual:
            yield f"header.counts.{name}: says {counts[name]!r}, but the golden holds {actual} {name}"


def _outputs_problems(outputs: Any) -> Iterator[str]:
    """What is wrong with the outputs: a result, or an exception with a type and a message."""
    if not isinstance(outputs, dict) or not ({"result", "exception"} & set(outputs)):
        yield "outputs: expected an object holding 'result' or 'exception'"
        return
    exception = outputs.get("exception")
    named = isinstance(exception, dict) and all(isinstance(exception.get(key), str) for key in ("type", "message"))
    if "exception" in outputs and not named:
        yield "outputs.exception: expected an object with string 'type' and 'message'"


def problems(data: dict[str, Any]) -> list[str]:
    """Every problem of a golden's data whose format and version were already checked, one field each."""
    header = data["header"]
    interactions = data.get("interactions")
    if not isinstance(interactions, list):
        return [f"interactions: expected a list, got {_kind(interactions)}"]
    found = list(_header_problems(header, interactions))
    for index, entry in enumerate(interactions):
        found.extend(_interaction_problems(index, entry))
    found.extend(_outputs_problems(data.get("outputs")))
    return found


def describe_problems(where: str, found: list[str]) -> str:
    """One message for a refused golden: the file, then its first problems, one a line."""
    shown = found[:MAX_PROBLEMS_SHOWN]
    more = len(found) - len(shown)
    lines = [f"{where}: malformed golden ({len(found)} problem{'s' if len(found) != 1 else ''}):"]
    lines += [f"  {where}: {problem}" for problem in shown]
    if more:
        lines.append(f"  ... and {more} more")
    return "\n".join(lines)


# The scenario parser, imported by name where a scenario file must be read: it belongs to the local AWS, which the
# Lambda package leaves out (shadow mode's recordings name no scenario file and never reach it).
SCENARIO_MODULE = "harness.world.scenario"


@functools.cache
def _scenario_hash(path: Path, mtime_ns: int) -> str:
    """The content hash of a scenario file (read once per version of the file); ScenarioError if it fails to load."""
    return str(importlib.import_module(SCENARIO_MODULE).load_scenario(path).content_hash())


def staleness(header: dict[str, Any]) -> str | None:
    """Why a golden no longer stands for the scenario and legacy it was recorded from, or None when it is fresh.

    A golden that names no scenario file (a live or shadow recording, a generated world) is never stale by its
    scenario; one recorded from a module other than the legacy is not judged by the legacy's fingerprint.
    """
    scenario = header.get("scenario") or {}
    file = scenario.get("file")
    if file:
        path = REPO_ROOT / str(file)
        if not path.is_file():
            return f"its scenario file {file} no longer exists"
        try:
            content_hash = _scenario_hash(path, path.stat().st_mtime_ns)
        except importlib.import_module(SCENARIO_MODULE).ScenarioError as error:
            return f"its scenario no longer loads ({error})"
        if scenario.get("content_hash") and content_hash != scenario["content_hash"]:
            return f"its scenario {file} changed since it was recorded"
    from harness.golden_set import legacy_fingerprint

    recorded_from = header.get("recorded_from") or {}
    recorded_legacy = recorded_from.get("legacy_sha256")
    if recorded_from.get("impl") == "legacy" and recorded_legacy and recorded_legacy != legacy_fingerprint():
        return "it was recorded from another version of the legacy module"
    return None


def record_command(header: dict[str, Any], golden: Path) -> str | None:
    """The command that re-records a golden from its scenario, or None when it names no scenario file."""
    scenario = (header.get("scenario") or {}).get("file")
    if not scenario:
        return None
    schedule = header.get("schedule", "submission")
    impl = (header.get("recorded_from") or {}).get("impl", "legacy")
    out = golden.resolve()
    shown = out.relative_to(REPO_ROOT) if out.is_relative_to(REPO_ROOT) else out
    command = f"python -m harness record --scenario {scenario} --schedule {schedule} --out {shown}"
    return command if impl == "legacy" else f"{command} --impl {impl}"
