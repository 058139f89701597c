"""In-process mode: every botocore request of this process is answered by the active world, none reaches a network."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import (
    BotoCoreError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    ReadTimeoutError,
)
from botocore.handlers import BUILTIN_HANDLERS

from harness.world.core import World
from harness.world.errors import TRANSPORT_ERRORS, ConnectionFault, TransportFault
from harness.world.wire import WireError, read_request

_ACTIVE: World | None = None
_ACTIVE_LOCK = threading.Lock()

# Credentials every unassumed client signs with inside the world: they act as the scenario's hub account.
HUB_ENVIRONMENT = {"AWS_ACCESS_KEY_ID": "local-hub-access", "AWS_SECRET_ACCESS_KEY": "local-hub-secret"}
# moto would load ~1,300 public AMIs (with snapshots and volumes) into every EC2 region it touches: the world
# launches its instances without them, which keeps building a world well under a second.
MOTO_ENVIRONMENT = {"MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}
_CLEARED_ENVIRONMENT = ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "MOTO_ACCOUNT_ID", "AWS_CONFIG_FILE")


class _RawBody:
    """The raw stream botocore reads a response body from."""

    def __init__(self, body: bytes) -> None:
        """Hold the body."""
        self._body = body

    def stream(self, **_kwargs: Any) -> Iterator[bytes]:
        """Yield the body in one piece."""
        yield self._body


def _answer_from_world(request: AWSPreparedRequest, **_kwargs: Any) -> AWSResponse | None:
    """botocore `before-send` hook: the active world answers; with none active, botocore goes on as usual."""
    world = _ACTIVE
    if world is None:
        return None
    url = request.url or ""
    path, _, query = url.split("://", 1)[-1].partition("/")[2].partition("?")
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode("utf-8")
    try:
        wire = read_request(request.method or "GET", "/" + path, query, dict(request.headers.items()), body)
    except WireError as error:
        raise RuntimeError(f"the local AWS refused a request: {error}") from None
    try:
        status, headers, payload = world.handle(wire)
    except TransportFault as fault:
        raise transport_exception(fault, url) from None
    except ConnectionFault:
        raise EndpointConnectionError(endpoint_url=url) from None
    return AWSResponse(url, status, headers, _RawBody(payload))


def transport_exception(fault: TransportFault, url: str) -> BotoCoreError:
    """The botocore exception a transport fault stands for, built as botocore's HTTP layer builds it."""
    if fault.error == "ReadTimeoutError":
        return ReadTimeoutError(endpoint_url=url, error=fault.detail or "Read timed out.")
    if fault.error == "ConnectTimeoutError":
        return ConnectTimeoutError(endpoint_url=url, error=fault.detail or "Connection timed out.")
    if fault.error == "ConnectionClosedError":
        return ConnectionClosedError(endpoint_url=url, error=fault.detail or "Connection aborted.")
    if fault.error == "HTTPClientError":
        return HTTPClientError(error=fault.detail)
    raise ValueError(f"unknown transport error {fault.error!r}: expected one of {', '.join(TRANSPORT_ERRORS)}")


# Registered once, for every botocore session created from now on (moto registers its own stubber the same way).
BUILTIN_HANDLERS.append(("before-send", _answer_from_world))


@contextmanager
def activate(world: World, region: str) -> Iterator[World]:
    """Answer this process's AWS calls from `world` (moto's backends reset) until the block ends."""
    global _ACTIVE
    from moto import mock_aws
    from moto.core.models import botocore_stubber

    if not _ACTIVE_LOCK.acquire(blocking=False):
        raise RuntimeError("a local AWS is already active in this process: moto's backends are process-wide")
    saved = {
        key: os.environ.get(key)
        for key in (*HUB_ENVIRONMENT, *MOTO_ENVIRONMENT, *_CLEARED_ENVIRONMENT, "AWS_DEFAULT_REGION")
    }
    mock = mock_aws()
    try:
        mock.start()
        botocore_stubber.enabled = False  # the world calls moto itself, after identity, latency and faults
        for key in _CLEARED_ENVIRONMENT:
            os.environ.pop(key, None)
        os.environ.update(HUB_ENVIRONMENT)
        os.environ.update(MOTO_ENVIRONMENT)
        os.environ["AWS_DEFAULT_REGION"] = region
        _ACTIVE = world
        yield world
    finally:
        _ACTIVE = None
        mock.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _ACTIVE_LOCK.release()
