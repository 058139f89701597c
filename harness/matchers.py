"""How calls are told apart: the match key, reads versus writes, and which table a write touches."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.codec import json_default

# Operations that change nothing in AWS; every other operation counts as a write.
READ_PREFIXES = ("Describe", "Get", "List", "Scan", "Query", "BatchGet")
READ_OPERATIONS = frozenset({"AssumeRole", "GetCallerIdentity", "Scan", "Query"})

CallKey = tuple[str, str, str, str, str]
# Attributes holding the wall clock of a real run: a live comparison (shadow mode) cannot expect them equal.
CLOCK_ATTRIBUTES = ("lastUpdated", "lastChecked")
CLOCK_PLACEHOLDER = "<clock>"


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


@dataclass(frozen=True)
class Matching:
    """How strictly calls and outputs must agree: parameters and outputs pass through these before comparing."""

    name: str
    params: Callable[[dict[str, Any]], dict[str, Any]]
    outputs: Callable[[dict[str, Any]], dict[str, Any]]


def _unchanged(value: dict[str, Any]) -> dict[str, Any]:
    """The value as it is."""
    return value


def mask_clock_params(params: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB write parameters with the wall-clock attributes of items replaced by a placeholder."""
    if "Item" in params:
        return {**params, "Item": _mask_item(params["Item"])}
    items = params.get("RequestItems")
    if isinstance(items, dict):
        masked = {
            table: [_mask_request(request) for request in requests] if isinstance(requests, list) else requests
            for table, requests in items.items()
        }
        return {**params, "RequestItems": masked}
    return params


def _mask_request(request: Any) -> Any:
    """One BatchWriteItem request with its item's clock attributes masked."""
    if isinstance(request, dict) and isinstance(request.get("PutRequest"), dict):
        put = request["PutRequest"]
        return {**request, "PutRequest": {**put, "Item": _mask_item(put.get("Item"))}}
    return request


def _mask_item(item: Any) -> Any:
    """An item (wire form) with its clock attributes masked."""
    if not isinstance(item, dict):
        return item
    return {key: ({"S": CLOCK_PLACEHOLDER} if key in CLOCK_ATTRIBUTES else value) for key, value in item.items()}


def mask_clock_outputs(outputs: dict[str, Any]) -> dict[str, Any]:
    """Outputs with the response body's `timestamp` masked."""
    result = outputs.get("result")
    if not isinstance(result, dict) or not isinstance(result.get("body"), str):
        return outputs
    try:
        body = json.loads(result["body"])
    except ValueError:
        return outputs
    if not isinstance(body, dict) or "timestamp" not in body:
        return outputs
    body["timestamp"] = CLOCK_PLACEHOLDER
    return {**outputs, "result": {**result, "body": json.dumps(body, sort_keys=True)}}


EXACT = Matching("exact", _unchanged, _unchanged)
# For a live run compared with a replay in the same invocation: the clock moved on between the two.
CLOCK_TOLERANT = Matching("clock-tolerant", mask_clock_params, mask_clock_outputs)
