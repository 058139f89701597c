"""`mutation/results.json` and `mutation/report.md` from a run's results, with the survivors triaged.

Triage lives in `mutation/triage.json`, written by hand after reading the survivors: a list of entries
`{"function", "removed", "added", "verdict", "reason"}`, `function` as `results.function_of` names it (module and
function, `orchestrator.sync_accounts`). An entry applies to a surviving mutant of that function whose diff removes
and adds exactly those lines (whitespace-trimmed): mutmut's numbering shifts when a module changes, the lines a
mutation changes do not. A survivor no entry covers is reported as `untriaged`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.mutation.results import Mutant, Results, function_of, module_of
from harness.mutation.sampling import wilson_interval

TRIAGE_VERDICTS = ("equivalent", "gap")
# A triage entry's `removed` and `added` both set to this cover every mutant of its function.
FUNCTION_WIDE = "*"


def changed_lines(diff: str) -> tuple[str, str]:
    """The lines a unified diff removes and adds, each side whitespace-trimmed and joined with newlines."""
    removed, added = [], []
    for line in diff.splitlines():
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("-"):
            removed.append(line[1:].strip())
        elif line.startswith("+"):
            added.append(line[1:].strip())
    return "\n".join(removed), "\n".join(added)


def load_triage(path: Path) -> list[dict[str, str]]:
    """The hand-written triage entries (none when the file is missing); a malformed entry is an error naming it."""
    if not path.exists():
        return []
    entries = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a JSON list of triage entries")
    for index, entry in enumerate(entries):
        missing = [key for key in ("function", "removed", "added", "verdict", "reason") if key not in entry]
        if missing:
            raise ValueError(f"{path}: entry {index} lacks {', '.join(missing)}")
        if entry["verdict"] not in TRIAGE_VERDICTS:
            raise ValueError(f"{path}: entry {index}: verdict {entry['verdict']!r} is not one of {TRIAGE_VERDICTS}")
    return entries


def triage_line(mutant: Mutant, entries: list[dict[str, str]]) -> str:
    """The triage of one mutant the gate did not kill.

    An entry matches a mutant of its function whose diff removes and adds exactly its lines; an entry whose
    `removed` and `added` are both `*` covers every mutant of the function (a function the handler never runs).
    """
    removed, added = changed_lines(mutant.diff or "")
    for entry in entries:
        if entry["function"] != mutant.function:
            continue
        whole_function = entry["removed"] == entry["added"] == FUNCTION_WIDE
        if whole_function or (entry["removed"] == removed and entry["added"] == added):
            return f"{entry['verdict']}: {entry['reason']}"
    if mutant.status == "no tests":
        return "gap: no golden reaches this function"
    return "untriaged: read the diff, then add an entry to mutation/triage.json"


def apply_triage(results: Results, entries: list[dict[str, str]]) -> None:
    """Give every mutant the gate did not kill its triage line."""
    for mutant in results.not_killed:
        mutant.triage = triage_line(mutant, entries)


def sampled(results: Results, sample: dict[str, Any] | None) -> Results:
    """The results of the sampled mutants only (all of them when the run was not a sample)."""
    if not sample:
        return results
    chosen = set(sample["mutants"])
    return Results([mutant for mutant in results.mutants if mutant.name in chosen])


def score_interval(results: Results) -> list[float]:
    """The 95% Wilson interval of the score, [low, high]: killed (timeouts included) over the checked mutants."""
    checked = results.total - results.counts.get("not checked", 0)
    low, high = wilson_interval(results.killed, checked)
    return [round(low, 4), round(high, 4)]


def equivalent_count(results: Results) -> int:
    """The mutants the gate did not kill that are triaged equivalent (the handler behaves the same with them)."""
    return sum(1 for mutant in results.not_killed if (mutant.triage or "").startswith("equivalent:"))


def mutation_score(results: Results) -> tuple[float, list[float]]:
    """The mutation score as the field defines it, killed over the checked mutants less the equivalent ones,
    with its 95% Wilson interval."""
    checked = results.total - results.counts.get("not checked", 0) - equivalent_count(results)
    low, high = wilson_interval(results.killed, checked)
    return (results.killed / checked if checked else 0.0), [round(low, 4), round(high, 4)]


def results_document(results: Results, run: dict[str, Any]) -> dict[str, Any]:
    """results.json: the run's facts (`run`), the counts, the survivors with diff and triage, and every mutant.

    For a sample run every count, the score and the per-function table are over the sampled mutants.
    """
    triaged = Counter((mutant.triage or "").partition(":")[0] for mutant in results.not_killed)
    score, interval = mutation_score(results)
    return {
        **run,
        "mutants_total": results.total,
        "killed": results.counts.get("killed", 0),
        "timeout": results.counts.get("timeout", 0),
        "survived": results.counts.get("survived", 0),
        "no_tests": results.counts.get("no tests", 0),
        "not_checked": results.counts.get("not checked", 0),
        "other": {
            status: count
            for status, count in results.counts.items()
            if status not in ("killed", "timeout", "survived", "no tests", "not checked")
        },
        "score": round(results.score, 4),
        "score_reached": round(results.score_reached, 4),
        "score_interval": score_interval(results),
        "equivalent": equivalent_count(results),
        "mutation_score": round(score, 4),
        "mutation_score_interval": interval,
        "killed_by": results.killed_by(),
        "seconds_per_mutant": results.durations(),
        "not_killed_triage": dict(triaged),
        "survivors": [
            {
                "name": mutant.name,
                "function": mutant.function,
                "status": mutant.status,
                "triage": mutant.triage,
                "diff": mutant.diff,
            }
            for mutant in results.not_killed
        ],
        "limit_timeouts": [
            {"name": mutant.name, "function": mutant.function, "duration_s": mutant.duration_s, "diff": mutant.diff}
            for mutant in results.limit_timeouts
        ],
        "mutants": [
            {
                "name": mutant.name,
                "status": mutant.status,
                "duration_s": mutant.duration_s,
                "golden": mutant.golden,
                "how": mutant.how,
            }
            for mutant in results.mutants
        ],
    }


def sample_lines(document: dict[str, Any]) -> list[str]:
    """The paragraph saying the run was a sample, of how many, and what the score's interval is (none otherwise)."""
    sample = document.get("sample")
    if not sample:
        return []
    low, high = document["mutation_score_interval"]
    lines = [
        f"**This is a sample**: {sample['size']} of the package's {sample['total']} mutants, drawn at random (seed "
        f"{sample['seed']}) stratified by module and function: each of the {sample['functions']} functions (in "
        f"{sample['modules']} modules) in proportion to its mutants, and at least one "
        f"(`--sample {sample['requested']}`). Every figure below is over the "
        f"sample. Mutation score {document['mutation_score']:.1%}, 95% confidence interval {low:.1%} to {high:.1%} "
        "(Wilson).",
        "",
    ]
    if document["not_checked"]:
        lines[-1:-1] = [
            "",
            f"**Incomplete**: the budget ran out before {document['not_checked']} of the sampled mutants were "
            "checked; the score and interval are over the checked ones. mutmut took the mutants in a random order "
            "(`harness/mutation/launch.py`, the run's seed), so the checked ones are a random part of the sample, "
            "though no longer stratified.",
        ]
    return lines


def not_run_lines(document: dict[str, Any]) -> list[str]:
    """What is not mutated (the exclusions), then the goldens the mutation suite does not replay, and why."""
    lines = [f"- {line}" for line in document["exclusions"]]
    left_out = document.get("left_out_goldens")
    if left_out:
        names = ", ".join(f"`{name}`" for name in left_out["goldens"])
        lines.append(
            f"- goldens not run against the mutants (over {left_out['limit_mb']:g} MB on disk): {names}; "
            f"{left_out['reason']}"
        )
    return lines


def markdown_report(document: dict[str, Any]) -> str:
    """report.md: the headline figures, how mutants died, per-function counts, then every survivor's diff."""
    seconds = document["seconds_per_mutant"]
    low, high = document["score_interval"]
    score_low, score_high = document["mutation_score_interval"]
    mutants_row = f"| mutants | {document['mutants_total']} |"
    interval_rows = []
    if document.get("sample"):
        mutants_row = f"| mutants (sampled) | {document['mutants_total']} of {document['sample']['total']} |"
        interval_rows = [f"| 95% confidence interval of the score (Wilson) | {low:.1%} to {high:.1%} |"]
    lines = [
        "# Mutation testing: the gate against the `inventory_sync` package",
        "",
        f"Written by `{document['command']}` on {document['finished']}. Tool: {document['tool']} "
        f"{document['tool_version']}; {document['workers']} workers.",
        "",
        *sample_lines(document),
        "| | |",
        "| --- | --- |",
        f"| package mutated | `{document['file']}/` ({len(document['files'])} files, sha256 below) |",
        mutants_row,
        f"| killed (divergence or raise) | {document['killed']} |",
        f"| stopped at mutmut's limit (counted as killed) | {document['timeout']} |",
        f"| survived | {document['survived']} |",
        f"| no golden reaches the function | {document['no_tests']} |",
        f"| not checked (budget ran out, or not selected by `--mutant`) | {document['not_checked']} |",
        f"| other | {document['other'] or 'none'} |",
        f"| triaged equivalent (among those not killed) | {document['equivalent']} |",
        f"| **mutation score** (killed over checked, less the equivalent) | **{document['mutation_score']:.1%}** "
        f"(95% interval {score_low:.1%} to {score_high:.1%}) |",
        f"| score counting equivalent mutants as alive (killed + timeout over checked) | {document['score']:.1%} |",
        *interval_rows,
        f"| score over the mutants in functions a golden reaches | {document['score_reached']:.1%} |",
        f"| total duration | {document['duration_s']:.0f} s (mutants phase {document['mutants_phase_s']:.0f} s) |",
        f"| seconds per mutant (one worker) | mean {seconds['mean']}, median {seconds['median']}, "
        f"max {seconds['max']} |",
        "",
        "## How the killed mutants died",
        "",
        *[f"- {how}: {count}" for how, count in sorted(document["killed_by"].items())],
        "",
        "`divergent`: a golden's replay differs in a way no approved divergence covers; `raised`: the replay itself "
        "raised; `timeout`: a golden overran its deadline (8x its clean time, at least 5 s); "
        "`timeout (mutmut's limit)`: mutmut stopped the whole run of the mutant (listed below with their diffs).",
        "",
        "## Files mutated",
        "",
        "Each file as it was copied into the scratch copy (the real files are only read):",
        "",
        "| file | sha256 |",
        "| --- | --- |",
        *[f"| `{path}` | `{digest}` |" for path, digest in sorted(document["files"].items())],
        "",
        "## What is not mutated or not run",
        "",
        *not_run_lines(document),
        "",
        "## Per module",
        "",
        *module_table(document),
        "",
        "## Per function",
        "",
        "| function | mutants | killed | not killed | not checked |",
        "| --- | ---: | ---: | ---: | ---: |",
        *[count_row(function, c) for function, c in group_counts(document["mutants"], function_of).items()],
        "",
        f"## Mutants not killed ({len(document['survivors'])})",
        "",
        "Triage: " + (", ".join(f"{k}: {v}" for k, v in sorted(document["not_killed_triage"].items())) or "none"),
        "",
    ]
    if document["limit_timeouts"]:
        lines += [
            f"## Stopped at mutmut's limit ({len(document['limit_timeouts'])})",
            "",
            "Counted as killed, but no golden had failed yet: on a loaded machine a slow run can hit the limit. A hang "
            "is normally caught by the per-golden deadline (a `timeout` kill above), so read these diffs.",
            "",
        ]
        for mutant in document["limit_timeouts"]:
            lines += [
                f"### `{mutant['name']}` ({mutant['duration_s']} s)",
                "",
                "```diff",
                mutant["diff"] or "",
                "```",
                "",
            ]
    for survivor in document["survivors"]:
        lines += [
            f"### `{survivor['name']}` ({survivor['status']})",
            "",
            f"Triage: {survivor['triage']}",
            "",
            "```diff",
            survivor["diff"] or "(no diff)",
            "```",
            "",
        ]
    return "\n".join(lines)


def module_table(document: dict[str, Any]) -> list[str]:
    """The per-module table: for a sample, each module's mutants in the package beside those sampled."""
    sample = document.get("sample")
    counts = group_counts(document["mutants"], module_of)
    if not sample:
        return [
            "| module | mutants | killed | not killed | not checked |",
            "| --- | ---: | ---: | ---: | ---: |",
            *[count_row(module, c) for module, c in counts.items()],
        ]
    totals = sample["module_totals"]
    return [
        "| module | mutants in the module | sampled | killed | not killed | not checked |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *[count_row(module, c, totals.get(module, 0)) for module, c in counts.items()],
    ]


def group_counts(mutants: list[dict[str, Any]], group_of: Callable[[str], str]) -> dict[str, Counter[str]]:
    """Per group of mutants (`group_of` a mutant's name: its module, or its module and function), by name: how many
    were killed, checked but not killed (`alive`), and not checked (`unchecked`)."""
    counts: dict[str, Counter[str]] = {}
    for mutant in mutants:
        status = mutant["status"]
        column = "killed" if status in ("killed", "timeout") else "unchecked" if status == "not checked" else "alive"
        counts.setdefault(group_of(mutant["name"]), Counter())[column] += 1
    return dict(sorted(counts.items()))


def count_row(group: str, counts: Counter[str], population: int | None = None) -> str:
    """One table row: the group, its population when a sample (before the mutants run), then the counts."""
    before = f" {population} |" if population is not None else ""
    return (
        f"| `{group}` |{before} {sum(counts.values())} | {counts['killed']} | {counts['alive']} | "
        f"{counts['unchecked']} |"
    )


def write_report(results: Results, run: dict[str, Any], out_dir: Path, triage_path: Path) -> dict[str, Any]:
    """Triage the survivors, then write results.json and report.md under `out_dir`; return the JSON document.

    A sample run (`run["sample"]`) reports on its sampled mutants only.
    """
    results = sampled(results, run.get("sample"))
    apply_triage(results, load_triage(triage_path))
    document = results_document(results, run)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "report.md").write_text(markdown_report(document), encoding="utf-8")
    return document
