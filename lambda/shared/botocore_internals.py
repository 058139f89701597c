"""The botocore internals the refactored sync relies on, each detected and given up for plain boto3 when it differs.

The Lambda runs on the boto3 the runtime ships unless the package bundles its own (see `make package`), so nothing
here may assume botocore's private layout: each shortcut checks what it needs and, when it is not there, leaves
botocore alone and logs that once.

**One client class and one service model per session and service while a block runs** (`reusing_client_classes`).
For every client it creates, botocore builds a new client class (one method, with its docstring object, per operation
of the service: some 830 for EC2) and a new service model, whose operation models it then builds one by one to look
for endpoint discovery. That is most of the 18 ms of CPU an EC2 client costs, under the client-creation lock, and
tens of thousands of objects that become cyclic garbage when the client is dropped. Both depend only on the
service's model files and on the session that creates the client, and neither is changed once built, so inside the
block botocore's `ClientCreator._load_service_model` and `ClientCreator._create_client_class` keep the first one they
build per (session event emitter, service, API version) and hand it out again. Clients stay separate objects, each
with its own credentials, region, config, endpoint and event hooks, so the requests they send are unchanged.

**DynamoDB request bodies for rows already in wire form** (`prebuilt_json_bodies`): see `_PrebuiltJsonBody`.

**Fewer garbage collections while the sync runs** (`fewer_collections`): the one interpreter setting the sync
changes, restored when the block ends; its measured gain is in its docstring.

What each buys, measured on the 9,000-server bench replay against the sync with that piece taken out, three
interleaved runs each under Lambda's CPU share, medians. At the template's 1,024 MB (0.58 vCPU): 10.33 s with all
three; 12.51 s without the client classes and models kept (21%), 11.18 s with botocore's own BatchWriteItem bodies
(8.2%), 12.32 s with the collector's default threshold (19%). At 1,769 MB (one vCPU): 9.19 s with all three; 10.46 s
(14%), 9.98 s (8.6%) and 10.75 s (17%).
"""

from __future__ import annotations

import functools
import gc
import json
import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from botocore.client import ClientCreator
from botocore.serialize import JSONSerializer

logger = logging.getLogger(__name__)

_LOCK = threading.Lock()
# What was built, per session event emitter (dropped with the session), then per (kind, service, API version).
_BUILT: weakref.WeakKeyDictionary[Any, dict[tuple[str, str, str | None], Any]] = weakref.WeakKeyDictionary()
# botocore's own methods that `reusing_client_classes` replaces while it runs: both, or none when one is missing.
_REPLACED = ("_load_service_model", "_create_client_class")
_ORIGINALS: dict[str, Callable[..., Any]] = {
    name: getattr(ClientCreator, name) for name in _REPLACED if hasattr(ClientCreator, name)
}
_active_blocks = 0


@functools.cache
def _log_once(message: str) -> None:
    """Log `message` at INFO the first time it is asked for in this process; later calls are answered by the cache."""
    logger.info(message)


def _kept(creator: ClientCreator, key: tuple[str, str, str | None], build: Callable[[], Any]) -> Any:
    """The session's object under `key`, built (outside the lock) the first time it is asked for.

    Without the creator's `_event_emitter` (a botocore that renamed it), nothing is kept: each client is built as
    botocore builds it, and the log says so once.
    """
    emitter = getattr(creator, "_event_emitter", None)
    if emitter is None:
        _log_once("botocore's ClientCreator has no _event_emitter: client classes and models are built per client")
        return build()
    with _LOCK:
        known = _BUILT.setdefault(emitter, {}).get(key)
    if known is not None:
        return known
    built = build()
    with _LOCK:
        return _BUILT[emitter].setdefault(key, built)


def _reused_service_model(creator: ClientCreator, service_name: str, api_version: str | None = None) -> Any:
    """The session's service model for this service and API version (botocore's own, loaded once)."""
    load = _ORIGINALS["_load_service_model"]
    return _kept(creator, ("model", service_name, api_version), lambda: load(creator, service_name, api_version))


def _reused_client_class(creator: ClientCreator, service_name: str, service_model: Any) -> type:
    """The session's client class for this service and API version (botocore's own, built once)."""
    create = _ORIGINALS["_create_client_class"]
    key = ("class", service_name, getattr(service_model, "api_version", None))
    return cast(type, _kept(creator, key, lambda: create(creator, service_name, service_model)))


@contextmanager
def reusing_client_classes() -> Iterator[None]:
    """Inside the block, clients of a session and service share one class and service model (see the module).

    Blocks may nest or overlap across threads: botocore's own methods are back once the last one ends. Without them
    (a botocore that no longer has them), the block changes nothing and says so in the log. At the template's
    1,024 MB the bench replay takes 10.33 s with it and 12.51 s without (21%, the module's docstring).
    """
    global _active_blocks
    if len(_ORIGINALS) < len(_REPLACED):
        _log_once("botocore's ClientCreator has changed: client classes and models are built per client")
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
                for name, original in _ORIGINALS.items():
                    setattr(ClientCreator, name, original)


# --- DynamoDB request bodies for rows already in wire form -------------------------------------------------------


class _PrebuiltJsonBody(JSONSerializer):
    """botocore's JSON serializer, but a BatchWriteItem's body is `json.dumps` of its parameters.

    For parameters already in DynamoDB's wire form (boto3's TypeSerializer output: strings, numbers as strings,
    booleans, NULL, lists and maps) botocore's walk of the input shape changes nothing, so its body is exactly
    `json.dumps` of them: the same bytes, at a tenth of the CPU (0.7 ms instead of 7 ms for 25 inventory rows). Binary
    values (`B`, `BS`), which the walk base64-encodes, and anything `json.dumps` refuses take botocore's walk.
    """

    def serialize_to_request(self, parameters: Any, operation_model: Any) -> Any:
        """The request botocore would build for `parameters`, its body made by `json.dumps` when that is the same."""
        try:
            body = json.dumps(parameters) if operation_model.name == "BatchWriteItem" else None
        except (TypeError, ValueError):
            body = None
        if body is None or '{"B": ' in body or '{"BS": ' in body:
            return super().serialize_to_request(parameters, operation_model)
        request = super().serialize_to_request({}, operation_model)
        request["body"] = body.encode(self.DEFAULT_ENCODING)
        return request


_PROBE = {"RequestItems": {"t": [{"PutRequest": {"Item": {"k": {"S": "v"}, "n": {"N": "1"}, "m": {"M": {}}}}}]}}


def prebuilt_json_bodies(client: Any) -> Any:
    """`client` (a DynamoDB client) with `_PrebuiltJsonBody` as its serializer, when botocore's internals are as
    expected: the client's `_serializer` is botocore's own JSONSerializer and a probe batch serializes to the same
    request both ways. Otherwise `client` is left as botocore made it, and the log says so once.

    Measured on the 9,000-server bench (360 BatchWriteItem calls): the writer's CPU per call falls from about 7 ms to
    0.7 ms, and at the template's 1,024 MB the run takes 10.33 s instead of 11.18 s (8.2%, the module's docstring).
    """
    serializer = getattr(client, "_serializer", None)
    if serializer is None or type(serializer) is not JSONSerializer:
        _log_once("botocore's DynamoDB client has no JSONSerializer: BatchWriteItem bodies are built by botocore")
        return client
    operation = client.meta.service_model.operation_model("BatchWriteItem")
    shortcut = _PrebuiltJsonBody()
    if shortcut.serialize_to_request(_PROBE, operation) != serializer.serialize_to_request(_PROBE, operation):
        _log_once("botocore's JSON request layout has changed: BatchWriteItem bodies are built by botocore")
        return client
    client._serializer = shortcut
    return client


# --- The collector's first-generation threshold during the sync ---------------------------------------------------

GEN0_THRESHOLD = 100_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the first-generation threshold to `GEN0_THRESHOLD` (never lower it) for the block; restore it after.

    The run allocates heavily (parsed pages, rows and their typed forms, clients); with CPython's default threshold (700
    allocations) young collections recur all along the run and promote most of these short-lived objects, so the older
    generations' collections, which stop every thread, the writer's too, follow. At 100,000 most of them die before a
    collection sees them. Measured on the 9,000-server bench replay at 512 MB (0.29 of a vCPU), two pairs of runs on a
    quiet machine: 18.9 and 18.8 s with the default threshold, 15.3 and 14.8 s with this one (about 20%); at the
    template's 1,024 MB 12.32 s against 10.33 s (19%, the module's docstring).
    """
    previous = gc.get_threshold()
    gc.set_threshold(max(GEN0_THRESHOLD, previous[0]), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
