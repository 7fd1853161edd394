"""Items/s of `medgate eval` against lm-eval run directly, on the same items and model.

In one process: the default model is loaded once and handed to both paths, so model
loading is measured apart and neither path pays it inside its scoring time.

- lm-eval direct: lm-eval's own task YAML (medqa_4options or pubmedqa) from
  site-packages with its data source pointed at the same items, `simple_evaluate`.
- medgate: `evaluate_model` with an empty cache and its default options (the fast path:
  one forward pass per prompt, last-position logits only, batches formed by length), and
  with `--no-fast-path` (every request through lm-eval's HFLM); then a cached re-run with
  a fresh handle that must not load the model.
- the forward-pass limit: the same prompts, tokenised as lm-eval tokenises them, sorted
  by length and run through the model in batches with nothing else (no requests, no
  cache, no records): what no scoring path can beat. medgate's items/s is reported as a
  fraction of it.

The paths take turns for `--rounds` rounds (median reported), and CPU seconds are given
beside wall seconds: on a shared machine the wall clock measures the neighbours too.
Per-item predictions of every path are compared with lm-eval's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"


def _lm_eval_file(suite: str, items, folder: Path) -> tuple[Path, Path]:
    """The items in the form lm-eval's own task reads, and that task's YAML."""
    import lm_eval

    tasks = Path(lm_eval.__file__).parent / "tasks"
    path = folder / f"{suite}_lmeval.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for item in items:
            if suite == "medqa":
                row = {"sent1": item.question, "label": item.answer,
                       **{f"ending{i}": o for i, o in enumerate(item.options)}}
            else:
                row = {"QUESTION": item.question, "CONTEXTS": item.context.split("\n"),
                       "final_decision": item.options[item.answer]}
            handle.write(json.dumps(row) + "\n")
    yaml_path = tasks / ("medqa/medqa.yaml" if suite == "medqa" else "pubmedqa/pubmedqa.yaml")
    return path, yaml_path


def run_lm_eval_direct(model, tokenizer, yaml_path: Path, data_file: Path, batch_size: int):
    from lm_eval import evaluator
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager
    from lm_eval.tasks._yaml_loader import load_yaml

    from harness.core.backends.lmeval_bridge import quiet_lmeval
    from suites.lmeval_tasks import predictions

    quiet_lmeval()
    cfg = load_yaml(yaml_path)
    cfg.pop("dataset_name", None)
    for split in ("training_split", "validation_split"):
        cfg.pop(split, None)
    cfg.update(dataset_path="json", dataset_kwargs={"data_files": {"test": str(data_file)}},
               test_split="test")
    start = time.perf_counter()
    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size)
    results = evaluator.simple_evaluate(model=lm, tasks=[cfg], log_samples=True,
                                        bootstrap_iters=0,
                                        task_manager=TaskManager(include_defaults=False))
    seconds = time.perf_counter() - start
    preds = predictions(results["samples"][cfg["task"]])
    return seconds, [preds[i] for i in range(len(preds))]


def _prompt_ids(suite: str, items, tokenizer, model) -> list[list[int]]:
    """Each item's prompt as lm-eval tokenises a context (its `_encode_pair`)."""
    from lm_eval.models.huggingface import HFLM

    from suites.formats import get_format, zero_shot_requests
    from suites.registry import get_spec

    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=1)
    fmt = get_format(get_spec(suite).prompt_format)
    out = []
    for item in items:
        context, continuation = zero_shot_requests(item, fmt)[0]
        out.append(lm._encode_pair(context, continuation)[0])
    return out


def _bare_forward(model, prompts: list[list[int]], batch_size: int) -> None:
    """The forward passes alone: length-sorted batches, right padding, last position."""
    import torch

    ordered = sorted(prompts, key=len, reverse=True)
    with torch.no_grad():
        for start in range(0, len(ordered), batch_size):
            batch = ordered[start:start + batch_size]
            ids = torch.zeros((len(batch), len(batch[0])), dtype=torch.long)
            for row, prompt in enumerate(batch):
                ids[row, :len(prompt)] = torch.tensor(prompt)
            model(ids, logits_to_keep=torch.tensor(sorted({len(p) - 1 for p in batch})))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--suite", default="medqa", choices=["medqa", "pubmedqa"])
    parser.add_argument("--data", help="data file (default: the suite's bundled demo data)")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="timed rounds per path (median)")
    parser.add_argument("--dtype", default="auto",
                        help="weights' dtype for every path (default auto, what `medgate "
                             "eval` uses without -c: float32 on a CPU)")
    parser.add_argument("--skip-hflm", action="store_true",
                        help="do not time medgate --no-fast-path (lm-eval's HFLM)")
    args = parser.parse_args(argv if argv is not None else [])
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

    from rich.console import Console
    from rich.table import Table

    from harness.app.evaluation import evaluate_model
    from harness.core.backends import open_model
    from harness.core.cache import ResultCache
    from harness.core.config import EvaluationConfig
    from harness.core.io import _HASH_MEMO
    from harness.core.models import load_model, load_tokenizer, resolve_model
    from harness.core.records import read_records
    from suites.registry import get_suite, make_context

    data = {args.suite: args.data} if args.data else {}
    ctx = make_context(args.suite, data, limit=args.limit)
    items, _ = get_suite(args.suite).items(ctx)
    dtype = args.dtype
    spec = resolve_model(args.model)
    start = time.perf_counter()
    model = load_model(spec, dtype=dtype)
    tokenizer = load_tokenizer(spec)
    load_s = time.perf_counter() - start
    import torch

    with torch.no_grad():  # first-touch costs (mapped weights, allocator) go to no path
        model(torch.tensor([tokenizer("Warm-up.")["input_ids"]]))

    def timed(fn):
        wall, cpu = time.perf_counter(), time.process_time()
        value = fn()
        return value, time.perf_counter() - wall, time.process_time() - cpu

    def medgate(folder: Path, name: str, fast: bool, model_in_memory: bool = True):
        handle = open_model(args.model, batch_size=args.batch_size, dtype=dtype,
                            cache=ResultCache(folder / f"cache-{name}"))
        if model_in_memory:
            handle._model, handle._tokenizer = model, tokenizer
        handle.fast_path = fast
        evaluate_model(handle, [args.suite], folder / name, config=config, progress=False)
        records = read_records(folder / name / f"{args.suite}.records.jsonl")
        return handle, [r.meta["pred_index"] for r in records]

    config = EvaluationConfig(batch_size=args.batch_size, limit=args.limit, data=data)
    runs: dict[str, list[tuple[float, float]]] = {
        "lm-eval direct": [], "medgate eval": [], "medgate eval --no-fast-path": [],
        "forward-pass limit": []}
    prompts = _prompt_ids(args.suite, items, tokenizer, model)
    preds: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory(prefix="medgate-bench-") as tmp:
        folder = Path(tmp)
        lm_file, yaml_path = _lm_eval_file(args.suite, items, folder)
        # the paths take turns, so a change in the machine's load falls on all of them
        for round_ in range(args.rounds):
            (_, theirs), wall, cpu = timed(lambda: run_lm_eval_direct(
                model, tokenizer, yaml_path, lm_file, args.batch_size))
            runs["lm-eval direct"].append((wall, cpu))
            preds["lm-eval direct"] = theirs
            name = f"default{round_}"
            (_, ours), wall, cpu = timed(lambda name=name: medgate(folder, name, True))
            runs["medgate eval"].append((wall, cpu))
            preds["medgate eval"] = ours
            _, wall, cpu = timed(lambda: _bare_forward(model, prompts, args.batch_size))
            runs["forward-pass limit"].append((wall, cpu))
            if not args.skip_hflm:
                name = f"hflm{round_}"
                (_, hflm), wall, cpu = timed(lambda name=name: medgate(folder, name, False))
                runs["medgate eval --no-fast-path"].append((wall, cpu))
                preds["medgate eval --no-fast-path"] = hflm
        # cached re-run: fresh handle, model not in memory, weight hash not memoised in
        # this process -- what a second `medgate eval` process does
        _HASH_MEMO.clear()
        (cached, _), cached_s, cached_cpu = timed(
            lambda: medgate(folder, "default0", True, model_in_memory=False))
        cached_loads = cached.stats["loads"]

    def median(values: list[float]) -> float:
        return float(statistics.median(values))

    n = len(items)
    paths = {}
    for name, measured in runs.items():
        if not measured:
            continue
        wall = median([w for w, _ in measured])
        cpu = median([c for _, c in measured])
        paths[name] = {"seconds": round(wall, 2), "items_per_s": round(n / wall, 2),
                       "cpu_seconds": round(cpu, 2), "items_per_cpu_s": round(n / cpu, 2),
                       "rounds": len(measured),
                       "predictions_equal_lm_eval": preds[name] == preds["lm-eval direct"]
                       if name in preds else None}
    lm_wall = paths["lm-eval direct"]["seconds"]
    ours_wall = paths["medgate eval"]["seconds"]
    result = {
        "model": args.model, "dtype": dtype, "suite": args.suite, "items": n,
        "batch_size": args.batch_size,
        "data": str(ctx.data_path), "demo_data": ctx.is_demo_data,
        "model_load_s": round(load_s, 2), "paths": paths,
        "medgate_cached": {"seconds": round(cached_s, 3), "cpu_seconds": round(cached_cpu, 3),
                           "items_per_s": round(n / cached_s, 1), "model_loads": cached_loads},
        "speedup_vs_lm_eval_wall": round(lm_wall / ours_wall, 2),
        "speedup_vs_lm_eval_cpu": round(paths["lm-eval direct"]["cpu_seconds"]
                                        / paths["medgate eval"]["cpu_seconds"], 2),
        "fraction_of_forward_pass_limit_wall": round(
            paths["forward-pass limit"]["seconds"] / ours_wall, 3),
        "fraction_of_forward_pass_limit_cpu": round(
            paths["forward-pass limit"]["cpu_seconds"] / paths["medgate eval"]["cpu_seconds"], 3),
        "cached_speedup": round(ours_wall / cached_s, 1),
        "cached_speedup_incl_load": round((ours_wall + load_s) / cached_s, 1),
        "load_average": os.getloadavg()[0],
    }
    table = Table(title=f"eval speed: {args.suite}, {n} items, {args.model} ({dtype})"
                  + (" (demo data)" if ctx.is_demo_data else ""))
    for column in ("path", "wall s", "items/s", "cpu s", "items/cpu-s", "same predictions"):
        table.add_column(column)
    for name, p in paths.items():
        table.add_row(name, f"{p['seconds']:.2f}", f"{p['items_per_s']:.2f}",
                      f"{p['cpu_seconds']:.2f}", f"{p['items_per_cpu_s']:.2f}",
                      str(p["predictions_equal_lm_eval"]))
    table.add_row("medgate eval, cached re-run", f"{cached_s:.3f}", f"{n / cached_s:.1f}",
                  f"{cached_cpu:.3f}", f"{n / cached_cpu:.1f}", f"model loads: {cached_loads}")
    console = Console()
    console.print(table)
    console.print(f"medgate vs lm-eval: {result['speedup_vs_lm_eval_wall']}x wall, "
                  f"{result['speedup_vs_lm_eval_cpu']}x CPU; medgate at "
                  f"{result['fraction_of_forward_pass_limit_wall']:.2f} of the forward-pass "
                  f"limit (wall), {result['fraction_of_forward_pass_limit_cpu']:.2f} (CPU); "
                  "cached re-run: "
                  f"{result['cached_speedup']}x ({result['cached_speedup_incl_load']}x counting "
                  f"the {load_s:.1f}s model load it skips); load average "
                  f"{result['load_average']:.1f}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "eval_speed.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
