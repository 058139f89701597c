"""Candidates for shadow-mode tests: the refactored sync changed on purpose, or failing outright."""

from typing import Any

from harness.lambda_env import import_lambda_module


def reports_one_more_error() -> dict[str, Any]:
    """The refactored sync, but its response claims one more error than it had: a divergent output."""
    import json

    response: dict[str, Any] = import_lambda_module("inventory_sync").sync_source_server_inventory()
    body = json.loads(response["body"])
    body["totalErrors"] += 1
    return {**response, "body": json.dumps(body)}
