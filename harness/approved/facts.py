"""The small toolkit the divergences' predicates share: facts read off a legacy golden, and views of a change.

A predicate only says which fix a change is (its values are checked by the approved record and the exact replay,
`harness.divergences`), so these are plain reads of the golden's own calls: its tables, target accounts, the
accounts and DRS regions it could not read, the servers DRS listed, and a region status write's rows side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from harness.cassette import HUB_IDENTITY, Cassette, Interaction
from harness.divergences import OUTPUT, REPLACE, Change, Predicate

INVENTORY, TARGETS, STATUS = "SOURCE_SERVER_INVENTORY_TABLE", "TARGET_ACCOUNTS_TABLE", "DRS_REGION_STATUS_TABLE"
ACCOUNT_SESSION = "inventory-sync"
_DESERIALIZER = TypeDeserializer()


def table(golden: Cassette, variable: str) -> str | None:
    """A table's name in the golden's recorded environment."""
    return golden.header.get("environment", {}).get(variable)


def plain(wire: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item or key from wire form (`{"S": "x"}`) to plain values."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in wire.items()}


def failed(interaction: Interaction) -> bool:
    """Whether a recorded call failed: an AWS error, or no response at all."""
    if interaction.exception is not None or interaction.error is not None or interaction.response is None:
        return True
    return int(interaction.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 200)) >= 300


def calls(golden: Cassette, operation: str) -> list[Interaction]:
    """The golden's calls of one operation, in order."""
    return [interaction for interaction in golden.interactions if interaction.operation == operation]


def target_rows(golden: Cassette) -> list[dict[str, Any]]:
    """The target account rows the golden read (every recorded page of the target accounts Scan), plain."""
    name = table(golden, TARGETS)
    return [
        plain(item)
        for scan in calls(golden, "Scan")
        if scan.params.get("TableName") == name and scan.response
        for item in scan.response.get("Items", [])
    ]


def more_target_pages(golden: Cassette) -> bool:
    """Whether the legacy's one target accounts Scan left pages unread (it names a LastEvaluatedKey)."""
    name = table(golden, TARGETS)
    return any(
        scan.params.get("TableName") == name and "LastEvaluatedKey" in (scan.response or {})
        for scan in calls(golden, "Scan")
    )


def hub(golden: Cassette) -> str | None:
    """The hub's account id, as the golden's first answered GetCallerIdentity gives it."""
    answered = [call.response for call in calls(golden, "GetCallerIdentity") if call.response]
    return str(answered[0].get("Account")) if answered else None


def without_role(golden: Cassette) -> set[str]:
    """Target accounts other than the hub whose row names no roleArn."""
    return {str(row.get("accountId")) for row in target_rows(golden) if not row.get("roleArn")} - {str(hub(golden))}


def unread_accounts(golden: Cassette) -> set[str]:
    """Target accounts the fixed sync cannot read: their AssumeRole failed, or they have no roleArn (defect 5)."""
    rows = target_rows(golden)
    failed_roles = {
        call.params.get("RoleArn")
        for call in calls(golden, "AssumeRole")
        if call.params.get("RoleSessionName") == ACCOUNT_SESSION and failed(call)
    }
    named = {str(row.get("accountId")) for row in rows if row.get("roleArn") in failed_roles}
    by_arn = {str(arn).split(":")[4] for arn in failed_roles if str(arn).count(":") >= 4}
    return named | by_arn | without_role(golden)


def failed_regions(golden: Cassette) -> set[tuple[str, str]]:
    """(account, region) of every DRS query that failed (the hub's identity stands for the hub's account)."""
    return {
        (str(hub(golden)) if call.identity == HUB_IDENTITY else call.identity, call.region)
        for call in calls(golden, "DescribeSourceServers")
        if failed(call)
    }


def servers(golden: Cassette) -> Iterable[dict[str, Any]]:
    """Every source server document DRS listed in the golden's run."""
    for call in calls(golden, "DescribeSourceServers"):
        yield from (call.response or {}).get("items", [])


def listed_arns(golden: Cassette) -> set[str]:
    """The ARNs of every server DRS listed in the run."""
    return {str(server.get("arn")) for server in servers(golden)}


def arn_place(arn: Any) -> tuple[str, str]:
    """(account, region) of a DRS source server ARN."""
    parts = str(arn).split(":")
    return (parts[4], parts[3]) if len(parts) > 4 else ("", "")


def deleted_arn(change: Change) -> str | None:
    """The sourceServerArn of a DeleteItem's key, or None for any other call."""
    key = change.params.get("Key", {}) if change.operation == "DeleteItem" else {}
    return str(plain(key).get("sourceServerArn")) if "sourceServerArn" in key else None


def is_cleanup_scan(change: Change, golden: Cassette) -> bool:
    """Whether a change is about a stale-cleanup Scan of the inventory table (filtered on source accounts)."""
    return (
        change.operation == "Scan"
        and change.table == table(golden, INVENTORY)
        and str(change.params.get("FilterExpression", "")).startswith("sourceAccountId")
    )


def scan_accounts(change: Change) -> set[str]:
    """The accounts a cleanup Scan filters on (the values of its expression)."""
    return {str(value) for value in plain(change.params.get("ExpressionAttributeValues", {})).values()}


def status_pairs(change: Change, golden: Cassette) -> list[tuple[dict[str, Any], dict[str, Any]]] | None:
    """A replaced region status write's rows, legacy and fixed side by side (plain, unchanged rows left out).

    None when the change is not a replaced status write whose two sides differ in their rows only.
    """
    name = table(golden, STATUS)
    if change.kind != REPLACE or change.table != name:
        return None
    was, now = change.was["params"], change.now["params"]
    if change.operation == "PutItem":
        pairs = [(was.get("Item", {}), now.get("Item", {}))]
        rest = ({**was, "Item": None}, {**now, "Item": None})
    else:
        old, new = was.get("RequestItems", {}).get(name, []), now.get("RequestItems", {}).get(name, [])
        if len(old) != len(new) or len(was.get("RequestItems", {})) != 1 or len(now.get("RequestItems", {})) != 1:
            return None
        pairs = [
            (a.get("PutRequest", {}).get("Item", {}), b.get("PutRequest", {}).get("Item", {}))
            for a, b in zip(old, new, strict=True)
        ]
        rest = ({**was, "RequestItems": None}, {**now, "RequestItems": None})
    if rest[0] != rest[1] or any(set(a) != set(b) for a, b in pairs):
        return None
    return [(plain(a), plain(b)) for a, b in pairs if a != b]


def rows_differ_in(change: Change, golden: Cassette, fields: set[str], test: Callable[..., bool]) -> bool:
    """A replaced status write whose changed rows differ in some of `fields` only, each pair passing `test`."""
    pairs = status_pairs(change, golden)
    if not pairs:
        return False
    return all({key for key in old if old[key] != new[key]} <= fields and test(old, new) for old, new in pairs)


def status_change(test: Callable[[dict[str, Any], dict[str, Any]], bool]) -> Predicate:
    """A predicate: a replaced status write whose changed rows differ in status and errorMessage only, by `test`."""

    def predicate(change: Change, golden: Cassette, changes: Sequence[Change]) -> bool:
        """Is this change the fix's?"""
        return rows_differ_in(change, golden, {"status", "errorMessage"}, test)

    return predicate


def with_outputs(fields: Sequence[str], call: Callable[[Change, Cassette], bool]) -> Predicate:
    """A predicate: call changes `call` accepts, and output fields in `fields` of a golden where it accepts one."""

    def predicate(change: Change, golden: Cassette, changes: Sequence[Change]) -> bool:
        """Is this change the fix's?"""
        if change.kind == OUTPUT:
            return change.field in fields and any(c.kind != OUTPUT and call(c, golden) for c in changes)
        return call(change, golden)

    return predicate


def response_of(outputs_data: Any) -> dict[str, Any]:
    """The returned response of outputs data (empty when the run raised)."""
    result = outputs_data.get("result") if isinstance(outputs_data, dict) else None
    return result if isinstance(result, dict) else {}


def raised(outputs_data: Any) -> dict[str, Any]:
    """The exception of outputs data (empty when the run returned)."""
    exception = outputs_data.get("exception") if isinstance(outputs_data, dict) else None
    return exception if isinstance(exception, dict) else {}
