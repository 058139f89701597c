"""Approved divergences: a deliberate legacy-defect fix passes the gate only where a named approval covers it exactly.

Real goldens (recorded from the legacy) are replayed into candidates that fix one defect each
(tests/harness/divergence_candidates.py). Without an approval the fix is DIVERGENT; with one whose matcher covers
exactly that change it passes and is named; any other difference still fails and is the only one reported; an
approval that does not match, or applies to other goldens, changes nothing. Fixes that make new calls are answered
from the approval's declared answers, and stay unrecorded (and failing) without them.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from harness import divergences
from harness.approved import registered_divergences
from harness.cassette import Cassette, Interaction
from harness.cli import main
from harness.comparison import Difference, compare
from harness.divergences import (
    ApprovedDivergence,
    DivergenceContext,
    RegistryError,
    answer,
    answered_cassette,
    any_of,
    body_fields_differ,
    body_of,
    dynamodb_item,
    outputs,
    reads,
    response_of,
    triage,
    validate_registry,
    writes,
)
from harness.gate import judge, run_gate
from harness.golden import GOLDEN_DIR, read_golden
from harness.lambda_env import REPO_ROOT
from harness.matchers import is_write
from harness.replayer import ObservedCall
from harness.world.scenario import load_scenario

CANDIDATES = "tests.harness.divergence_candidates"
CLEANUP_EVERY_ACCOUNT = f"{CANDIDATES}:cleanup_every_account"
INVENTORY = "source-server-inventory"
CLEANUP_FILTER = "sourceAccountId = :acct_id"
STALE_MULTI = GOLDEN_DIR / "stale-cleanup-multi-account.json"
FAILS_LAST = GOLDEN_DIR / "assume-role-fails-last.json"
NO_TARGETS = GOLDEN_DIR / "no-target-accounts.json"
BASIC = GOLDEN_DIR / "single-account-basic.json"
PROD, STAGING = "111111111111", "222222222222"


# Matcher pieces the example approvals are made of --------------------------------------------------------------


def cleanup_scan_account(params: dict[str, Any]) -> str | None:
    """The account a stale-cleanup Scan of the inventory filters on, or None for any other Scan."""
    if params.get("FilterExpression") != CLEANUP_FILTER:
        return None
    return str(dynamodb_item(params["ExpressionAttributeValues"])[":acct_id"])


def deleted_row_account(params: dict[str, Any]) -> str:
    """The account of the inventory row a DeleteItem removes (from its source server ARN)."""
    return str(dynamodb_item(params["Key"])["sourceServerArn"]).split(":")[4]


def golden_inventory_rows(golden: Cassette) -> list[dict[str, Any]]:
    """The inventory rows (wire form) the golden's run wrote."""
    return [
        request["PutRequest"]["Item"]
        for interaction in golden.interactions
        if interaction.operation == "BatchWriteItem"
        for request in interaction.params["RequestItems"].get(INVENTORY, [])
        if "PutRequest" in request
    ]


def earlier_accounts(context: DivergenceContext) -> list[str]:
    """The target accounts before the last one: those whose stale rows the legacy never cleans up (defect 1)."""
    return context.target_account_ids()[:-1]


def stale_row_of_an_earlier_account(view: dict[str, Any], context: DivergenceContext) -> bool:
    """A DeleteItem of a row of an earlier account that the run did not write (so it was stale)."""
    arn = dynamodb_item(view["params"]["Key"])["sourceServerArn"]
    written = {dynamodb_item(row)["sourceServerArn"] for row in golden_inventory_rows(context.golden)}
    return deleted_row_account(view["params"]) in earlier_accounts(context) and arn not in written


def cleanup_scan_of_an_earlier_account(view: dict[str, Any], context: DivergenceContext) -> bool:
    """The stale-cleanup Scan of an earlier account."""
    return cleanup_scan_account(view["params"]) in earlier_accounts(context)


def stale_count_is_the_deletes(golden: dict[str, Any], candidate: dict[str, Any], context: DivergenceContext) -> bool:
    """The response counts exactly the DeleteItem calls the candidate made."""
    return bool(candidate["staleRecordsDeleted"] == len(context.candidate_calls("DeleteItem", "dynamodb")))


def answers_for_earlier_accounts(golden: Cassette) -> list[Interaction]:
    """The cleanup Scan of each earlier account and the DeleteItem of each of its stale rows, answered as AWS would.

    The rows are the scenario's `inventory_before` rows of the account plus those the golden's run wrote for it.
    """
    environment = golden.header["environment"]
    region, table = environment["AWS_DEFAULT_REGION"], environment["SOURCE_SERVER_INVENTORY_TABLE"]
    before = load_scenario(REPO_ROOT / golden.header["scenario"]["file"]).inventory_before
    serializer = TypeSerializer()
    written = golden_inventory_rows(golden)
    written_arns = {dynamodb_item(row)["sourceServerArn"] for row in written}
    declared: list[Interaction] = []
    for account in earlier_accounts(DivergenceContext(golden)):
        stale = [dict(row) for row in before if row["sourceAccountId"] == account]
        rows = [{name: serializer.serialize(value) for name, value in row.items()} for row in stale]
        rows += [row for row in written if dynamodb_item(row)["sourceAccountId"] == account]
        scan = {
            "TableName": table,
            "FilterExpression": CLEANUP_FILTER,
            "ExpressionAttributeValues": {":acct_id": {"S": account}},
        }
        declared.append(
            answer("Scan", scan, {"Items": rows, "Count": len(rows), "ScannedCount": len(rows)}, region=region)
        )
        for row in stale:
            if row["sourceServerArn"] not in written_arns:
                key = {name: {"S": row[name]} for name in ("sourceServerArn", "stagingAccountId")}
                declared.append(answer("DeleteItem", {"TableName": table, "Key": key}, region=region))
    return declared


def row_of_a_failed_account(view: dict[str, Any], context: DivergenceContext) -> bool:
    """A DeleteItem of a row of an account whose AssumeRole failed."""
    return context.assume_role_failed(deleted_row_account(view["params"]))


def cleanup_scan_of_a_failed_account(view: dict[str, Any], context: DivergenceContext) -> bool:
    """The stale-cleanup Scan of an account whose AssumeRole failed."""
    account = cleanup_scan_account(view["params"])
    return account is not None and context.assume_role_failed(account)


def nothing_deleted(golden: dict[str, Any], candidate: dict[str, Any], context: DivergenceContext) -> bool:
    """The response counts no stale row deleted."""
    return bool(candidate["staleRecordsDeleted"] == 0)


def empty_sync_instead_of_unbound_local(
    golden: dict[str, Any], candidate: dict[str, Any], context: DivergenceContext
) -> bool:
    """The legacy raised UnboundLocalError; the candidate returns a 200 that synced and deleted nothing."""
    body = body_of(response_of(candidate))
    return (
        golden.get("exception", {}).get("type") == "UnboundLocalError"
        and (response_of(candidate) or {}).get("statusCode") == 200
        and body is not None
        and (body["totalSynced"], body["totalErrors"], body["staleRecordsDeleted"]) == (0, 0, 0)
    )


DEFECT_1 = ApprovedDivergence(
    name="defect-1-cleanup-every-account",
    defect=1,
    description="stale inventory rows of every account are removed, not only the last account's",
    matcher=any_of(
        writes("extra", "DeleteItem", table=INVENTORY, where=stale_row_of_an_earlier_account),
        reads("extra", "Scan", table=INVENTORY, where=cleanup_scan_of_an_earlier_account),
        body_fields_differ("staleRecordsDeleted", where=stale_count_is_the_deletes),
    ),
    scenarios=("stale-cleanup-multi-account",),
    answers=answers_for_earlier_accounts,
)
DEFECT_2 = ApprovedDivergence(
    name="defect-2-no-cleanup-after-failed-assume-role",
    defect=2,
    description="an account whose AssumeRole failed keeps its inventory rows",
    matcher=any_of(
        writes("missing", "DeleteItem", table=INVENTORY, where=row_of_a_failed_account),
        reads("missing", "Scan", table=INVENTORY, where=cleanup_scan_of_a_failed_account),
        body_fields_differ("staleRecordsDeleted", where=nothing_deleted),
    ),
    scenarios=("assume-role-fails-last",),
)
DEFECT_3 = ApprovedDivergence(
    name="defect-3-no-synced-account-is-a-200",
    defect=3,
    description="with no account synced the sync answers 200 with zero counts instead of raising UnboundLocalError",
    matcher=outputs(empty_sync_instead_of_unbound_local),
    scenarios=("no-target-accounts",),
)


@pytest.fixture(scope="module")
def stale_multi() -> Cassette:
    """Two accounts each leave a stale row; the legacy removes only the last account's (defect 1)."""
    return read_golden(STALE_MULTI)


# The defect-1 fix, with and without its approval ---------------------------------------------------------------


def test_the_defect_1_fix_without_an_approval_is_divergent_and_its_new_scan_unrecorded(stale_multi: Cassette) -> None:
    verdict = judge(stale_multi, CLEANUP_EVERY_ACCOUNT, registry=())

    assert verdict.verdict == "DIVERGENT"
    assert not verdict.passed
    assert verdict.covered == ()
    unrecorded = [difference for difference in verdict.uncovered if difference.kind == "unrecorded"]
    assert unrecorded and unrecorded[0].summary == "unrecorded call: dynamodb Scan in us-east-1 as hub"


def test_the_defect_1_fix_with_its_approval_passes_and_names_it(stale_multi: Cassette) -> None:
    verdict = judge(stale_multi, CLEANUP_EVERY_ACCOUNT, registry=(DEFECT_1,))

    assert verdict.uncovered == ()
    assert verdict.verdict == "approved"
    assert verdict.label == "approved (defect-1-cleanup-every-account)"
    covered = verdict.covered_by(DEFECT_1.name)
    assert sorted((d.kind, d.change, d.operation) for d in covered) == [
        ("output", "changed", None),
        ("read", "extra", "Scan"),
        ("write", "extra", "DeleteItem"),
    ]
    [delete] = [d for d in covered if d.operation == "DeleteItem"]
    assert dynamodb_item(delete.candidate["params"]["Key"])["sourceServerArn"].endswith("s-00000000000000f01")


def test_replay_exits_1_without_the_approval_and_0_with_it_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(divergences, "APPROVED", ())  # an empty registry: nothing approved
    assert main(["replay", "--golden", str(STALE_MULTI), "--impl", CLEANUP_EVERY_ACCOUNT]) == 1
    assert ": DIVERGENT" in capsys.readouterr().out

    monkeypatch.setattr(divergences, "APPROVED", (DEFECT_1,))
    report = tmp_path / "replay.md"
    code = main(["replay", "--golden", str(STALE_MULTI), "--impl", CLEANUP_EVERY_ACCOUNT, "--report", str(report)])

    assert code == 0
    out = capsys.readouterr().out
    assert "equivalent with approved divergences: defect-1-cleanup-every-account" in out
    assert "approved defect-1-cleanup-every-account (defect 1): 3 differences covered" in out
    assert "extra write #7 (candidate): dynamodb DeleteItem in us-east-1 as hub" in out
    markdown = report.read_text(encoding="utf-8")
    assert "approved (defect-1-cleanup-every-account)" in markdown
    assert "- **defect-1-cleanup-every-account** (defect 1, 3 differences)" in markdown


def test_the_gate_exits_0_with_the_approval_listing_it_and_1_without(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for golden in (STALE_MULTI, BASIC):
        shutil.copy(golden, tmp_path / golden.name)
    gate = ["gate", "--golden-dir", str(tmp_path), "--impl", CLEANUP_EVERY_ACCOUNT]
    monkeypatch.setattr(divergences, "APPROVED", ())  # an empty registry: nothing approved

    assert main(gate) == 1
    assert "gate: 1 of 2 goldens equivalent for impl" in capsys.readouterr().out

    monkeypatch.setattr(divergences, "APPROVED", (DEFECT_1,))
    report = tmp_path / "gate.md"
    assert main([*gate, "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "approved (defect-1-cleanup-every-account)" in out
    assert "gate: 1 of 2 goldens equivalent, 1 with approved divergences (defect-1-cleanup-every-account)" in out
    markdown = report.read_text(encoding="utf-8")
    assert "— all pass, 1 of 2 with approved divergences" in markdown
    assert "### Approved divergences" in markdown


def test_an_unrelated_change_next_to_the_approved_fix_still_fails_and_is_the_only_one_reported(
    stale_multi: Cassette,
) -> None:
    candidate = f"{CANDIDATES}:cleanup_every_account_without_region_status_puts"
    verdict = judge(stale_multi, candidate, registry=(DEFECT_1,))

    assert verdict.verdict == "DIVERGENT"
    assert [(d.kind, d.change, d.operation, d.table) for d in verdict.uncovered] == [
        ("write", "missing", "PutItem", "drs-region-status")
    ] * 2
    assert {d.operation for d in verdict.covered_by(DEFECT_1.name)} == {"DeleteItem", "Scan", None}
    [row] = run_gate(candidate, [STALE_MULTI], registry=(DEFECT_1,))
    report = row.describe()
    assert report.count("[write] missing write #") == 2
    assert "DeleteItem" not in report.split("approved defect-1")[0]


def test_a_changed_item_field_next_to_the_approved_fix_is_unrecorded_on_replay_and_fails(stale_multi: Cassette) -> None:
    verdict = judge(stale_multi, f"{CANDIDATES}:cleanup_every_account_renaming_hosts", registry=(DEFECT_1,))

    assert verdict.verdict == "DIVERGENT"
    [unrecorded, *_] = verdict.uncovered
    assert unrecorded.summary == "unrecorded call: dynamodb BatchWriteItem in us-east-1 as hub"
    assert any("now 'renamed-host'" in detail for detail in unrecorded.details)


def test_an_approval_whose_matcher_does_not_match_leaves_the_fix_failing(stale_multi: Cassette) -> None:
    only_the_last_account = ApprovedDivergence(
        name="defect-1-wrong-account",
        defect=1,
        description="deletes rows of the last account (not what the fix does)",
        matcher=writes(
            "extra", "DeleteItem", table=INVENTORY, where=lambda view, _: deleted_row_account(view["params"]) == STAGING
        ),
        scenarios=("stale-cleanup-multi-account",),
        answers=answers_for_earlier_accounts,
    )

    verdict = judge(stale_multi, CLEANUP_EVERY_ACCOUNT, registry=(only_the_last_account,))

    assert verdict.verdict == "DIVERGENT"
    assert verdict.covered == ()
    assert {d.kind for d in verdict.uncovered} == {"output", "write", "read"}


def test_an_approval_for_other_goldens_neither_answers_nor_covers(stale_multi: Cassette) -> None:
    elsewhere = ApprovedDivergence(
        name="defect-1-elsewhere",
        defect=1,
        description="scoped to another scenario",
        matcher=lambda difference, context: True,
        scenarios=("some-other-scenario",),
        answers=answers_for_earlier_accounts,
    )

    verdict = judge(stale_multi, CLEANUP_EVERY_ACCOUNT, registry=(elsewhere,))

    assert verdict.verdict == "DIVERGENT"
    assert verdict.divergences == ()
    assert any(difference.kind == "unrecorded" for difference in verdict.uncovered)


def test_a_fix_making_new_calls_with_no_declared_answer_stays_unrecorded_and_says_what_to_do(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    no_answers = ApprovedDivergence(
        name="defect-1-no-answers",
        defect=1,
        description="covers the change but declares no answer for the new calls",
        matcher=DEFECT_1.matcher,
        scenarios=("stale-cleanup-multi-account",),
    )
    monkeypatch.setattr(divergences, "APPROVED", (no_answers,))

    assert main(["replay", "--golden", str(STALE_MULTI), "--impl", CLEANUP_EVERY_ACCOUNT]) == 1
    out = capsys.readouterr().out
    assert "[unrecorded] unrecorded call: dynamodb Scan in us-east-1 as hub" in out
    assert "must declare its answer: ApprovedDivergence.answers" in out


# Defects 2 and 3: fixes that make fewer calls, or change only the outputs --------------------------------------


def test_the_defect_2_fix_keeps_the_failed_accounts_rows_and_passes_only_with_its_approval() -> None:
    golden = read_golden(FAILS_LAST)
    candidate = f"{CANDIDATES}:skip_cleanup_after_failed_assume_role"

    assert judge(golden, candidate, registry=()).verdict == "DIVERGENT"
    verdict = judge(golden, candidate, registry=(DEFECT_1, DEFECT_2, DEFECT_3))

    assert verdict.label == "approved (defect-2-no-cleanup-after-failed-assume-role)"
    covered = verdict.covered_by(DEFECT_2.name)
    assert sorted((d.kind, d.change, d.operation) for d in covered) == [
        ("output", "changed", None),
        ("read", "missing", "Scan"),
        ("write", "missing", "DeleteItem"),
        ("write", "missing", "DeleteItem"),
    ]
    assert {deleted_row_account(d.golden["params"]) for d in covered if d.operation == "DeleteItem"} == {STAGING}


def test_the_defect_3_fix_answers_200_and_passes_only_with_its_approval() -> None:
    golden = read_golden(NO_TARGETS)
    candidate = f"{CANDIDATES}:succeed_with_no_synced_account"

    unapproved = judge(golden, candidate, registry=(DEFECT_1, DEFECT_2))
    assert unapproved.verdict == "DIVERGENT"
    assert [d.kind for d in unapproved.uncovered] == ["output"]

    verdict = judge(golden, candidate, registry=(DEFECT_3,))
    assert verdict.label == "approved (defect-3-no-synced-account-is-a-200)"
    assert verdict.comparison.calls == 2


def test_the_legacy_needs_no_approval_and_unused_approvals_change_nothing() -> None:
    rows = run_gate("legacy", [STALE_MULTI, FAILS_LAST, NO_TARGETS], registry=(DEFECT_1, DEFECT_2, DEFECT_3))

    assert [row.verdict for row in rows] == ["equivalent"] * 3
    assert all(row.passed and not row.approved for row in rows)


# The registry and the fine-grained differences it matches -----------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"name": "Defect 1"}, "the name must be a slug"),
        ({"defect": 12}, "defect 12 is not one of LEGACY_CONTRACT.md's 1-11"),
        ({"description": " "}, "describe the approved behaviour"),
    ],
)
def test_a_divergence_without_a_slug_a_contract_defect_or_a_description_is_refused(
    fields: dict[str, Any], problem: str
) -> None:
    valid = {"name": "defect-1-x", "defect": 1, "description": "why", "matcher": lambda d, c: True}

    with pytest.raises(RegistryError, match=problem):
        ApprovedDivergence(**{**valid, **fields})


def test_a_registry_naming_a_divergence_twice_is_refused_and_the_production_one_is_valid() -> None:
    with pytest.raises(RegistryError, match="'defect-1-cleanup-every-account' is registered twice"):
        validate_registry((DEFECT_1, DEFECT_1))
    assert divergences.APPROVED is None
    assert divergences.approved_divergences() == registered_divergences()


def test_an_unrecorded_call_is_never_covered_even_by_a_matcher_accepting_everything(stale_multi: Cassette) -> None:
    everything = ApprovedDivergence("defect-1-anything", 1, "accepts anything", lambda difference, context: True)
    unrecorded = Difference("unrecorded", "unrecorded call: dynamodb Scan in us-east-1 as hub")

    assert not everything.covers(unrecorded, DivergenceContext(stale_multi))
    assert everything.covers(Difference("output", "the outputs differ"), DivergenceContext(stale_multi))


def test_declared_answers_are_appended_to_a_copy_used_only_for_answering(stale_multi: Cassette) -> None:
    original = copy.deepcopy(stale_multi.interactions)

    answered = answered_cassette(stale_multi, (DEFECT_1,))

    assert stale_multi.interactions == original
    extra = answered.interactions[len(original) :]
    assert [(i.operation, i.response) for i in extra][1] == (
        "DeleteItem",
        {"ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}},
    )
    assert cleanup_scan_account(extra[0].params) == PROD
    assert answered_cassette(stale_multi, (DEFECT_2,)) is stale_multi


def as_observed(interactions: list[Interaction]) -> list[ObservedCall]:
    """Interactions as a candidate that made exactly them would be observed."""
    return [
        ObservedCall(i.service, i.region, i.identity, i.operation, copy.deepcopy(i.params), index)
        for index, i in enumerate(interactions)
    ]


def test_each_missing_extra_or_changed_write_is_its_own_part_with_both_sides(stale_multi: Cassette) -> None:
    calls = as_observed(stale_multi.interactions)
    delete = next(index for index, call in enumerate(calls) if call.operation == "DeleteItem")
    put = next(index for index, call in enumerate(calls) if call.operation == "PutItem")
    batch = next(index for index, call in enumerate(calls) if call.operation == "BatchWriteItem")
    calls[put].params["Item"]["status"] = {"S": "ERROR"}
    calls[delete] = copy.deepcopy(calls[batch])

    [write] = compare(stale_multi, calls, stale_multi.outputs, []).differences

    assert write.summary == "write #1 differs"  # the aggregate keeps its wording
    assert [(part.change, part.operation) for part in write.parts] == [
        ("changed", "PutItem"),
        ("missing", "DeleteItem"),
        ("extra", "BatchWriteItem"),
    ]
    changed, missing, extra = write.parts
    assert changed.table == "drs-region-status"
    assert (changed.golden["position"], changed.candidate["position"]) == (0, 0)
    assert "root['Item']['status']['S']: recorded 'AVAILABLE', now 'ERROR'" in changed.details
    assert missing.candidate is None and missing.golden["index"] == delete
    assert stale_multi.interactions[missing.golden["index"]].operation == "DeleteItem"
    assert extra.golden is None and (extra.candidate["index"], extra.candidate["position"]) == (delete, 6)
    assert all(is_write(part.operation or "") for part in write.parts)


def test_each_missing_or_extra_read_occurrence_is_its_own_part(stale_multi: Cassette) -> None:
    calls = as_observed(stale_multi.interactions)
    identities = [index for index, call in enumerate(calls) if call.operation == "GetCallerIdentity"]
    calls.append(copy.deepcopy(calls[0]))
    for index in reversed(identities[:2]):
        del calls[index]

    missing, extra = compare(stale_multi, calls, stale_multi.outputs, []).differences

    assert (missing.change, extra.change) == ("missing", "extra")
    assert [(p.change, p.operation) for p in missing.parts] == [("missing", "GetCallerIdentity")] * 2
    assert [(p.change, p.operation, p.table) for p in extra.parts] == [("extra", "Scan", "drs-region-status")]
    assert extra.parts[0].candidate["index"] == len(calls) - 1
    assert missing.to_dict() == {"kind": "read", "summary": missing.summary, "details": list(missing.details)}


def test_triage_reports_a_difference_whole_when_none_of_its_parts_is_covered(stale_multi: Cassette) -> None:
    calls = as_observed(stale_multi.interactions)
    calls.append(copy.deepcopy(calls[0]))
    comparison = compare(stale_multi, calls, stale_multi.outputs, [])
    context = DivergenceContext(stale_multi, tuple(calls), stale_multi.outputs)

    result = triage(comparison, (DEFECT_1,), context)

    assert result.uncovered == comparison.differences
    assert result.verdict == "DIVERGENT"
