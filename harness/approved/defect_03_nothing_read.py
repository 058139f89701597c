"""Defect 3 fixed: with no target account, or none past AssumeRole, the sync completes with nothing to clean up.

The legacy's cleanup names variables that only the account loop sets, so a run that read no account raises
UnboundLocalError (after writing whatever region statuses it wrote) and the Lambda reports a failure. The
refactored sync skips the cleanup (logged) and returns its usual 200 response with zero counts.

Shows as: the outputs only: the legacy's UnboundLocalError against a 200 whose body synced, failed and deleted
nothing, at the run's timestamp. No call differs.
"""

from __future__ import annotations

from typing import Any

from harness.divergences import ApprovedDivergence, DivergenceContext, body_of, outputs, response_of

NAME = "defect-3-nothing-read"
MESSAGE = "Source server inventory sync complete"


def empty_sync_instead_of_unbound_local(
    golden: dict[str, Any], candidate: dict[str, Any], context: DivergenceContext
) -> bool:
    """The legacy raised UnboundLocalError; the candidate returned a 200 that synced, failed and deleted nothing."""
    response = response_of(candidate)
    body = body_of(response)
    if golden.get("exception", {}).get("type") != "UnboundLocalError" or response is None or body is None:
        return False
    regions = body.get("regionsScanned", 0) + body.get("regionsSkipped", 0)
    return (
        response.get("statusCode") == 200
        and body.get("message") == MESSAGE
        and (body.get("totalSynced"), body.get("totalErrors"), body.get("staleRecordsDeleted")) == (0, 0, 0)
        and regions == 28
        and body.get("timestamp") == context.golden.header.get("clock")
    )


DIVERGENCES = (
    ApprovedDivergence(
        name=NAME,
        defect=3,
        description=(
            "a run that read no target account (none configured, or none past AssumeRole) returns a 200 with zero "
            "counts instead of raising UnboundLocalError"
        ),
        matcher=outputs(empty_sync_instead_of_unbound_local),
        shows_in=("no-target-accounts", "every-account-unreachable"),
    ),
)
