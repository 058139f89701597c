"""Unit tests of the shared-module names their callers rely on (issue 14, item 5).

`shared.active_region_filter`: `get_region_status_table()` (public and patchable: `update_region_status` and
`get_active_regions` look it up at call time), `DRS_REGION_STATUS_TABLE`, `CACHE_TTL == 60`. `shared.drs_regions`:
`DRS_GOVCLOUD_REGIONS` and `is_valid_drs_region`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest

from harness.lambda_env import cold_start, import_lambda_module
from tests.unit.support import REGION_STATUS_TABLE, SyncWorld, calls, open_sync_world, recording, scenario


@pytest.fixture(scope="module")
def region_world() -> Iterator[SyncWorld]:
    """A world with a region status table (its name in DRS_REGION_STATUS_TABLE)."""
    with open_sync_world(scenario(active_regions=[{"region": "us-east-1", "serverCount": 2}])) as world:
        yield world


@pytest.fixture(scope="module")
def drs_regions() -> ModuleType:
    """`shared.drs_regions` (no AWS client at import)."""
    return import_lambda_module("shared.drs_regions")


@pytest.fixture
def region_filter(region_world: SyncWorld) -> ModuleType:
    """`shared.active_region_filter` as the world's Lambda imported it, its cache empty."""
    module = import_lambda_module("shared.active_region_filter")
    module.invalidate_region_cache()
    return module


class TestActiveRegionFilterNames:
    """The names of `shared.active_region_filter`."""

    def test_the_table_name_constant_is_the_environment_variable(self, region_filter: ModuleType) -> None:
        assert region_filter.DRS_REGION_STATUS_TABLE == REGION_STATUS_TABLE

    def test_the_cache_lives_sixty_seconds(self, region_filter: ModuleType) -> None:
        assert region_filter.CACHE_TTL == 60

    def test_get_region_status_table_is_the_configured_table_made_once(self, region_filter: ModuleType) -> None:
        table = region_filter.get_region_status_table()

        assert table.name == REGION_STATUS_TABLE
        assert region_filter.get_region_status_table() is table

    def test_update_region_status_uses_a_patched_getter(
        self, region_filter: ModuleType, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        other = boto3.resource("dynamodb").create_table(
            TableName="patched-region-status",
            KeySchema=[{"AttributeName": "region", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "region", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        monkeypatch.setattr(region_filter, "get_region_status_table", lambda: other)

        with recording() as recorder:
            region_filter.update_region_status("eu-west-1", 3)

        assert [call.params["TableName"] for call in calls(recorder, "dynamodb", "PutItem")] == [other.name]
        assert other.get_item(Key={"region": "eu-west-1"})["Item"]["status"] == "AVAILABLE"

    def test_get_active_regions_uses_a_patched_getter(
        self, region_filter: ModuleType, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        asked: list[bool] = []

        def no_table() -> Any:
            """No region status table."""
            asked.append(True)
            return None

        monkeypatch.setattr(region_filter, "get_region_status_table", no_table)

        assert region_filter.get_active_regions() == import_lambda_module("shared.drs_regions").DRS_REGIONS
        assert asked == [True]

    def test_the_default_cache_ttl_is_cache_ttl(
        self, region_filter: ModuleType, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        assert region_filter.get_active_regions() == ["us-east-1"]
        cached_at = region_filter._region_cache["active_regions"]["timestamp"]
        # Just under CACHE_TTL later the cached list is returned without a Scan; at CACHE_TTL it is read again.
        monkeypatch.setattr(region_filter.time, "time", lambda: cached_at + region_filter.CACHE_TTL - 0.5)
        with recording() as recorder:
            region_filter.get_active_regions()
        assert recorder.interactions == []
        monkeypatch.setattr(region_filter.time, "time", lambda: cached_at + region_filter.CACHE_TTL)
        with recording() as recorder:
            region_filter.get_active_regions()
        assert [call.operation for call in recorder.interactions] == ["Scan"]


def test_without_the_variable_there_is_no_table_and_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with cold_start({"DRS_REGION_STATUS_TABLE": None, "AWS_DEFAULT_REGION": "us-east-1"}):
        module = import_lambda_module("shared.active_region_filter")
        with caplog.at_level(logging.WARNING):
            table = module.get_region_status_table()

    assert module.DRS_REGION_STATUS_TABLE is None
    assert table is None
    assert any("DRS_REGION_STATUS_TABLE" in record.getMessage() for record in caplog.records)


class TestDrsRegions:
    """`shared.drs_regions`."""

    def test_the_govcloud_regions(self, drs_regions: ModuleType) -> None:
        assert drs_regions.DRS_GOVCLOUD_REGIONS == ["us-gov-west-1", "us-gov-east-1"]
        assert not set(drs_regions.DRS_GOVCLOUD_REGIONS) & set(drs_regions.DRS_REGIONS)

    @pytest.mark.parametrize(
        ("region", "expected"),
        [
            ("us-east-1", True),
            ("sa-east-1", True),
            ("us-gov-west-1", True),
            ("us-gov-east-1", True),
            ("cn-north-1", False),
            ("US-EAST-1", False),
            ("", False),
        ],
    )
    def test_is_valid_drs_region(self, drs_regions: ModuleType, region: str, expected: bool) -> None:
        assert drs_regions.is_valid_drs_region(region) is expected
