"""Hypothesis strategies for the inventory sync: valid scenario dicts (see harness/world/scenario.py) and schedules.

A generated scenario is small enough to run on the in-process local AWS in about a second: 1-3 target accounts
(with roleArn and externalId, maybe one without externalId, maybe one without roleArn, maybe the hub itself), 1-4
active regions (rarely none, so that all 28 DRS regions are scanned), 0-8 servers per account and region listed 1-4
a page, and any of the faults the legacy contract classifies: a persistent DRS error per region (every code of the
contract's table, on one page or on all of them), a dropped DRS connection, an AssumeRole error, EC2 instances
missing, servers whose instances live in another account (`origin:`), stale inventory rows and DynamoDB
UnprocessedItems.

Every DRS error carries an explicit message, chosen so the contract's classification is decided by the code alone
(`DRS_ERROR_STATUS` says where each lands); `ValidationException`'s message names a service control policy, which
is what sends it to SCP_DENIED.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

HUB = "999999999999"
MEMBER_ACCOUNTS = ("111111111111", "222222222222", "333333333333")
REGION_POOL = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "sa-east-1")
ROLE_ARN = "arn:aws:iam::{account}:role/DRSOrchestrationRole"

# Code -> message of the persistent DRS errors a region can answer with.
DRS_ERROR_MESSAGES = {
    "ThrottlingException": "Rate exceeded",
    "UninitializedAccountException": "Account not initialized for Elastic Disaster Recovery",
    "OptInRequired": "You are not subscribed to this service in this region",
    "AccessDeniedException": "User is not authorized to perform drs:DescribeSourceServers",
    "UnrecognizedClientException": "The security token included in the request is invalid",
    "InternalServerException": "An internal error occurred",
    "ConflictException": "A conflicting operation is in progress",
    "InvalidRequestException": "The request is not valid for this account",
    "ServiceQuotaExceededException": "Quota for source servers exceeded",
    "ValidationException": "Request denied with an explicit deny in a service control policy",
}
# What the contract's table makes of each (code, message) above: (region status, errorMessage).
DRS_ERROR_STATUS = {
    "ThrottlingException": ("THROTTLED", "API rate limit exceeded"),
    "UninitializedAccountException": ("NOT_INITIALIZED", "DRS not initialized in region"),
    "OptInRequired": ("REGION_NOT_OPTED_IN", "Region not enabled in account"),
    "AccessDeniedException": (
        "IAM_PERMISSION_DENIED",
        "IAM permissions denied: " + DRS_ERROR_MESSAGES["AccessDeniedException"],
    ),
    "ValidationException": ("SCP_DENIED", "Blocked by Service Control Policy"),
    # UnrecognizedClientException arrives as a ClientError, so it never reaches REGION_NOT_ENABLED (defect 7).
    **{
        code: ("ERROR", f"{code}: {DRS_ERROR_MESSAGES[code]}")
        for code in (
            "UnrecognizedClientException",
            "InternalServerException",
            "ConflictException",
            "InvalidRequestException",
            "ServiceQuotaExceededException",
        )
    },
}
# The same errors as the refactored sync classifies them, defect 7 fixed (an approved divergence): an
# UnrecognizedClientException arriving as a ClientError lands in REGION_NOT_ENABLED.
REFACTORED_DRS_ERROR_STATUS = {
    **DRS_ERROR_STATUS,
    "UnrecognizedClientException": ("REGION_NOT_ENABLED", "Region not enabled in account"),
}
# A dropped connection (a `faults:` entry with `connection: true`), classified from the exception text.
CONNECTION_STATUS = ("ENDPOINT_UNREACHABLE", "Cannot connect to DRS endpoint")
ASSUME_ROLE_ERRORS = ("AccessDenied", "RegionDisabledException", "ExpiredTokenException")

schedules = st.one_of(
    st.sampled_from(["submission", "reverse"]),
    st.integers(min_value=0, max_value=10_000).map(lambda seed: f"seed:{seed}"),
)


@st.composite
def drs_error(draw: st.DrawFn, page_count: int) -> dict[str, Any]:
    """A persistent DRS error: any code of the contract's table, on every request or on one page that exists."""
    code = draw(st.sampled_from(sorted(DRS_ERROR_MESSAGES)))
    error: dict[str, Any] = {"code": code, "message": DRS_ERROR_MESSAGES[code]}
    if draw(st.booleans()):
        error["on_page"] = draw(st.integers(min_value=1, max_value=page_count))
    return error


@st.composite
def drs_region(draw: st.DrawFn, origin_accounts: tuple[str, ...]) -> dict[str, Any]:
    """One account's DRS in one region: 0-8 servers, 1-4 a page, maybe an error, maybe instances elsewhere."""
    servers = draw(st.integers(min_value=0, max_value=8))
    page_size = draw(st.integers(min_value=1, max_value=4))
    spec: dict[str, Any] = {"servers": servers, "page_size": page_size}
    if draw(st.integers(min_value=0, max_value=3)) == 0:
        spec["error"] = draw(drs_error(max(1, math.ceil(servers / page_size))))
    if servers and draw(st.integers(min_value=0, max_value=4)) == 0:
        spec["origin"] = {
            "account": draw(st.sampled_from(origin_accounts)),
            "region": draw(st.sampled_from(REGION_POOL)),
        }
    return spec


@st.composite
def target_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    """1-3 target account rows: with roleArn and externalId, maybe one without externalId or roleArn, maybe the hub."""
    accounts = draw(st.lists(st.sampled_from((*MEMBER_ACCOUNTS, HUB)), min_size=1, max_size=3, unique=True))
    without_role = draw(st.sampled_from((None, *accounts)))
    rows = []
    for index, account in enumerate(accounts):
        row: dict[str, Any] = {"accountId": account, "accountName": f"account-{index}"}
        if account != without_role:
            row["roleArn"] = ROLE_ARN.format(account=account)
            if draw(st.integers(min_value=0, max_value=4)):
                row["externalId"] = f"drs-orch-{index}-{account[:4]}"
        rows.append(row)
    return rows


@st.composite
def region_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    """The region status table before the run: 1-4 active regions, maybe an inactive one; rarely none at all."""
    if draw(st.integers(min_value=0, max_value=15)) == 0:
        return []
    regions = draw(st.lists(st.sampled_from(REGION_POOL), min_size=1, max_size=5, unique=True))
    active = regions[: min(len(regions), 4)]
    rows = [{"region": region, "serverCount": draw(st.integers(min_value=1, max_value=9))} for region in active]
    if len(regions) > len(active) or (len(regions) > 1 and draw(st.booleans())):
        rows[-1] = {"region": rows[-1]["region"], "serverCount": 0, "status": "UNINITIALIZED"}
    return rows


def _hub_credentials_used(rows: list[dict[str, Any]]) -> bool:
    """Whether some target is queried with the hub's own credentials (the hub itself, or a row without roleArn)."""
    return any(row["accountId"] == HUB or not row.get("roleArn") for row in rows)


@st.composite
def stale_rows(draw: st.DrawFn, accounts: tuple[str, ...]) -> list[dict[str, Any]]:
    """0-3 inventory rows of servers that left DRS, filed under some of the scenario's accounts."""
    rows = []
    for index in range(draw(st.integers(min_value=0, max_value=3))):
        account = draw(st.sampled_from(accounts))
        server_id = f"s-57a1e{index:012d}"
        rows.append(
            {
                "sourceServerArn": f"arn:aws:drs:us-east-1:{account}:source-server/{server_id}",
                "stagingAccountId": account,
                "sourceServerID": server_id,
                "sourceAccountId": account,
                "sourceRegion": "us-east-1",
                "replicationRegion": "us-east-1",
                "replicationState": "DISCONNECTED",
                "lastUpdated": "2026-01-10T12:00:00+00:00",
            }
        )
    return rows


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A valid scenario dict exercising the whole sync; see the module docstring for what varies."""
    targets = draw(target_rows())
    active_rows = draw(region_rows())
    listed_regions = [row["region"] for row in active_rows] or list(REGION_POOL[:2])
    # DRS lives in every target account and, when some target is reached with its credentials, in the hub.
    drs_accounts = [row["accountId"] for row in targets]
    if _hub_credentials_used(targets) and HUB not in drs_accounts:
        drs_accounts.append(HUB)
    origin_accounts = tuple(sorted(set(drs_accounts) | set(MEMBER_ACCOUNTS[:2])))
    accounts: dict[str, Any] = {}
    faults: list[dict[str, Any]] = []
    for account in drs_accounts:
        regions = draw(st.lists(st.sampled_from(listed_regions), min_size=1, max_size=len(listed_regions), unique=True))
        spec: dict[str, Any] = {"drs": {region: draw(drs_region(origin_accounts)) for region in regions}}
        missing = {
            region: {"missing_instances": draw(st.integers(min_value=1, max_value=drs["servers"]))}
            for region, drs in spec["drs"].items()
            if drs["servers"] and draw(st.integers(min_value=0, max_value=3)) == 0
        }
        if missing:
            spec["ec2"] = missing
        if account != HUB and draw(st.integers(min_value=0, max_value=5)) == 0:
            spec["assume_role_error"] = draw(
                st.one_of(
                    st.sampled_from(ASSUME_ROLE_ERRORS),
                    st.just({"code": "AccessDenied", "message": "Not authorized to perform sts:AssumeRole"}),
                )
            )
        accounts[account] = spec
        # A dropped connection only where no DRS error is set: which of the two would answer first depends on pages.
        healthy = [region for region in regions if "error" not in spec["drs"][region]]
        if healthy and draw(st.integers(min_value=0, max_value=7)) == 0:
            faults.append(
                {
                    "service": "drs",
                    "operation": "DescribeSourceServers",
                    "account": account,
                    "region": draw(st.sampled_from(healthy)),
                    "connection": True,
                }
            )
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        faults.append(
            {
                "service": "dynamodb",
                "operation": "BatchWriteItem",
                "on_call": draw(st.integers(min_value=1, max_value=6)),
                "unprocessed": draw(st.integers(min_value=1, max_value=5)),
            }
        )
    scenario: dict[str, Any] = {
        "name": "property",
        "seed": draw(st.integers(min_value=0, max_value=1000)),
        "hub_account": HUB,
        "active_regions": active_rows,
        "target_accounts": targets,
        "accounts": accounts,
        "inventory_before": draw(stale_rows(tuple(sorted(drs_accounts)))),
    }
    if faults:
        scenario["faults"] = faults
    return scenario
