"""Selection bias: how often a checkpoint truly worse than its base is promoted among K.

K candidate checkpoints, each truly 5 points below the base on MedQA, judged by the default
policy's MedQA non-inferiority check (margin 5 points, stated error 2.5%). Three
procedures, each simulated through the gate's own code (gates.power.promotion_rate):
judging every candidate on the items that also chose it (the gate before the split), the
gate's selection/confirmation split, and every candidate on all items at a Bonferroni-
corrected confidence. Writes bench/out/selection_bias.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from gates.policy import load_policy
from gates.power import Scenario, promotion_rate

OUT = Path(__file__).parent / "out"
SCENARIO = Scenario(n=400, acc_base=0.6, discordance=0.2, true_diff=-0.05)
SIMS = 2000
N_BOOT = 1000
KS = (1, 3, 10)
PROCEDURES = ("same_items", "split", "bonferroni")


def main() -> dict:
    started = time.time()
    check = next(c for c in load_policy("default").checks if c.name == "medqa_no_regression")
    print(f"{SCENARIO}, margin {check.margin}, {SIMS} runs per cell, {N_BOOT} resamples")
    rows = []
    for k in KS:
        row = {"k": k}
        for procedure in PROCEDURES:
            row[procedure] = promotion_rate(check, SCENARIO, k, procedure, sims=SIMS,
                                            n_boot=N_BOOT, seed=k)
        print("  " + "  ".join(f"{key}={value}" for key, value in row.items()), flush=True)
        rows.append(row)
    result = {"scenario": SCENARIO.__dict__, "margin": check.margin, "stated_error": 0.025,
              "sims": SIMS, "n_boot": N_BOOT, "promotion_rate": rows,
              "seconds": round(time.time() - started, 1)}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "selection_bias.json").write_text(json.dumps(result, indent=2))
    print(f"wrote {OUT / 'selection_bias.json'} ({result['seconds']} s)")
    return result


if __name__ == "__main__":
    main()
