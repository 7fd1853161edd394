"""`make bench`: run every benchmark module and collect their JSON under bench/out/.

Each module in BENCHES has a `main() -> dict`; results are written with the machine they
ran on, because a number without its machine is not a measurement.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

from harness.core.manifest import environment

OUT = Path(__file__).parent / "out"
BENCHES = ("bench.judge_quality", "bench.phi_recall", "bench.gate_power",
           "bench.selection_bias", "bench.eval_speed", "bench.cloze_speed",
           "bench.dtype_agreement", "bench.batch_invariance",
           "bench.forgetting_regularisers", "bench.augment_robustness",
           "bench.main_job")


def main(names: list[str] | None = None) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {"machine": environment(),
                                  "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    failed = []
    for name in names or BENCHES:
        print(f"\n=== {name}", flush=True)
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            print(f"missing: {exc}")
            failed.append(name)
            continue
        results[name] = module.main()
    (OUT / "all.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nresults: {OUT / 'all.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or None))
