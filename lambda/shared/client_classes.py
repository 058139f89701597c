"""One client class and one service model per session and service while a block runs, instead of one per client.

For every client it creates, botocore builds a new client class (one method, with its docstring object, per operation
of the service: some 830 for EC2) and a new service model, whose operation models it then builds one by one to look
for endpoint discovery. That is most of the 18 ms of CPU an EC2 client costs, under the client-creation lock, and
tens of thousands of objects that become cyclic garbage when the client is dropped, for the garbage collector, which
stops every thread, to trace. A sync that creates an EC2 client per origin group and a DRS client per account and
region spends more on them than on anything else it does between its calls.

Both depend only on the service's model files and on the session that creates the client (its loader, and its
`creating-client-class` handlers), and neither is changed once built, so inside `reusing_client_classes()`
botocore's `ClientCreator._load_service_model` and `ClientCreator._create_client_class` keep the first one they build
per (session event emitter, service, API version) and hand it out again. Clients stay separate objects: each has its
own credentials, region, config, endpoint and event hooks, so the requests they send are unchanged. A
`creating-client-class` handler registered on a session after its first client of a service was created inside the
block does not reach that service's later clients; nothing in this project registers one.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.client import ClientCreator

logger = logging.getLogger(__name__)

_LOCK = threading.Lock()
# What was built, per session event emitter (dropped with the session), then per (kind, service, API version).
_BUILT: weakref.WeakKeyDictionary[Any, dict[tuple[str, str, str | None], Any]] = weakref.WeakKeyDictionary()
_ORIGINAL_MODEL_LOADER: Callable[..., Any] | None = getattr(ClientCreator, "_load_service_model", None)
_ORIGINAL_CLASS_FACTORY: Callable[..., Any] | None = getattr(ClientCreator, "_create_client_class", None)
_active_blocks = 0


def _kept(creator: ClientCreator, key: tuple[str, str, str | None], build: Callable[[], Any]) -> Any:
    """The session's object under `key`, built (outside the lock) the first time it is asked for."""
    emitter = creator._event_emitter
    with _LOCK:
        known = _BUILT.setdefault(emitter, {}).get(key)
    if known is not None:
        return known
    built = build()
    with _LOCK:
        return _BUILT[emitter].setdefault(key, built)


def _reused_service_model(creator: ClientCreator, service_name: str, api_version: str | None = None) -> Any:
    """The session's service model for this service and API version (botocore's own, loaded once)."""
    original = _ORIGINAL_MODEL_LOADER
    if original is None:  # never installed without it; kept for the type checker
        raise RuntimeError("botocore has no ClientCreator._load_service_model")
    return _kept(creator, ("model", service_name, api_version), lambda: original(creator, service_name, api_version))


def _reused_client_class(creator: ClientCreator, service_name: str, service_model: Any) -> type:
    """The session's client class for this service and API version (botocore's own, built once)."""
    original = _ORIGINAL_CLASS_FACTORY
    if original is None:  # never installed without it; kept for the type checker
        raise RuntimeError("botocore has no ClientCreator._create_client_class")
    key = ("class", service_name, getattr(service_model, "api_version", None))
    built: type = _kept(creator, key, lambda: original(creator, service_name, service_model))
    return built


@contextmanager
def reusing_client_classes() -> Iterator[None]:
    """Inside the block, clients of a session and service share one class and service model (see the module).

    Blocks may nest or overlap across threads: botocore's own methods are back once the last one ends. Without them
    (a botocore that no longer has them), the block changes nothing and says so in the log.
    """
    global _active_blocks
    if _ORIGINAL_MODEL_LOADER is None or _ORIGINAL_CLASS_FACTORY is None:
        logger.info("botocore's ClientCreator has changed: client classes and models are built per client")
        yield
        return
    with _LOCK:
        _active_blocks += 1
        if _active_blocks == 1:
            ClientCreator._load_service_model = _reused_service_model
            ClientCreator._create_client_class = _reused_client_class
    try:
        yield
    finally:
        with _LOCK:
            _active_blocks -= 1
            if _active_blocks == 0:
                ClientCreator._load_service_model = _ORIGINAL_MODEL_LOADER
                ClientCreator._create_client_class = _ORIGINAL_CLASS_FACTORY
