"""Cloze scoring (the general-knowledge suite): lm-eval's full passes against medgate's
shared-prompt path, on the same items and the same loaded model.

lm-eval scores each (prompt + option text) sequence in full; medgate's fast path runs each
prompt once and repeats its key/value cache for the options. Reported: wall and CPU
seconds of each (median of `--rounds`, taking turns), the largest difference between
their log-likelihoods, and whether every prediction (acc_norm) agrees.
Writes bench/out/cloze_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--limit", type=int, default=None, help="items (default: all)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv if argv is not None else [])
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

    from harness.core.backends import lmeval_bridge as bridge
    from harness.core.backends import open_model
    from harness.core.backends.hf_fast import plan_groups, score_shared_context
    from suites.formats import get_format, zero_shot_requests
    from suites.registry import get_suite, make_context

    ctx = make_context("general", limit=args.limit)
    items, _ = get_suite("general").items(ctx)
    fmt = get_format(get_suite("general").spec.prompt_format)
    requests = [r for item in items for r in zero_shot_requests(item, fmt)]
    handle = open_model(args.model, batch_size=args.batch_size)
    lm, model = handle.lm(), handle.model

    def timed(fn):
        wall, cpu = time.perf_counter(), time.process_time()
        value = fn()
        return value, time.perf_counter() - wall, time.process_time() - cpu

    def shared_path() -> dict[int, float]:
        return score_shared_context(plan_groups(lm, requests), model, args.batch_size)

    runs: dict[str, list[tuple[float, float]]] = {"lm-eval": [], "medgate shared prompt": []}
    for _ in range(args.rounds):  # taking turns: a change in load falls on both
        reference, wall, cpu = timed(lambda: bridge.loglikelihood(lm, requests))
        runs["lm-eval"].append((wall, cpu))
        shared, wall, cpu = timed(shared_path)
        runs["medgate shared prompt"].append((wall, cpu))
    if len(shared) != len(requests):
        raise SystemExit("the shared-prompt path does not apply to this model")
    diff = max(abs(shared[i] - reference[i]) for i in range(len(requests)))
    agree, offset = 0, 0
    for item in items:
        n = len(fmt.continuations(item))
        ours = [shared[i] for i in range(offset, offset + n)]
        agree += fmt.predict(item, ours) == fmt.predict(item, reference[offset:offset + n])
        offset += n
    paths = {name: {"seconds": round(statistics.median(w for w, _ in m), 2),
                    "cpu_seconds": round(statistics.median(c for _, c in m), 2),
                    "items_per_s": round(len(items) / statistics.median(w for w, _ in m), 2)}
             for name, m in runs.items()}
    result = {"model": args.model, "suite": "general", "items": len(items),
              "demo_data": ctx.is_demo_data, "batch_size": args.batch_size,
              "rounds": args.rounds, "paths": paths,
              "speedup_wall": round(paths["lm-eval"]["seconds"]
                                    / paths["medgate shared prompt"]["seconds"], 2),
              "max_abs_loglikelihood_diff": diff,
              "predictions_agree": f"{agree}/{len(items)}",
              "load_average": os.getloadavg()[0]}
    for name, p in paths.items():
        print(f"  {name:<24} {p['seconds']:>7.2f} s wall  {p['cpu_seconds']:>7.2f} s CPU  "
              f"{p['items_per_s']:.2f} items/s")
    print(f"  speed-up {result['speedup_wall']}x; largest log-likelihood difference "
          f"{diff:.2e}; predictions agree on {agree}/{len(items)} items"
          + (" (demo data)" if ctx.is_demo_data else ""))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "cloze_speed.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
