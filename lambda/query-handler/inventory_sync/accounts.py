"""Which accounts the sync reads, and the credentials it reads each one with."""

import logging
import os
from typing import Any

import boto3

from shared.cross_account import assume_role_credentials, get_current_account_id
from shared.dynamodb_tables import TARGET_ACCOUNTS_TABLE_ENV, get_target_accounts_table

from .settings import ASSUME_ROLE_DURATION_SECONDS

logger = logging.getLogger(__name__)

INVENTORY_SESSION_NAME = "inventory-sync"


def target_accounts_table() -> Any:
    """Return the target accounts Table, failing exactly as the legacy does when TARGET_ACCOUNTS_TABLE is unset.

    The shared getter returns None for an unset or empty name, but the legacy always builds `Table(<env value>)`:
    unset makes boto3 raise `ValueError("Required parameter name not set")`, and an empty name goes out as
    `TableName=""` and fails the Scan's parameter validation. That behaviour is kept here, in the caller.
    """
    table = get_target_accounts_table()
    if table is None:
        table = boto3.resource("dynamodb").Table(os.environ.get(TARGET_ACCOUNTS_TABLE_ENV))
    return table


def collect_accounts_to_query() -> list[dict[str, Any]]:
    """Return the target accounts to sync, from a Scan of the target accounts table (staging accounts never).

    Each account is `{accountId, accountName, roleArn, externalId, accountType: "target"}`, a missing field being
    None, in scan order. Every page is read, following LastEvaluatedKey: approved divergence (defect 9 fixed), where
    the legacy read the first page only. A DynamoDB error is logged with a descriptive message and re-raised with
    that message attached as a note (requirement 2.3): its type and `str()` stay the original's, as the legacy's.
    """
    try:
        table = target_accounts_table()
        page = table.scan()
        items = list(page.get("Items", []))
        while "LastEvaluatedKey" in page:
            page = table.scan(ExclusiveStartKey=page["LastEvaluatedKey"])
            items.extend(page.get("Items", []))
    except Exception as error:
        description = f"Failed to read target accounts from {os.environ.get(TARGET_ACCOUNTS_TABLE_ENV)!r}: {error}"
        logger.error(description)
        error.add_note(description)
        raise
    fields = ("accountId", "accountName", "roleArn", "externalId")
    accounts = [{**{name: item.get(name) for name in fields}, "accountType": "target"} for item in items]
    logger.info("Inventory sync: %d target accounts", len(accounts))
    return accounts


def is_hub_account(account: dict[str, Any], sts_client: Any = None) -> bool:
    """Whether `account` is the hub, the account the Lambda runs in: the one read with its own credentials.

    One GetCallerIdentity per account, as the legacy (through `sts_client` when given).
    """
    return bool(account["accountId"] == get_current_account_id(sts_client))


def get_account_credentials(account: dict[str, Any], sts_client: Any = None) -> dict[str, str] | None:
    """Assume the account's role and return its credentials {AccessKeyId, SecretAccessKey, SessionToken}, or None.

    AssumeRole (through `sts_client` when given) carries RoleSessionName "inventory-sync", DurationSeconds 900 and
    ExternalId only when the account has a truthy one. Any failure is logged and answered with None; the caller then
    skips the account, as the legacy. An account without roleArn is answered None without any call, so it is
    skipped rather than read with the hub's credentials (defect 5 fixed: approved divergence
    defect-5-no-hub-credentials-without-role). Callers ask only for accounts other than the hub (`is_hub_account`).
    """
    if not account.get("roleArn"):
        logger.error("Account %s has no roleArn and is not the hub: skipping it", account["accountId"])
        return None
    try:
        credentials = assume_role_credentials(
            account["roleArn"],
            account.get("externalId"),
            session_name=INVENTORY_SESSION_NAME,
            duration_seconds=ASSUME_ROLE_DURATION_SECONDS,
            sts_client=sts_client,
        )
    except Exception as error:
        logger.error("Failed to assume role for account %s, skipping it: %s", account["accountId"], error)
        return None
    logger.info("Assumed role for account %s", account["accountId"])
    return credentials
