"""The one place the harness hooks botocore: `BaseClient._make_api_call`, for every client of the process.

Clients made at import time, in threads, from a new boto3.Session, behind the DynamoDB resource API, batch
writers and paginators all funnel through it. The recorder also sees the parameters after the resource layer
built them (wire form) and the parsed response before the resource layer converts it.

Interceptors stack: the innermost answers each call and may `forward` it to the one below (a recorder over a
replayer, as when the harness replays a golden into the Lambda's shadow mode, which records and replays itself).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from botocore.client import BaseClient


class Interceptor(Protocol):
    """What the recorder and the replayer each implement."""

    def make_api_call(self, client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        """Answer one client call."""

    def params_built(self, client: BaseClient, params: dict[str, Any]) -> None:
        """The call's parameters once the event pipeline built them (wire form)."""

    def response_received(self, client: BaseClient, http: Any, parsed: dict[str, Any]) -> None:
        """The parsed response as botocore read it, before `after-call` handlers touch it."""


_ORIGINAL_MAKE_API_CALL = BaseClient._make_api_call
_ORIGINAL_EMIT_API_PARAMS = BaseClient._emit_api_params
_ORIGINAL_MAKE_REQUEST = BaseClient._make_request
_STACK: list[Interceptor] = []
_LOCK = threading.Lock()


def original_make_api_call(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
    """botocore's own call path (to AWS or the local AWS)."""
    return _ORIGINAL_MAKE_API_CALL(client, operation_name, api_params)


def forward(interceptor: Interceptor, client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
    """Pass a call on to the interceptor below `interceptor`, or to botocore when there is none."""
    below = _below(interceptor)
    if below is None:
        return _ORIGINAL_MAKE_API_CALL(client, operation_name, api_params)
    return below.make_api_call(client, operation_name, api_params)


def notify_response(client: BaseClient, http: Any, parsed: dict[str, Any]) -> None:
    """Tell every stacked interceptor about a parsed response (botocore's, or one a replayer made up)."""
    for interceptor in list(_STACK):
        interceptor.response_received(client, http, parsed)


def _below(interceptor: Interceptor) -> Interceptor | None:
    """The interceptor stacked under `interceptor`."""
    stack = list(_STACK)
    position = next((index for index, item in enumerate(stack) if item is interceptor), 0)
    return stack[position - 1] if position > 0 else None


def _make_api_call(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
    """Route a client call to the innermost interceptor, or to botocore when none is active."""
    stack = _STACK
    if not stack:
        return _ORIGINAL_MAKE_API_CALL(self, operation_name, api_params)
    return stack[-1].make_api_call(self, operation_name, api_params)


def _emit_api_params(self: BaseClient, api_params: dict[str, Any], operation_model: Any, context: Any) -> Any:
    """botocore's parameter build, then a look at its result by every stacked interceptor."""
    built = _ORIGINAL_EMIT_API_PARAMS(self, api_params=api_params, operation_model=operation_model, context=context)
    for interceptor in list(_STACK):
        interceptor.params_built(self, built)
    return built


def _make_request(self: BaseClient, operation_model: Any, request_dict: Any, request_context: Any) -> Any:
    """botocore's HTTP round trip (retries included), then a look at the parsed response."""
    http, parsed = _ORIGINAL_MAKE_REQUEST(self, operation_model, request_dict, request_context)
    notify_response(self, http, parsed)
    return http, parsed


@contextmanager
def intercept(interceptor: Interceptor) -> Iterator[Interceptor]:
    """Send every botocore client call of the process to `interceptor` for the block (blocks nest)."""
    with _LOCK:
        if not _STACK:
            BaseClient._make_api_call = _make_api_call
            BaseClient._emit_api_params = _emit_api_params
            BaseClient._make_request = _make_request
        _STACK.append(interceptor)
    try:
        yield interceptor
    finally:
        with _LOCK:
            _STACK.remove(interceptor)
            if not _STACK:
                BaseClient._make_api_call = _ORIGINAL_MAKE_API_CALL
                BaseClient._emit_api_params = _ORIGINAL_EMIT_API_PARAMS
                BaseClient._make_request = _ORIGINAL_MAKE_REQUEST


def active() -> bool:
    """Whether any recorder or replayer is intercepting calls."""
    return bool(_STACK)


def access_key_of(client: BaseClient) -> str | None:
    """The access key a client signs with, or None for an unsigned client."""
    credentials = getattr(client._request_signer, "_credentials", None)
    if credentials is None:
        return None
    return str(credentials.access_key)
