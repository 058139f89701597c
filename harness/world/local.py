"""The local AWS as one call: a world built from a scenario, answering this process's boto3 calls."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from harness.world.core import World
from harness.world.faults import FaultAction, FaultPlan, FaultRule
from harness.world.inprocess import activate
from harness.world.scenario import ErrorSpec, Scenario
from harness.world.seeding import error_action_fields, seed_world


@contextmanager
def local_aws(scenario: Scenario) -> Iterator[World]:
    """Build `scenario`'s world and answer every boto3 call made inside the block from it (no network)."""
    world = World(scenario.hub_account, plan_from_scenario(scenario), scenario.latency_for)
    region = scenario.environment().get("AWS_DEFAULT_REGION") or "us-east-1"
    with activate(world, region):
        seed_world(world, scenario)
        yield world


def plan_from_scenario(scenario: Scenario) -> FaultPlan:
    """All of a scenario's faults as rules: per-region DRS and EC2 errors, AssumeRole errors, then `faults:`."""
    rules: list[FaultRule] = []
    for account_id, account in scenario.accounts.items():
        if account.assume_role_error:
            rules.append(FaultRule("sts", _error(account.assume_role_error), "AssumeRole", role_account=account_id))
        for region, drs in account.drs.items():
            if drs.error:
                rules.append(
                    FaultRule(
                        "drs", _error(drs.error), "DescribeSourceServers", account_id, region, on_page=drs.error.on_page
                    )
                )
        for region, ec2 in account.ec2.items():
            if ec2.error:
                rules.append(FaultRule("ec2", _error(ec2.error), "DescribeInstances", account_id, region))
    for fault in scenario.faults:
        if fault.error:
            action = _error(fault.error)
        elif fault.unprocessed:
            action = FaultAction(unprocessed=fault.unprocessed)
        elif fault.transport is not None:
            action = FaultAction(transport=fault.transport.error, transport_detail=fault.transport.detail or "")
        else:
            action = FaultAction(connection=True)
        rules.append(
            FaultRule(
                fault.service,
                action,
                fault.operation,
                fault.account,
                fault.region,
                on_call=fault.on_call,
                on_page=fault.on_page,
            )
        )
    return FaultPlan(rules)


def _error(error: ErrorSpec | str) -> FaultAction:
    """The action answering with a scenario error."""
    code, message, status = error_action_fields(error)
    return FaultAction(error_code=code, error_message=message, error_status=status)
