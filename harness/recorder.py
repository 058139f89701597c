"""Recording: every boto3 client call of a run as an Interaction, credentials scrubbed as they are captured."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from harness.cassette import HUB_IDENTITY, Interaction
from harness.codec import to_json, trim_metadata
from harness.filters import scrub_credentials
from harness.interception import access_key_of, forward


@dataclass
class _Pending:
    """What is known about a call while botocore is still making it."""

    client: BaseClient
    params: dict[str, Any] | None = None
    status: int | None = None
    parsed: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Recorder:
    """An interceptor that lets calls through to AWS (or the local AWS) and writes down each one."""

    def __init__(self) -> None:
        """An empty recording."""
        self.interactions: list[Interaction] = []
        self._lock = threading.Lock()
        self._local = threading.local()
        self._accounts_by_key: dict[str, str] = {}
        self._credentials_seen = 0

    def make_api_call(self, client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        """Make the call for real and record it with its outcome, whatever that is."""
        pending = _Pending(client)
        stack = self._stack()
        stack.append(pending)
        try:
            result = forward(self, client, operation_name, api_params)
        except ClientError as error:
            self._append(client, operation_name, pending, error=error)
            raise
        except Exception as error:
            self._append(client, operation_name, pending, failure=error)
            raise
        finally:
            stack.pop()
        self._append(client, operation_name, pending)
        return result

    def params_built(self, client: BaseClient, params: dict[str, Any]) -> None:
        """Keep the wire-form parameters of the call in progress on this thread."""
        stack = self._stack()
        if stack and stack[-1].client is client:
            stack[-1].params = to_json(params)

    def response_received(self, client: BaseClient, http: Any, parsed: dict[str, Any]) -> None:
        """Keep a copy of the parsed response before the resource layer converts it in place."""
        stack = self._stack()
        if stack and stack[-1].client is client:
            stack[-1].status = int(getattr(http, "status_code", 0) or 0)
            stack[-1].parsed = to_json(trim_metadata(parsed))

    def identity_of(self, client: BaseClient) -> str:
        """`hub`, or the account of the role whose credentials the client signs with."""
        key = access_key_of(client)
        return self._accounts_by_key.get(key or "", HUB_IDENTITY)

    def _append(
        self,
        client: BaseClient,
        operation: str,
        pending: _Pending,
        *,
        error: ClientError | None = None,
        failure: Exception | None = None,
    ) -> None:
        """Turn a finished call into an Interaction (scrubbing credentials) and add it in completion order."""
        meta = client.meta
        response = pending.parsed
        interaction = Interaction(
            service=meta.service_model.service_name,
            region=meta.region_name or "",
            identity=self.identity_of(client),
            operation=operation,
            params=pending.params if pending.params is not None else {},
        )
        with self._lock:
            if response is not None and operation == "AssumeRole" and isinstance(response.get("Credentials"), dict):
                response = self._scrub_assumed_role(response)
            interaction.response = response if (response is not None and failure is None) else None
            if error is not None:
                details = error.response.get("Error", {})
                interaction.error = {
                    "code": details.get("Code", ""),
                    "message": details.get("Message", ""),
                    "status": error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", pending.status),
                    "exception": type(error).__name__,
                }
            if failure is not None:
                interaction.exception = {
                    "type": type(failure).__name__,
                    "module": type(failure).__module__,
                    "message": str(failure),
                    "kwargs": to_json(getattr(failure, "kwargs", {}) or {}),
                }
            self.interactions.append(interaction)

    def _scrub_assumed_role(self, response: dict[str, Any]) -> dict[str, Any]:
        """Learn which account the new keys act as, then replace them with numbered placeholders."""
        credentials = response["Credentials"]
        arn = str(response.get("AssumedRoleUser", {}).get("Arn", ""))
        account = arn.split(":")[4] if arn.count(":") >= 5 else HUB_IDENTITY
        self._accounts_by_key[str(credentials.get("AccessKeyId", ""))] = account
        self._credentials_seen += 1
        return {**response, "Credentials": scrub_credentials(credentials, self._credentials_seen)}

    def _stack(self) -> list[_Pending]:
        """This thread's calls in progress (a list, in case a call makes another)."""
        stack: list[_Pending] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = []
            self._local.stack = stack
        return stack
