"""Candidates for shadow-mode tests: the refactored sync changed on purpose, or failing outright."""

import threading
from typing import Any

from harness.lambda_env import import_lambda_module


def reports_one_more_error() -> dict[str, Any]:
    """The refactored sync, but its response claims one more error than it had: a divergent output."""
    import json

    response: dict[str, Any] = import_lambda_module("inventory_sync").sync_source_server_inventory()
    body = json.loads(response["body"])
    body["totalErrors"] += 1
    return {**response, "body": json.dumps(body)}


# Released by the test that set it: a candidate judged while it is clear is still running at any deadline.
RELEASE = threading.Event()


def waits_for_release() -> dict[str, Any]:
    """The refactored sync, started only once the test releases it: a judgement slower than any budget."""
    RELEASE.wait(timeout=120)
    response: dict[str, Any] = import_lambda_module("inventory_sync").sync_source_server_inventory()
    return response
