"""float32 against bfloat16 on this machine: the forward pass's time, and whether the
base model's scores change.

The embedded default scores and trains in bfloat16 (harness/app/defaults/demo.yaml).
This measures what that choice buys and what it could cost, on the default model:

- the forward-pass time of 8 prompts of 256 tokens (median of `--rounds`), each dtype;
- `medgate eval` of the base model on the multiple-choice demo suites (every item, an
  empty result cache, the default fast path) in each dtype: wall time, accuracy, and how
  many items get the same predicted option in both.

A bf16 training run is a different model from a float32 one (its optimiser steps round
differently); that difference is the main job's to show (`bench.main_job --set
model.dtype=float32 --set training.bf16=false`), not this module's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"
DTYPES = ("float32", "bfloat16")


def _forward_seconds(model, rounds: int) -> float:
    import torch

    ids = torch.randint(100, 40_000, (8, 256), generator=torch.Generator().manual_seed(0))
    last = torch.tensor([ids.shape[1] - 1])
    times = []
    with torch.no_grad():
        model(ids[:1, :16])  # first-touch costs go to no round
        for _ in range(rounds):
            start = time.perf_counter()
            model(ids, logits_to_keep=last)  # by index, as scoring asks (hf_fast)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--suites", default="medqa,pubmedqa,general")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv if argv is not None else [])
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    from harness.app.evaluation import evaluate_model
    from harness.core.backends import open_model
    from harness.core.cache import ResultCache
    from harness.core.models import load_model, resolve_model
    from harness.core.precision import cpu_computes_bf16
    from harness.core.records import read_records

    suites = args.suites.split(",")
    spec = resolve_model(args.model)
    result: dict = {"model": args.model, "cpu_bf16_instructions": cpu_computes_bf16(),
                    "forward_8x256_s": {}, "eval": {}}
    predictions: dict[str, dict[str, dict[str, int]]] = {}
    with tempfile.TemporaryDirectory(prefix="medgate-dtype-") as tmp:
        for dtype in DTYPES:
            model = load_model(spec, dtype=dtype)
            result["forward_8x256_s"][dtype] = round(_forward_seconds(model, args.rounds), 3)
            handle = open_model(args.model, dtype=dtype,
                                cache=ResultCache(Path(tmp) / f"cache-{dtype}"))
            handle._model = model
            start = time.perf_counter()
            evaluate_model(handle, suites, Path(tmp) / dtype, progress=False)
            seconds = time.perf_counter() - start
            predictions[dtype] = {}
            per_suite = {}
            for suite in suites:
                records = read_records(Path(tmp) / dtype / f"{suite}.records.jsonl")
                predictions[dtype][suite] = {f"{r.item_id}/{r.variant}": r.meta["pred_index"]
                                             for r in records}
                per_suite[suite] = {"items": len(records),
                                    "accuracy": round(sum(bool(r.correct) for r in records)
                                                      / len(records), 4)}
            result["eval"][dtype] = {"seconds": round(seconds, 1), "suites": per_suite}
            del model, handle
    agreement = {}
    for suite in suites:
        ours, theirs = predictions["float32"][suite], predictions["bfloat16"][suite]
        shared = set(ours) & set(theirs)
        agreement[suite] = {"items": len(shared),
                            "same_prediction": sum(ours[k] == theirs[k] for k in shared)}
    result["same_prediction"] = agreement
    forward = result["forward_8x256_s"]
    result["bf16_time_fraction"] = round(forward["bfloat16"] / forward["float32"], 2)
    result["load_average"] = os.getloadavg()[0]
    print(f"forward pass, 8 x 256 tokens: float32 {forward['float32']} s, bfloat16 "
          f"{forward['bfloat16']} s ({result['bf16_time_fraction']}x); CPU bf16 "
          f"instructions: {result['cpu_bf16_instructions']}")
    for dtype in DTYPES:
        e = result["eval"][dtype]
        print(f"medgate eval {','.join(suites)} in {dtype}: {e['seconds']} s; " + "; ".join(
            f"{s} acc {v['accuracy']}" for s, v in e["suites"].items()))
    print("same predicted option: " + "; ".join(
        f"{s} {a['same_prediction']}/{a['items']}" for s, a in agreement.items()))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "dtype_agreement.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
