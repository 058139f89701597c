"""The world: one request in, one AWS-shaped response out, with identity, latency and faults around the services."""

from __future__ import annotations

import itertools
import json
import logging
import re
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSPreparedRequest
from botocore.compat import HTTPHeaders

from harness.world.drs import responses as drs_responses
from harness.world.drs.models import DrsBackends
from harness.world.dynamodb_limits import check_item_sizes
from harness.world.errors import AwsError, ConnectionFault, TransportFault, WireResponse, error_response
from harness.world.faults import FaultPlan
from harness.world.identity import IdentityResolver
from harness.world.wire import ACCOUNT_HEADER, JSON_ERROR_PREFIX, RESULT_HEADER, WireRequest

logger = logging.getLogger(__name__)

# DynamoDB checksums every response body; botocore verifies it.
CRC32_HEADER = "x-amz-crc32"

LatencyFn = Any  # Callable[[str, str], float]: milliseconds for (service, operation)
# moto's serializer is patched while an unserialized result is taken: one such request at a time.
_RESULT_LOCK = threading.Lock()


class World:
    """State and behaviour of the local AWS; the in-process and HTTP adapters both deliver requests here."""

    def __init__(self, hub_account: str, faults: FaultPlan, latency_ms: LatencyFn) -> None:
        """An empty world acting as `hub_account` for unassumed credentials."""
        self.hub_account = hub_account
        self.identity = IdentityResolver(hub_account)
        self.drs = DrsBackends()
        self.faults = faults
        self.latency_ms = latency_ms
        self._request_ids = itertools.count(1)
        self._ids_lock = threading.Lock()
        self.requests_served = 0
        self._results: list[Any] = []
        # How a call waits its latency: time.sleep, or a test's recorder of the waits.
        self.sleep: Callable[[float], None] = time.sleep

    def handle(self, request: WireRequest) -> WireResponse:
        """Answer one request; raises ConnectionFault (TransportFault for other transport failures) on such a fault."""
        account = request.headers.get(ACCOUNT_HEADER) or self.identity.account_for(request.access_key)
        request_id = self._next_request_id()
        if not request.internal:
            with self._ids_lock:
                self.requests_served += 1
            delay = self.latency_ms(request.service, request.operation)
            if delay:
                self.sleep(delay / 1000.0)
            action = self.faults.action_for(
                request.service,
                request.operation,
                account,
                request.region,
                _role_account(request),
                self._page(request, account),
            )
            if action is not None:
                if action.connection:
                    raise ConnectionFault(f"{request.service} {request.operation}: connection dropped by a fault")
                if action.transport is not None:
                    raise TransportFault(
                        f"{request.service} {request.operation}: {action.transport} injected by a fault",
                        action.transport,
                        action.transport_detail,
                    )
                if action.unprocessed:
                    return self._batch_write_with_unprocessed(request, account, action.unprocessed)
                return self._render_error(request, action.as_error(), request_id)
        try:
            return self._dispatch(request, account, request.body)
        except AwsError as error:
            return self._render_error(request, error, request_id)

    def _dispatch(self, request: WireRequest, account: str, body: bytes) -> WireResponse:
        """Route to the DRS emulator or to moto, acting as `account`."""
        if request.service == "drs":
            return drs_responses.dispatch(self.drs, account, request.region, request.method, request.path, body)
        if request.service == "dynamodb":
            check_item_sizes(request.operation, request.params)
        if request.service == "sts" and request.operation == "AssumeRole":
            check_role_arn(str(request.params.get("RoleArn", "")))
        if request.service == "sts" and request.operation == "GetCallerIdentity" and self._is_hub_key(request):
            return _hub_caller_identity(self.hub_account, self._next_request_id())
        return self._moto(request, account, body)

    def _is_hub_key(self, request: WireRequest) -> bool:
        """Whether the request is signed with the hub's own credentials (not a role assumed through STS)."""
        return ACCOUNT_HEADER not in request.headers and self.identity.is_hub_key(request.access_key)

    def take_result(self) -> Any:
        """The result object of the last internal request sent with RESULT_HEADER (see `_moto_result`)."""
        if not self._results:
            raise RuntimeError(f"no request with {RESULT_HEADER} has been answered")
        return self._results.pop()

    def _moto(self, request: WireRequest, account: str, body: bytes) -> WireResponse:
        """Hand the request to moto's in-process backends with the identity the world decided on."""
        if request.internal and request.headers.get(RESULT_HEADER) == "1":
            return self._moto_result(request, account, body)
        return self._moto_answer(request, account, body)

    def _moto_result(self, request: WireRequest, account: str, body: bytes) -> WireResponse:
        """Run moto's handler for one of the world's own requests, keeping its result object unserialized.

        Seeding a large fleet launches hundreds of instances per RunInstances: moto serializing every instance to XML
        and botocore parsing it back were most of the time it took to build such a world, and the seeder needs only
        a few attributes of each. moto parses the request and runs its backend exactly as for any other request;
        only the serialization of the answer is skipped (the client gets an empty answer of the operation; the
        result is handed over by `take_result`). The world's own requests run one at a time, before any sync.
        """
        from moto.core.responses import ActionResult, BaseResponse

        results: list[Any] = []

        def keep(_handler: Any, action_result: ActionResult) -> tuple[int, dict[str, str], str]:
            """Keep the result instead of serializing it."""
            results.append(action_result.result)
            return 200, {}, ""

        original = BaseResponse.serialized
        with _RESULT_LOCK:
            BaseResponse.serialized = keep  # type: ignore[method-assign,assignment]
            try:
                status, _headers, _ = self._moto_answer(request, account, body)
            finally:
                BaseResponse.serialized = original  # type: ignore[method-assign]
        if not results or isinstance(results[0], Exception):
            raise AwsError("InternalFailure", f"the world's own {request.operation} failed: {results}", 500)
        self._results.append(results[0])
        empty = f'<{request.operation}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"/>'
        return status, {"Content-Type": "text/xml"}, empty.encode()

    def _moto_answer(self, request: WireRequest, account: str, body: bytes) -> WireResponse:
        """moto's serialized answer to the request."""
        from moto.core.models import botocore_stubber

        headers = HTTPHeaders()
        for key, value in request.headers.items():
            headers[key] = value
        headers["x-moto-account-id"] = account
        headers["Content-Length"] = str(len(body))
        prepared = AWSPreparedRequest(
            method=request.method, url=request.aws_url(), headers=headers, body=body, stream_output=False
        )
        answer = botocore_stubber.process_request(prepared)
        if answer is None:
            raise AwsError("UnknownOperationException", f"moto does not answer {request.service} {request.operation}")
        status, response_headers, response_body = answer
        payload = response_body.encode("utf-8") if isinstance(response_body, str) else bytes(response_body or b"")
        return int(status), {str(k): str(v) for k, v in dict(response_headers).items()}, payload

    def _page(self, request: WireRequest, account: str) -> int | None:
        """The page a DRS listing asks for (1 without a token), so faults can target page N."""
        if request.service != "drs" or request.operation != "DescribeSourceServers":
            return None
        token = request.params.get("nextToken")
        try:
            return self.drs.backend(account, request.region).page_number(token)
        except AwsError:
            return None

    def _batch_write_with_unprocessed(self, request: WireRequest, account: str, count: int) -> WireResponse:
        """Write all but the last `count` items of a BatchWriteItem and hand those back as UnprocessedItems."""
        items = request.params.get("RequestItems") or {}
        flat = [(table, entry) for table, entries in items.items() for entry in entries]
        keep, held = flat[: max(len(flat) - count, 0)], flat[max(len(flat) - count, 0) :]
        unprocessed: dict[str, list[Any]] = {}
        for table, entry in held:
            unprocessed.setdefault(table, []).append(entry)
        if not keep:
            body = json.dumps({"UnprocessedItems": unprocessed}).encode()
            return 200, {"Content-Type": "application/x-amz-json-1.0", CRC32_HEADER: str(zlib.crc32(body))}, body
        kept: dict[str, list[Any]] = {}
        for table, entry in keep:
            kept.setdefault(table, []).append(entry)
        forwarded = json.dumps({**request.params, "RequestItems": kept}).encode()
        status, headers, body = self._moto(request, account, forwarded)
        if status != 200:
            return status, headers, body
        answer = json.loads(body or b"{}")
        merged = answer.get("UnprocessedItems") or {}
        for table, entries in unprocessed.items():
            merged.setdefault(table, []).extend(entries)
        answer["UnprocessedItems"] = merged
        payload = json.dumps(answer).encode()
        # The body changed: moto's length and checksum no longer hold (botocore retries a checksum mismatch).
        clean = {key: value for key, value in headers.items() if key.lower() not in ("content-length", CRC32_HEADER)}
        clean[CRC32_HEADER] = str(zlib.crc32(payload))
        return status, clean, payload

    def _render_error(self, request: WireRequest, error: AwsError, request_id: str) -> WireResponse:
        """Shape an error the way the request's service does."""
        return error_response(
            request.protocol, error, request_id, json_prefix=JSON_ERROR_PREFIX.get(request.service, "")
        )

    def _next_request_id(self) -> str:
        """A deterministic request id (no randomness, so recordings stay stable)."""
        with self._ids_lock:
            number = next(self._request_ids)
        return f"00000000-0000-4000-8000-{number:012d}"


# The Lambda runs as its execution role in the hub, so that is who the hub's own credentials are.
HUB_ROLE = "drs-orchestration-query-handler"
HUB_ROLE_ID = "AROAHUBQUERYHANDLER01"


def _hub_caller_identity(hub_account: str, request_id: str) -> WireResponse:
    """GetCallerIdentity for the hub's credentials: the Lambda's execution role, as AWS answers it."""
    xml = (
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
        f"<Arn>arn:aws:sts::{hub_account}:assumed-role/{HUB_ROLE}/query-handler</Arn>"
        f"<UserId>{HUB_ROLE_ID}:query-handler</UserId><Account>{hub_account}</Account>"
        f"</GetCallerIdentityResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    )
    return 200, {"Content-Type": "text/xml"}, xml.encode()


_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


def check_role_arn(role_arn: str) -> None:
    """Refuse a RoleArn STS would refuse (moto assumes anything): too short, or not an IAM role ARN."""
    if len(role_arn) < 20:
        raise AwsError(
            "ValidationError",
            f"1 validation error detected: Value '{role_arn}' at 'roleArn' failed to satisfy constraint: "
            "Member must have length greater than or equal to 20",
            400,
        )
    if not _ROLE_ARN.match(role_arn):
        raise AwsError("ValidationError", f"{role_arn} is invalid", 400)


def _role_account(request: WireRequest) -> str | None:
    """The account of the role an AssumeRole asks for, so assume-role faults can target it."""
    if request.service != "sts" or request.operation != "AssumeRole":
        return None
    parts = str(request.params.get("RoleArn", "")).split(":")
    return parts[4] if len(parts) > 4 else None
