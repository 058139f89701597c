"""Approved divergences: legacy defects fixed on purpose, each named, reviewed, and checked exactly.

Equivalence is the rule. Fixing one of the legacy's known defects (LEGACY_CONTRACT.md, "Known defects", numbered
1-11) changes behaviour on purpose, so the goldens recorded from the legacy stop matching. Such a change is never
silent: it is an `ApprovedDivergence` of the registry (`harness/approved/`), with a slug name, the defect number, a
description a reviewer reads and a short predicate saying which kind of change its fix makes.

What a fix changes in one golden is an *approved record* beside it (`harness/approved/records.py`): the list of
`Change`s that turn the legacy golden into the fixed behaviour, each a call dropped, added or replaced, or an output
body field, with both sides spelled out and the divergence it belongs to. The legacy golden stays the baseline:

- a change applies only where the golden holds exactly the legacy side it names (an edited golden is refused);
- every change must be attributed, by the predicates, to the divergence it names (`attribute`);
- the candidate is answered from the golden with the changes applied and must reproduce it exactly, writes in
  order, reads and outputs: a fix that goes missing, or does anything else, is DIVERGENT.

The legacy never uses a record: replayed into the legacy, a golden must be reproduced as it is. A recording with no
record (shadow mode's live recording, a benchmark's) is judged *by predicates*: its differences from the candidate,
read as changes, must each be attributed to a divergence (`Triage.exact` is False: the predicates say which fix a
change is, not that its values are right).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Any

from harness.cassette import Cassette, Interaction, Outputs
from harness.comparison import Comparison, Difference
from harness.matchers import CallKey, call_key, canonical_params, is_write, tables_of

LEGACY_DEFECTS = range(1, 12)
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DROP, ADD, REPLACE, OUTPUT = "drop", "add", "replace", "output"
WHOLE_OUTPUTS = "*"  # the field of an outputs change that is not confined to body fields


class RegistryError(Exception):
    """An approved divergence that cannot be registered: a bad name, an unknown defect, a duplicate."""


class ApprovalError(Exception):
    """An approved record that does not apply to the golden: a change whose legacy side the golden does not hold."""


@dataclass(frozen=True)
class Change:
    """One difference a fix makes to a legacy golden, with both sides.

    `kind` is drop, add or replace (a call) or output. `at` is the golden interaction dropped or replaced, or the
    one an added call goes before. `was` and `now` are the legacy and fixed sides: interactions as golden data
    (`Interaction.to_dict()`), or for an output the body field's values (`field`; `*` for the whole outputs).
    """

    kind: str
    at: int = -1
    was: Any = None
    now: Any = None
    field: str | None = None
    divergence: str = ""

    @property
    def call(self) -> dict[str, Any]:
        """The call the change is about: the fixed side, or the legacy side of a drop."""
        return dict((self.was if self.kind == DROP else self.now) or {})

    @property
    def operation(self) -> str:
        """The operation of the call (empty for an output)."""
        return str(self.call.get("operation", "")) if self.kind != OUTPUT else ""

    @property
    def params(self) -> dict[str, Any]:
        """The parameters of the call."""
        return dict(self.call.get("params", {})) if self.kind != OUTPUT else {}

    @property
    def table(self) -> str | None:
        """The (first) DynamoDB table of the call."""
        tables = tables_of(self.params)
        return tables[0] if tables else None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for an approved record."""
        data: dict[str, Any] = {"divergence": self.divergence, "kind": self.kind}
        data.update({"at": self.at} if self.kind != OUTPUT else {"field": self.field})
        data.update({"was": self.was} if self.kind != ADD else {})
        data.update({"now": self.now} if self.kind != DROP else {})
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        """Rebuild from an approved record's data."""
        return cls(
            data["kind"],
            data.get("at", -1),
            data.get("was"),
            data.get("now"),
            data.get("field"),
            data.get("divergence", ""),
        )

    def describe(self) -> Difference:
        """The change as a Difference a report prints."""
        if self.kind == OUTPUT:
            detail = f"body[{self.field!r}]: {_brief(self.was)} -> {_brief(self.now)}"
            return Difference("output", f"output {self.field} differs", (detail,))
        call = self.call
        kind = "write" if is_write(self.operation) else "read"
        where = f"#{self.at + 1}" if self.kind != ADD else f"before #{self.at + 1}"
        return Difference(
            kind, f"{self.kind} {kind} {where}: {call.get('service')} {self.operation} {_brief(call.get('params'))}"
        )


# A predicate: is this change (in this golden, among these changes) one the divergence's fix makes?
Predicate = Callable[[Change, Cassette, Sequence[Change]], bool]


@dataclass(frozen=True)
class ApprovedDivergence:
    """A reviewed, deliberate behaviour change: which defect it fixes, where it applies, which changes are its.

    `name` is a slug (`defect-1-cleanup-every-account`); `defect` the number in LEGACY_CONTRACT.md; `predicate`
    says whether a change is this fix's; `scenarios` the golden scenario names it applies to (None: every golden).
    """

    name: str
    defect: int
    description: str
    predicate: Predicate
    scenarios: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        """Refuse a name that is not a slug, a defect the contract does not list, an empty description."""
        if not _SLUG.match(self.name):
            raise RegistryError(f"approved divergence {self.name!r}: the name must be a slug like defect-1-cleanup")
        if self.defect not in LEGACY_DEFECTS:
            raise RegistryError(
                f"approved divergence {self.name!r}: defect {self.defect} is not one of LEGACY_CONTRACT.md's 1-11"
            )
        if not self.description.strip():
            raise RegistryError(f"approved divergence {self.name!r}: describe the approved behaviour")

    def applies_to(self, header: dict[str, Any]) -> bool:
        """Whether this divergence is in force for a golden (by its header's scenario name)."""
        return self.scenarios is None or header.get("scenario", {}).get("name") in self.scenarios


# The production registry, read through `approved_divergences()` only. None means the registry `harness.approved`
# assembles from its `defect_*` modules (one module per fixed defect, each reviewed with its fix); tests set a tuple.
APPROVED: tuple[ApprovedDivergence, ...] | None = None


def approved_divergences() -> tuple[ApprovedDivergence, ...]:
    """The registry the gate and `replay` judge against, checked (the one place it is looked up)."""
    if APPROVED is not None:
        return validate_registry(APPROVED)
    from harness.approved import registered_divergences

    return validate_registry(registered_divergences())


def validate_registry(registry: Sequence[ApprovedDivergence]) -> tuple[ApprovedDivergence, ...]:
    """The registry as a tuple, refusing duplicate names."""
    seen: set[str] = set()
    for divergence in registry:
        if divergence.name in seen:
            raise RegistryError(f"approved divergence {divergence.name!r} is registered twice")
        seen.add(divergence.name)
    return tuple(registry)


def applicable(registry: Sequence[ApprovedDivergence], header: dict[str, Any]) -> tuple[ApprovedDivergence, ...]:
    """The divergences in force for a golden, in registry order."""
    return tuple(divergence for divergence in registry if divergence.applies_to(header))


def answered_cassette(recording: Cassette, divergences: Sequence[ApprovedDivergence]) -> Cassette:
    """A recording with no approved record, as a candidate with fixes is answered from it (shadow mode, benchmarks).

    What can be derived from the recording alone: the fixed cleanup's Scans and deletes, answered from the rows the
    run wrote and the legacy's cleanup read (`harness.approved.inventory_state`), and any other DynamoDB write the
    recording lacks answered with an empty success (`answer_new_writes`). Nothing is added without divergences.
    """
    if not divergences:
        return recording
    from harness.approved.inventory_state import live_cleanup_answers

    header = {**recording.header, "answer_new_writes": True}
    return Cassette(header, [*recording.interactions, *live_cleanup_answers(recording)], recording.outputs)


# Changes between a golden and a fixed run --------------------------------------------------------------------------


def _key(data: dict[str, Any]) -> CallKey:
    """The match key of an interaction as golden data."""
    return call_key(data["service"], data["region"], data["identity"], data["operation"], data["params"])


def _target(data: dict[str, Any]) -> tuple[Any, ...]:
    """Who writes what where: a changed write keeps its caller, operation and tables."""
    return (data["service"], data["region"], data["identity"], data["operation"], tables_of(data["params"]))


def changes_between(golden: Cassette, fixed: Cassette) -> list[Change]:
    """The changes that turn `golden` into `fixed`: writes aligned in order, reads as a multiset, then the outputs.

    Writes are aligned on their match keys (difflib); in a replaced stretch a pair with the same caller, operation
    and tables is one replaced write. A read of the fixed run takes the first unused golden read of its key, and is
    a replace when their answers differ. An added call goes right after the golden call its predecessor kept.
    """
    old = [interaction.to_dict() for interaction in golden.interactions]
    new = [interaction.to_dict() for interaction in fixed.interactions]
    kept: dict[int, int] = {}  # fixed index -> golden index (kept or replaced)
    changes: list[Change] = []
    old_writes = [index for index, data in enumerate(old) if is_write(data["operation"])]
    new_writes = [index for index, data in enumerate(new) if is_write(data["operation"])]
    matcher = SequenceMatcher(None, [_key(old[i]) for i in old_writes], [_key(new[i]) for i in new_writes], False)
    added: list[int] = []
    for tag, left, left_end, right, right_end in matcher.get_opcodes():
        lefts, rights = old_writes[left:left_end], new_writes[right:right_end]
        if tag == "equal":
            kept.update(zip(rights, lefts, strict=True))
            continue
        for offset in range(max(len(lefts), len(rights))):
            was = lefts[offset] if offset < len(lefts) else None
            now = rights[offset] if offset < len(rights) else None
            if was is not None and now is not None and _target(old[was]) == _target(new[now]):
                kept[now] = was
                changes.append(Change(REPLACE, was, old[was], new[now]))
                continue
            if was is not None:
                changes.append(Change(DROP, was, old[was]))
            if now is not None:
                added.append(now)
    unused: dict[CallKey, list[int]] = {}
    for index, data in enumerate(old):
        if not is_write(data["operation"]):
            unused.setdefault(_key(data), []).append(index)
    for index, data in enumerate(new):
        if is_write(data["operation"]):
            continue
        queue = unused.get(_key(data))
        if not queue:
            added.append(index)
            continue
        kept[index] = was = queue.pop(0)
        if old[was] != data:
            changes.append(Change(REPLACE, was, old[was], data))
    changes.extend(Change(DROP, index, old[index]) for queue in unused.values() for index in queue)
    for index in sorted(added):
        before = max((kept[i] for i in kept if i < index), default=-1)
        changes.append(Change(ADD, before + 1, None, new[index]))
    changes.sort(key=lambda change: (change.at, change.kind != ADD))
    return changes + output_changes(golden.outputs, fixed.outputs)


def output_changes(legacy: Outputs, fixed: Outputs) -> list[Change]:
    """One change per response body field that differs, or one of the whole outputs when more than fields do."""
    was, now = legacy.to_dict(), fixed.to_dict()
    if was == now:
        return []
    old_body, new_body = _body(was), _body(now)
    if old_body is None or new_body is None or set(old_body) != set(new_body) or _headers(was) != _headers(now):
        return [Change(OUTPUT, was=was, now=now, field=WHOLE_OUTPUTS)]
    return [
        Change(OUTPUT, was=old_body[name], now=new_body[name], field=name)
        for name in old_body
        if old_body[name] != new_body[name]
    ]


def apply_changes(golden: Cassette, changes: Sequence[Change], fixed_outputs: Outputs) -> Cassette:
    """The fixed behaviour: the golden with the changes applied (answers and all) and the fixed outputs.

    Raises ApprovalError when the golden does not hold a change's legacy side exactly: the golden was edited, or
    the record belongs to another golden.
    """
    old = [interaction.to_dict() for interaction in golden.interactions]
    replaced: dict[int, Change] = {}
    added: dict[int, list[dict[str, Any]]] = {}
    for number, change in enumerate(changes, start=1):
        if change.kind == ADD:
            added.setdefault(change.at, []).append(change.now)
        elif change.kind in (DROP, REPLACE):
            if not 0 <= change.at < len(old) or old[change.at] != change.was or change.at in replaced:
                raise ApprovalError(
                    f"change {number} ({change.divergence}, {change.kind} of interaction "
                    f"#{change.at + 1}): the golden does not hold the legacy call it changes"
                )
            replaced[change.at] = change
    expected = output_changes(golden.outputs, fixed_outputs)
    recorded = [(change.field, change.was, change.now) for change in changes if change.kind == OUTPUT]
    if [(change.field, change.was, change.now) for change in expected] != recorded:
        raise ApprovalError("the outputs changes do not turn the golden's outputs into the fixed ones")
    interactions: list[Interaction] = []
    for index in range(len(old) + 1):
        interactions.extend(Interaction.from_dict(data) for data in added.get(index, []))
        if index < len(old) and index not in replaced:
            interactions.append(golden.interactions[index])
        elif index in replaced and replaced[index].kind == REPLACE:
            interactions.append(Interaction.from_dict(replaced[index].now))
    return Cassette(golden.header, interactions, fixed_outputs)


def attribute(changes: Sequence[Change], divergences: Sequence[ApprovedDivergence], golden: Cassette) -> list[Change]:
    """The changes, each named by the first divergence in force whose predicate accepts it ("" when none does)."""
    return [
        replace(change, divergence=next((d.name for d in divergences if d.predicate(change, golden, changes)), ""))
        for change in changes
    ]


# Verdicts ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Triage:
    """A judgement: the comparison with what was expected, the approved changes, and what is not approved.

    `exact` is True when the expected behaviour was an approved record (or the golden itself), False when changes
    were only attributed by predicates (a recording with no record: shadow mode, benchmarks).
    """

    comparison: Comparison
    changes: tuple[Change, ...] = ()
    uncovered: tuple[Difference, ...] = ()
    divergences: tuple[ApprovedDivergence, ...] = ()
    exact: bool = True

    @property
    def passed(self) -> bool:
        """True when nothing differs from the expected behaviour and every change is approved."""
        return not self.uncovered

    @property
    def approved(self) -> tuple[ApprovedDivergence, ...]:
        """The divergences that some change is attributed to, in registry order."""
        names = {change.divergence for change in self.changes}
        return tuple(divergence for divergence in self.divergences if divergence.name in names)

    @property
    def verdict(self) -> str:
        """`equivalent`, `approved` (the approved changes, nothing else) or `DIVERGENT`."""
        if not self.passed:
            return "DIVERGENT"
        return "approved" if self.approved else "equivalent"

    @property
    def label(self) -> str:
        """The verdict for a table: `approved (defect-1-..., ...)` names the divergences."""
        if self.verdict == "approved":
            return f"approved ({', '.join(divergence.name for divergence in self.approved)})"
        return self.verdict

    def covered_by(self, name: str) -> list[Difference]:
        """The changes attributed to one divergence, as Differences."""
        return [change.describe() for change in self.changes if change.divergence == name]


def unattributed(changes: Sequence[Change], attributed: Sequence[Change]) -> list[Difference]:
    """A Difference for each change whose recorded divergence is not the one the predicates name."""
    problems = []
    for number, (change, named) in enumerate(zip(changes, attributed, strict=True), start=1):
        if change.divergence != named.divergence or not named.divergence:
            found = named.divergence or "no approved divergence"
            problems.append(
                Difference(
                    "approval",
                    f"change {number} is not {change.divergence or 'attributed'}: {found} accepts it",
                    (change.describe().summary,),
                )
            )
    return problems


def _body(outputs_data: dict[str, Any]) -> dict[str, Any] | None:
    """The decoded JSON body of returned API-Gateway-style outputs, or None."""
    result = outputs_data.get("result")
    if not isinstance(result, dict) or not isinstance(result.get("body"), str):
        return None
    try:
        body = json.loads(result["body"])
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _headers(outputs_data: dict[str, Any]) -> dict[str, Any]:
    """Returned outputs without the body (status code, headers)."""
    return {key: value for key, value in outputs_data["result"].items() if key != "body"}


def _brief(value: Any, limit: int = 120) -> str:
    """A value as compact JSON cut to fit a report line."""
    text = canonical_params(value) if isinstance(value, dict) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
