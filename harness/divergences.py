"""Approved divergences: legacy defects fixed on purpose, each named, reviewed, and matched precisely.

Equivalence is the rule. Fixing one of the legacy's known defects (LEGACY_CONTRACT.md, "Known defects", numbered
1-11) changes behaviour on purpose, so the goldens recorded from the legacy stop matching. As with GitHub
Scientist's named ignores, such a change is never silent: it is an `ApprovedDivergence` in the `APPROVED` registry,
with a slug name, the defect number it fixes, a description a reviewer reads, the goldens it applies to, and a
matcher that says exactly which differences are the expected change. `triage` splits a comparison's fine-grained
differences into covered (by which divergence) and uncovered; only a comparison with nothing uncovered passes.

New calls. A fix may make calls the legacy never made (defect 1's fix scans and deletes the stale rows of every
account). A golden holds no answer for them, and the replayer raises UnrecordedCallError into the code for a call it
cannot answer. A divergence that expects new calls therefore declares `answers`: the exact calls (service, region,
identity, operation, parameters) it expects and the response AWS would give, computed from the golden. They are
appended to a copy of the golden used only to answer the candidate (`answered_cassette`); the comparison still runs
against the untouched golden, so every answered call shows up as an extra read or write that a matcher must cover.
A call the fix makes that no answer declares stays unrecorded, and an unrecorded call is never covered.

Writing a matcher. A matcher is a plain predicate `(difference, context) -> bool` over one fine-grained Difference
(a missing, extra or changed write; a missing or extra read; the outputs), with `DivergenceContext` giving the
golden, the candidate's calls and outputs. `writes`, `reads`, `body_fields_differ` and `any_of` compose the usual
ones, e.g. "extra DeleteItem calls on the inventory table for rows of accounts other than the last".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.cassette import HUB_IDENTITY, Cassette, Interaction, Outputs
from harness.comparison import Comparison, Difference
from harness.matchers import EXACT, Matching
from harness.replayer import ObservedCall

# A matcher decides whether one fine-grained difference is (part of) the approved change.
Matcher = Callable[[Difference, "DivergenceContext"], bool]
# The calls a fix makes that the golden lacks, with the answers AWS would give, computed from the golden.
Answers = Callable[[Cassette], Sequence[Interaction]]
# A test on one side of a call difference (`Difference.golden` or `.candidate`, see `comparison.call_view`).
CallTest = Callable[[dict[str, Any], "DivergenceContext"], bool]
# A test on the decoded response bodies of the golden and the candidate.
BodyTest = Callable[[dict[str, Any], dict[str, Any], "DivergenceContext"], bool]

LEGACY_DEFECTS = range(1, 12)
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_OK_RESPONSE: dict[str, Any] = {"ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}


class RegistryError(Exception):
    """An approved divergence that cannot be registered: a bad name, an unknown defect, a duplicate."""


class UnanswerableError(Exception):
    """A divergence's answers need what the recording does not hold (a live or shadow run names no scenario)."""


@dataclass(frozen=True)
class DivergenceContext:
    """What a matcher may look at: the golden, and the candidate's calls and outputs (as replayed)."""

    golden: Cassette
    observed: tuple[ObservedCall, ...] = ()
    outputs: Outputs = field(default_factory=Outputs)
    matching: Matching = EXACT
    answered: Cassette | None = None  # what the candidate was answered from (`ObservedCall.answered_by` indexes it)

    @property
    def scenario(self) -> str:
        """The golden's scenario name."""
        return str(self.golden.header.get("scenario", {}).get("name", ""))

    def golden_calls(self, operation: str | None = None, service: str | None = None) -> list[Interaction]:
        """The golden's interactions, optionally only those of an operation (and service)."""
        return [
            interaction
            for interaction in self.golden.interactions
            if (operation is None or interaction.operation == operation)
            and (service is None or interaction.service == service)
        ]

    def candidate_calls(self, operation: str | None = None, service: str | None = None) -> list[ObservedCall]:
        """The candidate's calls, optionally only those of an operation (and service)."""
        return [
            call
            for call in self.observed
            if (operation is None or call.operation == operation) and (service is None or call.service == service)
        ]

    def golden_response(self, view: dict[str, Any]) -> dict[str, Any] | None:
        """The recorded response of the golden call a `Difference.golden` view stands for."""
        return self.golden.interactions[view["index"]].response

    def assume_role_failed(self, account_id: str) -> bool:
        """Whether some AssumeRole into `account_id` failed in the golden (an AWS error or no response at all)."""
        return any(
            _account_of_role(interaction.params.get("RoleArn")) == account_id and _failed(interaction)
            for interaction in self.golden_calls("AssumeRole", "sts")
        )

    def target_account_ids(self) -> list[str]:
        """The account ids of the golden's target accounts Scan, in scan order (first page, as the legacy read)."""
        table = self.golden.header.get("environment", {}).get("TARGET_ACCOUNTS_TABLE")
        for interaction in self.golden_calls("Scan", "dynamodb"):
            if interaction.params.get("TableName") == table and interaction.response is not None:
                items = interaction.response.get("Items", [])
                return [str(dynamodb_item(item).get("accountId")) for item in items]
        return []


@dataclass(frozen=True)
class ApprovedDivergence:
    """A reviewed, deliberate behaviour change: which defect it fixes, where it applies, how it shows.

    `name` is a slug (`defect-1-cleanup-every-account`); `defect` the number in LEGACY_CONTRACT.md; `scenarios`
    the golden scenario names it applies to (None: every golden); `matcher` decides, per fine-grained difference,
    whether it is this change; `answers` declares the new calls the fix makes and their responses (see the module
    docstring), or None when the fix makes no call the golden lacks; `shows_in` names the scenarios whose goldens
    must show the change (a candidate equivalent there has lost the fix, and the gate says so).
    """

    name: str
    defect: int
    description: str
    matcher: Matcher
    scenarios: tuple[str, ...] | None = None
    answers: Answers | None = None
    shows_in: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse a name that is not a slug and a defect the contract does not list."""
        if not _SLUG.match(self.name):
            raise RegistryError(f"approved divergence {self.name!r}: the name must be a slug like defect-1-cleanup")
        if self.defect not in LEGACY_DEFECTS:
            raise RegistryError(
                f"approved divergence {self.name!r}: defect {self.defect} is not one of LEGACY_CONTRACT.md's 1-11"
            )
        if not self.description.strip():
            raise RegistryError(f"approved divergence {self.name!r}: describe the approved behaviour")
        if self.scenarios is not None and not set(self.shows_in) <= set(self.scenarios):
            raise RegistryError(f"approved divergence {self.name!r}: shows_in names scenarios it does not apply to")

    def must_show(self, header: dict[str, Any]) -> bool:
        """Whether the golden's scenario is one where this change must show."""
        return header.get("scenario", {}).get("name") in self.shows_in

    def applies_to(self, header: dict[str, Any]) -> bool:
        """Whether this divergence is in force for a golden (by its header's scenario name)."""
        return self.scenarios is None or header.get("scenario", {}).get("name") in self.scenarios

    def covers(self, difference: Difference, context: DivergenceContext) -> bool:
        """Whether one fine-grained difference is this approved change; an unrecorded call never is."""
        if difference.kind == "unrecorded" or not self.applies_to(context.golden.header):
            return False
        try:
            return self.matcher(difference, context)
        except UnanswerableError:
            return False  # the matcher needs the world, which a live or shadow recording does not name

    def synthesized(self, golden: Cassette) -> list[Interaction]:
        """The answers this divergence declares for the golden (none when it does not apply)."""
        if self.answers is None or not self.applies_to(golden.header):
            return []
        try:
            return list(self.answers(golden))
        except UnanswerableError:
            return []  # the fix's new calls then stay unrecorded: never covered, reported as such


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


def answered_cassette(golden: Cassette, divergences: Sequence[ApprovedDivergence]) -> Cassette:
    """The golden plus the answers the divergences declare: what the candidate is answered from (never compared)."""
    extra = [interaction for divergence in divergences for interaction in divergence.synthesized(golden)]
    if not extra:
        return golden
    return Cassette(golden.header, [*golden.interactions, *extra], golden.outputs)


def answer(
    operation: str,
    params: dict[str, Any],
    response: dict[str, Any] | None = None,
    *,
    region: str,
    service: str = "dynamodb",
    identity: str = HUB_IDENTITY,
) -> Interaction:
    """One declared answer: the call exactly as the fix makes it (wire-form params) and AWS's response.

    The response defaults to an empty success (HTTP 200), what DynamoDB answers a DeleteItem or PutItem.
    """
    return Interaction(service, region, identity, operation, params, dict(response or _OK_RESPONSE))


@dataclass(frozen=True)
class Coverage:
    """A fine-grained difference and the approved divergence that covers it."""

    divergence: str
    difference: Difference


@dataclass(frozen=True)
class Triage:
    """A comparison split into differences covered by approved divergences and the rest; only the rest fail."""

    comparison: Comparison
    covered: tuple[Coverage, ...] = ()
    uncovered: tuple[Difference, ...] = ()
    divergences: tuple[ApprovedDivergence, ...] = ()

    @property
    def passed(self) -> bool:
        """True when every difference is covered (or there is none)."""
        return not self.uncovered

    @property
    def approved(self) -> tuple[ApprovedDivergence, ...]:
        """The divergences that covered at least one difference, in registry order."""
        names = {coverage.divergence for coverage in self.covered}
        return tuple(divergence for divergence in self.divergences if divergence.name in names)

    @property
    def verdict(self) -> str:
        """`equivalent`, `approved` (every difference covered) or `DIVERGENT`."""
        if not self.passed:
            return "DIVERGENT"
        return "equivalent" if self.comparison.equivalent else "approved"

    @property
    def label(self) -> str:
        """The verdict for a table: `approved (defect-1-..., ...)` names the divergences."""
        if self.verdict == "approved":
            return f"approved ({', '.join(divergence.name for divergence in self.approved)})"
        return self.verdict

    def covered_by(self, name: str) -> list[Difference]:
        """The differences one divergence covered."""
        return [coverage.difference for coverage in self.covered if coverage.divergence == name]


def triage(comparison: Comparison, registry: Sequence[ApprovedDivergence], context: DivergenceContext) -> Triage:
    """Split the comparison's fine-grained differences into covered (naming the divergence) and uncovered.

    A difference none of whose parts is covered is kept whole (its aggregate wording reads best); otherwise only its
    uncovered parts are reported. The first divergence in registry order that covers a part claims it.
    """
    divergences = applicable(registry, context.golden.header)
    covered: list[Coverage] = []
    uncovered: list[Difference] = []
    for difference in comparison.differences:
        split_output = difference.kind == "output" and bool(difference.parts)
        whole = _claimant(difference, divergences, context) if split_output else None
        if whole is not None:  # one fix accounts for every changed body field at once
            covered.append(Coverage(whole, difference))
            continue
        claims = [(atom, _claimant(atom, divergences, context)) for atom in difference.atoms()]
        if all(name is None for _, name in claims):
            uncovered.append(difference)
            continue
        for atom, name in claims:
            if name is None:
                uncovered.append(atom)
            else:
                covered.append(Coverage(name, atom))
    shown = {coverage.divergence for coverage in covered}
    for divergence in divergences:
        if divergence.must_show(context.golden.header) and divergence.name not in shown:
            uncovered.append(
                Difference(
                    "absent",
                    f"approved divergence {divergence.name} (defect {divergence.defect}) does not show: the candidate "
                    f"behaves as the legacy here, so the fix was lost",
                )
            )
    return Triage(comparison, tuple(covered), tuple(uncovered), divergences)


def _claimant(
    difference: Difference, divergences: Sequence[ApprovedDivergence], context: DivergenceContext
) -> str | None:
    """The name of the first divergence covering a fine-grained difference, or None."""
    return next((divergence.name for divergence in divergences if divergence.covers(difference, context)), None)


# Matcher building blocks ---------------------------------------------------------------------------------------


def writes(change: str, operation: str, *, table: str | None = None, where: CallTest | None = None) -> Matcher:
    """Matches a write `change` (missing, extra, changed) of `operation` (on `table`), and `where` on its side.

    `where` gets the candidate's side of an extra or changed write, the golden's side of a missing one.
    """
    return _calls("write", change, operation, table, where)


def reads(change: str, operation: str, *, table: str | None = None, where: CallTest | None = None) -> Matcher:
    """Matches a read `change` (missing or extra) of `operation` (on `table`), and `where` on its side."""
    return _calls("read", change, operation, table, where)


def _calls(kind: str, change: str, operation: str, table: str | None, where: CallTest | None) -> Matcher:
    """The matcher behind `writes` and `reads`."""

    def matches(difference: Difference, context: DivergenceContext) -> bool:
        """Kind, change, operation and table agree, and `where` holds on the relevant side."""
        if (difference.kind, difference.change, difference.operation) != (kind, change, operation):
            return False
        if table is not None and difference.table != table:
            return False
        side = difference.golden if change == "missing" else difference.candidate
        return where is None or (isinstance(side, dict) and where(side, context))

    return matches


def body_fields_differ(*fields: str, where: BodyTest | None = None) -> Matcher:
    """Matches an outputs difference where both sides are responses alike except for these body fields.

    Status code and headers must be equal, the bodies (JSON) must differ in some of `fields` and in nothing else,
    and `where(golden_body, candidate_body, context)`, when given, checks the new values.
    """

    def matches(difference: Difference, context: DivergenceContext) -> bool:
        """An output difference confined to the named body fields."""
        if difference.kind != "output":
            return False
        golden, candidate = response_of(difference.golden), response_of(difference.candidate)
        if golden is None or candidate is None:
            return False
        if {key: value for key, value in golden.items() if key != "body"} != {
            key: value for key, value in candidate.items() if key != "body"
        }:
            return False
        golden_body, candidate_body = body_of(golden), body_of(candidate)
        if golden_body is None or candidate_body is None or set(golden_body) != set(candidate_body):
            return False
        changed = {key for key in golden_body if golden_body[key] != candidate_body[key]}
        if not changed or not changed <= set(fields):
            return False
        return where is None or where(golden_body, candidate_body, context)

    return matches


def outputs(where: Callable[[dict[str, Any], dict[str, Any], DivergenceContext], bool]) -> Matcher:
    """Matches an outputs difference for which `where(golden_outputs, candidate_outputs, context)` holds.

    Both are `Outputs.to_dict()` data: `{"result": ...}` or `{"exception": {"type", "message"}}`.
    """

    def matches(difference: Difference, context: DivergenceContext) -> bool:
        """An output difference that `where` accepts."""
        if difference.kind != "output" or not isinstance(difference.golden, dict):
            return False
        return isinstance(difference.candidate, dict) and where(difference.golden, difference.candidate, context)

    return matches


def any_of(*matchers: Matcher) -> Matcher:
    """Matches what any of `matchers` matches."""

    def matches(difference: Difference, context: DivergenceContext) -> bool:
        """True when one of the matchers accepts the difference."""
        return any(matcher(difference, context) for matcher in matchers)

    return matches


# Helpers for matchers ------------------------------------------------------------------------------------------


def response_of(outputs_data: Any) -> dict[str, Any] | None:
    """The returned response of `Outputs.to_dict()` data, or None when it raised or returned something else."""
    if isinstance(outputs_data, dict) and isinstance(outputs_data.get("result"), dict):
        return dict(outputs_data["result"])
    return None


def body_of(response: dict[str, Any] | None) -> dict[str, Any] | None:
    """The JSON body of an API-Gateway-style response, decoded, or None."""
    if response is None or not isinstance(response.get("body"), str):
        return None
    try:
        body = json.loads(response["body"])
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def dynamodb_item(wire: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item or key from wire form (`{"S": "x"}`) to plain values."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(value) for name, value in wire.items()}


def _account_of_role(role_arn: Any) -> str | None:
    """The account id in a role ARN, or None."""
    parts = str(role_arn or "").split(":")
    return parts[4] if len(parts) > 4 else None


def _failed(interaction: Interaction) -> bool:
    """Whether a recorded call failed: an AWS error status, or no response at all."""
    if interaction.exception is not None or interaction.error is not None:
        return True
    status = (interaction.response or {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 200)
    return int(status) >= 300
