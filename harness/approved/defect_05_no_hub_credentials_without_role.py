"""Defect 5 fixed: a target account without roleArn is skipped, never queried with the hub's own credentials.

The legacy queries a row of another account without roleArn with the Lambda's own credentials: the hub's DRS servers
are read, their region statuses written under that account, their inventory rows written again. The refactored sync
logs it as an error and skips the account as one whose AssumeRole failed (no DRS, region status, EC2 or inventory
call; no cleanup of its rows). Where that leaves no account synced, the sync raises defect 3's UnboundLocalError
(kept) before the cleanup, as the legacy does when no account gets past AssumeRole.

Its changes, in a golden with such an account: the legacy's calls for it dropped (and the writes after them
realigned), totalSynced lower, or the legacy's 200 replaced by that UnboundLocalError.
"""

from __future__ import annotations

from harness.approved import facts
from harness.cassette import Cassette
from harness.divergences import DROP, OUTPUT, REPLACE, WHOLE_OUTPUTS, ApprovedDivergence, Change


def skipped_account(change: Change, golden: Cassette) -> bool:
    """A call the fix no longer makes (or a write realigned by them) in a golden with an account without roleArn."""
    if not facts.without_role(golden):
        return False
    if change.kind == OUTPUT:
        return change.field == WHOLE_OUTPUTS and facts.raised(change.now).get("type") == "UnboundLocalError"
    return change.kind == DROP or (change.kind == REPLACE and change.table == facts.table(golden, facts.STATUS))


DIVERGENCES = (
    ApprovedDivergence(
        name="defect-5-no-hub-credentials-without-role",
        defect=5,
        description=(
            "A target account without roleArn that is not the hub is no longer queried with the hub's credentials: "
            "it is logged as an error and skipped like an account whose AssumeRole failed (no DRS, region status, "
            "EC2 or inventory call; no cleanup of its rows). The hub's own row still uses the Lambda's credentials."
        ),
        predicate=facts.with_outputs(("totalSynced",), skipped_account),
    ),
)
