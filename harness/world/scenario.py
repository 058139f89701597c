"""Scenario files: load and validate the YAML that describes a local AWS world into frozen dataclasses.

Every problem in a file is collected and reported together, one per line, as
``<file>: <field path>: <what was expected>, got <what was there>``; no object is
returned until the whole file has been validated. The validated scenario has a
canonical plain form (`Scenario.to_dict`) that round-trips through
`parse_scenario` and whose SHA-256 is `Scenario.content_hash`.

Containers inside the dataclasses are immutable: sequences are tuples and
mappings are `types.MappingProxyType`, recursively for raw rows and explicit
DRS documents. `thaw` turns any of them back into plain dicts and lists (what
boto3's DynamoDB serializer accepts).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import yaml

from harness.world.errors import TRANSPORT_ERRORS

__all__ = [
    "DEFAULT_CLOCK",
    "DEFAULT_ENV",
    "DRS_REGIONS",
    "SERVICES",
    "AccountSpec",
    "Allowances",
    "DrsRegionSpec",
    "Ec2RegionSpec",
    "ErrorSpec",
    "FaultSpec",
    "OriginSpec",
    "RegionStatusRow",
    "Scenario",
    "ScenarioError",
    "TransportSpec",
    "load_scenario",
    "parse_scenario",
    "thaw",
]

# The regions DRS is offered in. Defined here on purpose: the harness never imports the Lambda's code.
DRS_REGIONS: tuple[str, ...] = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "ap-east-1",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "me-south-1",
    "me-central-1",
    "af-south-1",
    "il-central-1",
    "ca-central-1",
    "sa-east-1",
)

SERVICES: tuple[str, ...] = ("drs", "ec2", "sts", "dynamodb")

DEFAULT_ENV: Mapping[str, str] = MappingProxyType(
    {
        "SOURCE_SERVER_INVENTORY_TABLE": "source-server-inventory",
        "TARGET_ACCOUNTS_TABLE": "target-accounts",
        "DRS_REGION_STATUS_TABLE": "drs-region-status",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
)

DEFAULT_CLOCK = "2026-01-15T12:00:00+00:00"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_OPERATION = re.compile(r"[A-Z][A-Za-z0-9]*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ERROR_CODE = re.compile(r"[A-Za-z][A-Za-z0-9._:-]*")

_TOP_FIELDS = (
    "name",
    "description",
    "seed",
    "hub_account",
    "clock",
    "env",
    "active_regions",
    "target_accounts",
    "accounts",
    "inventory_before",
    "faults",
    "latency_ms",
    "allowances",
)

_T = TypeVar("_T")
_FieldPath = tuple[str | int, ...]


class ScenarioError(ValueError):
    """A scenario file (or dict) is not valid; the message lists every problem, one per line."""

    def __init__(self, source: str, problems: list[str]) -> None:
        """Keep the source and the problems (each ``<path>: <expectation>``) and build the message from them."""
        self.source = source
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(f"{source}: {problem}" for problem in problems))


# --- the validated model ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorSpec:
    """An AWS error to answer with: its code, and optionally message, page it hits (DRS) and HTTP status."""

    code: str
    message: str | None = None
    on_page: int | None = None
    status: int | None = None


@dataclass(frozen=True)
class OriginSpec:
    """Where generated DRS servers' EC2 instances live: an account and a region."""

    account: str
    region: str


@dataclass(frozen=True)
class DrsRegionSpec:
    """One account's DRS in one region.

    `servers` is a count of servers to generate, or a tuple of explicit DRS documents used verbatim.
    `staging_account` is resolved: it is the owning account unless the file named another one.
    `on_premises` makes the generated servers on-premises ones (VMware or physical machines replicated into AWS):
    no EC2 instance, no awsInstanceID, no sourceCloudProperties origin; it excludes `origin` and explicit documents.
    """

    region: str
    servers: int | tuple[Mapping[str, Any], ...] = 0
    page_size: int = DEFAULT_PAGE_SIZE
    origin: OriginSpec | None = None
    staging_account: str = ""
    error: ErrorSpec | None = None
    on_premises: bool = False

    @property
    def server_count(self) -> int:
        """How many servers this region holds, generated or explicit."""
        return self.servers if isinstance(self.servers, int) else len(self.servers)

    @property
    def page_count(self) -> int:
        """How many DescribeSourceServers pages a full listing takes (an empty listing is still one page)."""
        return max(1, math.ceil(self.server_count / self.page_size))


@dataclass(frozen=True)
class Ec2RegionSpec:
    """One account's EC2 in one region: how many of the servers' instances are missing, and a persistent error.

    `security_groups` names groups created in the region's default VPC; every instance launched there belongs to them
    (none given: the instances have no security group, as moto launches them).
    """

    region: str
    missing_instances: int = 0
    error: ErrorSpec | None = None
    security_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccountSpec:
    """A member account: whether AssumeRole into it fails, and its DRS and EC2 per region."""

    account_id: str
    assume_role_error: ErrorSpec | None = None
    drs: Mapping[str, DrsRegionSpec] = field(default_factory=lambda: MappingProxyType({}))
    ec2: Mapping[str, Ec2RegionSpec] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class RegionStatusRow:
    """A row of the region status table before the run."""

    region: str
    server_count: int
    status: str | None = None


@dataclass(frozen=True)
class TransportSpec:
    """A transport failure botocore raises instead of a response: its exception's name and the cause's text.

    `error` is one of ReadTimeoutError, ConnectTimeoutError, ConnectionClosedError and HTTPClientError (an
    exception botocore's HTTP layer does not know, shown as "An HTTP Client raised an unhandled exception: {detail}");
    `detail` is the text of the cause, required for HTTPClientError.
    """

    error: str
    detail: str | None = None


@dataclass(frozen=True)
class FaultSpec:
    """A filtered fault: matching requests fail with `error`, return UnprocessedItems, or fail the transport.

    A transport fails by a dropped connection (`connection`) or another way (`transport`). Exactly one of `error`,
    `unprocessed`, `connection` and `transport` is set.
    """

    service: str
    operation: str | None = None
    account: str | None = None
    region: str | None = None
    on_call: int | None = None
    on_page: int | None = None
    error: ErrorSpec | None = None
    unprocessed: int | None = None
    connection: bool = False
    transport: TransportSpec | None = None

    @property
    def kind(self) -> str:
        """Which effect this fault has: ``error``, ``unprocessed``, ``transport`` or ``connection``."""
        if self.error is not None:
            return "error"
        if self.unprocessed is not None:
            return "unprocessed"
        if self.transport is not None:
            return "transport"
        return "connection"


@dataclass(frozen=True)
class Allowances:
    """Reviewed allowances: read operations the implementation under test may call fewer times than the golden."""

    fewer_reads: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. `source` (where it came from) takes no part in equality, `to_dict` or the hash."""

    name: str
    hub_account: str
    description: str = ""
    seed: int = 0
    clock: datetime = field(default_factory=lambda: datetime.fromisoformat(DEFAULT_CLOCK))
    env: Mapping[str, str | None] = field(default_factory=lambda: MappingProxyType({}))
    active_regions: tuple[RegionStatusRow, ...] = ()
    target_accounts: tuple[Mapping[str, Any], ...] = ()
    accounts: Mapping[str, AccountSpec] = field(default_factory=lambda: MappingProxyType({}))
    inventory_before: tuple[Mapping[str, Any], ...] = ()
    faults: tuple[FaultSpec, ...] = ()
    latency_ms: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: MappingProxyType({}))
    allowances: Allowances = field(default_factory=Allowances)
    source: str = field(default="<scenario>", compare=False)

    def environment(self) -> dict[str, str | None]:
        """The Lambda's environment: DEFAULT_ENV overlaid by `env`; a None value means "unset this variable"."""
        merged: dict[str, str | None] = dict(DEFAULT_ENV)
        merged.update(self.env)
        return merged

    def latency_for(self, service: str, operation: str) -> float:
        """Milliseconds to sleep for one call: the operation's own latency, else the service's default, else 0."""
        profile = self.latency_ms.get(service)
        if profile is None:
            return 0.0
        if operation in profile:
            return profile[operation]
        return profile.get("default", 0.0)

    def to_dict(self) -> dict[str, Any]:
        """The canonical plain form: every field with its default filled in (a DRS region's `on_premises` only when
        true); parse_scenario accepts it back."""
        return {
            "name": self.name,
            "description": self.description,
            "seed": self.seed,
            "hub_account": self.hub_account,
            "clock": self.clock.isoformat(),
            "env": dict(self.env),
            "active_regions": [
                {"region": row.region, "serverCount": row.server_count, "status": row.status}
                for row in self.active_regions
            ],
            "target_accounts": thaw(self.target_accounts),
            "accounts": {account_id: _account_to_dict(spec) for account_id, spec in self.accounts.items()},
            "inventory_before": thaw(self.inventory_before),
            "faults": [_fault_to_dict(fault) for fault in self.faults],
            "latency_ms": {service: dict(profile) for service, profile in self.latency_ms.items()},
            "allowances": {"fewer_reads": list(self.allowances.fewer_reads)},
        }

    def canonical_json(self) -> str:
        """`to_dict` as canonical JSON: sorted keys, no whitespace, UTF-8 text."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

    def content_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON: insensitive to key order, comments and spelled-out defaults."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


def thaw(value: Any) -> Any:
    """Deep-copy a frozen value into plain data: mappings become dicts, tuples and lists become lists."""
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(item) for item in value]
    return value


def _freeze(value: Any) -> Any:
    """Deep-freeze plain data: dicts become read-only mappings, lists become tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(item) for item in value)
    return value


def _error_to_dict(error: ErrorSpec | None, fields: tuple[str, ...]) -> dict[str, Any] | None:
    """Render an error spec with exactly the fields its context allows (None when there is no error)."""
    if error is None:
        return None
    return {name: getattr(error, name) for name in fields}


def _drs_region_to_dict(drs: DrsRegionSpec) -> dict[str, Any]:
    """Render one account's DRS region in canonical form.

    `on_premises` is rendered only when true, so every scenario written before the option keeps its content hash
    (and its goldens stay fresh); parse_scenario reads its absence as false.
    """
    rendered: dict[str, Any] = {
        "servers": drs.servers if isinstance(drs.servers, int) else thaw(drs.servers),
        "page_size": drs.page_size,
        "origin": None if drs.origin is None else {"account": drs.origin.account, "region": drs.origin.region},
        "staging_account": drs.staging_account,
        "error": _error_to_dict(drs.error, _DRS_ERROR_FIELDS),
    }
    if drs.on_premises:
        rendered["on_premises"] = True
    return rendered


def _account_to_dict(spec: AccountSpec) -> dict[str, Any]:
    """Render one account in canonical form."""
    return {
        "assume_role_error": _error_to_dict(spec.assume_role_error, _ASSUME_ROLE_ERROR_FIELDS),
        "drs": {region: _drs_region_to_dict(drs) for region, drs in spec.drs.items()},
        "ec2": {region: _ec2_region_to_dict(ec2) for region, ec2 in spec.ec2.items()},
    }


def _ec2_region_to_dict(spec: Ec2RegionSpec) -> dict[str, Any]:
    """Render one account's EC2 in one region; security_groups only when given, so older scenarios keep their hash."""
    rendered: dict[str, Any] = {
        "missing_instances": spec.missing_instances,
        "error": _error_to_dict(spec.error, _ERROR_FIELDS),
    }
    if spec.security_groups:
        rendered["security_groups"] = list(spec.security_groups)
    return rendered


def _fault_to_dict(fault: FaultSpec) -> dict[str, Any]:
    """Render one fault in canonical form (only the effect it has, as the file must)."""
    rendered: dict[str, Any] = {
        "service": fault.service,
        "operation": fault.operation,
        "account": fault.account,
        "region": fault.region,
        "on_call": fault.on_call,
        "on_page": fault.on_page,
    }
    if fault.error is not None:
        rendered["error"] = _error_to_dict(fault.error, _ERROR_FIELDS)
    elif fault.unprocessed is not None:
        rendered["unprocessed"] = fault.unprocessed
    elif fault.transport is not None:
        rendered["transport"] = {"error": fault.transport.error, "detail": fault.transport.detail}
    else:
        rendered["connection"] = True
    return rendered


# --- validation -------------------------------------------------------------------------------------------------

_ASSUME_ROLE_ERROR_FIELDS = ("code", "message")
_ERROR_FIELDS = ("code", "message", "status")
_DRS_ERROR_FIELDS = ("code", "message", "on_page", "status")
_FAULT_FIELDS = (
    "service",
    "operation",
    "account",
    "region",
    "on_call",
    "on_page",
    "error",
    "unprocessed",
    "connection",
    "transport",
)
_TRANSPORT_FIELDS = ("error", "detail")
_FAULT_EFFECTS = ("error", "unprocessed", "connection", "transport")


def _format_path(path: _FieldPath) -> str:
    """Render a field path as people write it: ``accounts.111111111111.drs[0].region``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "(top level)"


def _describe(value: object) -> str:
    """Show what the file actually held, briefly."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return f"{value.isoformat()!r} (a YAML timestamp)"
    if isinstance(value, date):
        return f"{value.isoformat()!r} (a YAML date)"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, int | float):
        return repr(value)
    return f"a {type(value).__name__}"


def _is_int(value: object) -> bool:
    """True for YAML integers (booleans are not integers here)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _closest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    """A ``(did you mean 'x'?)`` hint for the valid choice closest to `word`, or an empty string."""
    matches = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


class _Checker:
    """Walks raw scenario data, collecting every problem; each check returns a usable fallback when it fails."""

    def __init__(self) -> None:
        """Start with no problems."""
        self.problems: list[str] = []

    def fail(self, path: _FieldPath, expected: str, value: object = ..., hint: str = "") -> None:
        """Record a problem at `path`: what was expected and, unless omitted, what was there."""
        got = "" if value is ... else f", got {_describe(value)}"
        self.problems.append(f"{_format_path(path)}: {expected}{got}{hint}")

    def mapping(
        self, value: object, path: _FieldPath, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """Check a record with fixed fields: unknown fields and missing required ones are problems."""
        if not isinstance(value, Mapping):
            self.fail(path, f"expected a mapping with fields {', '.join(allowed)}", value)
            return {}
        result: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and key in allowed:
                result[key] = item
                continue
            hint = _closest(key, list(allowed)) if isinstance(key, str) else ""
            self.fail((*path, str(key)), f"unknown field; allowed: {', '.join(allowed)}", hint=hint)
        for name in required:
            if name not in result:
                self.fail((*path, name), "missing required field")
        return result

    def keyed(self, value: object, path: _FieldPath, what: str) -> dict[Any, Any]:
        """Check a mapping with free keys (checked by the caller); null is an empty mapping."""
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(path, f"expected a mapping of {what}", value)
            return {}
        return dict(value)

    def sequence(self, value: object, path: _FieldPath, what: str) -> list[Any]:
        """Check a list; null is an empty list."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(path, f"expected a list of {what}", value)
            return []
        return value

    def integer(self, value: object, path: _FieldPath, low: int, high: int | None = None) -> int:
        """Check an integer within [low, high]."""
        if isinstance(value, int) and not isinstance(value, bool) and value >= low and (high is None or value <= high):
            return value
        expected = f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"
        self.fail(path, f"expected {expected}", value)
        return low

    def optional_integer(self, value: object, path: _FieldPath, low: int, high: int | None = None) -> int | None:
        """Check an optional integer within [low, high]; null means absent."""
        return None if value is None else self.integer(value, path, low, high)

    def number(self, value: object, path: _FieldPath) -> float:
        """Check a finite number >= 0 (an integer or a float)."""
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
            return float(value)
        self.fail(path, "expected a number of milliseconds >= 0", value)
        return 0.0

    def string(self, value: object, path: _FieldPath, what: str = "a string") -> str:
        """Check a non-empty string."""
        if isinstance(value, str) and value:
            return value
        self.fail(path, f"expected {what}", value)
        return ""

    def optional_string(self, value: object, path: _FieldPath) -> str | None:
        """Check an optional string; null means absent."""
        return None if value is None else self.string(value, path)

    def slug(self, value: object, path: _FieldPath) -> str:
        """Check a scenario name: lowercase letters, digits and hyphens, not starting with a hyphen."""
        if isinstance(value, str) and _SLUG.fullmatch(value):
            return value
        self.fail(path, "expected a slug of lowercase letters, digits and hyphens, like 'two-accounts'", value)
        return ""

    def account_id(self, value: object, path: _FieldPath) -> str:
        """Check an account id: a quoted string of exactly 12 digits (YAML would turn bare digits into a number)."""
        if isinstance(value, str) and _ACCOUNT_ID.fullmatch(value):
            return value
        self.fail(path, "expected a 12-digit account id as a quoted string", value)
        return ""

    def optional_account_id(self, value: object, path: _FieldPath) -> str | None:
        """Check an optional account id; null means absent."""
        return None if value is None else self.account_id(value, path)

    def region(self, value: object, path: _FieldPath) -> str:
        """Check a DRS region, suggesting the closest one when it is misspelt."""
        if isinstance(value, str) and value in DRS_REGIONS:
            return value
        hint = _closest(value, DRS_REGIONS) if isinstance(value, str) else ""
        self.fail(path, "expected a DRS region like 'us-east-1'", value, hint)
        return ""

    def operation(self, value: object, path: _FieldPath, extra: tuple[str, ...] = ()) -> str:
        """Check an API operation name as AWS spells it (PascalCase, like 'DescribeSourceServers')."""
        if isinstance(value, str) and (value in extra or _OPERATION.fullmatch(value)):
            return value
        hint = ""
        if isinstance(value, str) and re.fullmatch(r"[a-z][a-z0-9_]*", value):
            hint = f" (did you mean {''.join(part.capitalize() for part in value.split('_'))!r}?)"
        also = "".join(f" or {name!r}" for name in extra)
        self.fail(path, f"expected an operation name like 'DescribeSourceServers'{also}", value, hint)
        return ""

    def service(self, value: object, path: _FieldPath) -> str:
        """Check a service name the world emulates."""
        if isinstance(value, str) and value in SERVICES:
            return value
        hint = _closest(value, SERVICES) if isinstance(value, str) else ""
        self.fail(path, f"expected one of {', '.join(SERVICES)}", value, hint)
        return ""

    def error_code(self, value: object, path: _FieldPath) -> str:
        """Check an AWS error code like 'ThrottlingException'."""
        if isinstance(value, str) and _ERROR_CODE.fullmatch(value):
            return value
        self.fail(path, "expected an AWS error code like 'ThrottlingException'", value)
        return ""

    def error(self, value: object, path: _FieldPath, fields: tuple[str, ...]) -> ErrorSpec | None:
        """Check an error spec restricted to `fields`; null means no error."""
        if value is None:
            return None
        raw = self.mapping(value, path, fields, required=("code",))
        if not raw and not isinstance(value, Mapping):
            return None
        return ErrorSpec(
            code=self.error_code(raw.get("code"), (*path, "code")) if "code" in raw else "",
            message=self.optional_string(raw.get("message"), (*path, "message")),
            on_page=self.optional_integer(raw.get("on_page"), (*path, "on_page"), 1),
            status=self.optional_integer(raw.get("status"), (*path, "status"), 400, 599),
        )

    def document(self, value: object, path: _FieldPath, allow_floats: bool) -> Any:
        """Check a raw row or document: string keys, and only values DynamoDB (or JSON) can hold."""
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    self.fail((*path, str(key)), "expected a string key (quote it)", key)
                else:
                    self.document(item, (*path, key), allow_floats)
            return value
        if isinstance(value, list):
            for index, item in enumerate(value):
                self.document(item, (*path, index), allow_floats)
            return value
        if isinstance(value, float):
            if not allow_floats:
                self.fail(
                    path,
                    "expected no floats in a DynamoDB row (DynamoDB needs Decimal): use an integer or a string",
                    value,
                )
            elif not math.isfinite(value):
                self.fail(path, "expected a finite number", value)
            return value
        if value is None or isinstance(value, str | int):
            return value
        hint = " (quote dates and times so YAML keeps them as strings)" if isinstance(value, date) else ""
        self.fail(path, "expected a string, integer, boolean, null, list or mapping", value, hint)
        return value

    def each(self, items: list[Any], path: _FieldPath, check: Callable[[Any, _FieldPath], _T]) -> list[_T]:
        """Apply `check` to every item of a list, with the item's index in its path."""
        return [check(item, (*path, index)) for index, item in enumerate(items)]


def _check_clock(checker: _Checker, value: object) -> datetime:
    """Check the frozen clock: an ISO-8601 datetime with a timezone, as a string or a YAML timestamp."""
    expected = "expected an ISO-8601 datetime with a timezone, like '2026-01-15T12:00:00+00:00'"
    parsed: datetime | None = None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is None or parsed.utcoffset() is None:
        checker.fail(("clock",), expected, value)
        return datetime.fromisoformat(DEFAULT_CLOCK)
    return parsed


def _check_env(checker: _Checker, value: object) -> dict[str, str | None]:
    """Check the environment overlay: variable name -> string, or null to unset it."""
    env: dict[str, str | None] = {}
    for key, item in checker.keyed(value, ("env",), "variable names to strings or null").items():
        path: _FieldPath = ("env", str(key))
        if not isinstance(key, str) or not _ENV_NAME.fullmatch(key):
            checker.fail(path, "expected an environment variable name like 'AWS_DEFAULT_REGION'", key)
            continue
        if item is not None and not isinstance(item, str):
            checker.fail(path, "expected a string (quote numbers and booleans) or null to unset the variable", item)
            continue
        env[key] = item
    return env


def _check_region_rows(checker: _Checker, value: object) -> list[RegionStatusRow]:
    """Check the region status rows, one per region."""
    rows: list[RegionStatusRow] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(checker.sequence(value, ("active_regions",), "region status rows")):
        path: _FieldPath = ("active_regions", index)
        raw = checker.mapping(item, path, ("region", "serverCount", "status"), required=("region", "serverCount"))
        region = checker.region(raw["region"], (*path, "region")) if "region" in raw else ""
        if region in seen:
            checker.fail(
                (*path, "region"), f"expected each region once; {region!r} is also active_regions[{seen[region]}]"
            )
        elif region:
            seen[region] = index
        count = checker.integer(raw["serverCount"], (*path, "serverCount"), 0) if "serverCount" in raw else 0
        status = checker.optional_string(raw.get("status"), (*path, "status"))
        rows.append(RegionStatusRow(region=region, server_count=count, status=status))
    return rows


def _check_target_accounts(checker: _Checker, value: object) -> list[Any]:
    """Check the raw target account rows: anything goes except a missing or non-string key, floats and duplicates."""
    rows: list[Any] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(checker.sequence(value, ("target_accounts",), "table rows (mappings)")):
        path: _FieldPath = ("target_accounts", index)
        if not isinstance(item, Mapping):
            checker.fail(path, "expected a mapping (a table row)", item)
            continue
        checker.document(item, path, allow_floats=False)
        key = item.get("accountId")
        if not isinstance(key, str) or not key:
            checker.fail((*path, "accountId"), "expected a string (the table's key)", key)
        elif key in seen:
            checker.fail((*path, "accountId"), f"expected a unique key; {key!r} is also target_accounts[{seen[key]}]")
        else:
            seen[key] = index
        rows.append(item)
    return rows


def _check_inventory(checker: _Checker, value: object) -> list[Any]:
    """Check the inventory rows present before the run: string sourceServerArn and stagingAccountId, no floats."""
    rows: list[Any] = []
    seen: dict[tuple[str, str], int] = {}
    for index, item in enumerate(checker.sequence(value, ("inventory_before",), "table rows (mappings)")):
        path: _FieldPath = ("inventory_before", index)
        if not isinstance(item, Mapping):
            checker.fail(path, "expected a mapping (a table row)", item)
            continue
        checker.document(item, path, allow_floats=False)
        arn, staging = item.get("sourceServerArn"), item.get("stagingAccountId")
        for name, key_part in (("sourceServerArn", arn), ("stagingAccountId", staging)):
            if not isinstance(key_part, str) or not key_part:
                checker.fail((*path, name), "expected a non-empty string", key_part)
        if isinstance(arn, str) and isinstance(staging, str) and arn and staging:
            if (arn, staging) in seen:
                checker.fail(
                    path, f"expected unique rows; the same server is also inventory_before[{seen[arn, staging]}]"
                )
            else:
                seen[arn, staging] = index
        rows.append(item)
    return rows


def _check_drs_region(
    checker: _Checker, account_id: str, region: str, value: object, path: _FieldPath
) -> DrsRegionSpec:
    """Check one account's DRS in one region."""
    raw = checker.mapping(value, path, ("servers", "page_size", "origin", "error", "staging_account", "on_premises"))
    problems_before = len(checker.problems)
    servers_raw = raw.get("servers", 0)
    servers: int | tuple[Mapping[str, Any], ...]
    if isinstance(servers_raw, list):
        documents = []
        for index, document in enumerate(servers_raw):
            if not isinstance(document, Mapping):
                checker.fail((*path, "servers", index), "expected a mapping (a DRS source server document)", document)
                continue
            documents.append(checker.document(document, (*path, "servers", index), allow_floats=True))
        servers = _freeze(documents)
    elif _is_int(servers_raw) and servers_raw >= 0:
        servers = servers_raw
    else:
        checker.fail(
            (*path, "servers"), "expected an integer >= 0 (servers to generate) or a list of DRS documents", servers_raw
        )
        servers = 0
    page_size = checker.integer(raw.get("page_size", DEFAULT_PAGE_SIZE), (*path, "page_size"), 1, MAX_PAGE_SIZE)
    pages_known = len(checker.problems) == problems_before  # servers and page_size are valid
    origin = None
    if raw.get("origin") is not None:
        origin_raw = checker.mapping(raw["origin"], (*path, "origin"), ("account", "region"), ("account", "region"))
        origin = OriginSpec(
            account=checker.account_id(origin_raw["account"], (*path, "origin", "account"))
            if "account" in origin_raw
            else "",
            region=checker.region(origin_raw["region"], (*path, "origin", "region")) if "region" in origin_raw else "",
        )
    staging = checker.optional_account_id(raw.get("staging_account"), (*path, "staging_account")) or account_id
    error = checker.error(raw.get("error"), (*path, "error"), _DRS_ERROR_FIELDS)
    on_premises = _check_on_premises(checker, raw, servers_raw, (*path, "on_premises"))
    spec = DrsRegionSpec(region, servers, page_size, origin, staging, error, on_premises)
    if pages_known and error is not None and error.on_page is not None and error.on_page > spec.page_count:
        checker.fail(
            (*path, "error", "on_page"),
            f"expected a page that exists: {spec.server_count} servers at page_size {page_size} "
            f"make {spec.page_count} page(s)",
            error.on_page,
        )
    return spec


def _check_on_premises(checker: _Checker, raw: Mapping[str, Any], servers_raw: object, path: _FieldPath) -> bool:
    """Check `on_premises`: a boolean, and when true only with generated servers and without an EC2 `origin`."""
    value = raw.get("on_premises", False)
    if value is None or value is False:
        return False
    if value is not True:
        checker.fail(path, "expected true or false (generate on-premises servers, with no EC2 instance)", value)
        return False
    if isinstance(servers_raw, list):
        checker.fail(path, "expected on_premises only with a count of servers to generate, not explicit documents")
    if raw.get("origin") is not None:
        checker.fail(path, "expected on_premises without origin: on-premises servers have no EC2 instance anywhere")
    return True


def _check_ec2_region(checker: _Checker, region: str, value: object, path: _FieldPath) -> Ec2RegionSpec:
    """Check one account's EC2 in one region."""
    raw = checker.mapping(value, path, ("missing_instances", "error", "security_groups"))
    groups_path: _FieldPath = (*path, "security_groups")
    names = checker.sequence(raw.get("security_groups"), groups_path, "security group names")
    groups = tuple(checker.string(name, (*groups_path, index)) for index, name in enumerate(names))
    if len(set(groups)) != len(groups):
        checker.fail(groups_path, "expected distinct security group names", names)
    return Ec2RegionSpec(
        region=region,
        missing_instances=checker.integer(raw.get("missing_instances", 0), (*path, "missing_instances"), 0),
        error=checker.error(raw.get("error"), (*path, "error"), _ERROR_FIELDS),
        security_groups=groups,
    )


def _check_account(checker: _Checker, account_id: str, value: object, path: _FieldPath) -> AccountSpec:
    """Check one member account: AssumeRole outcome, DRS and EC2 per region."""
    raw = checker.mapping(value, path, ("assume_role_error", "drs", "ec2"))
    role_error_raw = raw.get("assume_role_error")
    if isinstance(role_error_raw, str):
        role_error: ErrorSpec | None = ErrorSpec(checker.error_code(role_error_raw, (*path, "assume_role_error")))
    else:
        role_error = checker.error(role_error_raw, (*path, "assume_role_error"), _ASSUME_ROLE_ERROR_FIELDS)
    drs: dict[str, DrsRegionSpec] = {}
    for region, item in checker.keyed(raw.get("drs"), (*path, "drs"), "regions to DRS settings").items():
        region_path: _FieldPath = (*path, "drs", str(region))
        if checker.region(region, region_path):
            drs[region] = _check_drs_region(checker, account_id, region, item, region_path)
    ec2: dict[str, Ec2RegionSpec] = {}
    for region, item in checker.keyed(raw.get("ec2"), (*path, "ec2"), "regions to EC2 settings").items():
        region_path = (*path, "ec2", str(region))
        if checker.region(region, region_path):
            ec2[region] = _check_ec2_region(checker, region, item, region_path)
    return AccountSpec(account_id, role_error, MappingProxyType(drs), MappingProxyType(ec2))


def _check_accounts(checker: _Checker, value: object) -> dict[str, AccountSpec]:
    """Check the member accounts, keyed by quoted 12-digit account id."""
    accounts: dict[str, AccountSpec] = {}
    for account_id, item in checker.keyed(value, ("accounts",), "account ids to account settings").items():
        path: _FieldPath = ("accounts", str(account_id))
        if checker.account_id(account_id, path):
            accounts[account_id] = _check_account(checker, account_id, item, path)
    return accounts


def _check_fault(checker: _Checker, value: object, path: _FieldPath) -> FaultSpec:
    """Check one fault: its filters, then exactly one effect (error, unprocessed, connection or transport)."""
    raw = checker.mapping(value, path, _FAULT_FIELDS, required=("service",))
    service = checker.service(raw["service"], (*path, "service")) if "service" in raw else ""
    operation = None if raw.get("operation") is None else checker.operation(raw["operation"], (*path, "operation"))
    on_page = checker.optional_integer(raw.get("on_page"), (*path, "on_page"), 1)
    if on_page is not None and service and service != "drs":
        checker.fail((*path, "on_page"), "expected on_page only with service drs (the only paginated service here)")
    effects = [name for name in _FAULT_EFFECTS if raw.get(name) is not None]
    if len(effects) != 1 and isinstance(value, Mapping):
        checker.fail(path, f"expected exactly one of {', '.join(_FAULT_EFFECTS)}; got {', '.join(effects) or 'none'}")
    error = checker.error(raw.get("error"), (*path, "error"), _ERROR_FIELDS)
    unprocessed = checker.optional_integer(raw.get("unprocessed"), (*path, "unprocessed"), 1)
    if (
        unprocessed is not None
        and service
        and operation != ""
        and (service, operation) != ("dynamodb", "BatchWriteItem")
    ):
        checker.fail(
            (*path, "unprocessed"), "expected unprocessed only with service dynamodb and operation BatchWriteItem"
        )
    connection = raw.get("connection")
    if connection is not None and connection is not True:
        checker.fail((*path, "connection"), "expected true (the connection drops)", connection)
    return FaultSpec(
        service=service,
        operation=operation,
        account=checker.optional_account_id(raw.get("account"), (*path, "account")),
        region=None if raw.get("region") is None else checker.region(raw["region"], (*path, "region")),
        on_call=checker.optional_integer(raw.get("on_call"), (*path, "on_call"), 1),
        on_page=on_page,
        error=error,
        unprocessed=unprocessed,
        connection=connection is True,
        transport=_check_transport(checker, raw.get("transport"), (*path, "transport")),
    )


def _check_transport(checker: _Checker, value: object, path: _FieldPath) -> TransportSpec | None:
    """Check a transport failure: a known botocore exception name, and a detail where its message shows one."""
    if value is None:
        return None
    raw = checker.mapping(value, path, _TRANSPORT_FIELDS, required=("error",))
    if not raw:
        return None
    error = raw.get("error")
    if "error" in raw and error not in TRANSPORT_ERRORS:
        checker.fail((*path, "error"), f"expected one of {', '.join(TRANSPORT_ERRORS)}", error)
    detail = checker.optional_string(raw.get("detail"), (*path, "detail"))
    if error == "HTTPClientError" and detail is None:
        checker.fail((*path, "detail"), "expected the text of the failure (HTTPClientError's message shows it)")
    return TransportSpec(error=str(error), detail=detail)


def _check_latency(checker: _Checker, value: object) -> dict[str, MappingProxyType[str, float]]:
    """Check the latency profile; a plain number for a service becomes its ``default``."""
    latency: dict[str, MappingProxyType[str, float]] = {}
    for service, item in checker.keyed(value, ("latency_ms",), "services to milliseconds").items():
        path: _FieldPath = ("latency_ms", str(service))
        if not checker.service(service, path):
            continue
        if isinstance(item, Mapping):
            profile: dict[str, float] = {}
            for operation, millis in item.items():
                op_path: _FieldPath = (*path, str(operation))
                if checker.operation(operation, op_path, extra=("default",)):
                    profile[operation] = checker.number(millis, op_path)
            latency[service] = MappingProxyType(profile)
        else:
            latency[service] = MappingProxyType({"default": checker.number(item, path)})
    return latency


def _check_allowances(checker: _Checker, value: object) -> Allowances:
    """Check the reviewed allowances; the operation names are kept sorted and unique."""
    if value is None:
        return Allowances()
    raw = checker.mapping(value, ("allowances",), ("fewer_reads",))
    names = checker.sequence(raw.get("fewer_reads"), ("allowances", "fewer_reads"), "operation names")
    checked = checker.each(names, ("allowances", "fewer_reads"), checker.operation)
    return Allowances(fewer_reads=tuple(sorted({name for name in checked if name})))


def _validate(data: object, source: str, stem: str | None, problems: list[str]) -> Scenario:
    """Validate raw data into a Scenario, or raise ScenarioError listing every problem (plus `problems` given)."""
    checker = _Checker()
    checker.problems.extend(problems)
    if data is None:
        checker.problems.append("the scenario is empty: expected a mapping with at least name and hub_account")
        raise ScenarioError(source, checker.problems)
    if not isinstance(data, Mapping):
        checker.fail((), "expected a mapping of scenario fields (name, hub_account, ...)", data)
        raise ScenarioError(source, checker.problems)
    raw = checker.mapping(data, (), _TOP_FIELDS, required=("name", "hub_account"))
    name = checker.slug(raw["name"], ("name",)) if "name" in raw else ""
    if stem is not None and name and name != stem:
        checker.fail(("name",), f"expected {stem!r} (the file's stem)", name)
    description = raw.get("description")
    if description is not None and not isinstance(description, str):
        checker.fail(("description",), "expected a string", description)
    scenario = Scenario(
        name=name,
        hub_account=checker.account_id(raw["hub_account"], ("hub_account",)) if "hub_account" in raw else "",
        description=description if isinstance(description, str) else "",
        seed=checker.integer(raw.get("seed", 0), ("seed",), 0),
        clock=_check_clock(checker, raw.get("clock", DEFAULT_CLOCK)),
        env=MappingProxyType(_check_env(checker, raw.get("env"))),
        active_regions=tuple(_check_region_rows(checker, raw.get("active_regions"))),
        target_accounts=_freeze(_check_target_accounts(checker, raw.get("target_accounts"))),
        accounts=MappingProxyType(_check_accounts(checker, raw.get("accounts"))),
        inventory_before=_freeze(_check_inventory(checker, raw.get("inventory_before"))),
        faults=tuple(
            _check_fault(checker, item, ("faults", index))
            for index, item in enumerate(checker.sequence(raw.get("faults"), ("faults",), "faults"))
        ),
        latency_ms=MappingProxyType(_check_latency(checker, raw.get("latency_ms"))),
        allowances=_check_allowances(checker, raw.get("allowances")),
        source=source,
    )
    if checker.problems:
        raise ScenarioError(source, checker.problems)
    return scenario


def parse_scenario(data: object, source: str = "<scenario>") -> Scenario:
    """Validate already-loaded data (a dict, e.g. built by a test) into a Scenario; raise ScenarioError otherwise."""
    return _validate(data, source, None, [])


class _Loader(yaml.SafeLoader):
    """A safe loader that also notes duplicate mapping keys (plain YAML silently keeps the last one)."""

    duplicates: list[str]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Construct a mapping after noting any key written twice in it (merge keys aside)."""
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node)
            if key in seen:
                line = key_node.start_mark.line + 1
                self.duplicates.append(f"line {line}: duplicate key {key!r}: expected each key once in a mapping")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    """Describe a YAML syntax error with its line and column, and where the construct it broke began."""
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    text = f"{where}invalid YAML: {exc.problem or exc.context}"
    if exc.problem and exc.context and exc.context_mark is not None:
        text += f" ({exc.context} that began at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1})"
    return text


def load_scenario(path: str | Path) -> Scenario:
    """Read, parse and validate a scenario file; its `name` must equal the file's stem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(source, [f"cannot read the file: {exc}"]) from exc
    loader = _Loader(text)
    loader.duplicates = []
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        raise ScenarioError(source, [_yaml_problem(exc)]) from exc
    except yaml.YAMLError as exc:
        raise ScenarioError(source, [f"invalid YAML: {exc}"]) from exc
    finally:
        loader.dispose()
    if data is None:
        raise ScenarioError(source, ["the file is empty: expected a mapping with at least name and hub_account"])
    return _validate(data, source, Path(path).stem, loader.duplicates)
