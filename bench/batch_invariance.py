"""Whether an item's answer depends on the other prompts in its batch, per attention
implementation and dtype, and what each implementation costs.

medgate scores log-likelihoods on a CPU with eager attention (harness.core.backends.hf).
This measures why, on the default model and the MedQA demo prompts:

- for each prompt, the last position's log-probabilities computed alone (no padding) and
  in its length-sorted batch of `--batch-size` (right padded to the batch's longest): the
  largest difference over all prompts, the number of prompts with any difference, and
  the number whose predicted letter (A-D) changes;
- the time of the batched passes (median of `--rounds`), each implementation in turn.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"
DTYPES = ("float32", "bfloat16")
IMPLEMENTATIONS = ("sdpa", "eager")


def _batches(prompts: list[list[int]], batch_size: int):
    import torch

    ordered = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
    for start in range(0, len(ordered), batch_size):
        rows = ordered[start:start + batch_size]
        ids = torch.zeros((len(rows), len(prompts[rows[0]])), dtype=torch.long)
        for row, index in enumerate(rows):
            ids[row, :len(prompts[index])] = torch.tensor(prompts[index])
        yield rows, ids


def _last_logprobs(model, ids, lengths: list[int]):
    import torch
    import torch.nn.functional as F

    keep = sorted({n - 1 for n in lengths})
    with torch.no_grad():
        logits = model(ids, logits_to_keep=torch.tensor(keep)).logits.float()
    rows = torch.arange(len(lengths))
    return F.log_softmax(logits[rows, [keep.index(n - 1) for n in lengths]], dim=-1)


def _compare(model, prompts: list[list[int]], letters: list[int], batch_size: int) -> dict:
    import torch

    largest, differing, flipped = 0.0, 0, 0
    for rows, ids in _batches(prompts, batch_size):
        batched = _last_logprobs(model, ids, [len(prompts[i]) for i in rows])
        for row, index in enumerate(rows):
            alone = _last_logprobs(model, torch.tensor([prompts[index]]),
                                   [len(prompts[index])])[0]
            gap = float((alone - batched[row]).abs().max())
            largest = max(largest, gap)
            differing += gap > 0
            flipped += int(alone[letters].argmax() != batched[row][letters].argmax())
    return {"max_abs_logprob_difference": largest, "prompts_differing": differing,
            "predicted_letter_changed": flipped}


def _seconds(model, prompts: list[list[int]], batch_size: int) -> float:
    import torch

    start = time.perf_counter()
    with torch.no_grad():
        for rows, ids in _batches(prompts, batch_size):
            keep = sorted({len(prompts[i]) - 1 for i in rows})
            model(ids, logits_to_keep=torch.tensor(keep))
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv if argv is not None else [])
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    from rich.console import Console
    from rich.table import Table

    from bench.eval_speed import _prompt_ids
    from harness.core.models import load_model, load_tokenizer, resolve_model
    from suites.registry import get_suite, make_context

    ctx = make_context("medqa", {}, limit=args.limit)
    items, _ = get_suite("medqa").items(ctx)
    spec = resolve_model(args.model)
    tokenizer = load_tokenizer(spec)
    letters = [tokenizer(f" {x}", add_special_tokens=False)["input_ids"][-1] for x in "ABCD"]
    result: dict = {"model": args.model, "prompts": len(items), "batch_size": args.batch_size,
                    "demo_data": ctx.is_demo_data, "dtypes": {}}
    for dtype in DTYPES:
        model = load_model(spec, dtype=dtype)
        prompts = _prompt_ids("medqa", items, tokenizer, model)
        entry: dict = {}
        times: dict[str, list[float]] = {name: [] for name in IMPLEMENTATIONS}
        for name in IMPLEMENTATIONS:
            model.set_attn_implementation(name)
            entry[name] = _compare(model, prompts, letters, args.batch_size)
        for _ in range(args.rounds):  # the implementations take turns
            for name in IMPLEMENTATIONS:
                model.set_attn_implementation(name)
                times[name].append(_seconds(model, prompts, args.batch_size))
        for name in IMPLEMENTATIONS:
            entry[name]["batched_seconds_median"] = round(statistics.median(times[name]), 2)
            entry[name]["batched_seconds"] = [round(t, 2) for t in times[name]]
        result["dtypes"][dtype] = entry
        del model
    table = Table(title=f"batch invariance: {len(items)} MedQA prompts"
                  + (" (demo data)" if ctx.is_demo_data else "") + f", batch {args.batch_size}")
    for column in ("dtype", "attention", "max |Δ log p|", "prompts differing",
                   "letter changed", "batched s (median)"):
        table.add_column(column)
    for dtype, entry in result["dtypes"].items():
        for name, e in entry.items():
            table.add_row(dtype, name, f"{e['max_abs_logprob_difference']:.3g}",
                          str(e["prompts_differing"]), str(e["predicted_letter_changed"]),
                          f"{e['batched_seconds_median']:.2f}")
    Console().print(table)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "batch_invariance.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
