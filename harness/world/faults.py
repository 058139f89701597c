"""Fault injection, a layer around the emulated services: errors, dropped connections, transport failures and
UnprocessedItems."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from harness.world.errors import AwsError


@dataclass(frozen=True)
class FaultAction:
    """What a matched fault does: answer an AWS error, drop the connection, fail the transport, or leave N unprocessed.

    `transport` names the botocore transport exception (errors.TRANSPORT_ERRORS) and `transport_detail` its cause.
    """

    error_code: str | None = None
    error_message: str | None = None
    error_status: int | None = None
    connection: bool = False
    unprocessed: int = 0
    transport: str | None = None
    transport_detail: str = ""

    def as_error(self) -> AwsError:
        """The AWS error this action answers with."""
        assert self.error_code is not None
        return AwsError(self.error_code, self.error_message or "", self.error_status or 0)


@dataclass
class FaultRule:
    """When a fault fires: which requests it matches, and on which call or page.

    `account` is the identity sending the request; `role_account` matches AssumeRole by the account of the role
    asked for. With `on_call` only the Nth matching request fails (botocore's retry may hide it, as against
    AWS); with `on_page` every request for that page fails; with neither, every matching request fails.
    """

    service: str
    action: FaultAction
    operation: str | None = None
    account: str | None = None
    region: str | None = None
    role_account: str | None = None
    on_call: int | None = None
    on_page: int | None = None
    seen: int = 0

    def matches(self, service: str, operation: str, account: str, region: str, role_account: str | None) -> bool:
        """True when the request is one this rule is about (before counting calls or pages)."""
        return (
            self.service == service
            and self.operation in (None, operation)
            and self.account in (None, account)
            and self.region in (None, region)
            and self.role_account in (None, role_account)
        )


class FaultPlan:
    """The scenario's faults, checked in order for every request that is not the world's own."""

    def __init__(self, rules: list[FaultRule]) -> None:
        """Keep the rules; each counts its own matching calls."""
        self.rules = rules
        self._lock = threading.Lock()

    def action_for(
        self, service: str, operation: str, account: str, region: str, role_account: str | None, page: int | None
    ) -> FaultAction | None:
        """The action of the first rule that fires for this request, counting it against every matching rule."""
        fired: FaultAction | None = None
        with self._lock:
            for rule in self.rules:
                if not rule.matches(service, operation, account, region, role_account):
                    continue
                rule.seen += 1
                if fired is None and _fires(rule, page):
                    fired = rule.action
        return fired


def _fires(rule: FaultRule, page: int | None) -> bool:
    """Whether a matching rule fires on this request, given its call count and the request's page."""
    if rule.on_call is not None:
        return rule.seen == rule.on_call
    if rule.on_page is not None:
        return page == rule.on_page
    return True
