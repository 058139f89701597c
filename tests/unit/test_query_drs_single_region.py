"""Unit tests of `query_drs_single_region` and its helpers: listing, the 8 DRS error types, the legacy classification.

One world holds an account whose DRS fails a different way in each region (a persistent error on every request,
an error on page 2, a dropped connection, a malformed document); each region is queried once with the account's
assumed-role credentials and the answers are shared by the tests. Expectations come from the requirements (the 8
error types, the guidance) and from LEGACY_CONTRACT.md's classification table (status and errorMessage).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from tests.unit.support import (
    HUB,
    PROD,
    SyncWorld,
    calls,
    client_signed_as,
    open_sync_world,
    recording,
    scenario,
)

SCP_MESSAGE = (
    f"User: arn:aws:sts::{PROD}:assumed-role/DRSOrchestrationRole/inventory-sync is not authorized to perform: "
    "drs:DescribeSourceServers with an explicit deny in a service control policy"
)


def failing(code: str, message: str) -> dict[str, Any]:
    """A region whose DRS holds one server but fails every DescribeSourceServers with `code` and `message`."""
    return {"servers": 1, "error": {"code": code, "message": message}}


DRS = {
    "us-east-1": {"servers": 5, "page_size": 2},
    "us-east-2": failing("AccessDeniedException", "User is not authorized to perform drs:DescribeSourceServers"),
    "us-west-1": failing("UnrecognizedClientException", "The security token included in the request is invalid."),
    "us-west-2": failing("InvalidRequestException", "The request is not valid for this account"),
    "eu-west-1": failing("ThrottlingException", "Rate exceeded"),
    "eu-west-2": failing("ServiceQuotaExceededException", "Quota for source servers exceeded"),
    "eu-west-3": failing("InternalServerException", "An internal error occurred"),
    "eu-central-1": failing("ConflictException", "A conflicting operation is in progress"),
    "eu-north-1": failing("UninitializedAccountException", "Account is not initialized"),
    "eu-south-1": failing("OptInRequired", "The region is not enabled for this account"),
    "eu-south-2": failing("AccessDenied", SCP_MESSAGE),
    "ap-east-1": failing("TooManyRequestsException", "Too many requests"),
    # Page 1 answers, page 2 fails: the servers of page 1 are kept (defect 7 fixed; the legacy discarded them).
    "ap-south-1": {
        "servers": 4,
        "page_size": 2,
        "error": {"code": "ValidationException", "message": "Bad token", "on_page": 2},
    },
    "ap-south-2": failing("ValidationException", "DRS is not initialized for this operation"),
    # An unrelated message that happens to contain "scp" is an ERROR (defect 7 fixed; the legacy said SCP_DENIED).
    "ap-southeast-1": failing("ValidationException", "Invalid replication setting: DSCP marking is not supported"),
    # A document botocore cannot parse: a non-ClientError raised while listing.
    "ap-southeast-2": {
        "servers": [{"sourceServerID": "s-00000000000000009", "arn": "x", "sourceProperties": "broken"}]
    },
    # The connection drops (faults below): botocore's EndpointConnectionError, a non-ClientError.
    "ap-southeast-3": {"servers": 1},
}
FAULTS = [{"service": "drs", "operation": "DescribeSourceServers", "region": "ap-southeast-3", "connection": True}]

THROTTLING_GUIDANCE = "DRS throttled the request: retry later with exponential backoff, or spread syncs out."
QUOTA_GUIDANCE = (
    "A DRS service quota was exceeded: request a quota increase for Elastic Disaster Recovery in Service Quotas "
    "for this account and region."
)

# region -> (errorType, errorCode, regionStatus, errorMessage, guidance)
EXPECTED_ERRORS = {
    # The 8 DRS error types of requirement 5.5.
    "us-east-2": (
        "AccessDeniedException",
        "AccessDeniedException",
        "IAM_PERMISSION_DENIED",
        "IAM permissions denied: User is not authorized to perform drs:DescribeSourceServers",
        None,
    ),
    "us-west-1": (
        "UnrecognizedClientException",
        "UnrecognizedClientException",
        "REGION_NOT_ENABLED",  # as a ClientError too (defect 7 fixed; the legacy said ERROR)
        "Region not enabled in account",
        None,
    ),
    "us-west-2": (
        "InvalidRequestException",
        "InvalidRequestException",
        "ERROR",
        "InvalidRequestException: The request is not valid for this account",
        None,
    ),
    "eu-west-1": (
        "ThrottlingException",
        "ThrottlingException",
        "THROTTLED",
        "API rate limit exceeded",
        THROTTLING_GUIDANCE,
    ),
    "eu-west-2": (
        "ServiceQuotaExceededException",
        "ServiceQuotaExceededException",
        "ERROR",
        "ServiceQuotaExceededException: Quota for source servers exceeded",
        QUOTA_GUIDANCE,
    ),
    "eu-west-3": (
        "InternalServerException",
        "InternalServerException",
        "ERROR",
        "InternalServerException: An internal error occurred",
        None,
    ),
    "eu-central-1": (
        "ClientError",
        "ConflictException",
        "ERROR",
        "ConflictException: A conflicting operation is in progress",
        None,
    ),
    "ap-southeast-3": ("Exception", "", "ENDPOINT_UNREACHABLE", "Cannot connect to DRS endpoint", None),
    # The other rows of the legacy's classification.
    "eu-north-1": (
        "ClientError",
        "UninitializedAccountException",
        "NOT_INITIALIZED",
        "DRS not initialized in region",
        None,
    ),
    "ap-south-2": ("ClientError", "ValidationException", "NOT_INITIALIZED", "DRS not initialized in region", None),
    "eu-south-1": ("ClientError", "OptInRequired", "REGION_NOT_OPTED_IN", "Region not enabled in account", None),
    "eu-south-2": ("ClientError", "AccessDenied", "SCP_DENIED", "Blocked by Service Control Policy", None),
    "ap-southeast-1": (
        "ClientError",
        "ValidationException",
        "ERROR",
        "ValidationException: Invalid replication setting: DSCP marking is not supported",
        None,
    ),
    "ap-east-1": ("ClientError", "TooManyRequestsException", "THROTTLED", "API rate limit exceeded", None),
    "ap-south-1": ("ClientError", "ValidationException", "ERROR", "ValidationException: Bad token", None),
    "ap-southeast-2": ("Exception", "", "ERROR", "'str' object has no attribute 'get'", None),
}


@pytest.fixture(scope="module")
def drs_world() -> Iterator[SyncWorld]:
    """The world of every region above, under account PROD (reached with its assumed role)."""
    with open_sync_world(scenario(accounts={PROD: {"drs": DRS}}, faults=FAULTS)) as world:
        yield world


@pytest.fixture(scope="module")
def prod_credentials(drs_world: SyncWorld) -> dict[str, str]:
    """Credentials of PROD's orchestration role."""
    return drs_world.credentials(PROD)


@pytest.fixture(scope="module")
def answers(drs_world: SyncWorld, prod_credentials: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each region's answer to `query_drs_single_region`, queried once, with the number of requests it took."""
    results = {}
    for region in DRS:
        served_before = drs_world.world.requests_served
        result = drs_world.module.query_drs_single_region(region, PROD, prod_credentials)
        results[region] = {"result": result, "requests": drs_world.world.requests_served - served_before}
    return results


def drs_listing(credentials: dict[str, str], region: str) -> list[dict[str, Any]]:
    """Every source server of `region` as a plain DRS client signed with `credentials` lists them."""
    drs = client_signed_as("drs", credentials, region)
    return [server for page in drs.get_paginator("describe_source_servers").paginate() for server in page["items"]]


def client_error(code: str | None, message: str, operation: str = "DescribeSourceServers") -> ClientError:
    """A botocore ClientError as a service answer makes it (no Code at all when `code` is None)."""
    error: dict[str, str] = {"Message": message}
    if code is not None:
        error["Code"] = code
    return ClientError({"Error": error}, operation)


class TestSuccess:
    """A healthy region."""

    def test_answers_success_with_every_server_of_every_page(
        self, answers: dict[str, dict[str, Any]], prod_credentials: dict[str, str]
    ) -> None:
        result = answers["us-east-1"]["result"]

        assert set(result) == {"status", "servers"}
        assert result["status"] == "success"
        listed = drs_listing(prod_credentials, "us-east-1")
        assert len(listed) == 5
        assert [server["sourceServerID"] for server in result["servers"]] == [
            server["sourceServerID"] for server in listed
        ]
        # Five servers at two per page: three DescribeSourceServers requests.
        assert answers["us-east-1"]["requests"] == 3

    def test_every_server_is_tagged_with_the_query_region_and_account(self, answers: dict[str, dict[str, Any]]) -> None:
        servers = answers["us-east-1"]["result"]["servers"]

        assert {(server["_queryRegion"], server["_queryAccount"]) for server in servers} == {("us-east-1", PROD)}

    def test_without_credentials_the_lambdas_own_account_is_queried(self, drs_world: SyncWorld) -> None:
        with recording() as recorder:
            result = drs_world.module.query_drs_single_region("us-east-1", HUB, None)

        # The hub has no DRS servers of its own; PROD's five are not visible with the hub's credentials.
        assert result == {"status": "success", "servers": []}
        listing = calls(recorder, "drs", "DescribeSourceServers")
        assert [(call.identity, call.region) for call in listing] == [("hub", "us-east-1")]

    def test_with_credentials_the_client_signs_as_the_target_account(
        self, drs_world: SyncWorld, prod_credentials: dict[str, str]
    ) -> None:
        with recording() as recorder:
            drs_world.module.query_drs_single_region("us-east-1", PROD, prod_credentials)

        listing = calls(recorder, "drs", "DescribeSourceServers")
        # Wire params: the first page has no token, the next ones carry the previous page's token.
        assert listing[0].params == {}
        assert [("nextToken" in call.params) for call in listing] == [False, True, True]
        assert {call.region for call in listing} == {"us-east-1"}


class TestErrors:
    """Each failing region: the error dictionary, its type, the legacy's status and message, and guidance."""

    @pytest.mark.parametrize("region", list(EXPECTED_ERRORS))
    def test_error_answer(self, answers: dict[str, dict[str, Any]], region: str) -> None:
        error_type, error_code, region_status, message, guidance = EXPECTED_ERRORS[region]
        result = dict(answers[region]["result"])
        # Only ap-south-1 fails after a page was read; its servers are checked on their own below.
        read_before_failing = 2 if region == "ap-south-1" else 0

        assert len(result.pop("servers")) == read_before_failing
        assert result == {
            "status": "error",
            "errorType": error_type,
            "errorCode": error_code,
            "regionStatus": region_status,
            "errorMessage": message,
            "guidance": guidance,
        }

    def test_all_eight_drs_error_types_are_named(self, answers: dict[str, dict[str, Any]]) -> None:
        error_types = {answer["result"].get("errorType") for answer in answers.values()}

        assert {
            "AccessDeniedException",
            "UnrecognizedClientException",
            "InvalidRequestException",
            "ThrottlingException",
            "ServiceQuotaExceededException",
            "InternalServerException",
            "ClientError",
            "Exception",
        } <= error_types

    def test_throttling_guidance_advises_retrying(self, answers: dict[str, dict[str, Any]]) -> None:
        assert "retry" in answers["eu-west-1"]["result"]["guidance"].lower()

    def test_quota_guidance_advises_a_quota_increase(self, answers: dict[str, dict[str, Any]]) -> None:
        assert "quota increase" in answers["eu-west-2"]["result"]["guidance"].lower()

    def test_an_error_on_page_two_keeps_page_one(self, answers: dict[str, dict[str, Any]]) -> None:
        # Approved divergence (defect 7 fixed): page 1's two servers are returned with the error; the legacy
        # discarded them. Page 1 and the failing page 2 were each requested once.
        servers = answers["ap-south-1"]["result"]["servers"]
        assert [(server["_queryRegion"], server["_queryAccount"]) for server in servers] == [("ap-south-1", PROD)] * 2
        assert len({server["arn"] for server in servers}) == 2
        assert answers["ap-south-1"]["requests"] == 2

    @pytest.mark.parametrize(
        ("region", "requests"),
        [("eu-west-1", 2), ("eu-west-3", 2), ("ap-southeast-3", 2), ("us-east-2", 1), ("eu-central-1", 1)],
        ids=["throttling", "internal-error", "connection", "access-denied", "conflict"],
    )
    def test_retryable_failures_are_retried_once_only(
        self, answers: dict[str, dict[str, Any]], region: str, requests: int
    ) -> None:
        # The short-timeout config allows one retry: a retryable failure costs exactly two requests.
        assert answers[region]["requests"] == requests

    def test_unusable_credentials_are_an_exception_answer(self, drs_world: SyncWorld) -> None:
        with recording() as recorder:
            result = drs_world.module.query_drs_single_region("us-east-1", PROD, {"AccessKeyId": "AKIA-only"})

        assert result["status"] == "error"
        assert (result["errorType"], result["regionStatus"], result["errorMessage"]) == (
            "Exception",
            "ERROR",
            "'SecretAccessKey'",
        )
        assert recorder.interactions == []


class TestClassifyDrsClientError:
    """The legacy's table for a ClientError, first matching row wins."""

    @pytest.mark.parametrize(
        ("code", "message", "expected"),
        [
            ("UninitializedAccountException", "Account", ("NOT_INITIALIZED", "DRS not initialized in region")),
            ("ValidationException", "Service is NOT INITIALIZED", ("NOT_INITIALIZED", "DRS not initialized in region")),
            ("AccessDeniedException", "nope", ("IAM_PERMISSION_DENIED", "IAM permissions denied: nope")),
            (
                "Other",
                "wraps AccessDeniedException",
                ("IAM_PERMISSION_DENIED", "IAM permissions denied: wraps AccessDeniedException"),
            ),
            ("AccessDenied", "denied by a Service Control Policy", ("SCP_DENIED", "Blocked by Service Control Policy")),
            ("ValidationException", "bad dscp value", ("ERROR", "ValidationException: bad dscp value")),
            ("ValidationException", "Blocked by an SCP", ("SCP_DENIED", "Blocked by Service Control Policy")),
            ("ValidationException", "denied by SCPs: p-1a2b", ("SCP_DENIED", "Blocked by Service Control Policy")),
            (
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
                ("REGION_NOT_ENABLED", "Region not enabled in account"),
            ),
            ("ThrottlingException", "Rate exceeded", ("THROTTLED", "API rate limit exceeded")),
            ("TooManyRequestsException", "slow down", ("THROTTLED", "API rate limit exceeded")),
            ("OptInRequired", "opt in", ("REGION_NOT_OPTED_IN", "Region not enabled in account")),
            ("InternalServerException", "boom", ("ERROR", "InternalServerException: boom")),
            ("ServiceQuotaExceededException", "quota", ("ERROR", "ServiceQuotaExceededException: quota")),
        ],
    )
    def test_classification(self, drs_world: SyncWorld, code: str, message: str, expected: tuple[str, str]) -> None:
        assert drs_world.module.drs_errors.classify_drs_client_error(client_error(code, message)) == expected

    def test_uninitialized_wins_over_access_denied(self, drs_world: SyncWorld) -> None:
        error = client_error("AccessDeniedException", "DRS is not initialized")

        assert drs_world.module.drs_errors.classify_drs_client_error(error) == (
            "NOT_INITIALIZED",
            "DRS not initialized in region",
        )

    def test_without_a_code_the_error_text_is_the_message_cut_to_500(self, drs_world: SyncWorld) -> None:
        error = client_error(None, "x" * 600)

        status, message = drs_world.module.drs_errors.classify_drs_client_error(error)

        assert status == "ERROR"
        assert message == str(error)[:500]
        assert len(message) == 500


class TestClassifyDrsException:
    """The legacy's table for failures that are not ClientErrors."""

    @pytest.mark.parametrize(
        ("error", "expected"),
        [
            (
                Exception("UnrecognizedClientException: bad key"),
                ("REGION_NOT_ENABLED", "Region not enabled in account"),
            ),
            (Exception("The Security Token is invalid"), ("REGION_NOT_ENABLED", "Region not enabled in account")),
            (
                EndpointConnectionError(endpoint_url="https://drs.us-east-1.amazonaws.com/"),
                ("ENDPOINT_UNREACHABLE", "Cannot connect to DRS endpoint"),
            ),
            (Exception("EndpointConnectionError raised"), ("ENDPOINT_UNREACHABLE", "Cannot connect to DRS endpoint")),
            (KeyError("items"), ("ERROR", "'items'")),
        ],
        ids=["unrecognized-client", "security-token", "endpoint", "endpoint-text", "other"],
    )
    def test_classification(self, drs_world: SyncWorld, error: Exception, expected: tuple[str, str]) -> None:
        assert drs_world.module.drs_errors.classify_drs_exception(error) == expected

    def test_other_messages_are_cut_to_500_characters(self, drs_world: SyncWorld) -> None:
        assert drs_world.module.drs_errors.classify_drs_exception(RuntimeError("y" * 700)) == ("ERROR", "y" * 500)


class TestDrsErrorResult:
    """The error dictionary itself: which of the 8 error types, the legacy's classification, guidance, servers kept."""

    @pytest.mark.parametrize(
        ("error", "expected"),
        [
            (
                client_error("ThrottlingException", "Rate exceeded"),
                (
                    "ThrottlingException",
                    "ThrottlingException",
                    "THROTTLED",
                    "API rate limit exceeded",
                    THROTTLING_GUIDANCE,
                ),
            ),
            (
                client_error("ServiceQuotaExceededException", "quota"),
                (
                    "ServiceQuotaExceededException",
                    "ServiceQuotaExceededException",
                    "ERROR",
                    "ServiceQuotaExceededException: quota",
                    QUOTA_GUIDANCE,
                ),
            ),
            (
                client_error("ConflictException", "busy"),
                ("ClientError", "ConflictException", "ERROR", "ConflictException: busy", None),
            ),
            (
                Exception("UnrecognizedClientException: bad key"),
                ("UnrecognizedClientException", "", "REGION_NOT_ENABLED", "Region not enabled in account", None),
            ),
            (KeyError("items"), ("Exception", "", "ERROR", "'items'", None)),
        ],
        ids=["throttling", "quota", "other-client-error", "unrecognized-client-text", "other-exception"],
    )
    def test_shape_type_and_guidance(
        self, drs_world: SyncWorld, error: Exception, expected: tuple[str, str, str, str, str | None]
    ) -> None:
        kept = [{"arn": "read-before"}]

        result = drs_world.module.drs_errors.drs_error_result(error, "us-east-1", PROD, kept)

        error_type, error_code, region_status, message, guidance = expected
        assert result == {
            "status": "error",
            "errorType": error_type,
            "errorCode": error_code,
            "regionStatus": region_status,
            "errorMessage": message,
            "guidance": guidance,
            "servers": kept,
        }
        assert result["servers"] is kept

    def test_the_failure_is_logged_with_region_account_and_type(
        self, drs_world: SyncWorld, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.WARNING):
            drs_world.module.drs_errors.drs_error_result(
                client_error("ThrottlingException", "x"), "eu-west-1", PROD, []
            )

        assert any(
            "eu-west-1" in record.getMessage() and PROD in record.getMessage() and "THROTTLED" in record.getMessage()
            for record in caplog.records
        )


class TestMentionsScp:
    """Approved divergence defect-7-scp-as-a-word: "SCP" counts as a word or in the phrase only."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("explicit deny in a Service Control Policy", True),
            ("blocked by an SCP", True),
            ("SCPs: p-1", True),
            ("an ISCP plan", False),
            ("dscp value", False),
            ("", False),
        ],
    )
    def test_word_or_phrase_only(self, drs_world: SyncWorld, text: str, expected: bool) -> None:
        assert drs_world.module.drs_errors.mentions_scp(text) is expected
