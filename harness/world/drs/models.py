"""DRS state: the source servers of each (account, region), filtered and paged as DescribeSourceServers does.

No HTTP here; `responses` turns wire requests into calls on these classes.

Filters follow DescribeSourceServersRequestFilters:

- `sourceServerIDs`: the server's `sourceServerID` is one of them (empty or absent list: no constraint).
- `stagingAccountIDs`: the server's `stagingArea.stagingAccountID` is one of them (empty or absent: no constraint).
- `hardwareId`: the DRS API documents it as "either an EC2 instance id, a VMware uuid or a mac address", so it
  matches (exactly) `sourceProperties.identificationHints.awsInstanceID`, `...identificationHints.vmWareUuid`
  or the `macAddress` of any of `sourceProperties.networkInterfaces` (empty or absent: no constraint).

Servers are stored verbatim, malformed ones included: a missing or null field (or one of the wrong type) on the
path a filter reads simply does not match.

`nextToken` is opaque to callers: urlsafe base64 (unpadded) of compact JSON `{"o": offset, "p": page, "f": digest}`
where `offset` is the index of the next server, `page` the 1-based number of the page it starts and `digest` the
first 16 hex digits of the SHA-256 of the normalized filters. A token that does not decode, or that was issued for
other filters, is a ValidationException.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import threading
from typing import Any

from harness.world.errors import AwsError

DEFAULT_PAGE_SIZE = 100
MAX_RESULTS_LIMIT = 1000


def _dig(doc: Any, *path: str) -> Any:
    """Follow `path` through nested dicts, returning None as soon as a level is missing or not a dict."""
    node = doc
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _validation(message: str) -> AwsError:
    """Build the ValidationException DRS answers bad input with."""
    return AwsError("ValidationException", message, 400)


def normalize_filters(filters: dict[str, Any] | None) -> dict[str, Any]:
    """Reduce `filters` to the constraints that actually apply (empty lists and None dropped), validating types."""
    if filters is None:
        return {}
    if not isinstance(filters, dict):
        raise _validation("filters must be an object")
    normalized: dict[str, Any] = {}
    for key in ("sourceServerIDs", "stagingAccountIDs"):
        value = filters.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise _validation(f"filters.{key} must be a list of strings")
        if value:
            normalized[key] = list(value)
    hardware_id = filters.get("hardwareId")
    if hardware_id is not None:
        if not isinstance(hardware_id, str):
            raise _validation("filters.hardwareId must be a string")
        if hardware_id:
            normalized["hardwareId"] = hardware_id
    return normalized


def _filters_digest(normalized: dict[str, Any]) -> str:
    """Short stable digest of normalized filters, binding a token to the filters it was issued for."""
    canonical = json.dumps(normalized, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _encode_token(offset: int, page: int, digest: str) -> str:
    """Make the opaque nextToken for the page starting at `offset`."""
    raw = json.dumps({"o": offset, "p": page, "f": digest}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> tuple[int, int, str]:
    """Read (offset, page, digest) back from a nextToken, raising ValidationException if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise _validation("Invalid nextToken") from exc
    if not isinstance(data, dict):
        raise _validation("Invalid nextToken")
    offset, page, digest = data.get("o"), data.get("p"), data.get("f")
    if (
        not isinstance(offset, int)
        or isinstance(offset, bool)
        or offset < 0
        or not isinstance(page, int)
        or isinstance(page, bool)
        or page < 2
        or not isinstance(digest, str)
    ):
        raise _validation("Invalid nextToken")
    return offset, page, digest


def _matches(server: Any, normalized: dict[str, Any]) -> bool:
    """Whether one stored server document satisfies the normalized filters (malformed documents never crash)."""
    ids = normalized.get("sourceServerIDs")
    if ids is not None and _dig(server, "sourceServerID") not in ids:
        return False
    staging = normalized.get("stagingAccountIDs")
    if staging is not None and _dig(server, "stagingArea", "stagingAccountID") not in staging:
        return False
    hardware_id = normalized.get("hardwareId")
    if hardware_id is not None:
        return hardware_id in _hardware_ids(server)
    return True


def _hardware_ids(server: Any) -> list[str]:
    """The ids a `hardwareId` filter can match: EC2 instance id, VMware uuid and every NIC MAC address."""
    hints = _dig(server, "sourceProperties", "identificationHints")
    found = [_dig(hints, "awsInstanceID"), _dig(hints, "vmWareUuid")]
    nics = _dig(server, "sourceProperties", "networkInterfaces")
    if isinstance(nics, list):
        found.extend(_dig(nic, "macAddress") for nic in nics)
    return [value for value in found if isinstance(value, str)]


class DrsBackend:
    """The source servers of one (account_id, region), in insertion order."""

    def __init__(self, account_id: str, region: str, page_size: int = DEFAULT_PAGE_SIZE) -> None:
        """Start an empty backend; `page_size` caps every page whatever maxResults asks for."""
        self.account_id = account_id
        self.region = region
        self.page_size = page_size
        self.servers: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def add_server(self, doc: dict[str, Any]) -> None:
        """Store a deep copy of `doc` verbatim (malformed documents included)."""
        copied = copy.deepcopy(doc)
        with self._lock:
            self.servers.append(copied)

    def describe_source_servers(
        self, filters: dict[str, Any] | None, max_results: int | None, next_token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Return one page of matching servers (deep copies) and the token of the next page, None on the last."""
        if max_results is not None and (
            isinstance(max_results, bool)
            or not isinstance(max_results, int)
            or not 1 <= max_results <= MAX_RESULTS_LIMIT
        ):
            raise _validation(f"maxResults must be between 1 and {MAX_RESULTS_LIMIT}")
        normalized = normalize_filters(filters)
        digest = _filters_digest(normalized)
        offset, page = 0, 1
        if next_token:
            offset, page, token_digest = _decode_token(next_token)
            if token_digest != digest:
                raise _validation("nextToken does not match the request filters")
        page_length = max(1, min(max_results or self.page_size, self.page_size))
        with self._lock:
            matching = [server for server in self.servers if _matches(server, normalized)]
        items = matching[offset : offset + page_length]
        end = offset + len(items)
        token = _encode_token(end, page + 1, digest) if end < len(matching) else None
        return copy.deepcopy(items), token

    def page_number(self, next_token: str | None) -> int:
        """The 1-based page a request with `next_token` asks for (1 for None; a bad token is a ValidationException)."""
        if not next_token:
            return 1
        return _decode_token(next_token)[1]


class DrsBackends:
    """All DRS backends, one per (account_id, region), created on first use."""

    def __init__(self) -> None:
        """Start with no backends."""
        self._backends: dict[tuple[str, str], DrsBackend] = {}
        self._lock = threading.Lock()
        self._requests = 0

    def backend(self, account_id: str, region: str) -> DrsBackend:
        """The backend of (account_id, region), creating an empty one the first time it is asked for."""
        key = (account_id, region)
        with self._lock:
            found = self._backends.get(key)
            if found is None:
                found = self._backends[key] = DrsBackend(account_id, region)
            return found

    def next_request_number(self) -> int:
        """Count one more request (1, 2, ...), for deterministic request ids."""
        with self._lock:
            self._requests += 1
            return self._requests

    def reset(self) -> None:
        """Drop every backend and restart the request count."""
        with self._lock:
            self._backends.clear()
            self._requests = 0
