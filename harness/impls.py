"""Implementation names the harness runs: legacy, handler, refactored, or any `module:function`."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from harness.lambda_env import ensure_import_path

SYNC_EVENT = {"operation": "sync_source_server_inventory"}
# Named implementations and the zero-argument callables they stand for.
NAMED_IMPLS = {
    "legacy": "inventory_sync_legacy:handle_sync_source_server_inventory_legacy",
    "refactored": "inventory_sync:sync_source_server_inventory",
}
IMPL_HELP = (
    "legacy, refactored, handler (lambda_handler with the sync event, honouring INVENTORY_SYNC_IMPL), "
    "or module:function"
)


class ImplError(Exception):
    """An implementation name that cannot be resolved to a callable."""


def resolve_impl(name: str) -> Callable[[], Any]:
    """The zero-argument callable `name` stands for; import it now (after any cold start)."""
    ensure_import_path()
    if name == "handler":
        index = _import("index", name)
        return lambda: index.lambda_handler(dict(SYNC_EVENT), None)
    target = NAMED_IMPLS.get(name, name)
    module_name, separator, attribute = target.partition(":")
    if not separator or not module_name or not attribute:
        raise ImplError(f"unknown implementation {name!r}: expected {IMPL_HELP}")
    module = _import(module_name, name)
    function = getattr(module, attribute, None)
    if function is None:
        raise ImplError(f"implementation {name!r}: module {module_name!r} has no attribute {attribute!r}")
    if not callable(function):
        raise ImplError(f"implementation {name!r}: {target} is not callable")
    return function


def impl_exists(name: str) -> bool:
    """Whether `name` resolves (used to say clearly that the refactored code does not exist yet)."""
    try:
        resolve_impl(name)
    except ImplError:
        return False
    return True


def _import(module_name: str, impl_name: str) -> Any:
    """Import a module for an implementation, turning a missing module into an ImplError."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise ImplError(f"implementation {impl_name!r}: no module named {module_name!r}") from None
        raise
