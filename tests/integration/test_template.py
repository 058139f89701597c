"""template.yaml, the SAM deployment: cfn-lint clean, the contract's tables, and a role that allows exactly the sync.

The actions the role must grant are not listed by hand: they are every call the sync makes with the function's own
credentials in the recorded goldens and in a fresh run of the refactored sync. Calls made under an assumed
target-account role are that role's business, not this template's.
"""

import fnmatch
import json
from collections import defaultdict
from typing import Any

import pytest
from cfnlint.api import lint_file
from cfnlint.decode import cfn_yaml

from deploy.build_lambda import DEFAULT_OUTPUT
from harness.cassette import HUB_IDENTITY, Interaction
from harness.golden import GOLDEN_DIR, read_golden
from harness.impls import SYNC_EVENT
from harness.lambda_env import REPO_ROOT, cold_start, import_lambda_module
from harness.runner import run_scenario
from harness.world.scenario import load_scenario

TEMPLATE = REPO_ROOT / "template.yaml"
FUNCTION = "QueryHandlerFunction"
ROLE = "QueryHandlerRole"
TABLE_ENV_VARS = ("SOURCE_SERVER_INVENTORY_TABLE", "TARGET_ACCOUNTS_TABLE", "DRS_REGION_STATUS_TABLE")
# Granted although the sync never calls them through boto3: the Lambda runtime writes the function's logs.
JUSTIFIED_EXTRA_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents"}
# Error codes of requests AWS rejects before any authorization decision.
REJECTED_AS_MALFORMED = {"ValidationError"}

# The key schemas of LEGACY_CONTRACT.md, by the environment variable that names each table.
CONTRACT_TABLES: dict[str, dict[str, Any]] = {
    "SOURCE_SERVER_INVENTORY_TABLE": {
        "keys": {"sourceServerArn": "HASH", "stagingAccountId": "RANGE"},
        "indexes": {
            "SourceAccountIndex": {"sourceAccountId": "HASH", "sourceServerArn": "RANGE"},
            "StagingAccountIndex": {"stagingAccountId": "HASH", "sourceServerArn": "RANGE"},
        },
    },
    "TARGET_ACCOUNTS_TABLE": {"keys": {"accountId": "HASH"}, "indexes": {}},
    "DRS_REGION_STATUS_TABLE": {"keys": {"region": "HASH"}, "indexes": {}},
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    """template.yaml as CloudFormation sees it: short-form tags (!Ref, !GetAtt, !Sub) in their long form."""
    return cfn_yaml.load(str(TEMPLATE))


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Logical id -> properties of every resource of `resource_type`."""
    return {
        name: resource.get("Properties", {})
        for name, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def function_properties(template: dict[str, Any]) -> dict[str, Any]:
    """The query handler function's properties."""
    resource = template["Resources"][FUNCTION]
    assert resource["Type"] == "AWS::Serverless::Function"
    return resource["Properties"]


def table_logical_ids(template: dict[str, Any]) -> dict[str, str]:
    """Environment variable -> logical id of the table the function's environment names with it."""
    variables = function_properties(template)["Environment"]["Variables"]
    return {env: variables[env]["Ref"] for env in TABLE_ENV_VARS}


def statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement of every IAM policy document anywhere in the template (trust policies included)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            statement = node.get("Statement")
            if statement is not None and "Version" in node:
                found.extend(statement if isinstance(statement, list) else [statement])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(template["Resources"])
    return found


def as_list(value: Any) -> list[Any]:
    """A policy field that may be a single value or a list, as a list."""
    return value if isinstance(value, list) else [value]


def role_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements of the function role's inline policies."""
    role = template["Resources"][ROLE]["Properties"]
    return [statement for policy in role["Policies"] for statement in as_list(policy["PolicyDocument"]["Statement"])]


def resolve_resource(resource: Any, template: dict[str, Any]) -> str:
    """A statement resource as a pattern: table ARNs by logical id, `Fn::Sub` with the parameter defaults."""
    if isinstance(resource, str):
        return resource
    if "Fn::GetAtt" in resource:
        logical, attribute = resource["Fn::GetAtt"]
        assert attribute == "Arn", resource
        return f"<{logical}.Arn>"
    if "Fn::Sub" in resource:
        text = resource["Fn::Sub"]
        substitutions = {"AWS::Partition": "aws"}
        substitutions.update({name: str(p.get("Default")) for name, p in template.get("Parameters", {}).items()})
        for name, value in substitutions.items():
            text = text.replace("${" + name + "}", value)
        return text
    raise AssertionError(f"unexpected resource form {resource!r}")


def needs_permission(interaction: Interaction) -> bool:
    """Whether the function's role must allow this call: made with its own credentials, and well-formed.

    A request AWS rejects as malformed (`ValidationError`, e.g. AssumeRole of a target row whose roleArn is not an
    ARN) fails whatever the policy says; granting it is neither needed nor possible.
    """
    return interaction.identity == HUB_IDENTITY and (interaction.error or {}).get("code") not in REJECTED_AS_MALFORMED


def hub_calls() -> list[tuple[Interaction, dict[str, str | None]]]:
    """Every call made with the function's own credentials: in each golden, and in a fresh refactored run."""
    calls: list[tuple[Interaction, dict[str, str | None]]] = []
    for path in sorted(GOLDEN_DIR.glob("*.json*")):
        if "@" in path.name:  # the other schedules of a scenario make the same calls in another order
            continue
        cassette = read_golden(path)
        environment = cassette.header["environment"]
        calls.extend((i, environment) for i in cassette.interactions if needs_permission(i))
    scenario = load_scenario(REPO_ROOT / "scenarios" / "demo-two-accounts.yaml")
    report = run_scenario(scenario, "refactored")
    calls.extend((i, scenario.environment()) for i in report.interactions if needs_permission(i))
    return calls


def required_grants(template: dict[str, Any]) -> dict[str, set[str]]:
    """IAM action -> resources (as `resolve_resource` writes them) the sync needs it on, from recorded calls."""
    logical_by_env = table_logical_ids(template)
    needed: dict[str, set[str]] = defaultdict(set)
    for interaction, environment in hub_calls():
        action = f"{interaction.service}:{interaction.operation}"
        if interaction.service == "dynamodb":
            env_by_table = {name: env for env, name in environment.items() if env in TABLE_ENV_VARS and name}
            params = interaction.params
            tables = list(params["RequestItems"]) if "RequestItems" in params else [params["TableName"]]
            for table in tables:
                assert table in env_by_table, f"{action} on {table!r}, a table the environment does not name"
                needed[action].add(f"<{logical_by_env[env_by_table[table]]}.Arn>")
        elif action == "sts:AssumeRole":
            needed[action].add(interaction.params["RoleArn"])
        else:
            needed[action].add("*")
    return needed


def test_cfn_lint_finds_nothing():
    matches = lint_file(TEMPLATE)
    assert [f"{match.rule.id} {match.message} (line {match.linenumber})" for match in matches] == []


def test_no_iam_statement_uses_an_action_wildcard_or_a_negation(template):
    found = statements(template)
    assert len(found) >= 2  # the trust policy and the role's permissions
    for statement in found:
        assert statement["Effect"] == "Allow", statement
        assert "NotAction" not in statement and "NotResource" not in statement, statement
        for action in as_list(statement["Action"]):
            assert isinstance(action, str) and "*" not in action and "?" not in action, statement
    # No policy the test cannot read: no managed policies on the role, no SAM policy templates on the function.
    assert "ManagedPolicyArns" not in template["Resources"][ROLE]["Properties"]
    assert "Policies" not in function_properties(template)
    assert resources_of_type(template, "AWS::IAM::Policy") == {}
    assert resources_of_type(template, "AWS::IAM::ManagedPolicy") == {}


def test_the_tables_have_the_contracts_key_schemas(template):
    tables = resources_of_type(template, "AWS::DynamoDB::Table")
    logical_by_env = table_logical_ids(template)
    assert set(tables) == set(logical_by_env.values())
    for env, contract in CONTRACT_TABLES.items():
        table = tables[logical_by_env[env]]
        assert {key["AttributeName"]: key["KeyType"] for key in table["KeySchema"]} == contract["keys"], env
        assert [key["KeyType"] for key in table["KeySchema"]] == list(contract["keys"].values()), env
        indexes = {
            index["IndexName"]: {key["AttributeName"]: key["KeyType"] for key in index["KeySchema"]}
            for index in table.get("GlobalSecondaryIndexes", [])
        }
        assert indexes == contract["indexes"], env
        assert all(
            index["Projection"] == {"ProjectionType": "ALL"} for index in table.get("GlobalSecondaryIndexes", [])
        )
        key_attributes = set(contract["keys"]).union(*(set(keys) for keys in contract["indexes"].values()))
        assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == dict.fromkeys(
            key_attributes, "S"
        ), env
        assert table["BillingMode"] == "PAY_PER_REQUEST", env
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, env
        assert table["SSESpecification"] == {"SSEEnabled": True}, env
        assert template["Resources"][logical_by_env[env]]["DeletionPolicy"] == "Retain", env


def test_the_function_runs_the_packaged_handler_on_python312(template):
    function = function_properties(template)
    assert function["Handler"] == "index.lambda_handler"
    assert function["Runtime"] == "python3.12"
    assert function["Architectures"] == ["x86_64"]  # the package's compiled wheels are manylinux x86_64
    assert function["Timeout"] == 900
    # The bench's recommendation (bench/results.json "recommendation"): the cheapest size within 10% of the fastest
    # refactored replay under Lambda's CPU share.
    recommendation = json.loads((REPO_ROOT / "bench" / "results.json").read_text(encoding="utf-8"))["recommendation"]
    assert function["MemorySize"] == recommendation["memory_mb"]
    assert function["CodeUri"] == DEFAULT_OUTPUT.relative_to(REPO_ROOT).as_posix()
    assert function["Role"] == {"Fn::GetAtt": [ROLE, "Arn"]}


def test_the_environment_names_the_tables_and_the_implementation_flag(template):
    variables = function_properties(template)["Environment"]["Variables"]
    assert set(variables) == {*TABLE_ENV_VARS, "INVENTORY_SYNC_IMPL", "INVENTORY_SYNC_SHADOW_BUDGET_S"}
    assert variables["INVENTORY_SYNC_IMPL"] == {"Ref": "InventorySyncImpl"}
    with cold_start({"AWS_DEFAULT_REGION": "us-east-1"}):
        index = import_lambda_module("index")
        accepted = set(index._inventory_sync_implementations())
        default = index.DEFAULT_INVENTORY_SYNC_IMPL
    parameter = template["Parameters"]["InventorySyncImpl"]
    assert set(parameter["AllowedValues"]) == accepted == {"legacy", "refactored", "shadow"}
    assert parameter["Default"] == default == "refactored"


def test_the_shadow_budget_defaults_to_the_codes_and_stays_well_inside_the_timeout(template):
    from harness.shadow import BUDGET_ENV, DEFAULT_BUDGET_S

    variables = function_properties(template)["Environment"]["Variables"]
    assert variables[BUDGET_ENV] == {"Ref": "ShadowBudgetSeconds"}
    parameter = template["Parameters"]["ShadowBudgetSeconds"]
    assert float(parameter["Default"]) == DEFAULT_BUDGET_S
    assert (
        0
        < float(parameter["MinValue"])
        <= float(parameter["MaxValue"])
        <= function_properties(template)["Timeout"] * 2 / 3
    )


def test_an_alarm_watches_the_failure_metric_the_handler_publishes(template):
    from shared.operations_log import FAILURE_METRIC, METRIC_NAMESPACE, failure_metric_record

    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
    [alarm] = [alarm for alarm in alarms.values() if alarm["MetricName"] == FAILURE_METRIC]
    assert alarm["Namespace"] == METRIC_NAMESPACE
    # The alarm's dimensions are exactly the EMF record's, valued with the function's name (the runtime's
    # AWS_LAMBDA_FUNCTION_NAME), or CloudWatch would file the metric under another series.
    [directive] = failure_metric_record()["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == METRIC_NAMESPACE
    assert [[dimension["Name"] for dimension in alarm["Dimensions"]]] == directive["Dimensions"] == [["FunctionName"]]
    assert alarm["Dimensions"][0]["Value"] == {"Ref": FUNCTION}
    # One failed run (a sum of 1 over one 15-minute schedule period) fires it; no data is no failure.
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Sum",
        1,
        "GreaterThanOrEqualToThreshold",
    )
    assert alarm["Period"] == 900 and alarm["EvaluationPeriods"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"


def test_the_sync_runs_every_15_minutes_with_the_sync_event(template):
    events = function_properties(template)["Events"]
    assert [event["Type"] for event in events.values()] == ["Schedule"]
    [schedule] = [event["Properties"] for event in events.values()]
    assert schedule["Schedule"] == "rate(15 minutes)"
    assert json.loads(schedule["Input"]) == SYNC_EVENT
    assert schedule.get("Enabled", True) is True


def test_the_role_allows_exactly_the_calls_the_sync_makes_on_exactly_its_resources(template):
    role = template["Resources"][ROLE]["Properties"]
    trust = as_list(role["AssumeRolePolicyDocument"]["Statement"])
    assert trust == [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]

    granted: dict[str, set[str]] = defaultdict(set)
    for statement in role_statements(template):
        for action in as_list(statement["Action"]):
            granted[action].update(resolve_resource(resource, template) for resource in as_list(statement["Resource"]))

    needed = required_grants(template)
    assert {"dynamodb:BatchWriteItem", "sts:AssumeRole", "drs:DescribeSourceServers"} <= set(needed)
    for action, resources in sorted(needed.items()):
        for resource in sorted(resources):
            assert any(fnmatch.fnmatchcase(resource, pattern) for pattern in granted.get(action, ())), (
                f"{action} on {resource} is not granted (granted: {sorted(granted.get(action, ()))})"
            )
    # Nothing more: no action the sync does not call, and no table action on a table the sync does not use it on.
    assert set(granted) - set(needed) == JUSTIFIED_EXTRA_ACTIONS
    for action, resources in granted.items():
        if action.startswith("dynamodb:"):
            assert resources == needed[action], action
        elif action == "sts:AssumeRole":
            assert resources == {"arn:aws:iam::*:role/DRSOrchestrationRole"}
    assert granted["logs:PutLogEvents"] == granted["logs:CreateLogStream"] == {"<QueryHandlerLogGroup.Arn>"}


def test_the_log_group_is_the_functions_own(template):
    log_group = template["Resources"]["QueryHandlerLogGroup"]["Properties"]
    function = function_properties(template)
    assert log_group["LogGroupName"] == {"Fn::Sub": "/aws/lambda/" + function["FunctionName"]["Fn::Sub"]}
