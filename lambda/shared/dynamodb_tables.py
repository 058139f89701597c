"""The Lambda's DynamoDB tables, one getter per table: named by environment variables, cached, resettable.

Each getter reads its environment variable on every call and returns None when the variable is unset or empty, so a
caller can decide what a missing table means (the inventory sync answers 500 without the inventory table). The Table
objects (and the DynamoDB resource behind them) are created on first use and cached per process, which survives warm
Lambda invocations; `reset_table_cache()` forgets them, as a cold start does. Creating a Table makes no AWS call.
"""

import os
import threading
from typing import Any

import boto3

TARGET_ACCOUNTS_TABLE_ENV = "TARGET_ACCOUNTS_TABLE"
SOURCE_SERVER_INVENTORY_TABLE_ENV = "SOURCE_SERVER_INVENTORY_TABLE"
DRS_REGION_STATUS_TABLE_ENV = "DRS_REGION_STATUS_TABLE"

_lock = threading.Lock()
_dynamodb_resource: Any = None
# Environment variable -> (table name the Table was created for, Table object).
_tables: dict[str, tuple[str, Any]] = {}


def _get_dynamodb_resource() -> Any:
    """Return the process-wide DynamoDB resource, created on first use (call with `_lock` held)."""
    global _dynamodb_resource
    if _dynamodb_resource is None:
        _dynamodb_resource = boto3.resource("dynamodb")
    return _dynamodb_resource


def _get_table(env_var: str) -> Any:
    """Return the cached Table named by `env_var` (re-created if the name changed), or None when it is unset/empty."""
    table_name = os.environ.get(env_var)
    if not table_name:
        return None
    with _lock:
        cached = _tables.get(env_var)
        if cached is None or cached[0] != table_name:
            cached = (table_name, _get_dynamodb_resource().Table(table_name))
            _tables[env_var] = cached
        return cached[1]


def get_target_accounts_table() -> Any:
    """Return the target accounts Table (`TARGET_ACCOUNTS_TABLE`, key accountId), or None when not configured."""
    return _get_table(TARGET_ACCOUNTS_TABLE_ENV)


def get_inventory_table() -> Any:
    """Return the source server inventory Table (`SOURCE_SERVER_INVENTORY_TABLE`), or None when not configured."""
    return _get_table(SOURCE_SERVER_INVENTORY_TABLE_ENV)


def get_region_status_table() -> Any:
    """Return the DRS region status Table (`DRS_REGION_STATUS_TABLE`, key region), or None when not configured."""
    return _get_table(DRS_REGION_STATUS_TABLE_ENV)


def reset_table_cache() -> None:
    """Forget every cached Table and the DynamoDB resource, so the next getter call starts afresh (a cold start)."""
    global _dynamodb_resource
    with _lock:
        _tables.clear()
        _dynamodb_resource = None
