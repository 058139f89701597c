"""Facts about a golden's run that the stale-cleanup divergences (defects 1-3) judge by.

Which accounts the run read and which it could not (a failed AssumeRole), which DRS regions failed for which
account, which servers DRS listed, and which inventory rows a cleanup call touches. Everything is read off the
golden's own interactions, so a matcher checks each extra or missing cleanup call against what the legacy saw.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from harness.approved.inventory_state import cleanup_scan_accounts, inventory_table
from harness.cassette import HUB_IDENTITY, Cassette, Interaction
from harness.divergences import DivergenceContext, dynamodb_item
from harness.replayer import ObservedCall

DESCRIBE_SOURCE_SERVERS = "DescribeSourceServers"
ACCOUNT_SESSION_NAME = "inventory-sync"


def target_rows(golden: Cassette) -> list[dict[str, Any]]:
    """The target account rows the golden's run read from the target accounts table (every recorded page), typed."""
    table = golden.header.get("environment", {}).get("TARGET_ACCOUNTS_TABLE")
    found: list[dict[str, Any]] = []
    for interaction in golden.interactions:
        if interaction.operation == "Scan" and interaction.params.get("TableName") == table and interaction.response:
            found.extend(dynamodb_item(item) for item in interaction.response.get("Items", []))
    return found


def target_accounts(golden: Cassette) -> list[Any]:
    """The target account ids, in scan order, typed."""
    return [row.get("accountId") for row in target_rows(golden)]


def hub_account(golden: Cassette) -> str | None:
    """The hub's account id, as the golden's GetCallerIdentity answered it."""
    for interaction in golden.interactions:
        if interaction.operation == "GetCallerIdentity" and interaction.response:
            return str(interaction.response.get("Account"))
    return None


def failed(interaction: Interaction) -> bool:
    """Whether a recorded call failed: an AWS error, or no response at all."""
    if interaction.exception is not None or interaction.error is not None or interaction.response is None:
        return True
    return int(interaction.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 200)) >= 300


def account_of_identity(golden: Cassette, identity: str) -> str | None:
    """The account a recorded identity stands for (`hub` is the hub's account)."""
    return hub_account(golden) if identity == HUB_IDENTITY else identity


def unread_accounts(context: DivergenceContext) -> set[str]:
    """Target accounts the refactored sync cannot read: their own AssumeRole (session `inventory-sync`) failed, or
    their row names no roleArn and they are not the hub (skipped since defect 5 is fixed).

    An AssumeRole of an EC2 origin group (session `inventory-ec2-query`) failing says nothing of the account's read.
    """
    rows = target_rows(context.golden)
    failed_roles = {
        account
        for interaction in context.golden_calls("AssumeRole", "sts")
        if interaction.params.get("RoleSessionName") == ACCOUNT_SESSION_NAME and failed(interaction)
        for account in _accounts_of_role(rows, interaction.params.get("RoleArn"))
    }
    hub = hub_account(context.golden)
    return failed_roles | {str(row.get("accountId")) for row in rows if not row.get("roleArn")} - {hub}


def _accounts_of_role(rows: list[dict[str, Any]], role_arn: Any) -> set[str]:
    """The target accounts whose row names `role_arn` (a role ARN may lack the account: `DRSOrchestrationRole`),
    else the account the ARN itself names."""
    named = {str(row.get("accountId")) for row in rows if row.get("roleArn") == role_arn}
    return named or {str(_account_of_role(role_arn))}


def _account_of_role(role_arn: Any) -> str | None:
    """The account id in a role ARN, or None."""
    parts = str(role_arn or "").split(":")
    return parts[4] if len(parts) > 4 else None


def failed_regions(golden: Cassette) -> set[tuple[str, str]]:
    """(account, region) pairs whose DRS listing failed on some page in the golden's run."""
    return {
        (str(account_of_identity(golden, interaction.identity)), interaction.region)
        for interaction in golden.interactions
        if interaction.operation == DESCRIBE_SOURCE_SERVERS and failed(interaction)
    }


def listed_arns(golden: Cassette) -> set[str]:
    """The ARNs of every source server DRS listed in the golden's run (the run's synced servers)."""
    return {
        str(server.get("arn") or "")
        for interaction in golden.interactions
        if interaction.operation == DESCRIBE_SOURCE_SERVERS and interaction.response is not None
        for server in interaction.response.get("items", [])
    }


def drs_source(row_key: dict[str, Any]) -> tuple[str, str]:
    """The (account, region) whose DRS holds a row's server, from its sourceServerArn ('' when not an ARN)."""
    parts = str(row_key.get("sourceServerArn") or "").split(":")
    return (parts[4], parts[3]) if len(parts) > 4 else ("", "")


def row_went_unread(row_key: dict[str, Any], context: DivergenceContext) -> bool:
    """Whether a row's server lives in a DRS account or region the golden's run could not read."""
    account, region = drs_source(row_key)
    return account in unread_accounts(context) or (account, region) in failed_regions(context.golden)


def cleanup_scan_accounts_of(view: dict[str, Any], context: DivergenceContext) -> list[Any] | None:
    """The accounts (typed) a stale-cleanup Scan of the inventory table filters on, or None for any other call.

    The legacy's Scan names one account (`sourceAccountId = :acct_id`); the fixed cleanup's names every account read
    (`sourceAccountId IN (...)`), or the legacy's form when one was.
    """
    params = view["params"]
    if params.get("TableName") != inventory_table(context.golden):
        return None
    return cleanup_scan_accounts(params)


def cleaned_accounts(calls: Iterable[Interaction | ObservedCall], context: DivergenceContext) -> set[str]:
    """The accounts (as text) that the stale-cleanup Scans among `calls` cover."""
    return {
        str(account) for call in calls for account in cleanup_scan_accounts_of({"params": call.params}, context) or []
    }


def deleted_key(view: dict[str, Any], context: DivergenceContext) -> dict[str, Any] | None:
    """The plain key a DeleteItem on the inventory table removes, or None for another call."""
    params = view["params"]
    if view["operation"] != "DeleteItem" or params.get("TableName") != inventory_table(context.golden):
        return None
    return dynamodb_item(params["Key"])


def successful_deletes(context: DivergenceContext) -> int:
    """How many DeleteItem calls on the inventory table the candidate made that were answered with a success."""
    table = inventory_table(context.golden)
    count = 0
    for call in context.candidate_calls("DeleteItem", "dynamodb"):
        if call.params.get("TableName") != table or call.answered_by is None:
            continue
        answered = _interaction(context, call.answered_by)
        count += 0 if answered is None or failed(answered) else 1
    return count


def _interaction(context: DivergenceContext, index: int) -> Interaction | None:
    """The interaction that answered a candidate call (golden or declared answer), when the context knows it."""
    interactions = context.answered.interactions if context.answered is not None else context.golden.interactions
    return interactions[index] if 0 <= index < len(interactions) else None


def read_targets(context: DivergenceContext) -> Iterator[Any]:
    """The target accounts the run read (AssumeRole not failed), in order, duplicates kept."""
    unread = unread_accounts(context)
    return (account for account in target_accounts(context.golden) if str(account) not in unread)
