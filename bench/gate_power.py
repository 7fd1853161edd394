"""How well the default gate's paired checks discriminate at the default suite sizes.

For a no-regression screen: how often an unchanged checkpoint is wrongly blocked, the
power to catch a real 5-point drop, and the suite size needed for 80% power; for the
non-inferiority checks (the default policy's MedQA and PubMedQA checks, the strict
policy's), how often an unchanged model passes and the size it needs. Simulated through the gate's own decision code (gates.power); assumptions (base
accuracy 60%, 15% of items on which two equally good models disagree) are printed with
the numbers. Writes bench/out/gate_power.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from gates.policy import Check, load_policy
from gates.power import Scenario, block_rate, n_for_power, normal_n_for_power
from suites.benchmark import load_spec_items
from suites.registry import get_spec, make_context

OUT = Path(__file__).parent / "out"
PAIRED_SUITES = ("medqa", "pubmedqa", "general")
ACC_BASE = 0.6
DISCORDANCE = 0.15
DROP = 0.05
SIMS = 1000
N_BOOT = 1000


def _row(name: str, **values) -> dict:
    print(f"  {name:<46}" + "  ".join(f"{k}={v}" for k, v in values.items()), flush=True)
    return {"check": name, **values}


def default_sizes() -> dict[str, int]:
    """Items per paired suite that the default pipeline scores: the bundled demo sets."""
    return {name: len(load_spec_items(get_spec(name), make_context(name)))
            for name in PAIRED_SUITES}


def main() -> dict:
    started = time.time()
    sizes = default_sizes()
    default = {c.name: c for c in load_policy("default").checks}
    strict = {c.name: c for c in load_policy("strict").checks}
    rows = []
    print(f"assumptions: base accuracy {ACC_BASE}, discordance {DISCORDANCE}, "
          f"{SIMS} simulated checkpoint/base pairs per cell, {N_BOOT} bootstrap resamples")
    for suite in ("medqa", "pubmedqa"):
        check = Check(name=f"{suite} no_regression screen", suite=suite, metric="accuracy",
                      judge="no_regression", margin=0.0, screen=True)
        name, n = check.name, sizes[suite]
        false_block = block_rate(check, Scenario(n, ACC_BASE, DISCORDANCE), sims=SIMS,
                                 n_boot=N_BOOT)
        power = block_rate(check, Scenario(n, ACC_BASE, DISCORDANCE, -DROP), sims=SIMS,
                           n_boot=N_BOOT, seed=1)
        need_norm = normal_n_for_power(DROP, DISCORDANCE, margin=check.margin)
        need_sim = n_for_power(check, lambda k: Scenario(k, ACC_BASE, DISCORDANCE, -DROP),
                               lo=max(20, need_norm // 2), hi=need_norm * 2)
        rows.append(_row(name, n=n, false_block_rate=false_block, power_5pt_drop=power,
                         n_for_80pct_power_sim=need_sim, n_for_80pct_power_normal=need_norm))
    check = default["forgetting"]
    n = sizes[check.suite]
    rows.append(_row("forgetting (Δ CI upper <= 0.05)", n=n,
                     block_rate_unchanged=block_rate(check, Scenario(n, ACC_BASE, DISCORDANCE),
                                                     sims=SIMS, n_boot=N_BOOT),
                     block_rate_5pt_drop=block_rate(
                         check, Scenario(n, ACC_BASE, DISCORDANCE, -DROP), sims=SIMS,
                         n_boot=N_BOOT, seed=1),
                     block_rate_10pt_drop=block_rate(
                         check, Scenario(n, ACC_BASE, DISCORDANCE, -2 * DROP), sims=SIMS,
                         n_boot=N_BOOT, seed=2)))
    # Non-inferiority puts the burden on the checkpoint: how often does an unchanged
    # model pass at these sizes, and how many items would it need?
    for label, check in (("strict", strict["medqa_non_inferior"]),
                         ("default", default["medqa_no_regression"]),
                         ("default", default["pubmedqa_no_regression"])):
        n = sizes[check.suite]
        unchanged = block_rate(check, Scenario(n, ACC_BASE, DISCORDANCE), sims=SIMS,
                               n_boot=N_BOOT)
        at_margin = block_rate(check, Scenario(n, ACC_BASE, DISCORDANCE, -check.margin),
                               sims=SIMS, n_boot=N_BOOT, seed=1)
        need_norm = normal_n_for_power(check.margin, DISCORDANCE, margin=0.0)
        need_sim = n_for_power(check, lambda k: Scenario(k, ACC_BASE, DISCORDANCE),
                               block=False, lo=max(20, need_norm // 2), hi=need_norm * 2)
        rows.append(_row(f"{label} {check.suite} non_inferior (margin {check.margin})", n=n,
                         pass_rate_unchanged=round(1 - unchanged, 4),
                         wrong_pass_rate_at_margin=round(1 - at_margin, 4),
                         n_for_80pct_pass_unchanged_sim=need_sim,
                         n_for_80pct_pass_unchanged_normal=need_norm))
    result = {"assumptions": {"acc_base": ACC_BASE, "discordance": DISCORDANCE, "drop": DROP,
                              "sims": SIMS, "n_boot": N_BOOT, "sizes": sizes,
                              "confidence": 0.95},
              "rows": rows, "seconds": round(time.time() - started, 1)}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "gate_power.json").write_text(json.dumps(result, indent=2))
    print(f"wrote {OUT / 'gate_power.json'} ({result['seconds']} s)")
    return result


if __name__ == "__main__":
    main()
