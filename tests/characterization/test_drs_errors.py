"""Characterization of the DRS error classification: one region per error, one run, one test per error type.

Account A is queried in 18 active regions; each region's DRS fails its own way (a persistent `error:` on every
request, a dropped connection, a malformed document) or answers normally. Expected status and errorMessage are
read off the contract's table, first matching row wins, applied to what the legacy sees:

- A ClientError's str(e) is "An error occurred ({code}) when calling the DescribeSourceServers operation:
  {message}", plus " (reached max retries: 1)" for the codes botocore retries (throttling, 5xx). Every text rule
  ("not initialized", "AccessDeniedException", "service control policy", "scp") is tested against that string.
- Non-ClientError failures (the connection fault's EndpointConnectionError, the parser's AttributeError on a
  malformed document) go through the "other Exception" rows.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.runner import RunReport
from tests.characterization.scenarios import (
    ACCOUNT_A,
    LAST_CHECKED,
    NOW,
    REGION_STATUS,
    body,
    calls,
    put_items,
    rows_by_key,
    run,
    scenario,
    target,
)

SCP_MESSAGE = (
    f"User: arn:aws:sts::{ACCOUNT_A}:assumed-role/DRSOrchestrationRole/inventory-sync is not authorized to perform: "
    "drs:DescribeSourceServers with an explicit deny in a service control policy"
)


def _error(code: str, message: str) -> dict[str, Any]:
    """A region whose DRS fails every request with `code` and `message`."""
    return {"servers": 1, "error": {"code": code, "message": message}}


DRS = {
    "us-east-1": _error("AccessDeniedException", "User is not authorized to perform this action"),
    "us-east-2": _error("UnrecognizedClientException", "The security token included in the request is invalid."),
    "us-west-1": _error("InvalidRequestException", "The request is invalid"),
    "us-west-2": _error("ThrottlingException", "Rate exceeded"),
    "eu-west-1": _error("ServiceQuotaExceededException", "You have exceeded the service quota"),
    "eu-west-2": _error("InternalServerException", "Internal error"),
    "eu-west-3": _error("ConflictException", "The request conflicts with the current state"),
    "eu-central-1": _error("UninitializedAccountException", "Account is not initialized"),
    "eu-central-2": _error("OptInRequired", "The region is not enabled for this account"),
    "eu-north-1": _error("AccessDenied", SCP_MESSAGE),
    "eu-south-1": _error("AccessDeniedException", SCP_MESSAGE),
    "eu-south-2": _error("TooManyRequestsException", "Too many requests"),
    "ap-east-1": _error("ValidationException", "DRS is not initialized for this operation"),
    "ap-south-1": {"servers": 1},  # the connection drops (faults below)
    "ap-south-2": {"servers": [{"sourceServerID": "s-00000000000000009", "arn": "x", "sourceProperties": "broken"}]},
    "ap-southeast-1": {"servers": 2},
    "ap-southeast-2": {"servers": 0},
    # ap-southeast-3: no DRS backend configured at all, an empty listing
}
ACTIVE = [*DRS, "ap-southeast-3"]

# (region, status, errorMessage): what the contract's table gives for each region above.
EXPECTED = [
    # ClientError, "AccessDeniedException" in str(e) -> IAM_PERMISSION_DENIED with Error.Message
    ("us-east-1", "IAM_PERMISSION_DENIED", "IAM permissions denied: User is not authorized to perform this action"),
    # ClientError (not the non-ClientError row despite "security token"): generic ERROR "{code}: {message}"
    ("us-east-2", "ERROR", "UnrecognizedClientException: The security token included in the request is invalid."),
    ("us-west-1", "ERROR", "InvalidRequestException: The request is invalid"),
    ("us-west-2", "THROTTLED", "API rate limit exceeded"),
    ("eu-west-1", "ERROR", "ServiceQuotaExceededException: You have exceeded the service quota"),
    # retried (500): str(e) gains "(reached max retries: 1)", the message uses Error.Message only
    ("eu-west-2", "ERROR", "InternalServerException: Internal error"),
    # another ClientError code
    ("eu-west-3", "ERROR", "ConflictException: The request conflicts with the current state"),
    ("eu-central-1", "NOT_INITIALIZED", "DRS not initialized in region"),
    ("eu-central-2", "REGION_NOT_OPTED_IN", "Region not enabled in account"),
    # SCP text with a code other than AccessDeniedException reaches the SCP row
    ("eu-north-1", "SCP_DENIED", "Blocked by Service Control Policy"),
    # the same SCP text as AccessDeniedException (how DRS really reports it) is caught by the earlier IAM row
    ("eu-south-1", "IAM_PERMISSION_DENIED", f"IAM permissions denied: {SCP_MESSAGE}"),
    ("eu-south-2", "THROTTLED", "API rate limit exceeded"),
    # "not initialized" in the text wins over the code, whatever the code
    ("ap-east-1", "NOT_INITIALIZED", "DRS not initialized in region"),
    # non-ClientError: EndpointConnectionError "Could not connect to the endpoint URL: ..."
    ("ap-south-1", "ENDPOINT_UNREACHABLE", "Cannot connect to DRS endpoint"),
    # non-ClientError matching nothing: botocore's parser raises AttributeError on a string sourceProperties
    ("ap-south-2", "ERROR", "'str' object has no attribute 'get'"),
]


@pytest.fixture(scope="module")
def errors_run() -> RunReport:
    """One run over every region of ACTIVE."""
    return run(
        scenario(
            targets=[target(ACCOUNT_A, "ext-a")],
            accounts={ACCOUNT_A: {"drs": DRS}},
            active=ACTIVE,
            faults=[
                {"service": "drs", "operation": "DescribeSourceServers", "region": "ap-south-1", "connection": True}
            ],
        )
    )


@pytest.mark.parametrize(("region", "status", "message"), EXPECTED, ids=[row[0] for row in EXPECTED])
def test_error_classification(errors_run: RunReport, region: str, status: str, message: str) -> None:
    rows = rows_by_key(errors_run.tables["region_status"], "region")
    assert rows[region] == {
        "region": region,
        "accountId": ACCOUNT_A,
        "status": status,
        "serverCount": 0,
        "lastUpdated": NOW,
        "errorMessage": message,
    }
    puts = rows_by_key(put_items(errors_run, REGION_STATUS), "region")
    assert puts[region] == {
        "region": region,
        "status": "ERROR",  # update_region_status: any error message means ERROR
        "serverCount": 0,
        "lastChecked": LAST_CHECKED,
        "errorMessage": message,
    }


def test_healthy_regions_next_to_failing_ones(errors_run: RunReport) -> None:
    rows = rows_by_key(errors_run.tables["region_status"], "region")
    assert rows["ap-southeast-1"] == {
        "region": "ap-southeast-1",
        "accountId": ACCOUNT_A,
        "status": "ACTIVE",
        "serverCount": 2,
        "lastUpdated": NOW,
    }
    for empty in ("ap-southeast-2", "ap-southeast-3"):
        assert rows[empty] == {
            "region": empty,
            "accountId": ACCOUNT_A,
            "status": "ACTIVE",
            "serverCount": 0,
            "lastUpdated": NOW,
        }
    puts = rows_by_key(put_items(errors_run, REGION_STATUS), "region")
    assert puts["ap-southeast-1"]["status"] == "AVAILABLE"
    assert puts["ap-southeast-2"]["status"] == "UNINITIALIZED"
    assert puts["ap-southeast-3"]["status"] == "UNINITIALIZED"
    # Only the two healthy servers reach the inventory.
    assert body(errors_run)["totalSynced"] == 2
    assert sorted({row["replicationRegion"] for row in errors_run.tables["inventory"]}) == ["ap-southeast-1"]
    assert body(errors_run)["regionsScanned"] == 18
    assert body(errors_run)["regionsSkipped"] == 10


def test_what_the_legacy_saw_for_each_failure(errors_run: RunReport) -> None:
    """The recorded calls: one client-level call per region, retries hidden below it, outcome as expected."""
    by_region = {call.region: call for call in calls(errors_run, "DescribeSourceServers")}
    assert sorted(by_region) == sorted(ACTIVE)
    assert len(calls(errors_run, "DescribeSourceServers")) == 18
    assert by_region["us-east-2"].error == {
        "code": "UnrecognizedClientException",
        "message": "The security token included in the request is invalid.",
        "status": 403,
        "exception": "ClientError",
    }
    assert by_region["us-west-2"].error == {
        "code": "ThrottlingException",
        "message": "Rate exceeded",
        "status": 429,
        "exception": "ThrottlingException",
    }
    assert by_region["eu-west-2"].response is not None
    assert by_region["eu-west-2"].response["ResponseMetadata"] == {
        "HTTPStatusCode": 500,
        "MaxAttemptsReached": True,
        "RetryAttempts": 1,
    }
    connection = by_region["ap-south-1"].exception
    assert connection is not None
    assert connection["type"] == "EndpointConnectionError"
    assert connection["message"].startswith("Could not connect to the endpoint URL:")
    malformed = by_region["ap-south-2"].exception
    assert malformed is not None
    assert (malformed["type"], malformed["message"]) == ("AttributeError", "'str' object has no attribute 'get'")
