"""Equivalence, precisely: outputs equal; writes equal in content and order; reads an equal multiset.

The result is immutable and says, in words a reviewer can act on, what differs: the first differing write with
both sides, deepdiff paths, missing and extra reads, unrecorded calls. Each write and read difference also carries its
`parts`: one fine-grained Difference per missing, extra or changed call, with both sides as structured data, so an
approved divergence (harness/divergences.py) can decide precisely which of them are the expected change.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cached_property
from typing import Any

from harness.cassette import Cassette, Outputs
from harness.matchers import EXACT, CallKey, Matching, call_key, describe_call, is_write, tables_of
from harness.replayer import ObservedCall

MISSING, EXTRA, CHANGED = "missing", "extra", "changed"


@dataclass(frozen=True)
class Difference:
    """One way the candidate differs from the golden: a kind (output, write, read, unrecorded) and its story.

    The structured fields serve matchers (approved divergences), not readers: `change` is missing, extra or changed;
    `operation` and `table` name the call; `golden` and `candidate` are the two sides (a call as `call_view` data, or
    the outputs as `Outputs.to_dict()` data; None for the side that has none). An aggregate difference (all the
    writes, all the missing reads) lists its fine-grained `parts`; a fine-grained one has none.
    """

    kind: str
    summary: str
    details: tuple[str, ...] = ()
    change: str | None = None
    operation: str | None = None
    table: str | None = None
    golden: Any = field(default=None, hash=False)
    candidate: Any = field(default=None, hash=False)
    parts: tuple[Difference, ...] = field(default=(), hash=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for logs and JSON reports): kind, summary and details; the structured sides stay out."""
        return {"kind": self.kind, "summary": self.summary, "details": list(self.details)}

    def atoms(self) -> tuple[Difference, ...]:
        """The fine-grained differences this one stands for: its parts, or itself when it has none."""
        return self.parts or (self,)


@dataclass(frozen=True)
class Comparison:
    """The frozen verdict of comparing a candidate run with a golden."""

    differences: tuple[Difference, ...]
    calls: int
    writes: int
    allowed_fewer_reads: tuple[str, ...] = field(default=())

    @property
    def equivalent(self) -> bool:
        """True when nothing differs."""
        return not self.differences


@dataclass(frozen=True)
class _Call:
    """A call reduced to what comparison looks at."""

    service: str
    region: str
    identity: str
    operation: str
    params: dict[str, Any]
    index: int = 0

    @cached_property
    def cached_key(self) -> CallKey:
        """Its match key, computed once."""
        return call_key(self.service, self.region, self.identity, self.operation, self.params)

    def key(self) -> CallKey:
        """Its match key."""
        return self.cached_key

    def label(self) -> str:
        """Short human label."""
        return describe_call(self.service, self.region, self.identity, self.operation)

    def view(self, position: int | None = None) -> dict[str, Any]:
        """The call as structured data for matchers (see `call_view`)."""
        return call_view(self.service, self.region, self.identity, self.operation, self.params, self.index, position)


def call_view(
    service: str,
    region: str,
    identity: str,
    operation: str,
    params: dict[str, Any],
    index: int,
    position: int | None = None,
) -> dict[str, Any]:
    """A call as a matcher sees it: who, where, what (parameters as compared), and where it sits.

    `index` is its place among the golden's interactions (golden side) or the candidate's observed calls (candidate
    side); `position` its place among that side's writes (writes only).
    """
    view: dict[str, Any] = {
        "service": service,
        "region": region,
        "identity": identity,
        "operation": operation,
        "params": params,
        "index": index,
    }
    if position is not None:
        view["position"] = position
    return view


def compare(
    golden: Cassette, observed: list[ObservedCall], outputs: Outputs, unrecorded: list[str], matching: Matching = EXACT
) -> Comparison:
    """Compare a candidate's calls and outputs with a golden's (parameters and outputs seen through `matching`)."""
    recorded = [
        _Call(i.service, i.region, i.identity, i.operation, matching.params(i.params), index)
        for index, i in enumerate(golden.interactions)
    ]
    made = [
        _Call(call.service, call.region, call.identity, call.operation, matching.params(call.params), index)
        for index, call in enumerate(observed)
    ]
    golden_outputs = Outputs.from_dict(matching.outputs(golden.outputs.to_dict()))
    outputs = Outputs.from_dict(matching.outputs(outputs.to_dict()))
    allowance = tuple(golden.header.get("allowances", {}).get("fewer_reads", ()))
    differences: list[Difference] = []
    differences.extend(
        Difference("unrecorded", message.splitlines()[0], tuple(message.splitlines()[1:])) for message in unrecorded
    )
    differences.extend(_compare_outputs(golden_outputs, outputs))
    differences.extend(
        _compare_writes([c for c in recorded if is_write(c.operation)], [c for c in made if is_write(c.operation)])
    )
    differences.extend(
        _compare_reads(
            [c for c in recorded if not is_write(c.operation)],
            [c for c in made if not is_write(c.operation)],
            allowance,
        )
    )
    writes = sum(1 for call in made if is_write(call.operation))
    return Comparison(tuple(differences), calls=len(made), writes=writes, allowed_fewer_reads=allowance)


def compare_cassettes(expected: Cassette, actual: Cassette) -> Comparison:
    """Compare two recordings as golden (expected) and candidate (actual), e.g. for `harness diff`."""
    observed = [ObservedCall(i.service, i.region, i.identity, i.operation, i.params, None) for i in actual.interactions]
    return compare(expected, observed, actual.outputs, [])


def _compare_outputs(expected: Outputs, actual: Outputs) -> list[Difference]:
    """Return value or raised exception, exactly."""
    if expected.to_dict() == actual.to_dict():
        return []
    details = (*deep_differences(expected.to_dict(), actual.to_dict()), *_body_differences(expected, actual))
    return [
        Difference(
            "output",
            "the outputs differ",
            details,
            CHANGED,
            golden=expected.to_dict(),
            candidate=actual.to_dict(),
            parts=_body_field_parts(expected, actual),
        )
    ]


def _body_field_parts(expected: Outputs, actual: Outputs) -> tuple[Difference, ...]:
    """One part per changed body field, when two responses differ in body fields only (else no parts).

    Each part's candidate side is the golden's response with just that field changed, so that separate approved
    divergences can each account for the field their fix changes (the stale count, the error count, ...).
    """
    golden_body, candidate_body = _json_body(expected), _json_body(actual)
    if not isinstance(golden_body, dict) or not isinstance(candidate_body, dict) or golden_body == candidate_body:
        return ()
    golden, candidate = expected.to_dict(), actual.to_dict()
    if set(golden_body) != set(candidate_body) or _without_body(golden) != _without_body(candidate):
        return ()
    changed = [name for name in golden_body if golden_body[name] != candidate_body[name]]
    if len(changed) < 2:
        return ()
    parts = []
    for name in changed:
        one_field = {**golden_body, name: candidate_body[name]}
        candidate_side = {"result": {**golden["result"], "body": json.dumps(one_field)}}
        detail = f"body[{name!r}]: {golden_body[name]!r} -> {candidate_body[name]!r}"
        parts.append(
            Difference(
                "output", f"the body field {name} differs", (detail,), CHANGED, golden=golden, candidate=candidate_side
            )
        )
    return tuple(parts)


def _without_body(outputs_data: dict[str, Any]) -> dict[str, Any]:
    """`Outputs.to_dict()` data with the response body left out."""
    result = outputs_data.get("result")
    if not isinstance(result, dict):
        return outputs_data
    return {**outputs_data, "result": {key: value for key, value in result.items() if key != "body"}}


def _body_differences(expected: Outputs, actual: Outputs) -> list[str]:
    """The fields of two JSON response bodies that differ, one line each (a changed body is one long string)."""
    bodies = [_json_body(outputs) for outputs in (expected, actual)]
    if bodies[0] is None or bodies[1] is None or bodies[0] == bodies[1]:
        return []
    return [line.replace("root[", "body[", 1) for line in deep_differences(bodies[0], bodies[1])]


def _json_body(outputs: Outputs) -> Any:
    """The decoded JSON body of a returned API-Gateway-style response, or None."""
    result = outputs.result
    if outputs.exception is not None or not isinstance(result, dict) or not isinstance(result.get("body"), str):
        return None
    try:
        return json.loads(result["body"])
    except ValueError:
        return None


def _compare_writes(expected: list[_Call], actual: list[_Call]) -> list[Difference]:
    """Writes in order: report the first differing one with both sides, plus per-table and count summaries."""
    if [call.key() for call in expected] == [call.key() for call in actual]:
        return []
    position = next(
        (index for index, (left, right) in enumerate(zip(expected, actual, strict=False)) if left.key() != right.key()),
        min(len(expected), len(actual)),
    )
    details: list[str] = []
    if position < len(expected) and position < len(actual):
        left, right = expected[position], actual[position]
        details.append(f"golden:    {left.label()} {_brief(left.params)}")
        details.append(f"candidate: {right.label()} {_brief(right.params)}")
        if (left.service, left.operation) == (right.service, right.operation):
            details.extend(deep_differences(left.params, right.params))
        summary = f"write #{position + 1} differs"
    elif position < len(expected):
        summary = f"the candidate stops writing after {position} writes; the golden has {len(expected)}"
        details.append(f"first missing write: {expected[position].label()} {_brief(expected[position].params)}")
    else:
        summary = f"the candidate makes {len(actual) - position} extra writes after the golden's {len(expected)}"
        details.append(f"first extra write: {actual[position].label()} {_brief(actual[position].params)}")
    for table in sorted({t for call in expected + actual for t in tables_of(call.params)}):
        left_keys = [c.key() for c in expected if table in tables_of(c.params)]
        right_keys = [c.key() for c in actual if table in tables_of(c.params)]
        if left_keys != right_keys:
            details.append(f"table {table}: writes differ ({len(left_keys)} in the golden, {len(right_keys)} now)")
    return [Difference("write", summary, tuple(details), parts=tuple(_write_parts(expected, actual)))]


def _write_parts(expected: list[_Call], actual: list[_Call]) -> list[Difference]:
    """One Difference per write the candidate lacks, adds or changes, from an alignment of the two write sequences.

    The sequences are aligned on their match keys (difflib); inside a replaced stretch, writes are paired in turn:
    a pair of the same operation on the same tables is one changed write, any other is a missing plus an extra one.
    """
    matcher = SequenceMatcher(None, [c.key() for c in expected], [c.key() for c in actual], autojunk=False)
    parts: list[Difference] = []
    for tag, golden_start, golden_end, candidate_start, candidate_end in matcher.get_opcodes():
        if tag == "equal":
            continue
        golden_positions = list(range(golden_start, golden_end))
        candidate_positions = list(range(candidate_start, candidate_end))
        for offset in range(max(len(golden_positions), len(candidate_positions))):
            left = golden_positions[offset] if offset < len(golden_positions) else None
            right = candidate_positions[offset] if offset < len(candidate_positions) else None
            if left is not None and right is not None and _same_target(expected[left], actual[right]):
                parts.append(_changed_write(expected[left], left, actual[right], right))
                continue
            if left is not None:
                parts.append(_single_write(MISSING, expected[left], left))
            if right is not None:
                parts.append(_single_write(EXTRA, actual[right], right))
    return parts


def _same_target(left: _Call, right: _Call) -> bool:
    """Whether two writes are the same operation on the same tables by the same caller (one changed write)."""
    return (left.service, left.region, left.identity, left.operation, tables_of(left.params)) == (
        right.service,
        right.region,
        right.identity,
        right.operation,
        tables_of(right.params),
    )


def _single_write(change: str, call: _Call, position: int) -> Difference:
    """A write only one side made: missing from the candidate, or extra in it."""
    side = "golden" if change == MISSING else "candidate"
    summary = f"{change} write #{position + 1} ({side}): {call.label()} {_brief(call.params)}"
    return Difference(
        "write",
        summary,
        change=change,
        operation=call.operation,
        table=_first_table(call.params),
        golden=call.view(position) if change == MISSING else None,
        candidate=call.view(position) if change == EXTRA else None,
    )


def _changed_write(left: _Call, left_position: int, right: _Call, right_position: int) -> Difference:
    """A write both sides made at aligned places, with different parameters."""
    return Difference(
        "write",
        f"changed write #{left_position + 1} (golden) / #{right_position + 1} (candidate): {left.label()}",
        tuple(deep_differences(left.params, right.params)),
        CHANGED,
        left.operation,
        _first_table(left.params),
        golden=left.view(left_position),
        candidate=right.view(right_position),
    )


def _first_table(params: dict[str, Any]) -> str | None:
    """The (first) DynamoDB table a call names, if any."""
    tables = tables_of(params)
    return tables[0] if tables else None


def _compare_reads(expected: list[_Call], actual: list[_Call], allowance: tuple[str, ...]) -> list[Difference]:
    """Reads as a multiset; fewer reads pass only for operations the golden's allowance names."""
    labels = {call.key(): call.label() for call in expected + actual}
    missing = Counter(call.key() for call in expected) - Counter(call.key() for call in actual)
    extra = Counter(call.key() for call in actual) - Counter(call.key() for call in expected)
    differences: list[Difference] = []
    missing = Counter({key: count for key, count in missing.items() if key[3] not in allowance})
    if missing:
        differences.append(
            Difference(
                "read",
                f"{sum(missing.values())} recorded reads were not made",
                tuple(
                    f"missing {count}x {labels[key]} {_brief_json(key[4])}" for key, count in list(missing.items())[:10]
                ),
                change=MISSING,
                parts=tuple(_read_parts(MISSING, expected, missing)),
            )
        )
    if extra:
        differences.append(
            Difference(
                "read",
                f"{sum(extra.values())} reads were made that the golden does not hold",
                tuple(f"extra {count}x {labels[key]} {_brief_json(key[4])}" for key, count in list(extra.items())[:10]),
                change=EXTRA,
                parts=tuple(_read_parts(EXTRA, actual, extra)),
            )
        )
    return differences


def _read_parts(change: str, calls: list[_Call], surplus: Counter[CallKey]) -> list[Difference]:
    """One Difference per surplus read: the last `count` calls of each surplus key (FIFO replay consumes the first)."""
    by_key: dict[CallKey, list[_Call]] = {}
    for call in calls:
        if call.key() in surplus:
            by_key.setdefault(call.key(), []).append(call)
    parts: list[Difference] = []
    for key, count in surplus.items():
        for call in by_key[key][-count:]:
            parts.append(
                Difference(
                    "read",
                    f"{change} read: {call.label()} {_brief(call.params)}",
                    change=change,
                    operation=call.operation,
                    table=_first_table(call.params),
                    golden=call.view() if change == MISSING else None,
                    candidate=call.view() if change == EXTRA else None,
                )
            )
    return parts


def deep_differences(expected: Any, actual: Any, limit: int = 12) -> list[str]:
    """deepdiff paths with both sides, one line each, at most `limit` lines.

    The details only explain a verdict, never decide it: where deepdiff cannot be loaded (a deployment package whose
    compiled dependencies are for another interpreter), one line says so and the comparison goes on.
    """
    try:
        from deepdiff import DeepDiff
    except ImportError as error:
        return [f"(differences not itemised: deepdiff unavailable: {error})"]

    from harness.replayer import _diff_lines

    # threshold 0: name the keys that differ, never a whole object that merely shares few keys with the other.
    lines = _diff_lines(DeepDiff(expected, actual, verbose_level=2, threshold_to_diff_deeper=0))
    if len(lines) > limit:
        lines = [*lines[:limit], f"... and {len(lines) - limit} more differences"]
    return lines


def _brief(params: dict[str, Any], limit: int = 160) -> str:
    """Parameters as compact JSON cut to fit a terminal line."""
    from harness.matchers import canonical_params

    return _brief_json(canonical_params(params), limit)


def _brief_json(text: str, limit: int = 160) -> str:
    """JSON text cut to `limit` characters."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
