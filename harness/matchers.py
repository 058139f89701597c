"""How calls are told apart: the match key, reads versus writes, and which table a write touches."""

from __future__ import annotations

import json
from typing import Any

from harness.codec import json_default

# Operations that change nothing in AWS; every other operation counts as a write.
READ_PREFIXES = ("Describe", "Get", "List", "Scan", "Query", "BatchGet")
READ_OPERATIONS = frozenset({"AssumeRole", "GetCallerIdentity", "Scan", "Query"})

CallKey = tuple[str, str, str, str, str]


def canonical_params(params: dict[str, Any]) -> str:
    """Parameters as canonical JSON: key order never matters, list order always does."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=json_default)


def call_key(service: str, region: str, identity: str, operation: str, params: dict[str, Any]) -> CallKey:
    """The replay match key: (service, region, identity, operation, normalized params)."""
    return (service, region, identity, operation, canonical_params(params))


def is_write(operation: str) -> bool:
    """Whether an operation can change state (PutItem, BatchWriteItem, DeleteItem, UpdateItem, ...)."""
    return operation not in READ_OPERATIONS and not operation.startswith(READ_PREFIXES)


def tables_of(params: dict[str, Any]) -> tuple[str, ...]:
    """The DynamoDB tables a call names (TableName, or the keys of RequestItems), else the empty tuple."""
    if isinstance(params.get("TableName"), str):
        return (params["TableName"],)
    items = params.get("RequestItems")
    if isinstance(items, dict):
        return tuple(items)
    return ()


def describe_call(service: str, region: str, identity: str, operation: str) -> str:
    """A short human label: `dynamodb PutItem in us-east-1 as hub`."""
    return f"{service} {operation} in {region} as {identity}"
