"""Score a model on suites and write records and a summary into a run directory.

Writes evals/<tag>/<suite>.records.jsonl and evals/<tag>/summary.json under the run
directory (default runs/<timestamp>) and prints a table of metrics with 95% CIs. Exit 0
when every suite ran, 2 for bad input (unknown suite, broken data file), 3 when a suite
failed inside.

A group named in --suites (or evaluation.suites), e.g. medical-leaderboard, runs its
member suites; its result (each task's score and n, their unweighted average or why
there is none) is written to evals/<tag>/groups.json and printed after the table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from gates.paired import forgetting_delta
from gates.wording import collapse_sentence
from harness.app.evaluation import evaluate_model
from harness.app.judge_check import check_llm_judges
from harness.core.atomic import write_json
from harness.core.backends import open_model
from harness.core.config import load_config
from harness.core.console import err, out
from harness.core.errors import BadInputError, InternalError
from harness.core.io import read_text
from harness.core.lock import RunLock
from harness.core.records import read_records, records_path
from harness.core.rundir import RunDir, is_model_tag
from harness.core.summaries import SuiteSummary, read_summaries
from suites.groups import GroupSpec, group_result
from suites.metrics.agreement import describe_agreement
from suites.registry import (
    apply_config,
    check_data_keys,
    effective_options,
    expand_suites,
    find_spec,
    requested_groups,
)

GROUPS_FILE = "groups.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="preset (smollm2-135m), local folder, .gguf file or hub id "
                        "(default: model.name of the config)")
    parser.add_argument("--adapter", help="PEFT adapter folder to apply on the model")
    parser.add_argument("--suites", help="comma-separated suite or group names, e.g. "
                        "medical-leaderboard (default: evaluation.suites)")
    parser.add_argument("--data", action="append", default=[], metavar="SUITE=PATH",
                        help="data file of a suite (repeatable); overrides the bundled demo data")
    parser.add_argument("--limit", type=int, help="first N items of each suite")
    parser.add_argument("--backend", choices=["hf", "vllm"], help="scoring backend (default hf)")
    parser.add_argument("--num-fewshot", type=int, help="n-shot examples (default 0)")
    parser.add_argument("--chat", action="store_true", help="apply the model's chat template")
    parser.add_argument("--no-cache", action="store_true", help="ignore and do not fill the cache")
    parser.add_argument("--no-fast-path", action="store_true",
                        help="answer every log-likelihood through lm-eval's HFLM; by default "
                             "choice log-likelihoods that share a prompt are answered by one "
                             "forward pass per prompt (single-token choices) or the prompt run "
                             "once (option texts), with lm-eval's tokenisation: the same "
                             "scores, tested (evaluation.fast_path)")
    parser.add_argument("--run-dir", help="run directory (default runs/<timestamp>)")
    parser.add_argument("--tag", default="base", help="model tag: base, checkpoint-N or final")
    parser.add_argument("--baseline-dir", help="evals/<tag> folder of the base model: show the "
                        "forgetting delta on general suites")
    parser.add_argument("-c", "--config", help="medgate.yaml")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key (repeatable)")


def _parse_data(items: list[str]) -> dict[str, str]:
    data: dict[str, str] = {}
    for item in items:
        suite, sep, path = item.partition("=")
        if not sep or not suite.strip() or not path.strip():
            raise BadInputError(f"--data expects SUITE=PATH, got '{item}'")
        data[suite.strip()] = path.strip()
    return data


def run(args: argparse.Namespace) -> int:
    overrides = list(args.set)
    config = load_config(args.config, overrides)
    requested = list(config.evaluation.suites)  # before apply_config expands its groups
    apply_config(config.evaluation)  # the user's suite specs known, suite options checked
    ev = config.evaluation
    updates: dict[str, Any] = {}
    if args.limit is not None:
        if args.limit < 1:
            raise BadInputError("--limit must be at least 1")
        updates["limit"] = args.limit
    if args.backend:
        updates["backend"] = args.backend
    if args.num_fewshot is not None:
        updates["num_fewshot"] = args.num_fewshot
    if args.chat:
        updates["apply_chat_template"] = True
    if args.no_cache:
        updates["cache"] = False
    given = _parse_data(args.data)
    data = {**ev.data, **given}
    updates["data"] = data
    if args.suites:
        requested = [s.strip() for s in args.suites.split(",") if s.strip()]
    groups = requested_groups(requested)
    updates["suites"] = expand_suites(requested)
    ev = ev.model_validate({**ev.model_dump(), **updates})
    if not is_model_tag(args.tag):
        raise BadInputError(f"--tag must be base, final or checkpoint-N, got '{args.tag}'")

    for name in ev.suites:  # unknown suites and bad options fail before any run directory
        effective_options(name, ev.suite_options.get(name))
    check_llm_judges(ev)
    check_data_keys(given, ev.suites)
    if args.adapter and not Path(args.adapter).is_dir():
        raise BadInputError("adapter folder not found", where=args.adapter)


    handle = open_model(args.model or config.model.name, adapter=args.adapter, backend=ev.backend,
                        tag=args.tag, dtype=config.model.dtype, token=config.hf_token(),
                        batch_size=ev.batch_size,
                        generation_batch_size=ev.generation_batch_size)
    if args.no_fast_path:
        ev.fast_path = False
    run_dir = RunDir.create(args.run_dir, parent=config.output.runs_root)
    eval_dir = run_dir.eval_dir(args.tag)
    with RunLock(run_dir.root):
        result = evaluate_model(handle, ev.suites, eval_dir, data=data, limit=ev.limit, config=ev)
    summaries = read_summaries(eval_dir)
    _print_table({s: summaries[s] for s in ev.suites if s in summaries}, args.baseline_dir,
                 eval_dir)
    if groups:
        _write_groups(eval_dir, groups, summaries)

    out.print(f"records and summary: {eval_dir}", highlight=False)
    if result.get("lmeval_results"):
        out.print(f"lm-eval results and samples: {Path(result['lmeval_results']).parent}",
                  highlight=False)
    err.print(f"cached answers reused: {result['cache_hits']}; model loads: {handle.stats['loads']}",
              style="dim")
    if result["bad_input"]:
        names = ", ".join(result["bad_input"])
        raise BadInputError(f"suite(s) {names} could not read their input: "
                            + "; ".join(result["failed"][n] for n in result["bad_input"]))
    if result["failed"]:
        raise InternalError("suite(s) failed: " + "; ".join(f"{k}: {v}" for k, v in
                                                            result["failed"].items()))
    return 0


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _ci_text(ci: list[float | None] | None) -> str:
    return f"[{_fmt(ci[0])}, {_fmt(ci[1])}]" if ci else ""


def suite_tags(suite: str, summary: SuiteSummary) -> list[str]:
    """The roles recorded with the suite's results, else those of its spec (older runs)."""
    recorded = summary.info.extra.get("tags")
    if isinstance(recorded, list):
        return [str(t) for t in recorded]
    spec = find_spec(suite)
    return list(spec.tags) if spec else []


def _print_table(summaries: dict[str, SuiteSummary], baseline_dir: str | None,
                 eval_dir: Path) -> None:
    table = Table(title="medgate eval")
    for column in ("suite", "tags", "metric", "value", "95% CI", "n", "data"):
        table.add_column(column, overflow="fold")
    demo_used = False
    collapsed: list[str] = []
    agreement: list[str] = []  # the rule judge against the LLM judge, where both ran
    for suite, summary in summaries.items():
        info = summary.info
        data = "demo data" if info.demo else (info.data or "")
        demo_used = demo_used or info.demo
        tags = ", ".join(suite_tags(suite, summary))
        if summary.failed:
            table.add_row(suite, tags, "[red]error[/]", "", "", "", (summary.error or "")[:120])
            continue
        for name, m in summary.metrics.items():
            unmeasured = m.extra.get("not_measured")
            value = f"[yellow]{unmeasured}[/]" if unmeasured and m.value is None else _fmt(m.value)
            table.add_row(suite, tags, name, value, _ci_text(m.ci), _fmt(m.n), data)
            if m.extra.get("degenerate") is True:
                spread = {**m.extra, "value": m.value, "n": m.n}
                collapsed.append(f"{suite}: {collapse_sentence(spread)}")
            if name == "judge_agreement":
                agreement.append(f"{suite}: {describe_agreement(m.to_json())}")
        absent = info.extra.get("metrics_absent")
        for name, why in (absent.items() if isinstance(absent, dict) else ()):
            table.add_row(suite, tags, name, "not measured", "", "", escape(str(why)))
    if baseline_dir:
        _add_forgetting(table, summaries, Path(baseline_dir), eval_dir)
    out.print(table)
    for line in collapsed:
        out.print(f"[bold yellow]degenerate[/] {line}", highlight=False)
    for suite, summary in summaries.items():
        excluded = summary.info.extra.get("excluded_subjects")
        if isinstance(excluded, dict) and excluded:
            counts = ", ".join(f"{subject} {n}" for subject, n in excluded.items())
            out.print(f"[yellow]not scored[/] {suite}: rows of subjects outside the suite's "
                      f"`subjects` option: {counts}", highlight=False)
    for line in agreement:
        out.print(f"[bold]judge agreement[/] {escape(line)}", highlight=False)
    if demo_used:
        out.print("[yellow]demo data[/]: bundled items written for this project, not a "
                  "benchmark; point --data at real files for real numbers")


def _add_forgetting(table: Table, summaries: dict[str, SuiteSummary], baseline_dir: Path,
                    eval_dir: Path) -> None:
    """Δ = acc(base) − acc(model) for every suite with the `forgetting` role."""
    for suite, summary in summaries.items():
        base_path = records_path(baseline_dir, suite)
        if ("forgetting" not in suite_tags(suite, summary) or not base_path.exists()
                or summary.failed):
            continue
        delta = forgetting_delta(read_records(base_path),
                                 read_records(records_path(eval_dir, suite)))
        table.add_row(suite, "forgetting", "forgetting Δ (base − model)", _fmt(delta.value),
                      _ci_text(delta.ci), _fmt(delta.n), str(baseline_dir))


def _write_groups(eval_dir: Path, groups: list[GroupSpec],
                  summaries: dict[str, SuiteSummary]) -> None:
    """Each group's result into groups.json (other groups' entries kept), then printed."""
    results = {g.name: group_result(g, summaries) for g in groups}
    path = eval_dir / GROUPS_FILE
    existing: Any = {}
    if path.exists():
        try:
            existing = json.loads(read_text(path, what="group results"))
        except json.JSONDecodeError as exc:
            raise BadInputError(f"not valid JSON ({exc.msg})", where=str(path)) from exc
    write_json(path, {**(existing if isinstance(existing, dict) else {}), **results})
    for name, result in results.items():
        _print_group(name, result)


def _print_group(name: str, result: dict[str, Any]) -> None:
    table = Table(title=f"{name} (zero-shot acc per task)")
    for column in ("task", "suite", "metric", "value", "n"):
        table.add_column(column, overflow="fold")
    for task, entry in result["tasks"].items():
        value = _fmt(entry["value"]) if "missing" not in entry else "[red]missing[/]"
        table.add_row(task, entry["suite"], entry["metric"], value, _fmt(entry["n"]))
    average = result["average"]
    table.add_row(f"[bold]average of {len(result['tasks'])} tasks[/]", "", "unweighted mean",
                  _fmt(average["value"]) if average else "[red]absent[/]", "")
    out.print(table)
    for reason in result["average_absent"]:
        out.print(f"[bold red]no {name} average[/]: {reason}", highlight=False)
    for note in result["notes"]:
        out.print(f"[yellow]note[/] {name}: {note}", highlight=False)
