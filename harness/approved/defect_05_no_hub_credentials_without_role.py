"""Defect 5 fixed: a target account without roleArn is skipped, never queried with the hub's own credentials.

The legacy reaches an account through AssumeRole only when it names a roleArn; a row of another account without one
is queried with the Lambda's own credentials, so the hub's DRS servers are read, their region statuses written under
that account, and their inventory rows written again (LEGACY_CONTRACT.md, known defect 5). The refactored sync now
asks AssumeRole for every account but the hub; a row of another account without roleArn is logged as an error naming
the account and the missing roleArn, and skipped as an account whose AssumeRole failed: no DRS query, no region
status, no EC2 call, no inventory write, and (like any skipped account) no cleanup deletes its rows. The hub's own row
(accountId equals the hub's) is still read with the Lambda's credentials. The change shows in a golden as the calls
the legacy made for that account after its GetCallerIdentity (attributed by position,
`account_segments.without_role_arn`) missing, and the response body's totalSynced lower by the inventory items the
legacy wrote for it. Where defect 4's fix shows too, the comparison may pair a skipped write with a later account's
changed one: such pairings pass only when the candidate's whole write sequence is the predicted one
(`writes_as_fixed`). Where the skipped accounts leave no account synced, the sync raises defect 3's UnboundLocalError
(kept) before the stale cleanup, as the legacy does when no account gets past AssumeRole: the legacy's 200 and its
cleanup calls are then the expected difference.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from harness.approved.account_segments import AccountSegment, none_left_to_sync, skipped_indexes, without_role_arn
from harness.approved.defect_04_region_status_running_total import region_totals, running_total_params
from harness.approved.inventory_state import inventory_table
from harness.cassette import Cassette, Interaction
from harness.comparison import Difference
from harness.divergences import ApprovedDivergence, DivergenceContext, any_of, body_fields_differ, outputs, response_of
from harness.matchers import CallKey, call_key, is_write


def written_items(interaction: Interaction, table: str) -> int:
    """How many items a recorded BatchWriteItem wrote to `table`: those sent less those handed back (0 if it failed)."""
    if interaction.operation != "BatchWriteItem" or interaction.response is None:
        return 0
    if interaction.exception is not None or interaction.error is not None:
        return 0
    sent = interaction.params.get("RequestItems", {}).get(table, [])
    unprocessed = (interaction.response.get("UnprocessedItems") or {}).get(table, [])
    return len(sent) - len(unprocessed)


def skipped_synced_items(golden: Cassette, segments: list[AccountSegment]) -> int:
    """The inventory items the legacy wrote for the skipped accounts (what totalSynced loses)."""
    table = inventory_table(golden)
    return sum(
        written_items(golden.interactions[index], table)
        for segment in segments
        for index in range(segment.start + 1, segment.end)
    )


def _missing_write(difference: Difference, context: DivergenceContext) -> bool:
    """A write the legacy made for a skipped account, missing from the candidate."""
    if (difference.kind, difference.change) != ("write", "missing") or not isinstance(difference.golden, dict):
        return False
    return difference.golden["index"] in skipped_indexes(context.golden)


# The last context's verdict of `writes_as_fixed`: a matcher is asked once per difference, all of one run in a row.
_LAST: list[tuple[DivergenceContext, bool]] = []


def writes_as_fixed(context: DivergenceContext) -> bool:
    """Whether the candidate's writes are exactly the golden's less the skipped accounts', region statuses as fixed.

    The expected sequence is every golden write outside the skipped accounts, in order, a region status write with
    defect 4's running totals (`running_total_params`). When some are left out, the comparison's alignment may pair a
    skipped account's write with a later account's as one changed write; this whole-sequence check is what lets such
    a pairing pass, and only when every write is the predicted one.
    """
    if _LAST and _LAST[0][0] is context:
        return _LAST[0][1]
    golden = context.golden
    skipped = skipped_indexes(golden)
    totals = region_totals(golden)
    expected: list[CallKey] = []
    for index, interaction in enumerate(golden.interactions):
        if not is_write(interaction.operation) or index in skipped:
            continue
        params = running_total_params(golden, index, totals) if totals is not None else None
        params = interaction.params if params is None else params
        expected.append(
            _key(interaction.service, interaction.region, interaction.identity, interaction.operation, params, context)
        )
    made = [
        _key(call.service, call.region, call.identity, call.operation, call.params, context)
        for call in context.observed
        if is_write(call.operation)
    ]
    verdict = bool(skipped) and expected == made
    _LAST[:] = [(context, verdict)]
    return verdict


def _realigned_write(difference: Difference, context: DivergenceContext) -> bool:
    """Any other write difference of a golden with a skipped account, when the whole write sequence is as predicted."""
    return difference.kind == "write" and writes_as_fixed(context)


def _key(
    service: str, region: str, identity: str, operation: str, params: dict[str, Any], context: DivergenceContext
) -> CallKey:
    """A call's match key, its parameters seen through the comparison's matching."""
    return call_key(service, region, identity, operation, context.matching.params(params))


def _missing_read(difference: Difference, context: DivergenceContext) -> bool:
    """A read of a skipped account missing from the candidate, and no more of its kind missing than they made."""
    if (difference.kind, difference.change) != ("read", "missing") or not isinstance(difference.golden, dict):
        return False
    view = difference.golden
    key = _key(view["service"], view["region"], view["identity"], view["operation"], view["params"], context)
    golden = Counter(
        _key(i.service, i.region, i.identity, i.operation, i.params, context) for i in context.golden.interactions
    )
    made = Counter(_key(c.service, c.region, c.identity, c.operation, c.params, context) for c in context.observed)
    interactions = context.golden.interactions
    skipped = Counter(
        _key(i.service, i.region, i.identity, i.operation, i.params, context)
        for i in (interactions[index] for index in skipped_indexes(context.golden))
    )
    return 0 < golden[key] - made[key] <= skipped[key]


def _synced_less_skipped(
    golden_body: dict[str, Any], candidate_body: dict[str, Any], context: DivergenceContext
) -> bool:
    """totalSynced is the legacy's less the items it wrote for the skipped accounts."""
    segments = without_role_arn(context.golden)
    if not segments:
        return False
    expected = golden_body["totalSynced"] - skipped_synced_items(context.golden, segments)
    return bool(candidate_body["totalSynced"] == expected)


# What the sync raises when no account was synced (the legacy's defect 3, kept): its cleanup names an unset variable.
NO_SYNCED_ACCOUNT_MESSAGE = "cannot access local variable 'all_servers' where it is not associated with a value"


def _raises_with_none_left(golden: dict[str, Any], candidate: dict[str, Any], context: DivergenceContext) -> bool:
    """The legacy answered 200, but with no account left to sync the fix raises defect 3's UnboundLocalError.

    The legacy synced an account without roleArn; skipped, it leaves none, and the sync raises what the legacy raises
    when no account got past AssumeRole (defect 3, kept), before the stale cleanup.
    """
    return bool(
        none_left_to_sync(context.golden)
        and (response_of(golden) or {}).get("statusCode") == 200
        and candidate.get("exception") == {"type": "UnboundLocalError", "message": NO_SYNCED_ACCOUNT_MESSAGE}
    )


DIVERGENCES = (
    ApprovedDivergence(
        name="defect-5-no-hub-credentials-without-role",
        defect=5,
        description=(
            "A target account without roleArn that is not the hub is no longer queried with the hub's credentials: "
            "it is logged as an error and skipped like an account whose AssumeRole failed (no DRS, region status, "
            "EC2 or inventory call; no cleanup of its rows). The hub's own row still uses the Lambda's credentials."
        ),
        matcher=any_of(
            _missing_write,
            _realigned_write,
            _missing_read,
            body_fields_differ("totalSynced", where=_synced_less_skipped),
            outputs(_raises_with_none_left),
        ),
    ),
)
