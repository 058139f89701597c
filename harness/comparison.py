"""Equivalence, precisely: outputs equal; writes equal in content and order; reads an equal multiset.

The result is immutable and says, in words a reviewer can act on, what differs: the first differing write with
both sides, deepdiff paths, missing and extra reads, unrecorded calls.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from harness.cassette import Cassette, Outputs
from harness.matchers import EXACT, CallKey, Matching, call_key, describe_call, is_write, tables_of
from harness.replayer import ObservedCall


@dataclass(frozen=True)
class Difference:
    """One way the candidate differs from the golden: a kind (output, write, read, unrecorded) and its story."""

    kind: str
    summary: str
    details: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for logs and JSON reports)."""
        return {"kind": self.kind, "summary": self.summary, "details": list(self.details)}


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


def compare(
    golden: Cassette, observed: list[ObservedCall], outputs: Outputs, unrecorded: list[str], matching: Matching = EXACT
) -> Comparison:
    """Compare a candidate's calls and outputs with a golden's (parameters and outputs seen through `matching`)."""
    recorded = [
        _Call(i.service, i.region, i.identity, i.operation, matching.params(i.params)) for i in golden.interactions
    ]
    made = [
        _Call(call.service, call.region, call.identity, call.operation, matching.params(call.params))
        for call in observed
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
    return [Difference("output", "the outputs differ", tuple(deep_differences(expected.to_dict(), actual.to_dict())))]


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
    return [Difference("write", summary, tuple(details))]


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
            )
        )
    if extra:
        differences.append(
            Difference(
                "read",
                f"{sum(extra.values())} reads were made that the golden does not hold",
                tuple(f"extra {count}x {labels[key]} {_brief_json(key[4])}" for key, count in list(extra.items())[:10]),
            )
        )
    return differences


def deep_differences(expected: Any, actual: Any, limit: int = 12) -> list[str]:
    """deepdiff paths with both sides, one line each, at most `limit` lines."""
    from deepdiff import DeepDiff

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
