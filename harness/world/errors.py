"""AWS errors as each wire protocol shapes them, so botocore parses them into its real exceptions."""

from __future__ import annotations

import json
from dataclasses import dataclass

WireResponse = tuple[int, dict[str, str], bytes]

# HTTP statuses AWS uses for the codes scenarios inject; anything else is a client error (400).
DEFAULT_STATUS: dict[str, int] = {
    "AccessDeniedException": 403,
    "AccessDenied": 403,
    "UnrecognizedClientException": 403,
    "ExpiredToken": 403,
    "ExpiredTokenException": 403,
    "OptInRequired": 403,
    "UnauthorizedOperation": 403,
    "ThrottlingException": 429,
    "TooManyRequestsException": 429,
    "ServiceQuotaExceededException": 402,
    "InternalServerException": 500,
    "InternalServerError": 500,
    "InternalError": 500,
    "InternalFailure": 500,
    "ServiceUnavailable": 503,
    "ServiceUnavailableException": 503,
    "RequestLimitExceeded": 503,
}

# Where AWS's own default message is better than a generic one.
DEFAULT_MESSAGE: dict[str, str] = {
    "ThrottlingException": "Rate exceeded",
    "AccessDeniedException": "User is not authorized to perform this action",
    "AccessDenied": "User is not authorized to perform sts:AssumeRole",
    "UnrecognizedClientException": "The security token included in the request is invalid.",
    "UninitializedAccountException": "Account is not initialized",
    "ProvisionedThroughputExceededException": (
        "The level of configured provisioned throughput for the table was exceeded."
    ),
}


@dataclass
class AwsError(Exception):
    """An error the world answers with: an AWS error code, its message and HTTP status."""

    code: str
    message: str = ""
    status: int = 0

    def __post_init__(self) -> None:
        """Fill the status and message AWS would use when the caller gave none."""
        if not self.status:
            self.status = DEFAULT_STATUS.get(self.code, 400)
        if not self.message:
            self.message = DEFAULT_MESSAGE.get(self.code, f"{self.code} injected by the local AWS")
        Exception.__init__(self, f"{self.code}: {self.message}")


class ConnectionFault(Exception):
    """The connection drops before any response: the in-process and HTTP adapters each surface it their way."""


# The transport failures a scenario may ask for by botocore's name: each is what botocore raises when its HTTP
# layer fails that way; HTTPClientError (an exception botocore does not know) carries the scenario's own text.
TRANSPORT_ERRORS = ("ReadTimeoutError", "ConnectTimeoutError", "ConnectionClosedError", "HTTPClientError")


class TransportFault(ConnectionFault):
    """A transport failure other than a refused connection: botocore's `error` (a name in TRANSPORT_ERRORS).

    `detail` is the text of the underlying failure (HTTPClientError shows it in its message). The in-process
    adapter raises the named botocore exception; over HTTP the connection drops, as for any ConnectionFault.
    """

    def __init__(self, message: str, error: str, detail: str = "") -> None:
        """Keep which botocore exception stands for this failure and the text of its cause."""
        super().__init__(message)
        self.error = error
        self.detail = detail


def error_response(protocol: str, error: AwsError, request_id: str, *, json_prefix: str = "") -> WireResponse:
    """Render `error` the way a service speaking `protocol` does (rest-json, json, query or ec2)."""
    if protocol == "rest-json":
        body = json.dumps({"message": error.message}).encode()
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": error.code, "x-amzn-RequestId": request_id}
        return error.status, headers, body
    if protocol == "json":
        type_name = f"{json_prefix}#{error.code}" if json_prefix else error.code
        body = json.dumps({"__type": type_name, "message": error.message}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": request_id}
        return error.status, headers, body
    if protocol == "ec2":
        xml = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{_xml(error.code)}</Code>'
            f"<Message>{_xml(error.message)}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
        return error.status, {"Content-Type": "text/xml"}, xml.encode()
    if protocol == "query":
        fault = "Receiver" if error.status >= 500 else "Sender"
        xml = (
            f"<ErrorResponse><Error><Type>{fault}</Type><Code>{_xml(error.code)}</Code>"
            f"<Message>{_xml(error.message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return error.status, {"Content-Type": "text/xml"}, xml.encode()
    raise ValueError(f"unknown protocol {protocol!r}: expected rest-json, json, query or ec2")


def _xml(text: str) -> str:
    """Escape text for an XML element body."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
