"""`--impl handler`: the handler's decoded body re-wrapped in the sync's API response, and nothing else passes."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from harness.impls import SYNC_EVENT, HandlerMismatch, handler_as_the_sync

RESPONSE = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps({"totalSynced": 5})}


def index_module(sync: Any, handler: Any) -> SimpleNamespace:
    """A stand-in for the Lambda's `index` module: its sync selection and its handler calling it by module name."""
    index = SimpleNamespace(handle_sync_source_server_inventory=sync)

    def lambda_handler(event: dict[str, Any], context: Any) -> Any:
        """Route the sync event to the module's current sync, then shape the result as `handler` says."""
        assert event == SYNC_EVENT
        try:
            return handler(index.handle_sync_source_server_inventory())
        except Exception as error:
            return {"error": f"Operation failed: {error}", "operation": event["operation"]}

    index.lambda_handler = lambda_handler
    return index


def test_the_decoded_body_is_re_wrapped_in_the_response_it_came_from() -> None:
    run = handler_as_the_sync(index_module(lambda: RESPONSE, lambda result: json.loads(result["body"])))

    assert run() == RESPONSE


def test_a_handler_that_returns_anything_but_the_decoded_body_does_not_pass() -> None:
    run = handler_as_the_sync(index_module(lambda: RESPONSE, lambda result: {**json.loads(result["body"]), "x": 1}))

    with pytest.raises(HandlerMismatch, match="lambda_handler returned"):
        run()


def test_a_sync_that_raised_raises_again_once_the_handler_returned_its_error_body() -> None:
    failure = RuntimeError("DynamoDB refused the batch")

    def sync() -> Any:
        """A sync that fails."""
        raise failure

    run = handler_as_the_sync(index_module(sync, lambda result: result))

    with pytest.raises(RuntimeError) as raised:
        run()
    assert raised.value is failure


def test_the_index_module_gets_its_own_sync_back() -> None:
    def sync() -> Any:
        """The module's sync."""
        return RESPONSE

    index = index_module(sync, lambda result: json.loads(result["body"]))

    handler_as_the_sync(index)()

    assert index.handle_sync_source_server_inventory is sync
