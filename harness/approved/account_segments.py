"""Which of a golden's calls the legacy made for which target account: its run cut into one segment per account.

The legacy syncs the target accounts one after the other, each starting with one GetCallerIdentity (is it the hub?)
followed by its AssumeRole (RoleSessionName "inventory-sync") or, for an account queried with the Lambda's own
credentials, directly by its DRS queries. The EC2 enrichment's GetCallerIdentity calls come after an account's DRS
queries and are followed by a GetItem, an AssumeRole "inventory-ec2-query" or a DescribeInstances, never by either
of those, so the account starts are told apart by what follows them. An account's segment runs from its
GetCallerIdentity to the next account's, the last one to the stale cleanup's Scan (or the end of the run). When the
starts found are not one per target account, the golden is not cut at all (no segment): a matcher built on the
segments then covers nothing, which keeps it precise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.approved.inventory_state import CLEANUP_FILTER
from harness.cassette import Cassette, Interaction
from harness.divergences import dynamodb_item

ACCOUNT_SESSION_NAME = "inventory-sync"


@dataclass(frozen=True)
class AccountSegment:
    """One target account's part of the golden: its row and the interaction indexes [start, end)."""

    account: dict[str, Any]
    start: int
    end: int

    @property
    def account_id(self) -> str:
        """The account's id as the target accounts table holds it, as text."""
        return str(self.account.get("accountId"))

    def holds(self, index: int) -> bool:
        """Whether the interaction at `index` belongs to this account (its GetCallerIdentity included)."""
        return self.start <= index < self.end


def target_account_rows(golden: Cassette) -> list[dict[str, Any]]:
    """The target accounts rows (plain values) of the golden's first target accounts Scan, in scan order."""
    table = golden.header.get("environment", {}).get("TARGET_ACCOUNTS_TABLE")
    for interaction in golden.interactions:
        if interaction.operation == "Scan" and interaction.params.get("TableName") == table:
            if interaction.response is None:
                return []
            return [dynamodb_item(item) for item in interaction.response.get("Items", [])]
    return []


def hub_account_id(golden: Cassette) -> str | None:
    """The hub's account id, from the first GetCallerIdentity the golden answered, or None."""
    for interaction in golden.interactions:
        if interaction.operation == "GetCallerIdentity" and interaction.response is not None:
            account = interaction.response.get("Account")
            if account is not None:
                return str(account)
    return None


def _starts_an_account(interactions: list[Interaction], index: int) -> bool:
    """Whether the GetCallerIdentity at `index` is an account's first call (followed by its AssumeRole or DRS)."""
    if interactions[index].operation != "GetCallerIdentity" or index + 1 >= len(interactions):
        return False
    following = interactions[index + 1]
    if following.service == "drs":
        return True
    return following.operation == "AssumeRole" and following.params.get("RoleSessionName") == ACCOUNT_SESSION_NAME


def _is_cleanup_scan(interaction: Interaction) -> bool:
    """Whether a call is the stale cleanup's Scan of the inventory table."""
    return interaction.operation == "Scan" and interaction.params.get("FilterExpression") == CLEANUP_FILTER


def account_segments(golden: Cassette) -> list[AccountSegment]:
    """The golden's calls cut into one segment per target account, in account order (empty when it cannot be cut)."""
    interactions = golden.interactions
    rows = target_account_rows(golden)
    starts = [index for index in range(len(interactions)) if _starts_an_account(interactions, index)]
    if not rows or len(starts) != len(rows):
        return []
    cleanup = next(
        (index for index in range(starts[-1], len(interactions)) if _is_cleanup_scan(interactions[index])),
        len(interactions),
    )
    ends = [*starts[1:], cleanup]
    return [AccountSegment(row, start, end) for row, start, end in zip(rows, starts, ends, strict=True)]


def without_role_arn(golden: Cassette) -> list[AccountSegment]:
    """The segments of accounts that are not the hub and have no roleArn: those the defect-5 fix skips."""
    hub = hub_account_id(golden)
    if hub is None:
        return []
    return [
        segment
        for segment in account_segments(golden)
        if segment.account.get("accountId") != hub and not segment.account.get("roleArn")
    ]


def _assume_role_failed(golden: Cassette, segment: AccountSegment) -> bool:
    """Whether the account's AssumeRole (its call after its GetCallerIdentity) failed, so the legacy skipped it."""
    following = golden.interactions[segment.start + 1] if segment.start + 1 < segment.end else None
    return (
        following is not None
        and following.operation == "AssumeRole"
        and (following.error is not None or following.exception is not None or following.response is None)
    )


def none_left_to_sync(golden: Cassette) -> bool:
    """Whether the defect-5 fix leaves no account synced: each is skipped for want of a roleArn or failed AssumeRole.

    Only when the fix skips at least one account (otherwise the legacy synced none either).
    """
    skipped = without_role_arn(golden)
    if not skipped:
        return False
    starts = {segment.start for segment in skipped}
    return all(segment.start in starts or _assume_role_failed(golden, segment) for segment in account_segments(golden))


def skipped_indexes(golden: Cassette) -> set[int]:
    """The golden's interactions the defect-5 fix no longer makes: each skipped account's calls after its identity.

    When it leaves no account synced, the stale cleanup after the last account is not made either: with no server
    list read, the sync raises there, as the legacy does when no account got past AssumeRole (defect 3).
    """
    indexes = {index for segment in without_role_arn(golden) for index in range(segment.start + 1, segment.end)}
    if none_left_to_sync(golden):
        indexes.update(range(account_segments(golden)[-1].end, len(golden.interactions)))
    return indexes
