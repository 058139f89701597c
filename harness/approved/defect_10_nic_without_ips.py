"""Defect 10 fixed: a first NIC whose `ips` list is empty gives primaryIp "" and the server is written.

The legacy builds `primaryIp` as `nics[0].get("ips", [""])[0]`: a first NIC with an empty `ips` list raises
IndexError, the server is counted in totalErrors and its row is never written (scenario `nic-without-ips`). The
refactored sync treats that NIC as if there were none (`first_nic_ip`): primaryIp "", every other field as usual, and
the row is written where the server sits in the account's server order.

Expected differences, and nothing else: the inventory BatchWriteItem calls of that account carry the extra row(s)
(batches of 25, so later rows move to later batches), and the body's totalSynced grows and totalErrors shrinks by
the number of such servers. The matcher rebuilds the account's whole inventory sequence from the golden: the
golden's own rows, in order, with the row of each such server (built from the golden's DRS document,
`inventory_items.expected_item`) inserted at its place; the candidate's whole write sequence must be the golden's
with exactly those batches. The new batches are answered with an empty success.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.approved.golden_accounts import (
    AccountRun,
    Listing,
    account_runs,
    batch_answers,
    batches,
    cached_per_golden,
    candidate_writes,
    counts_moved_by,
    expected_writes,
    inventory_change,
    inventory_stretch,
)
from harness.approved.inventory_items import has_empty_first_nic_ips
from harness.cassette import Cassette, Interaction
from harness.comparison import Difference
from harness.divergences import ApprovedDivergence, DivergenceContext, body_fields_differ, writes
from harness.matchers import CallKey


@dataclass(frozen=True)
class Plan:
    """What the fix changes in one golden: the candidate's expected writes, the answers, the count changes."""

    writes: tuple[CallKey, ...]
    answers: tuple[Interaction, ...]
    synced_delta: int
    errors_delta: int


def _written_now(server: dict[str, Any], listing: Listing) -> bool:
    """A server of a region the legacy read whose first NIC has an empty `ips` list."""
    return listing.failure is None and has_empty_first_nic_ips(server)


def _was_an_error(server: dict[str, Any], listing: Listing) -> bool:
    """The legacy counted every such server as an error."""
    return True


def _plan(golden: Cassette) -> Plan | None:
    """Compute `plan` (uncached)."""
    runs: list[AccountRun] = [
        run
        for run in account_runs(golden)
        if any(_written_now(server, listing) for server, listing in run.all_servers())
    ]
    if not runs:
        return None
    replacements: dict[tuple[int, int], list[dict[str, Any]]] = {}
    synced = errors = 0
    for run in runs:
        change = inventory_change(golden, run, _written_now, _was_an_error)
        if change is None:
            return None
        replacements[inventory_stretch(run)] = batches(golden, change.items)
        synced += change.synced_delta
        errors += change.errors_delta
    answers = [answer for params in replacements.values() for answer in batch_answers(golden, params)]
    return Plan(tuple(expected_writes(golden, replacements)), tuple(answers), synced, errors)


# The fix's effect on a golden (see `_plan`), computed once per golden.
plan = cached_per_golden(_plan)


def _answers(golden: Cassette) -> list[Interaction]:
    """The inventory batches the fix sends, each answered with an empty success."""
    found = plan(golden)
    return [] if found is None else list(found.answers)


def _writes_as_planned(view: dict[str, Any], context: DivergenceContext) -> bool:
    """The candidate's whole write sequence is the golden's with the planned inventory batches."""
    found = plan(context.golden)
    return found is not None and tuple(candidate_writes(context.observed)) == found.writes


def _matcher(difference: Difference, context: DivergenceContext) -> bool:
    """The inventory batches and the two counts, exactly as planned."""
    inventory = str(context.golden.header["environment"]["SOURCE_SERVER_INVENTORY_TABLE"])
    return any(
        matcher(difference, context)
        for matcher in (
            writes("changed", "BatchWriteItem", table=inventory, where=_writes_as_planned),
            writes("extra", "BatchWriteItem", table=inventory, where=_writes_as_planned),
            writes("missing", "BatchWriteItem", table=inventory, where=_writes_as_planned),
            body_fields_differ("totalSynced", "totalErrors", where=counts_moved_by(plan)),
        )
    )


DIVERGENCES = (
    ApprovedDivergence(
        name="defect-10-nic-without-ips",
        defect=10,
        description=(
            "A first NIC with an empty ips list gives primaryIp '' (as with no NIC) instead of raising: the server is "
            "written at its place in the account's inventory batches, and totalSynced/totalErrors move by one per "
            "such server."
        ),
        matcher=_matcher,
        scenarios=None,
        answers=_answers,
        shows_in=("nic-without-ips",),
    ),
)
