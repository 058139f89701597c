"""Implementation names the harness runs: legacy, handler, refactored, or any `module:function`."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable
from typing import Any

from harness.lambda_env import ensure_import_path

SYNC_EVENT = {"operation": "sync_source_server_inventory"}
# Named implementations and the zero-argument callables they stand for.
NAMED_IMPLS = {
    "legacy": "inventory_sync_legacy:handle_sync_source_server_inventory_legacy",
    "refactored": "inventory_sync:sync_source_server_inventory",
}
ACCEPTED_FORMS = "legacy, refactored, handler, module:function"
IMPL_HELP = (
    "legacy, refactored, handler (lambda_handler with the sync event, honouring INVENTORY_SYNC_IMPL), "
    "or module:function"
)


def runs_legacy(name: str) -> bool:
    """Whether `name` runs the legacy sync: by name, or the handler with `INVENTORY_SYNC_IMPL=legacy` set."""
    if name == "handler":
        return os.environ.get("INVENTORY_SYNC_IMPL") == "legacy"
    return name in ("legacy", NAMED_IMPLS["legacy"])


class ImplError(Exception):
    """An implementation name that cannot be resolved to a callable."""


def resolve_impl(name: str, *, as_api_response: bool = False) -> Callable[[], Any]:
    """The zero-argument callable `name` stands for; import it now (after any cold start).

    `handler` returns what `lambda_handler` returns (the decoded body); with `as_api_response` (replays, which compare
    with goldens holding the sync's API response, and live recordings) it returns that response instead, once the
    handler's own result was checked against it (`handler_as_the_sync`).
    """
    ensure_import_path()
    if name == "handler":
        index = _import("index", name)
        if as_api_response:
            return handler_as_the_sync(index)
        return lambda: index.lambda_handler(dict(SYNC_EVENT), None)
    target = NAMED_IMPLS.get(name, name)
    module_name, separator, attribute = target.partition(":")
    if not separator or not module_name or not attribute:
        raise ImplError(f"unknown implementation {name!r}: the accepted forms are {ACCEPTED_FORMS}")
    module = _import(module_name, name)
    function = getattr(module, attribute, None)
    if function is None:
        raise ImplError(f"implementation {name!r}: module {module_name!r} has no attribute {attribute!r}")
    if not callable(function):
        raise ImplError(f"implementation {name!r}: {target} is not callable")
    return function


def _import(module_name: str, impl_name: str) -> Any:
    """Import a module for an implementation, turning a missing module into an ImplError."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise ImplError(
                f"implementation {impl_name!r}: no module named {module_name!r} (the accepted forms are "
                f"{ACCEPTED_FORMS})"
            ) from None
        raise ImplError(f"implementation {impl_name!r}: importing {module_name!r} failed: {error}") from None
    except Exception as error:
        raise ImplError(
            f"implementation {impl_name!r}: importing {module_name!r} failed: {type(error).__name__}: {error}"
        ) from None


class HandlerMismatch(Exception):
    """`lambda_handler` returned something other than what it owes for the sync's response (or failure)."""


def handler_as_the_sync(index: Any) -> Callable[[], Any]:
    """`lambda_handler` with the sync event, its result re-wrapped in the API response the goldens hold.

    The handler returns the sync's decoded body (or, when the sync raised, an `{"error": "Operation failed: ..."}`
    body), while a golden holds the sync's API response (or exception). The adapter watches the response the
    handler's own sync selection (`handle_sync_source_server_inventory`, honouring INVENTORY_SYNC_IMPL) produced,
    checks the handler returned exactly its decoded body (or the error body for its exception), and returns that
    response (or raises that exception), so the replay compares in the golden's form. A handler that returned
    anything else raises HandlerMismatch, which the comparison reports as a different outcome.
    """

    def run() -> Any:
        """Invoke the handler once, and hand back the sync's response in the form the golden holds."""
        seen: dict[str, Any] = {}
        inner = index.handle_sync_source_server_inventory

        def watched() -> Any:
            """The handler's sync, its response or exception kept."""
            try:
                seen["response"] = inner()
            except Exception as error:
                seen["error"] = error
                raise
            return seen["response"]

        index.handle_sync_source_server_inventory = watched
        try:
            returned = index.lambda_handler(dict(SYNC_EVENT), None)
        finally:
            index.handle_sync_source_server_inventory = inner
        if "error" in seen:
            error = seen["error"]
            error_body = {"error": f"Operation failed: {error}", "operation": SYNC_EVENT["operation"]}
            if returned != error_body:
                raise HandlerMismatch(f"lambda_handler returned {returned!r} for a sync that raised {error!r}")
            raise error
        response = seen.get("response")
        body = response.get("body") if isinstance(response, dict) else None
        try:
            decoded: Any = json.loads(body) if isinstance(body, str) else None
        except ValueError:
            decoded = None
        if decoded is None or returned != decoded:
            raise HandlerMismatch(f"lambda_handler returned {returned!r}, not the decoded body of {response!r}")
        return response

    return run
