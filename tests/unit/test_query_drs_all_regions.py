"""Unit tests of `inventory_sync.regions`: `query_drs_all_regions`, `region_status_of`, `record_region_statuses`.

The parallel DRS query of every active region, the (servers, region statuses) it returns, and the region status
writes: one `update_region_status()` PutItem per region, then the batch of per-account rows that overwrites them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from harness.lambda_env import cold_start, import_lambda_module
from harness.scheduling import Schedule, controlled_scheduling
from harness.world.scenario import DRS_REGIONS
from tests.unit.support import (
    NOW,
    PROD,
    REGION_STATUS_TABLE,
    WORKLOADS,
    SyncWorld,
    batch_put_counts,
    calls,
    open_sync_world,
    recording,
    scenario,
)

LAST_CHECKED = "2026-01-15T12:00:00Z"  # update_region_status's %Y-%m-%dT%H:%M:%SZ at the frozen instant
DENIED = "User is not authorized to perform drs:DescribeSourceServers"
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-west-2"]
DRS = {
    "us-east-1": {"servers": 3},
    "us-west-2": {"servers": 2, "page_size": 1},
    "eu-west-1": {"servers": 1, "error": {"code": "AccessDeniedException", "message": DENIED}},
    "eu-west-2": {"servers": 0},
}
EXPECTED_STATUSES = {
    "us-east-1": {"status": "ACTIVE", "serverCount": 3, "errorMessage": None},
    "us-west-2": {"status": "ACTIVE", "serverCount": 2, "errorMessage": None},
    "eu-west-1": {
        "status": "IAM_PERMISSION_DENIED",
        "serverCount": 0,
        "errorMessage": f"IAM permissions denied: {DENIED}",
    },
    "eu-west-2": {"status": "ACTIVE", "serverCount": 0, "errorMessage": None},
}


@pytest.fixture(scope="class")
def regions_world() -> Iterator[SyncWorld]:
    """PROD's DRS in four regions (servers, paginated servers, access denied, empty), a region status table."""
    spec = scenario(
        accounts={PROD: {"drs": DRS}},
        active_regions=[{"region": region, "serverCount": 1} for region in REGIONS],
    )
    with open_sync_world(spec) as world:
        yield world


@pytest.fixture(scope="class")
def prod_credentials(regions_world: SyncWorld) -> dict[str, str]:
    """Credentials of PROD's orchestration role."""
    return regions_world.credentials(PROD)


def query(world: SyncWorld, credentials: dict[str, str], schedule: str = "submission") -> tuple[Any, Any]:
    """`query_drs_all_regions` for PROD over REGIONS, futures completing in `schedule` order."""
    with controlled_scheduling(Schedule.parse(schedule)):
        return world.module.query_drs_all_regions(PROD, credentials, list(REGIONS), NOW)


class TestQueryAllRegions:
    """What the parallel query returns and writes."""

    def test_returns_every_regions_servers_and_a_status_per_region(
        self, regions_world: SyncWorld, prod_credentials: dict[str, str]
    ) -> None:
        servers, statuses = regions_world.module.query_drs_all_regions(PROD, prod_credentials, list(REGIONS), NOW)

        assert statuses == EXPECTED_STATUSES
        assert sorted(server["_queryRegion"] for server in servers) == ["us-east-1"] * 3 + ["us-west-2"] * 2
        assert {server["_queryAccount"] for server in servers} == {PROD}

    def test_a_failed_region_does_not_fail_the_others(
        self, regions_world: SyncWorld, prod_credentials: dict[str, str]
    ) -> None:
        servers, statuses = query(regions_world, prod_credentials)

        assert statuses["eu-west-1"]["status"] == "IAM_PERMISSION_DENIED"
        assert len(servers) == 5

    @pytest.mark.parametrize("schedule", ["submission", "reverse"])
    def test_statuses_and_servers_follow_completion_order(
        self, regions_world: SyncWorld, prod_credentials: dict[str, str], schedule: str
    ) -> None:
        servers, statuses = query(regions_world, prod_credentials, schedule)

        expected_order = REGIONS if schedule == "submission" else list(reversed(REGIONS))
        assert list(statuses) == expected_order
        server_regions = [server["_queryRegion"] for server in servers]
        listed = {"us-east-1": 3, "us-west-2": 2}
        assert server_regions == [region for region in expected_order for _ in range(listed.get(region, 0))]

    def test_queries_only_the_given_regions(self, regions_world: SyncWorld, prod_credentials: dict[str, str]) -> None:
        with recording() as recorder:
            query(regions_world, prod_credentials)

        listing = calls(recorder, "drs", "DescribeSourceServers")
        assert {call.region for call in listing} == set(REGIONS)
        # One request per page: 1 + 2 (one server per page) + 1 (denied, not retried) + 1.
        assert len(listing) == 5

    def test_region_status_rows_are_the_batch_rows_of_the_account(
        self, regions_world: SyncWorld, prod_credentials: dict[str, str]
    ) -> None:
        query(regions_world, prod_credentials)

        rows = {row["region"]: row for row in regions_world.tables()["region_status"]}
        assert rows["us-east-1"] == {
            "region": "us-east-1",
            "accountId": PROD,
            "status": "ACTIVE",
            "serverCount": 3,
            "lastUpdated": NOW,
        }
        assert rows["eu-west-1"] == {
            "region": "eu-west-1",
            "accountId": PROD,
            "status": "IAM_PERMISSION_DENIED",
            "serverCount": 0,
            "lastUpdated": NOW,
            "errorMessage": f"IAM permissions denied: {DENIED}",
        }
        assert set(rows) == set(REGIONS)

    def test_update_region_status_is_called_per_region_before_the_batch(
        self, regions_world: SyncWorld, prod_credentials: dict[str, str]
    ) -> None:
        with recording() as recorder:
            query(regions_world, prod_credentials)

        dynamodb = calls(recorder, "dynamodb")
        assert [call.operation for call in dynamodb] == ["PutItem"] * 4 + ["BatchWriteItem"]
        put_items = {call.params["Item"]["region"]["S"]: call.params["Item"] for call in dynamodb[:4]}
        assert put_items["us-east-1"] == {
            "region": {"S": "us-east-1"},
            "status": {"S": "AVAILABLE"},
            "serverCount": {"N": "3"},
            "lastChecked": {"S": LAST_CHECKED},
            "errorMessage": {"NULL": True},
        }
        assert put_items["eu-west-1"]["status"] == {"S": "ERROR"}
        assert put_items["eu-west-1"]["errorMessage"] == {"S": f"IAM permissions denied: {DENIED}"}
        assert put_items["eu-west-2"]["status"] == {"S": "UNINITIALIZED"}
        assert {call.params["TableName"] for call in dynamodb[:4]} == {REGION_STATUS_TABLE}
        assert batch_put_counts(dynamodb[4]) == {REGION_STATUS_TABLE: 4}

    def test_without_a_region_status_table_nothing_is_written(
        self, regions_world: SyncWorld, prod_credentials: dict[str, str]
    ) -> None:
        with cold_start({"DRS_REGION_STATUS_TABLE": None}):
            module = import_lambda_module("inventory_sync")
            with recording() as recorder, controlled_scheduling(Schedule("submission")):
                servers, statuses = module.query_drs_all_regions(PROD, prod_credentials, list(REGIONS), NOW)

        assert statuses == EXPECTED_STATUSES
        assert len(servers) == 5
        assert calls(recorder, "dynamodb") == []

    def test_all_28_regions_make_two_region_status_batches(self, regions_world: SyncWorld) -> None:
        with recording() as recorder, controlled_scheduling(Schedule("submission")):
            _, statuses = regions_world.module.query_drs_all_regions(PROD, None, list(DRS_REGIONS), NOW)

        assert list(statuses) == list(DRS_REGIONS)
        assert {call.region for call in calls(recorder, "drs", "DescribeSourceServers")} == set(DRS_REGIONS)
        batches = calls(recorder, "dynamodb", "BatchWriteItem")
        assert [batch_put_counts(batch) for batch in batches] == [{REGION_STATUS_TABLE: 25}, {REGION_STATUS_TABLE: 3}]
        assert len(calls(recorder, "dynamodb", "PutItem")) == 28


def test_the_regions_are_queried_at_the_same_time_on_a_pool(sync_world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each region's query waits until every region's query has started: only a pool running them side by side
    # gets through (one after another, the first would wait for ever; the barrier's timeout makes that a failure).
    world = sync_world(scenario())
    regions = DRS_REGIONS[:8]
    barrier = threading.Barrier(len(regions), timeout=30)
    query_one = world.module.regions.query_drs_single_region

    def query_when_all_have_started(region: str, account_id: str | None, credentials: Any) -> dict[str, Any]:
        """The real single-region query, once every region's query is running."""
        barrier.wait()
        return dict(query_one(region, account_id, credentials))

    monkeypatch.setattr(world.module.regions, "query_drs_single_region", query_when_all_have_started)

    _, statuses = world.module.query_drs_all_regions(PROD, None, list(regions), NOW)

    assert set(statuses) == set(regions)
    assert world.module.regions.DRS_MAX_WORKERS == 28


def test_a_region_finishing_first_comes_first_on_real_threads(sync_world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # as_completed order: the last region submitted answers first (the others wait for it), so it leads.
    world = sync_world(scenario(accounts={PROD: {"drs": {"us-east-1": {"servers": 1}, "us-west-2": {"servers": 2}}}}))
    last_done = threading.Event()
    query_one = world.module.regions.query_drs_single_region

    def last_region_first(region: str, account_id: str | None, credentials: Any) -> dict[str, Any]:
        """The real query; every region but the last waits for the last one to have answered."""
        if region == "us-west-2":
            answer = dict(query_one(region, account_id, credentials))
            last_done.set()
            return answer
        assert last_done.wait(timeout=30)
        return dict(query_one(region, account_id, credentials))

    monkeypatch.setattr(world.module.regions, "query_drs_single_region", last_region_first)
    credentials = world.credentials(PROD)

    servers, statuses = world.module.query_drs_all_regions(PROD, credentials, ["us-east-1", "us-west-2"], NOW)

    assert list(statuses) == ["us-west-2", "us-east-1"]
    assert [server["_queryRegion"] for server in servers] == ["us-west-2", "us-west-2", "us-east-1"]


def test_a_failed_regions_servers_read_before_the_failure_count(sync_world: Any) -> None:
    # Approved divergence defect-7-keep-pages-read: page 1 of a region failing on page 2 is kept and counted.
    drs = {"us-east-1": {"servers": 3, "page_size": 2, "error": {"code": "ValidationException", "on_page": 2}}}
    world = sync_world(scenario(accounts={PROD: {"drs": drs}}))

    servers, statuses = world.module.query_drs_all_regions(PROD, world.credentials(PROD), ["us-east-1"], NOW)

    assert len(servers) == 2
    assert statuses["us-east-1"]["status"] == "ERROR"
    assert statuses["us-east-1"]["serverCount"] == 2


class TestRecordingThroughTheWriter:
    """With an account's turn at the writer, the statuses are written in that turn, with the run's totals."""

    def test_the_statuses_are_written_in_the_accounts_turn_with_running_totals(
        self, regions_world: SyncWorld, prod_credentials: dict[str, str]
    ) -> None:
        sync = regions_world.module
        totals = {"us-east-1": 10}
        with ThreadPoolExecutor(max_workers=1) as writer:
            writes = sync.ordered_writes.OrderedWrites(writer)
            first, turn = writes.next_account(), writes.next_account()
            with recording() as recorder, controlled_scheduling(Schedule("submission")):
                servers, statuses = sync.query_drs_all_regions(PROD, prod_credentials, list(REGIONS), NOW, turn, totals)
            # The first account has not closed its turn: nothing is written yet.
            assert calls(recorder, "dynamodb") == []
            with recording() as recorder:
                first.close()
                writes.wait()

        assert statuses == EXPECTED_STATUSES
        assert len(servers) == 5
        assert [call.operation for call in calls(recorder, "dynamodb")] == ["PutItem"] * 4 + ["BatchWriteItem"]
        assert totals == {"us-east-1": 13, "us-west-2": 2, "eu-west-1": 0, "eu-west-2": 0}
        rows = {row["region"]: row["serverCount"] for row in regions_world.tables()["region_status"]}
        assert rows == {"us-east-1": 13, "us-west-2": 2, "eu-west-1": 0, "eu-west-2": 0}


class TestRegionStatusOf:
    """The legacy's status record of one region's answer."""

    def test_success_is_active_with_the_server_count(self, regions_world: SyncWorld) -> None:
        answer = {"status": "success", "servers": [{}, {}]}

        assert regions_world.module.regions.region_status_of(answer) == {
            "status": "ACTIVE",
            "serverCount": 2,
            "errorMessage": None,
        }

    def test_error_carries_the_classified_status_and_message(self, regions_world: SyncWorld) -> None:
        error = ClientError({"Error": {"Code": "ThrottlingException", "Message": "m"}}, "DescribeSourceServers")
        answer = regions_world.module.drs_errors.drs_error_result(error, "r", PROD, [{}])

        assert regions_world.module.regions.region_status_of(answer) == {
            "status": "THROTTLED",
            "serverCount": 1,
            "errorMessage": "API rate limit exceeded",
        }


class TestRecordRegionStatuses:
    """Writing one account's region statuses."""

    def test_without_run_totals_each_account_writes_its_own_count(self, regions_world: SyncWorld) -> None:
        first = {"us-east-1": {"status": "ACTIVE", "serverCount": 4, "errorMessage": None}}
        second = {"us-east-1": {"status": "ACTIVE", "serverCount": 0, "errorMessage": None}}

        regions_world.module.regions.record_region_statuses(PROD, first, NOW)
        regions_world.module.regions.record_region_statuses(WORKLOADS, second, NOW)

        rows = {row["region"]: row for row in regions_world.tables()["region_status"]}
        # Keyed by region only: without the run's totals, the second account's empty region overwrites the first's.
        assert rows["us-east-1"] == {
            "region": "us-east-1",
            "accountId": WORKLOADS,
            "status": "ACTIVE",
            "serverCount": 0,
            "lastUpdated": NOW,
        }

    def test_with_run_totals_the_row_counts_every_account_so_far(self, regions_world: SyncWorld) -> None:
        # Defect 4 fixed: a region where only the first account has servers stays active after the second.
        first = {
            "us-east-1": {"status": "ACTIVE", "serverCount": 4, "errorMessage": None},
            "eu-west-1": {"status": "THROTTLED", "serverCount": 0, "errorMessage": "API rate limit exceeded"},
        }
        second = {
            "us-east-1": {"status": "ACTIVE", "serverCount": 0, "errorMessage": None},
            "eu-west-1": {"status": "ACTIVE", "serverCount": 2, "errorMessage": None},
        }
        totals: dict[str, int] = {}

        regions_world.module.regions.record_region_statuses(PROD, first, NOW, totals)
        with recording() as recorder:
            regions_world.module.regions.record_region_statuses(WORKLOADS, second, NOW, totals)

        assert totals == {"us-east-1": 4, "eu-west-1": 2}
        rows = {row["region"]: row for row in regions_world.tables()["region_status"]}
        assert rows["us-east-1"] == {
            "region": "us-east-1",
            "accountId": WORKLOADS,
            "status": "ACTIVE",
            "serverCount": 4,
            "lastUpdated": NOW,
        }
        assert (rows["eu-west-1"]["accountId"], rows["eu-west-1"]["serverCount"]) == (WORKLOADS, 2)
        # update_region_status gets the running total too, and derives its status from it.
        puts = [call.params["Item"] for call in calls(recorder, "dynamodb", "PutItem")]
        assert [(put["region"]["S"], put["serverCount"]["N"], put["status"]["S"]) for put in puts] == [
            ("us-east-1", "4", "AVAILABLE"),
            ("eu-west-1", "2", "AVAILABLE"),
        ]

    def test_an_error_keeps_its_status_and_message_over_the_running_total(self, regions_world: SyncWorld) -> None:
        totals = {"us-east-1": 3}
        statuses = {"us-east-1": {"status": "THROTTLED", "serverCount": 0, "errorMessage": "API rate limit exceeded"}}

        with recording() as recorder:
            regions_world.module.regions.record_region_statuses(WORKLOADS, statuses, NOW, totals)

        batch = calls(recorder, "dynamodb", "BatchWriteItem")[0]
        item = batch.params["RequestItems"][REGION_STATUS_TABLE][0]["PutRequest"]["Item"]
        assert (item["status"], item["serverCount"], item["errorMessage"]) == (
            {"S": "THROTTLED"},
            {"N": "3"},
            {"S": "API rate limit exceeded"},
        )
        put = calls(recorder, "dynamodb", "PutItem")[0].params["Item"]
        assert (put["status"], put["serverCount"]) == ({"S": "ERROR"}, {"N": "3"})

    def test_an_empty_error_message_is_left_out_of_the_row(self, regions_world: SyncWorld) -> None:
        statuses = {"eu-west-2": {"status": "ERROR", "serverCount": 0, "errorMessage": ""}}

        with recording() as recorder:
            regions_world.module.regions.record_region_statuses(PROD, statuses, NOW)

        batch = calls(recorder, "dynamodb", "BatchWriteItem")[0]
        item = batch.params["RequestItems"][REGION_STATUS_TABLE][0]["PutRequest"]["Item"]
        assert "errorMessage" not in item
        # update_region_status sees no message either: UNINITIALIZED, not ERROR.
        assert calls(recorder, "dynamodb", "PutItem")[0].params["Item"]["status"] == {"S": "UNINITIALIZED"}

    def test_no_statuses_write_nothing(self, regions_world: SyncWorld) -> None:
        with recording() as recorder:
            regions_world.module.regions.record_region_statuses(PROD, {}, NOW)

        assert recorder.interactions == []
