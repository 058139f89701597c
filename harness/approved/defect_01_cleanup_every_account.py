"""Defect 1 fixed: the stale cleanup covers every account that was read, judged against the whole run's servers.

The legacy cleans up once, after the account loop, for the last account only and with that account's server list:
stale rows of every other account stay forever, and a row of the last account that another account's DRS listed
in this very run (a server whose origin account is the last one) is deleted right after it was written. The
refactored sync cleans up, after the last write, every account it read, with the legacy's own Scan
(`sourceAccountId = :acct_id`, paginated) and DeleteItem calls: every account's Scan first (concurrently, so each
sees the table as the last write left it, as the legacy's one Scan did), then the deletes, account by account. It
deletes a row only when no account's DRS listed its server in this run.

Shows as: an extra cleanup Scan per read account other than the one the legacy cleaned (answered from the
scenario's table after the golden's writes, `inventory_state.cleanup_answers`); an extra DeleteItem for each of
their rows that no DRS listed; a missing DeleteItem where the legacy deleted a row whose server some account
listed; and `staleRecordsDeleted` counting exactly the deletes that succeeded.
"""

from __future__ import annotations

from typing import Any

from harness.approved import cleanup_facts as facts
from harness.approved.inventory_state import cleanup_answers
from harness.cassette import Cassette, Interaction
from harness.divergences import (
    ApprovedDivergence,
    DivergenceContext,
    any_of,
    body_fields_differ,
    reads,
    writes,
)

NAME = "defect-1-cleanup-every-account"


def scan_of_a_read_account(view: dict[str, Any], context: DivergenceContext) -> bool:
    """An extra cleanup Scan of an account the run read."""
    account = facts.cleanup_scan_account(view, context)
    return account is not None and str(account) in {str(read) for read in facts.read_targets(context)}


def delete_of_an_unlisted_row(view: dict[str, Any], context: DivergenceContext) -> bool:
    """An extra DeleteItem of a row whose server no DRS listed in the run, in a DRS account and region that was read."""
    key = facts.deleted_key(view, context)
    if key is None:
        return False
    return str(key.get("sourceServerArn")) not in facts.listed_arns(context.golden) and not facts.row_went_unread(
        key, context
    )


def kept_row_of_a_listed_server(view: dict[str, Any], context: DivergenceContext) -> bool:
    """A DeleteItem the legacy made of a row whose server some account's DRS listed in the run (so it is current)."""
    key = facts.deleted_key(view, context)
    return key is not None and str(key.get("sourceServerArn")) in facts.listed_arns(context.golden)


def stale_count_of_every_account(golden: dict[str, Any], candidate: dict[str, Any], context: DivergenceContext) -> bool:
    """The count is the candidate's successful deletes, and it cleaned up an account the legacy did not."""
    cleaned_by_legacy = {
        str(facts.cleanup_scan_account({"params": call.params}, context))
        for call in context.golden_calls("Scan", "dynamodb")
    }
    cleaned_now = {
        str(facts.cleanup_scan_account({"params": call.params}, context))
        for call in context.candidate_calls("Scan", "dynamodb")
    }
    return candidate["staleRecordsDeleted"] == facts.successful_deletes(context) and bool(
        cleaned_now - cleaned_by_legacy - {"None"}
    )


def answers(golden: Cassette) -> list[Interaction]:
    """The cleanup Scan and DeleteItems of every account the run read, as DynamoDB answers them after the run."""
    return cleanup_answers(golden, facts.read_targets(DivergenceContext(golden)))


DIVERGENCES = (
    ApprovedDivergence(
        name=NAME,
        defect=1,
        description=(
            "stale inventory rows of every account that was read are removed (not only the last account's), and a "
            "row is stale only when no account's DRS listed its server in this run"
        ),
        matcher=any_of(
            reads("extra", "Scan", where=scan_of_a_read_account),
            writes("extra", "DeleteItem", where=delete_of_an_unlisted_row),
            writes("missing", "DeleteItem", where=kept_row_of_a_listed_server),
            body_fields_differ("staleRecordsDeleted", where=stale_count_of_every_account),
        ),
        answers=answers,
        shows_in=("stale-cleanup-multi-account",),
    ),
)
