"""Items/s of `medgate eval` against lm-eval run directly, on the same items and model.

In one process: the default model is loaded once and handed to both paths, so model
loading is measured apart and neither path pays it inside its scoring time.

- lm-eval direct: lm-eval's own task YAML (medqa_4options or pubmedqa) from
  site-packages with its data source pointed at the same items, `simple_evaluate`.
- medgate: `evaluate_model` with an empty cache (scoring through lm-eval, or the
  one-forward-pass path where it applies), then a cached re-run with a fresh handle
  that must not load the model.

Per-item predictions of the two paths are compared, and the table says whether they agree.
"""

from __future__ import annotations

import argparse
import json
import os
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

    from harness.backends.lmeval_bridge import predictions

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


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--suite", default="medqa", choices=["medqa", "pubmedqa"])
    parser.add_argument("--data", help="data file (default: the suite's bundled demo data)")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args(argv if argv is not None else [])
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

    from rich.console import Console
    from rich.table import Table

    from harness.backends.base import open_model
    from harness.cache import ResultCache
    from harness.config import EvaluationConfig
    from harness.evaluation import evaluate_model
    from harness.models import _HASH_CACHE, load_model, load_tokenizer, resolve_model
    from harness.records import read_records
    from suites.registry import get_suite, make_context

    data = {args.suite: args.data} if args.data else {}
    ctx = make_context(args.suite, data, limit=args.limit)
    items, _ = get_suite(args.suite).items(ctx)
    spec = resolve_model(args.model)
    start = time.perf_counter()
    model = load_model(spec)
    tokenizer = load_tokenizer(spec)
    load_s = time.perf_counter() - start

    with tempfile.TemporaryDirectory(prefix="medgate-bench-") as tmp:
        folder = Path(tmp)
        lm_file, yaml_path = _lm_eval_file(args.suite, items, folder)
        config = EvaluationConfig(batch_size=args.batch_size, limit=args.limit,
                                  data=data)

        # medgate, empty cache, model already in memory (load measured above)
        handle = open_model(args.model, batch_size=args.batch_size,
                            cache=ResultCache(folder / "cache"))
        handle._model, handle._tokenizer = model, tokenizer
        start = time.perf_counter()
        evaluate_model(handle, [args.suite], folder / "cold", config=config, progress=False)
        medgate_s = time.perf_counter() - start
        ours = [r.meta["pred_index"] for r in read_records(folder / "cold" / f"{args.suite}.records.jsonl")]

        lm_eval_s, theirs = run_lm_eval_direct(model, tokenizer, yaml_path, lm_file,
                                               args.batch_size)

        # cached re-run: a fresh handle and no memoised weight hash, as a new process has
        _HASH_CACHE.clear()
        cached = open_model(args.model, batch_size=args.batch_size,
                            cache=ResultCache(folder / "cache"))
        start = time.perf_counter()
        evaluate_model(cached, [args.suite], folder / "warm", config=config, progress=False)
        cached_s = time.perf_counter() - start
        cached_loads = cached.stats["loads"]

    n = len(items)
    result = {
        "model": args.model, "suite": args.suite, "items": n, "batch_size": args.batch_size,
        "data": str(ctx.data_path), "demo_data": ctx.is_demo_data,
        "model_load_s": round(load_s, 2),
        "lm_eval_direct": {"seconds": round(lm_eval_s, 2), "items_per_s": round(n / lm_eval_s, 2)},
        "medgate_eval": {"seconds": round(medgate_s, 2), "items_per_s": round(n / medgate_s, 2),
                         "path": handle.stats.get("path", "lm-eval")},
        "medgate_cached": {"seconds": round(cached_s, 3), "items_per_s": round(n / cached_s, 1),
                           "model_loads": cached_loads},
        "speedup_vs_lm_eval": round(lm_eval_s / medgate_s, 2),
        "cached_speedup": round(medgate_s / cached_s, 1),
        "cached_speedup_incl_load": round((medgate_s + load_s) / cached_s, 1),
        "predictions_equal": ours == theirs,
        "disagreeing_items": sum(a != b for a, b in zip(ours, theirs)),
    }
    table = Table(title=f"eval speed: {args.suite}, {n} items, {args.model}"
                  + (" (demo data)" if ctx.is_demo_data else ""))
    for column in ("path", "seconds", "items/s", "note"):
        table.add_column(column)
    table.add_row("lm-eval direct", f"{lm_eval_s:.2f}", f"{n / lm_eval_s:.2f}", "model preloaded")
    table.add_row("medgate eval", f"{medgate_s:.2f}", f"{n / medgate_s:.2f}",
                  f"{result['speedup_vs_lm_eval']}x lm-eval; predictions equal: "
                  f"{result['predictions_equal']}")
    table.add_row("medgate eval, cached", f"{cached_s:.3f}", f"{n / cached_s:.1f}",
                  f"{result['cached_speedup']}x uncached ({result['cached_speedup_incl_load']}x "
                  f"with the {load_s:.1f}s model load); model loads: {cached_loads}")
    Console().print(table)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "eval_speed.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
