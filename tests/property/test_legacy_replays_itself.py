"""Property: whatever the world and the completion order, the legacy replaying its own recording is equivalent."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.experiment import check, record_scenario
from harness.report import describe_comparison
from harness.scheduling import Schedule
from harness.world.scenario import parse_scenario

HUB = "999999999999"
ACCOUNTS = ("111111111111", "222222222222")
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
DRS_ERRORS = ("ThrottlingException", "AccessDeniedException", "UninitializedAccountException", "ValidationException")

schedules = st.one_of(
    st.sampled_from(["submission", "reverse"]),
    st.integers(min_value=0, max_value=10_000).map(lambda seed: f"seed:{seed}"),
)


@st.composite
def drs_region(draw: st.DrawFn) -> dict[str, Any]:
    """One account's DRS in one region: 0-6 servers, 1-3 a page, maybe an error on some page."""
    servers = draw(st.integers(min_value=0, max_value=6))
    page_size = draw(st.integers(min_value=1, max_value=3))
    spec: dict[str, Any] = {"servers": servers, "page_size": page_size}
    if draw(st.booleans()):
        pages = max(1, math.ceil(servers / page_size))
        spec["error"] = {
            "code": draw(st.sampled_from(DRS_ERRORS)),
            "on_page": draw(st.integers(min_value=1, max_value=pages)),
        }
    return spec


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A small valid scenario: 1-2 accounts, 1-3 regions, optional AssumeRole error and missing EC2 instances."""
    accounts = draw(st.lists(st.sampled_from(ACCOUNTS), min_size=1, max_size=2, unique=True))
    regions = draw(st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3, unique=True))
    specs: dict[str, Any] = {}
    for account in accounts:
        drs = {region: draw(drs_region()) for region in regions}
        spec: dict[str, Any] = {"drs": drs}
        missing = {
            region: {"missing_instances": draw(st.integers(min_value=1, max_value=drs[region]["servers"]))}
            for region in regions
            if drs[region]["servers"] and draw(st.booleans())
        }
        if missing:
            spec["ec2"] = missing
        if draw(st.integers(min_value=0, max_value=4)) == 0:
            spec["assume_role_error"] = "AccessDenied"
        specs[account] = spec
    return {
        "name": "property",
        "seed": draw(st.integers(min_value=0, max_value=1000)),
        "hub_account": HUB,
        "active_regions": [{"region": region, "serverCount": 1} for region in regions],
        "target_accounts": [
            {
                "accountId": account,
                "accountName": f"account-{index}",
                "roleArn": f"arn:aws:iam::{account}:role/DRSOrchestrationRole",
                "externalId": f"ext-{index}",
            }
            for index, account in enumerate(accounts)
        ],
        "accounts": specs,
    }


@settings(max_examples=8, deadline=None)
@given(scenario_dict=scenarios(), schedule_text=schedules)
def test_the_legacy_replaying_its_own_recording_is_equivalent(scenario_dict, schedule_text):
    scenario = parse_scenario(scenario_dict, source="<property>")
    cassette = record_scenario(scenario, "legacy", Schedule.parse(schedule_text))

    comparison = check(cassette, "legacy")

    assert comparison.equivalent, describe_comparison(f"{scenario_dict} under {schedule_text}", comparison)
