"""Forgetting regularisers at a destructive learning rate: general-knowledge delta with
each of EWC, L2-SP and distillation, and with none.

The existing forgetting demonstration (the embedded default model on the demo data at
training.learning_rate=0.05) is run once per regulariser through `medgate train-and-gate`
with the same steps and seed, evaluated on the `general` suite. Reported per run: delta =
acc(base) - acc(checkpoint) with its paired-bootstrap 95% CI over the same items, and the
paired difference in accuracy from the run without a regulariser (positive: the
regulariser kept more general knowledge). Writes bench/out/forgetting_regularisers.json.

BENCH_FORGETTING_STEPS (default 8) sets the training steps; the strengths are
finetune.recipes.record.RECOMMENDED_STRENGTHS, each multiplied by BENCH_FORGETTING_SCALE
(default 1) to look at stronger or weaker settings.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from finetune.recipes.record import RECOMMENDED_STRENGTHS
from harness.app.cli import main as cli
from harness.core.stats import paired_bootstrap_diff

OUT = Path(__file__).parent / "out"
POLICY = """\
name: forgetting-bench
description: General-knowledge forgetting only (benchmark policy).
min_n: 30
checks:
  - name: forgetting
    suite: general
    metric: accuracy
    judge: delta_vs_base
    bound: ci_upper
    op: "<="
    threshold: 0.05
"""


def _correct(path: Path) -> dict[str, float]:
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {r["item_id"]: float(bool(r["correct"])) for r in records if r.get("variant", "clean") == "clean"}


def _run(root: Path, name: str, extra: list[str], steps: int, policy: Path) -> dict[str, float]:
    run = root / name
    args = ["train-and-gate", "--run-dir", str(run),
            "--set", "training.learning_rate=0.05", "--set", f"training.max_steps={steps}",
            "--set", f"training.save_steps={steps}", "--set", f"training.eval_steps={steps}",
            "--set", "evaluation.suites=[general]", "--set", "evaluation.limits={}",
            "--set", "output.merge_full_weights=false", "--set", f"gates.policy={policy}",
            # every general item for every model: the delta is measured, not gated early
            "--set", "evaluation.exhaustive=true"]
    for setting in extra:
        args += ["--set", setting]
    started = time.time()
    code = cli(args)
    if code not in (0, 1):
        raise RuntimeError(f"{name}: train-and-gate exited {code}")
    base = _correct(run / "evals" / "base" / "general.records.jsonl")
    tuned = _correct(run / "evals" / f"checkpoint-{steps}" / "general.records.jsonl")
    print(f"  {name}: {time.time() - started:.0f} s", flush=True)
    return {"base": base, "tuned": tuned}


def main() -> dict:
    steps = int(os.environ.get("BENCH_FORGETTING_STEPS", "8"))
    scale = float(os.environ.get("BENCH_FORGETTING_SCALE", "1"))
    strengths = {term: value * scale for term, value in RECOMMENDED_STRENGTHS.items()}
    runs = {"none": []}
    for term, strength in strengths.items():
        runs[term] = [f"recipes.regularisers.{term}.strength={strength}"]
    with tempfile.TemporaryDirectory(prefix="medgate-forgetting-") as tmp:
        root = Path(tmp)
        policy = root / "policy.yaml"
        policy.write_text(POLICY)
        correct = {name: _run(root, name, extra, steps, policy) for name, extra in runs.items()}
    items = sorted(set.intersection(*(set(f["base"]) & set(f["tuned"]) for f in correct.values())))
    rows = []
    for name, found in correct.items():
        base = [found["base"][i] for i in items]
        tuned = [found["tuned"][i] for i in items]
        delta, lo, hi = paired_bootstrap_diff(base, tuned, seed=1)
        row = {"regulariser": name, "strength": strengths.get(name), "n": len(items),
               "acc_base": sum(base) / len(items), "acc_tuned": sum(tuned) / len(items),
               "delta": delta, "delta_ci": [lo, hi]}
        if name != "none":
            none = [correct["none"]["tuned"][i] for i in items]
            gain, glo, ghi = paired_bootstrap_diff(tuned, none, seed=2)
            row.update({"kept_vs_none": gain, "kept_vs_none_ci": [glo, ghi]})
        rows.append(row)
        print("  " + "  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                               for k, v in row.items() if not isinstance(v, list)), flush=True)
    result = {"model": "smollm2-135m (embedded default)", "learning_rate": 0.05, "steps": steps,
              "strength_scale": scale,
              "suite": "general (demo data)", "rows": rows}
    OUT.mkdir(parents=True, exist_ok=True)
    suffix = "" if scale == 1 else f"-x{scale:g}"
    (OUT / f"forgetting_regularisers{suffix}.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
