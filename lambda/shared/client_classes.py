"""One client class per session and service while a block runs, instead of one per client.

For every client it creates, botocore builds a new client class: one method (with its docstring object) per
operation of the service, some 830 for EC2. That is about 12 ms of CPU for an EC2 client, under the client-creation
lock, and some 18,000 objects that become cyclic garbage when the client is dropped, so the garbage collector, which
stops every thread, has them to trace. A sync that creates an EC2 client per origin group and a DRS client per
account and region spends more on those classes than on anything else it does between its calls.

The class depends only on the service model and on the `creating-client-class` handlers of the session that creates
it, so inside `reusing_client_classes()` botocore's `ClientCreator._create_client_class` keeps the first class it
builds per (session event emitter, service, API version) and hands it out again. Clients stay separate objects: each
has its own credentials, region, config, endpoint and event hooks, so the requests they send are unchanged. A
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

_ClassFactory = Callable[[ClientCreator, str, Any], type]

_LOCK = threading.Lock()
# Client classes kept per session event emitter (dropped with the session), then per (service, API version).
_CLASSES: weakref.WeakKeyDictionary[Any, dict[tuple[str, str | None], type]] = weakref.WeakKeyDictionary()
_ORIGINAL_FACTORY: _ClassFactory | None = getattr(ClientCreator, "_create_client_class", None)
_active_blocks = 0


def _reused_client_class(creator: ClientCreator, service_name: str, service_model: Any) -> type:
    """The session's class for this service and API version, built by botocore the first time it is asked for."""
    if _ORIGINAL_FACTORY is None:  # never installed without it; kept for the type checker
        raise RuntimeError("botocore has no ClientCreator._create_client_class")
    emitter = creator._event_emitter
    key = (service_name, getattr(service_model, "api_version", None))
    with _LOCK:
        known = _CLASSES.setdefault(emitter, {}).get(key)
    if known is not None:
        return known
    built = _ORIGINAL_FACTORY(creator, service_name, service_model)
    with _LOCK:
        return _CLASSES[emitter].setdefault(key, built)


@contextmanager
def reusing_client_classes() -> Iterator[None]:
    """Inside the block, clients of a session and service share one class (see the module docstring).

    Blocks may nest or overlap across threads: botocore's own factory is back once the last one ends. Without the
    factory (a botocore that no longer has it), the block changes nothing and says so in the log.
    """
    global _active_blocks
    if _ORIGINAL_FACTORY is None:
        logger.info("botocore has no ClientCreator._create_client_class: client classes are built per client")
        yield
        return
    with _LOCK:
        _active_blocks += 1
        if _active_blocks == 1:
            ClientCreator._create_client_class = _reused_client_class
    try:
        yield
    finally:
        with _LOCK:
            _active_blocks -= 1
            if _active_blocks == 0:
                ClientCreator._create_client_class = _ORIGINAL_FACTORY
