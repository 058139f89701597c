"""Unit tests of `shared.dynamodb_tables`: table getters named by environment variables, cached per process, reset."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType

import pytest

from harness.lambda_env import import_lambda_module, lambda_environment
from tests.unit.support import (
    INVENTORY_TABLE,
    PROD,
    REGION_STATUS_TABLE,
    TARGET_ACCOUNTS_TABLE,
    open_sync_world,
    recording,
    scenario,
    target_row,
)

GETTERS = {
    "get_target_accounts_table": ("TARGET_ACCOUNTS_TABLE", TARGET_ACCOUNTS_TABLE),
    "get_inventory_table": ("SOURCE_SERVER_INVENTORY_TABLE", INVENTORY_TABLE),
    "get_region_status_table": ("DRS_REGION_STATUS_TABLE", REGION_STATUS_TABLE),
}


@pytest.fixture(scope="module")
def tables() -> Iterator[ModuleType]:
    """The module, imported fresh in a world holding one target account row."""
    with open_sync_world(scenario(target_accounts=[target_row(PROD)])):
        yield import_lambda_module("shared.dynamodb_tables")


@pytest.fixture(autouse=True)
def fresh_cache(tables: ModuleType) -> Iterator[None]:
    """Every test starts and ends with an empty cache (a cold start)."""
    tables.reset_table_cache()
    yield
    tables.reset_table_cache()


@pytest.mark.parametrize("getter", list(GETTERS))
def test_each_getter_names_its_table_from_its_variable(tables: ModuleType, getter: str) -> None:
    _, table_name = GETTERS[getter]

    assert getattr(tables, getter)().name == table_name


@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
@pytest.mark.parametrize("getter", list(GETTERS))
def test_an_unset_or_empty_variable_gives_none(tables: ModuleType, getter: str, value: str | None) -> None:
    variable, _ = GETTERS[getter]

    with lambda_environment({variable: value}):
        assert getattr(tables, getter)() is None


def test_the_table_is_created_once_and_cached(tables: ModuleType) -> None:
    first = tables.get_inventory_table()

    assert tables.get_inventory_table() is first


def test_every_table_shares_one_dynamodb_resource(tables: ModuleType) -> None:
    inventory = tables.get_inventory_table()
    accounts = tables.get_target_accounts_table()

    assert inventory.meta.client is accounts.meta.client


def test_the_variable_is_read_on_every_call(tables: ModuleType) -> None:
    cached = tables.get_inventory_table()

    with lambda_environment({"SOURCE_SERVER_INVENTORY_TABLE": None}):
        assert tables.get_inventory_table() is None
    assert tables.get_inventory_table() is cached


def test_a_renamed_table_is_created_afresh(tables: ModuleType) -> None:
    original = tables.get_inventory_table()

    with lambda_environment({"SOURCE_SERVER_INVENTORY_TABLE": "inventory-v2"}):
        renamed = tables.get_inventory_table()
        assert tables.get_inventory_table() is renamed
    restored = tables.get_inventory_table()

    assert renamed.name == "inventory-v2"
    assert restored.name == INVENTORY_TABLE
    assert restored is not original  # one cached table per variable: the rename replaced it


def test_reset_forgets_the_tables_and_the_resource(tables: ModuleType) -> None:
    before = tables.get_inventory_table()

    tables.reset_table_cache()
    after = tables.get_inventory_table()

    assert after is not before
    assert after.name == before.name
    assert after.meta.client is not before.meta.client


def test_concurrent_first_calls_get_the_same_table(tables: ModuleType) -> None:
    with ThreadPoolExecutor(max_workers=8) as executor:
        found = list(executor.map(lambda _: tables.get_target_accounts_table(), range(32)))

    assert all(table is found[0] for table in found)


def test_getters_make_no_aws_call_and_the_tables_work(tables: ModuleType) -> None:
    with recording() as recorder:
        table = tables.get_target_accounts_table()
    assert recorder.interactions == []

    assert [item["accountId"] for item in table.scan()["Items"]] == [PROD]
