"""DRS wire protocol (restJson1, as botocore speaks it for `drs`): route, validate, call the models, encode.

`dispatch` raises AwsError for every failure; the caller renders it with `errors.error_response("rest-json", ...)`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from harness.world.drs.models import DrsBackend, DrsBackends
from harness.world.errors import AwsError, WireResponse

Handler = Callable[[DrsBackend, dict[str, Any]], dict[str, Any]]

_SOURCE_SERVER_ID = re.compile(r"s-[0-9a-zA-Z]{17}")
_ACCOUNT_ID = re.compile(r".*[0-9]{12,}.*")


def _validation(message: str) -> AwsError:
    """Build the ValidationException DRS answers a malformed request with."""
    return AwsError("ValidationException", message, 400)


def _check_string_list(value: Any, field: str, pattern: re.Pattern[str], length: int) -> None:
    """Validate a list of ids against the model's fixed length and pattern."""
    if not isinstance(value, list):
        raise _validation(f"{field} must be a list")
    for item in value:
        if not isinstance(item, str):
            raise _validation(f"{field} must contain strings")
        if len(item) != length or not pattern.fullmatch(item):
            raise _validation(f"Invalid value {item!r} in {field}")


def _validate_describe_source_servers(request: dict[str, Any]) -> None:
    """Check a DescribeSourceServers request against the service model's types and constraints."""
    filters = request.get("filters")
    if filters is not None:
        if not isinstance(filters, dict):
            raise _validation("filters must be an object")
        if filters.get("sourceServerIDs") is not None:
            _check_string_list(filters["sourceServerIDs"], "filters.sourceServerIDs", _SOURCE_SERVER_ID, 19)
        if filters.get("stagingAccountIDs") is not None:
            _check_string_list(filters["stagingAccountIDs"], "filters.stagingAccountIDs", _ACCOUNT_ID, 12)
        hardware_id = filters.get("hardwareId")
        if hardware_id is not None and (not isinstance(hardware_id, str) or len(hardware_id) > 256):
            raise _validation("filters.hardwareId must be a string of at most 256 characters")
    max_results = request.get("maxResults")
    if max_results is not None and (isinstance(max_results, bool) or not isinstance(max_results, int)):
        raise _validation("maxResults must be an integer")
    next_token = request.get("nextToken")
    if next_token is not None and (not isinstance(next_token, str) or len(next_token) > 2048):
        raise _validation("nextToken must be a string of at most 2048 characters")


def describe_source_servers(backend: DrsBackend, request: dict[str, Any]) -> dict[str, Any]:
    """DescribeSourceServers: `{items, nextToken}`, nextToken omitted on the last page."""
    _validate_describe_source_servers(request)
    items, next_token = backend.describe_source_servers(
        request.get("filters"), request.get("maxResults"), request.get("nextToken")
    )
    result: dict[str, Any] = {"items": items}
    if next_token is not None:
        result["nextToken"] = next_token
    return result


ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/DescribeSourceServers"): describe_source_servers,
}


def request_id(backends: DrsBackends, account_id: str, region: str, method: str, path: str, body: bytes) -> str:
    """A deterministic UUID-shaped request id from the request and its sequence number (no randomness)."""
    number = backends.next_request_number()
    digest = hashlib.sha256(f"{number}|{account_id}|{region}|{method}|{path}|".encode() + body).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _parse_body(body: bytes) -> dict[str, Any]:
    """Decode a restJson1 request body (empty means no members), refusing anything but a JSON object."""
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _validation("Request body is not valid JSON") from exc
    if not isinstance(parsed, dict):
        raise _validation("Request body must be a JSON object")
    return parsed


def dispatch(backends: DrsBackends, account_id: str, region: str, method: str, path: str, body: bytes) -> WireResponse:
    """Answer one DRS HTTP request for (account_id, region), raising AwsError for anything DRS would reject."""
    route = path.split("?", 1)[0]
    if len(route) > 1:
        route = route.rstrip("/")
    handler = ROUTES.get((method.upper(), route))
    if handler is None:
        raise AwsError("UnknownOperationException", f"No operation matches {method} {route}", 404)
    request = _parse_body(body)
    result = handler(backends.backend(account_id, region), request)
    headers = {
        "Content-Type": "application/json",
        "x-amzn-RequestId": request_id(backends, account_id, region, method, path, body),
    }
    return 200, headers, json.dumps(result).encode()
