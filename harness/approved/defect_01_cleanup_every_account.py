"""Defect 1 fixed: the stale cleanup covers every account that was read, judged against the whole run's servers.

The legacy cleans up once, after the account loop, for the last account only and with that account's server list:
stale rows of every other account stay forever, and a row of the last account that another account's DRS listed
in this very run (a server whose origin account is the last one) is deleted right after it was written. The
refactored sync cleans up, after the last write, every account it read: one Scan of the inventory table for all of
them (`sourceAccountId IN (:acct_0, :acct_1, ...)`, placeholders in account order, up to 100 accounts a Scan,
projected on the attributes the cleanup reads, read as a parallel Scan in 4 segments; the legacy's own
`sourceAccountId = :acct_id` when it read one account), so the table is read once, as the legacy's one Scan read it,
then the legacy's DeleteItem calls, in scan order. It deletes a row only when no account's DRS listed its server in
this run.

Shows as: the legacy's cleanup Scan of a read account missing, and the Scan of every read account extra in its
place, each segment's pages (answered from the scenario's table after the golden's writes,
`inventory_state.cleanup_answers`); an extra DeleteItem for each row of the other accounts that no DRS listed; a
missing DeleteItem where the legacy deleted a row whose server some account listed; and `staleRecordsDeleted`
counting exactly the deletes that succeeded.
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


def scan_of_read_accounts(view: dict[str, Any], context: DivergenceContext) -> bool:
    """The fixed cleanup's Scan: it filters on accounts the run read (every one of them, up to 100 a Scan)."""
    accounts = facts.cleanup_scan_accounts_of(view, context)
    read = {str(account) for account in facts.read_targets(context)}
    return bool(accounts) and {str(account) for account in accounts or []} <= read


def scan_merged_into_one(view: dict[str, Any], context: DivergenceContext) -> bool:
    """The legacy's cleanup Scan of a read account, which the candidate's Scan of every read account covers."""
    accounts = facts.cleanup_scan_accounts_of(view, context)
    if not accounts:
        return False
    covered = facts.cleaned_accounts(context.candidate_calls("Scan", "dynamodb"), context)
    read = {str(account) for account in facts.read_targets(context)}
    return {str(account) for account in accounts} <= read & covered


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
    cleaned_by_legacy = facts.cleaned_accounts(context.golden_calls("Scan", "dynamodb"), context)
    cleaned_now = facts.cleaned_accounts(context.candidate_calls("Scan", "dynamodb"), context)
    return candidate["staleRecordsDeleted"] == facts.successful_deletes(context) and bool(
        cleaned_now - cleaned_by_legacy
    )


def answers(golden: Cassette) -> list[Interaction]:
    """The cleanup Scan of every account the run read and its DeleteItems, as DynamoDB answers them after the run."""
    return cleanup_answers(golden, facts.read_targets(DivergenceContext(golden)))


DIVERGENCES = (
    ApprovedDivergence(
        name=NAME,
        defect=1,
        description=(
            "stale inventory rows of every account that was read are removed (not only the last account's), found by "
            "one (parallel) Scan of the table for all of them, and a row is stale only when no account's DRS listed "
            "its server in this run"
        ),
        matcher=any_of(
            reads("extra", "Scan", where=scan_of_read_accounts),
            reads("missing", "Scan", where=scan_merged_into_one),
            writes("extra", "DeleteItem", where=delete_of_an_unlisted_row),
            writes("missing", "DeleteItem", where=kept_row_of_a_listed_server),
            body_fields_differ("staleRecordsDeleted", where=stale_count_of_every_account),
        ),
        answers=answers,
        shows_in=("stale-cleanup-multi-account",),
    ),
)
