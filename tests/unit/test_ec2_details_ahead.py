"""Unit tests of how an account's rows meet their EC2 details in the pipeline, without waiting for the whole account.

`PendingEc2Details` gives an instance's details once every chunk asking for it is in (a later group still wins an
id, as the legacy's merge); `RowCompletion` completes rows built before their details with exactly the item the
legacy would build with them; `OriginClients` makes an origin group's client (its STS calls) as soon as a DRS page
names the group, and hands that client to the group's describe task; `start_account_reads_after` starts an account's
reads once the account before it has started its DRS queries.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.scheduling import Schedule, controlled_scheduling
from tests.unit.support import NOW, PROD, WORKLOADS, calls, open_sync_world, recording, scenario, target_row

WAIT_S = 5.0


def details(name: str) -> dict[str, Any]:
    """EC2 details as `instance_details` makes them."""
    return {
        "vpcId": f"vpc-{name}",
        "subnetId": f"subnet-{name}",
        "privateIp": "10.0.0.7",
        "securityGroups": [f"sg-{name}"],
        "instanceProfile": "",
        "tags": {"Name": name},
    }


@pytest.fixture(scope="module")
def sync() -> Any:
    """The refactored sync module, imported in a small local AWS, closed again: these tests make no AWS call."""
    with open_sync_world(scenario()) as world:
        module = world.module
    return module


def answered_in_thread(function: Any, *args: Any) -> tuple[threading.Thread, list[Any]]:
    """Start `function(*args)` on a thread of its own; its result lands in the returned list."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(function(*args)), daemon=True)
    thread.start()
    return thread, result


def test_an_instance_is_given_once_its_own_chunk_is_in_not_the_whole_group(sync: Any) -> None:
    ids = [f"i-{number:03d}" for number in range(150)]
    pending = sync.PendingEc2Details({(PROD, "us-east-1"): ids})
    [group] = pending.progresses

    first, result = answered_in_thread(pending.details_of, "i-007")
    first.join(0.2)
    assert first.is_alive()  # chunk 0 (ids 0-99) is not in yet

    group.details["i-007"] = details("seven")
    group.chunk_resolved()
    first.join(WAIT_S)
    assert result == [details("seven")]

    late, late_result = answered_in_thread(pending.details_of, "i-120")
    late.join(0.2)
    assert late.is_alive()  # i-120 is in chunk 1, still out
    group.finish()  # the rest of the group skipped after a failure: nothing more will come
    late.join(WAIT_S)
    assert late_result == [None]


def test_a_later_group_wins_an_instance_both_ask_for_as_the_legacys_merge(sync: Any) -> None:
    pending = sync.PendingEc2Details({(PROD, "us-east-1"): ["i-1"], (WORKLOADS, "us-east-1"): ["i-1", "i-2"]})
    earlier, later = pending.progresses
    earlier.details["i-1"] = details("earlier")
    earlier.finish()

    waiting, result = answered_in_thread(pending.details_of, "i-1")
    waiting.join(0.2)
    assert waiting.is_alive()  # the later group also asks for i-1

    later.details["i-2"] = details("two")
    later.finish()  # answered without i-1 (say, the id alone failed): the earlier group's details stand
    waiting.join(WAIT_S)
    assert result == [details("earlier")]
    assert pending.details_of("i-2") == details("two")
    assert pending.details_of("i-unknown") is None


def test_a_group_whose_task_never_runs_is_done_all_the_same(sync: Any) -> None:
    pending = sync.PendingEc2Details({(PROD, "us-east-1"): ["i-1"]})
    with ThreadPoolExecutor(max_workers=1) as pool:
        blocker = threading.Event()
        pool.submit(blocker.wait, WAIT_S)
        [queued] = sync.submit_origin_groups({(PROD, "us-east-1"): ["i-1"]}, pool, None, progresses=pending.progresses)
        assert queued.cancel()
        blocker.set()

    assert pending.details_of("i-1") is None  # returns at once: the cancelled group counts as done


SERVER_FIELDS = st.fixed_dictionaries(
    {
        "hostname": st.text(max_size=12),
        "cores": st.integers(min_value=0, max_value=64),
        "instance": st.sampled_from(["i-1", "i-2", "i-3", ""]),
        "ram": st.one_of(st.integers(min_value=0, max_value=2**40), st.floats(allow_nan=False, width=32)),
    }
)


def server_document(number: int, fields: dict[str, Any]) -> dict[str, Any]:
    """A DRS document (as the sync keeps it) from generated fields; a float ramBytes is kept as a float."""
    return {
        "arn": f"arn:aws:drs:us-east-1:{PROD}:source-server/s-{number:017x}",
        "sourceServerID": f"s-{number:017x}",
        "sourceProperties": {
            "identificationHints": {"hostname": fields["hostname"], "awsInstanceID": fields["instance"]},
            "cpus": [{"cores": fields["cores"], "modelName": "Xeon"}],
            "ramBytes": fields["ram"],
        },
        "_queryRegion": "us-east-1",
    }


@given(
    fields=st.lists(SERVER_FIELDS, min_size=1, max_size=8),
    known=st.dictionaries(st.sampled_from(["i-1", "i-2", "i-3"]), st.sampled_from(["a", "b"]), max_size=3),
    serialize=st.booleans(),
)
def test_rows_completed_later_are_the_rows_built_with_their_details(
    sync: Any, fields: list[dict[str, Any]], known: dict[str, str], serialize: bool
) -> None:
    servers = [server_document(number, each) for number, each in enumerate(fields)]
    ec2_details = {instance: details(name) for instance, name in known.items()}
    pending = sync.PendingEc2Details({(PROD, "us-east-1"): list(ec2_details)})
    [group] = pending.progresses
    group.details.update(ec2_details)
    group.finish()

    at_once = sync.prepare_inventory(servers, PROD, NOW, ec2_details, serialize=serialize)
    completed = sync.prepare_inventory(servers, PROD, NOW, pending, serialize=serialize)

    expected = list(sync.items_decoded_ahead(at_once.rows))
    items = list(sync.items_decoded_ahead(completed.rows, None, completed.completion))
    assert completed.typed == at_once.typed
    assert [str(item) if isinstance(item, Exception) else item for item in items] == [
        str(item) if isinstance(item, Exception) else item for item in expected
    ]
    texts = [getattr(item, "json_text", None) for item in items]
    assert texts == [getattr(item, "json_text", None) for item in expected]


def test_a_page_starts_the_clients_of_the_groups_it_names_once_each(sync: Any) -> None:
    made: list[tuple[Any, Any]] = []

    def create(src_account: Any, src_region: Any) -> tuple[Any, None]:
        """Stands for `create_origin_ec2_client`: notes the group and answers a client name."""
        made.append((src_account, src_region))
        return f"client of {src_account} in {src_region}", None

    page = [
        {"sourceProperties": {"identificationHints": {"awsInstanceID": "i-1"}}, "_queryRegion": "us-east-1"},
        {
            "sourceProperties": {"identificationHints": {"awsInstanceID": "i-2"}},
            "sourceCloudProperties": {"originAccountID": WORKLOADS, "originRegion": "eu-west-1"},
            "_queryRegion": "us-east-1",
        },
        {"sourceProperties": {"identificationHints": {}}, "_queryRegion": "us-west-2"},  # no instance: no group
        "not a document",  # a page entry the grouping cannot read is passed over
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        origins = sync.OriginClients(PROD, pool, create)
        origins.note_page(page)
        origins.note_page(page[:1])

        assert origins.connect(PROD, "us-east-1") == (f"client of {PROD} in us-east-1", None)
        assert origins.connect(WORKLOADS, "eu-west-1") == (f"client of {WORKLOADS} in eu-west-1", None)
        assert origins.connect(PROD, "us-west-2") == (f"client of {PROD} in us-west-2", None)  # made on demand

    assert sorted(made) == sorted([(PROD, "us-east-1"), (WORKLOADS, "eu-west-1"), (PROD, "us-west-2")])


def test_a_client_made_ahead_hands_its_failure_to_the_groups_describe_task(sync: Any) -> None:
    def create(src_account: Any, src_region: Any) -> tuple[Any, None]:
        """AssumeRole refused."""
        raise PermissionError(f"AssumeRole denied for {src_account}")

    page = [{"sourceProperties": {"identificationHints": {"awsInstanceID": "i-1"}}, "_queryRegion": "us-east-1"}]
    with ThreadPoolExecutor(max_workers=1) as pool:
        origins = sync.OriginClients(PROD, pool, create)
        origins.note_page(page)
        progress = sync.OriginGroupProgress()

        found = sync.describe_origin_group(PROD, "us-east-1", ["i-1"], None, None, progress, origins.connect)

    assert found == {}
    progress.wait_for_chunk(0)  # done: the group was skipped, as the legacy skips it


def origin_steps(servers: int, page_size: int, window: str) -> list[tuple[str, Any]]:
    """The calls of a one-account run (servers in one region, paged by `page_size`), deterministically scheduled."""
    spec = scenario(
        target_accounts=[target_row(PROD)],
        accounts={PROD: {"drs": {"us-east-1": {"servers": servers, "page_size": page_size}}}},
        env={"INVENTORY_SYNC_ACCOUNT_WINDOW": window},
    )
    with open_sync_world(spec) as world, recording() as recorder, controlled_scheduling(Schedule("submission")):
        world.module.sync_source_server_inventory()
    assert len(calls(recorder, "ec2", "DescribeInstances")) == 1
    return [(call.operation, call.params.get("RoleSessionName")) for call in recorder.interactions]


def test_with_read_ahead_an_origin_groups_sts_calls_are_made_while_the_next_page_is_read() -> None:
    steps = origin_steps(servers=3, page_size=2, window="2")

    origin_role = steps.index(("AssumeRole", "inventory-ec2-query"))
    pages = [index for index, step in enumerate(steps) if step[0] == "DescribeSourceServers"]
    assert pages[0] < origin_role < pages[1] < steps.index(("PutItem", None)) < steps.index(("DescribeInstances", None))


@pytest.mark.parametrize(("page_size", "window"), [(100, "3"), (2, "1")], ids=["one-page", "no-read-ahead"])
def test_a_single_page_or_no_read_ahead_makes_the_calls_in_the_legacys_order(page_size: int, window: str) -> None:
    steps = origin_steps(servers=3, page_size=page_size, window=window)

    assert steps.index(("PutItem", None)) < steps.index(("AssumeRole", "inventory-ec2-query"))


def test_an_account_starts_its_reads_once_the_one_before_has_started_its_drs_queries(
    sync: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Any] = []
    monkeypatch.setattr(sync, "start_account_reads", lambda account, run: started.append(account["accountId"]))
    previous: Future[Any] = Future()

    waiting, _ = answered_in_thread(sync.start_account_reads_after, previous, {"accountId": WORKLOADS}, None)
    waiting.join(0.2)
    assert started == [] and waiting.is_alive()

    previous.set_result(None)
    waiting.join(WAIT_S)
    assert started == [WORKLOADS]
