"""Augmentation training and robustness: `medqa-robust` consistency of the embedded
default model fine-tuned with and without perturbed copies of its training prompts
(recipes.augment), same steps and seed, side by side with the base model's.

Consistency is the share of items answered the same under every kept perturbation
(suites.metrics.robustness); the CI is the suite's own (items resampled, not records).
BENCH_AUGMENT_STEPS (default 30, the demo's) and BENCH_AUGMENT_ITEMS (default 20, the
demo's medqa-robust limit) size it. Writes bench/out/augment_robustness.json.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from harness.app.cli import main as cli

OUT = Path(__file__).parent / "out"
POLICY = """\
name: robustness-bench
description: Robustness consistency only (benchmark policy, reported not gated).
min_n: 1
checks:
  - name: consistency
    suite: medqa-robust
    metric: consistency
    judge: ci_lower
    op: ">="
    threshold: 0.0
"""


def _consistency(run: Path, tag: str) -> dict:
    summary = json.loads((run / "evals" / tag / "summary.json").read_text())
    return summary["medqa-robust"]["consistency"]


def main() -> dict:
    steps = int(os.environ.get("BENCH_AUGMENT_STEPS", "30"))
    items = int(os.environ.get("BENCH_AUGMENT_ITEMS", "20"))
    rows = {}
    with tempfile.TemporaryDirectory(prefix="medgate-augment-") as tmp:
        root = Path(tmp)
        policy = root / "policy.yaml"
        policy.write_text(POLICY)
        for name, rate in (("without augmentation", 0.0), ("with augmentation", 0.5)):
            run = root / name.replace(" ", "-")
            started = time.time()
            code = cli(["train-and-gate", "--run-dir", str(run),
                        "--set", f"training.max_steps={steps}", "--set", f"training.save_steps={steps}",
                        "--set", f"training.eval_steps={steps}",
                        "--set", "evaluation.suites=[medqa-robust]",
                        "--set", f"evaluation.limits={{medqa-robust: {items}}}",
                        "--set", "output.merge_full_weights=false", "--set", f"gates.policy={policy}",
                        "--set", f"recipes.augment.rate={rate}",
                        # consistency on every item: measured, not gated early
                        "--set", "evaluation.exhaustive=true"])
            if code not in (0, 1):
                raise RuntimeError(f"{name}: train-and-gate exited {code}")
            rows.setdefault("base", _consistency(run, "base"))
            rows[name] = _consistency(run, f"checkpoint-{steps}")
            print(f"  {name}: consistency {rows[name]['value']:.3f} {rows[name].get('ci')} "
                  f"({time.time() - started:.0f} s)", flush=True)
    result = {"model": "smollm2-135m (embedded default)", "steps": steps, "items": items,
              "augment_rate": 0.5, "suite": "medqa-robust (demo data)", "consistency": rows}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "augment_robustness.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
