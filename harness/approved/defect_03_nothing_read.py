"""Defect 3 fixed: with no target account, or none past AssumeRole, the sync completes with nothing to clean up.

The legacy's cleanup names variables only the account loop sets, so a run that read no account raises
UnboundLocalError. The refactored sync skips the cleanup and returns its usual 200 response with zero counts.

Its change: the outputs only, the legacy's UnboundLocalError against a 200 that synced, failed and deleted nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from harness.approved import facts
from harness.cassette import Cassette
from harness.divergences import OUTPUT, WHOLE_OUTPUTS, ApprovedDivergence, Change


def empty_sync(change: Change, golden: Cassette, changes: Sequence[Change]) -> bool:
    """The legacy raised UnboundLocalError; the fixed sync returned a 200 with zero counts."""
    if (change.kind, change.field) != (OUTPUT, WHOLE_OUTPUTS) or facts.raised(change.was).get("type") != (
        "UnboundLocalError"
    ):
        return False
    response = facts.response_of(change.now)
    body = json.loads(response.get("body", "{}"))
    counts = (body.get("totalSynced"), body.get("totalErrors"), body.get("staleRecordsDeleted"))
    return response.get("statusCode") == 200 and counts == (0, 0, 0)


DIVERGENCES = (
    ApprovedDivergence(
        name="defect-3-nothing-read",
        defect=3,
        description=(
            "a run that read no target account (none configured, or none past AssumeRole) returns a 200 with zero "
            "counts instead of raising UnboundLocalError"
        ),
        predicate=empty_sync,
    ),
)
