"""Candidate implementations for the harness tests: the legacy, then a deliberate change of behaviour.

Each is a zero-argument callable named as `tests.harness.impls_for_tests:<function>` on the command line or in
`check`/`replay`; the legacy module is resolved at call time, inside the harness's cold start.
"""

from __future__ import annotations

import contextlib
from typing import Any

import boto3

from harness.impls import resolve_impl
from harness.replayer import UnrecordedCallError


def legacy() -> Any:
    """The legacy, unchanged (through a module:function name)."""
    return resolve_impl("legacy")()


def changed_status_code() -> Any:
    """The legacy's calls, but a different status code in the response."""
    result = resolve_impl("legacy")()
    return {**result, "statusCode": 207}


def raises_runtime_error() -> Any:
    """The legacy's calls, then a RuntimeError instead of the response."""
    resolve_impl("legacy")()
    raise RuntimeError("sync finished but the candidate gave up")


def raises_value_error() -> Any:
    """The legacy's calls, then a ValueError instead of the response."""
    resolve_impl("legacy")()
    raise ValueError("sync finished but the candidate gave up")


def extra_inventory_write() -> Any:
    """The legacy, then one more inventory PutItem the golden does not hold (its refusal swallowed)."""
    result = resolve_impl("legacy")()
    client = boto3.client("dynamodb")
    with contextlib.suppress(UnrecordedCallError):
        client.put_item(TableName="source-server-inventory", Item={"sourceServerArn": {"S": "arn:extra"}})
    return result


def answers_without_calling_aws() -> Any:
    """A 200 response with no AWS call at all (what a live recording must refuse to keep)."""
    return {"statusCode": 200, "body": "{}"}
