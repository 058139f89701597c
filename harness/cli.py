"""Command line: `world serve`, `run`, `sync`, `record`, `replay`, `diff`, `gate`.

Exit codes: 0 success (equivalent, approved, recorded); 1 a golden DIVERGENT, STALE or EDITED, or a live run that
failed and was not recorded; 2 bad input (a refused golden or scenario, an unknown implementation, a live setup that
cannot start), with one line naming the file or the field.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.botocore_cache import share_botocore_loader
from harness.divergences import RegistryError
from harness.filters import SecretFound
from harness.golden import GoldenError
from harness.impls import IMPL_HELP, ImplError
from harness.report import GateRow, describe_triage
from harness.scheduling import Schedule
from harness.world.scenario import ScenarioError, load_scenario

EXIT_OK, EXIT_DIVERGENT, EXIT_BAD_INPUT = 0, 1, 2


class BadInput(Exception):
    """Input the user must fix: the message says what and where."""


def build_parser() -> argparse.ArgumentParser:
    """The `python -m harness` argument parser."""
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    world = commands.add_parser("world", help="the local AWS")
    world_commands = world.add_subparsers(dest="world_command", required=True)
    serve = world_commands.add_parser("serve", help="serve a scenario on 127.0.0.1 until SIGINT/SIGTERM")
    serve.add_argument("--scenario", required=True, help="scenario YAML file")
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")

    run = commands.add_parser("run", help="run an implementation on a fresh in-process world")
    run.add_argument("--scenario", required=True, help="scenario YAML file")
    run.add_argument("--impl", required=True, help=IMPL_HELP)
    run.add_argument("--schedule", default="submission", help="submission (default), reverse or seed:N")
    run.add_argument("--json", action="store_true", help="print one JSON object: result, tables, calls")

    sync = commands.add_parser("sync", help="serve a scenario and run the Lambda handler against it over HTTP")
    sync.add_argument("--scenario", required=True, help="scenario YAML file")

    record = commands.add_parser("record", help="record a golden (from the legacy by default)")
    source = record.add_mutually_exclusive_group(required=True)
    source.add_argument("--scenario", help="scenario YAML file, recorded on a fresh in-process local AWS")
    source.add_argument("--live", action="store_true", help="record against the AWS the environment points at")
    record.add_argument("--out", required=True, help="golden file to write")
    record.add_argument("--impl", default="legacy", help=IMPL_HELP)
    record.add_argument("--schedule", default="submission", help="submission (default), reverse or seed:N")
    record.add_argument(
        "--anonymize",
        "--anonymize-accounts",
        dest="anonymize",
        action="store_true",
        help="map account ids, ExternalIds, host names, FQDNs, IPs, MACs and instance ids to stable fakes",
    )
    record.add_argument(
        "--keep-failed",
        action="store_true",
        help="with --live: write the golden even when the run raised, answered other than 200 or made no AWS call",
    )
    record.add_argument("--name", default="live", help="scenario name written in a live golden's header")

    replay = commands.add_parser("replay", help="replay a golden into an implementation and compare")
    replay.add_argument("--golden", required=True, help="golden file")
    replay.add_argument("--impl", required=True, help=IMPL_HELP)
    replay.add_argument("--schedule", default=None, help="defaults to the schedule the golden was recorded under")
    replay.add_argument("--report", default=None, help="also write the report as Markdown to this file")

    diff = commands.add_parser("diff", help="compare two goldens (A as expected, B as actual)")
    diff.add_argument("golden_a")
    diff.add_argument("golden_b")

    approve = commands.add_parser("approve", help="record a golden's approved record from the refactored sync")
    approve.add_argument("--golden", required=True, help="legacy golden file (its record goes to approved/ beside it)")
    approve.add_argument(
        "--answers",
        default=None,
        help="a recording answering the calls the golden lacks (default: "
        "the refactored sync recorded on the golden's scenario)",
    )
    gate = commands.add_parser("gate", help="replay every golden in golden/ into an implementation")
    gate.add_argument("--impl", default="refactored", help=IMPL_HELP + " (default: refactored)")
    gate.add_argument("--report", default=None, help="write the gate report as Markdown to this file")
    gate.add_argument("--golden-dir", default=None, help="directory of goldens (default: golden/)")
    gate.add_argument("--junit", default=None, help="also write a JUnit XML file, one test case per golden")
    gate.add_argument(
        "--jobs", type=_positive, default=None, help="goldens judged at once, in worker processes (default: one a core)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the command, map failures to exit codes with a one-line reason."""
    share_botocore_loader()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    try:
        if args.command == "world":
            return _world_serve(args)
        if args.command == "run":
            return _run(args)
        if args.command == "sync":
            return _sync(args)
        if args.command == "record":
            return _record(args)
        if args.command == "replay":
            return _replay(args)
        if args.command == "diff":
            return _diff(args)
        if args.command == "approve":
            return _approve(args)
        if args.command == "gate":
            return _gate(args)
    except (BadInput, ScenarioError, ImplError, GoldenError, SecretFound, RegistryError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_BAD_INPUT


def _schedule(text: str) -> Schedule:
    """Parse --schedule, as bad input when it is not one of the accepted forms."""
    try:
        return Schedule.parse(text)
    except ValueError as error:
        raise BadInput(str(error)) from None


def _world_serve(args: argparse.Namespace) -> int:
    """`world serve`: serve the scenario until signalled."""
    from harness.world.server import serve

    serve(load_scenario(args.scenario), args.port, sys.stdout)
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    """`run`: one run on a fresh world, printed as JSON or as a short summary."""
    from harness.runner import run_scenario

    scenario = load_scenario(args.scenario)
    report = run_scenario(scenario, args.impl, _schedule(args.schedule))
    if args.json:
        print(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        print(summarize(report.to_json()))
    return EXIT_OK


def summarize(data: dict[str, object]) -> str:
    """A few lines for a person: the outcome, the counts in the body, and the size of each table."""
    lines = []
    if "exception" in data:
        lines.append(f"raised {data['exception']}")
    else:
        result = data.get("result")
        body = result.get("body") if isinstance(result, dict) else None
        status = result.get("statusCode") if isinstance(result, dict) else None
        lines.append(f"status {status}: {body}" if status is not None else f"returned {result}")
    tables = data.get("tables")
    if isinstance(tables, dict):
        lines.append("tables: " + ", ".join(f"{name} {len(rows)} rows" for name, rows in tables.items()))
    lines.append(f"AWS calls: {data.get('calls')}")
    return "\n".join(lines)


def _sync(args: argparse.Namespace) -> int:
    """`sync`: the handler over HTTP against a served scenario, summarised."""
    from harness.http_sync import summarize_sync, sync_over_http

    load_scenario(args.scenario)  # a bad scenario fails here, before a server starts
    print(summarize_sync(sync_over_http(Path(args.scenario))))
    return EXIT_OK


def _record(args: argparse.Namespace) -> int:
    """`record`: a golden from a scenario on the local AWS, or live (a failed live run: exit 1, nothing written)."""
    from harness.experiment import LiveSetupError, anonymize, record_live, record_scenario, recording_failure
    from harness.golden import write_golden

    out = Path(args.out)
    if out.is_dir():
        raise BadInput(f"{out}: is a directory; --out names the golden file to write (.json, or .json.gz to gzip)")
    if args.live:
        try:
            cassette = record_live(args.impl, anonymize_values=args.anonymize, name=args.name)
        except LiveSetupError as error:
            raise BadInput(f"record --live: {error}") from None
        failure = recording_failure(cassette)
        if failure is not None and not args.keep_failed:
            print(
                f"error: record --live: {failure}; no golden written to {out} (--keep-failed writes it anyway)",
                file=sys.stderr,
            )
            return EXIT_DIVERGENT
        if failure is not None:
            print(f"warning: record --live: {failure}; kept as asked (--keep-failed)", file=sys.stderr)
    else:
        cassette = record_scenario(load_scenario(args.scenario), args.impl, _schedule(args.schedule))
        if args.anonymize:
            cassette = anonymize(cassette)
    written = write_golden(cassette, out)
    print(f"recorded {len(cassette.interactions)} calls into {written}")
    return EXIT_OK


def _replay(args: argparse.Namespace) -> int:
    """`replay`: one golden into one implementation; exit 0 equivalent (or approved), 1 divergent, stale or edited."""
    from harness.gate import edited_row, judge_golden, stale_row
    from harness.golden import read_golden
    from harness.report import gate_markdown

    _require_impl(args.impl)
    path = Path(args.golden)
    cassette = read_golden(path)
    row = edited_row(path, cassette) or stale_row(path, cassette)
    if row is None:
        verdict = judge_golden(path, cassette, args.impl, schedule=_schedule(args.schedule) if args.schedule else None)
        row = GateRow.judged(path.name, cassette.header, verdict)
        print(describe_triage(f"{args.golden} replayed into {args.impl}", verdict))
    else:
        print(row.describe())
    if args.report:
        Path(args.report).write_text(gate_markdown([row], args.impl), encoding="utf-8")
    return EXIT_OK if row.passed else EXIT_DIVERGENT


def _approve(args: argparse.Namespace) -> int:
    """`approve`: record a golden's approved record from the refactored sync; exit 1 when a change is unapproved."""
    from harness.approved.records import fixed_behaviour, make_record, record_summary, world_answers, write_record
    from harness.divergences import ApprovalError
    from harness.golden import read_golden

    path = Path(args.golden)
    golden = read_golden(path)
    try:
        answers = read_golden(Path(args.answers)) if args.answers else world_answers(golden)
        record = make_record(path, golden, fixed_behaviour(golden, answers))
    except ApprovalError as error:
        print(f"not approved: {error}", file=sys.stderr)
        return EXIT_DIVERGENT
    written = write_record(path, record)
    print(f"{written or 'no record (no change)'}: {record_summary(record)}")
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    """`diff`: what differs between two goldens; exit 0 when equivalent, 1 otherwise."""
    from harness.comparison import compare_cassettes
    from harness.golden import read_golden
    from harness.report import describe_comparison

    comparison = compare_cassettes(read_golden(Path(args.golden_a)), read_golden(Path(args.golden_b)))
    print(describe_comparison(f"{args.golden_b} against {args.golden_a}", comparison))
    return EXIT_OK if comparison.equivalent else EXIT_DIVERGENT


def _gate(args: argparse.Namespace) -> int:
    """`gate`: every golden into the implementation; a table, optionally Markdown and JUnit.

    Exit 0 when every golden passes, 2 when a golden cannot be used (ERROR), else 1 (DIVERGENT, STALE or EDITED).
    """
    from harness.gate import default_jobs, golden_paths, run_gate, stderr_progress
    from harness.golden import GOLDEN_DIR
    from harness.report import gate_junit, gate_markdown, gate_summary, gate_table

    _require_impl(args.impl)
    directory = Path(args.golden_dir) if args.golden_dir else GOLDEN_DIR
    if not directory.is_dir():
        raise BadInput(f"{directory}: not a directory of goldens (--golden-dir)")
    paths = golden_paths(directory)
    if not paths:
        raise BadInput(f"no goldens in {directory}: record them with `python -m harness record` (see README)")
    jobs = args.jobs if args.jobs is not None else default_jobs()
    logging.disable(logging.CRITICAL)  # the table is the gate's output; the code under test's own logs would bury it
    try:
        rows = run_gate(args.impl, paths, stderr_progress(), jobs=jobs)
    finally:
        logging.disable(logging.NOTSET)
    print(gate_table(rows))
    for row in rows:
        if row.verdict != "equivalent":
            print()
            print(row.describe())
    markdown = gate_markdown(rows, args.impl)
    if args.report:
        Path(args.report).write_text(markdown, encoding="utf-8")
    if args.junit:
        Path(args.junit).write_text(gate_junit(rows, args.impl), encoding="utf-8")
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as stream:
            stream.write(markdown)
    print(f"\n{gate_summary(rows, args.impl)}")
    if any(row.verdict == "ERROR" for row in rows):
        return EXIT_BAD_INPUT
    return EXIT_OK if all(row.passed for row in rows) else EXIT_DIVERGENT


def _positive(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value}")
    return value


def _require_impl(impl: str) -> None:
    """Fail as bad input, clearly, when the implementation cannot be resolved (naming the accepted forms)."""
    from harness.impls import resolve_impl
    from harness.lambda_env import cold_start
    from harness.replay_session import REPLAY_ENVIRONMENT

    # The Lambda's modules build boto3 clients at import: give them the replay credentials and a region to do so.
    with cold_start({"AWS_DEFAULT_REGION": "us-east-1", **REPLAY_ENVIRONMENT}):
        try:
            resolve_impl(impl)
        except ImplError as error:
            refactor_missing = impl == "refactored" and "no module named" in str(error)
            hint = " (the refactor has not landed yet: use --impl legacy, or IMPL=legacy with make)"
            raise BadInput(f"{error}{hint if refactor_missing else ''}") from None
