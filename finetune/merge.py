"""Fold a LoRA (or IA3) adapter into full weights that load without peft.

The merge is done on the full-precision base even when training used a 4-bit base
(QLoRA): merging into quantised weights would round the update away. The result is a
plain folder (weights + tokenizer with its chat template) that
AutoModelForCausalLM.from_pretrained loads, which is what serving stacks expect.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.core.errors import BadInputError
from harness.core.models import ModelSpec, load_model, load_tokenizer

MERGEABLE = ("LORA", "IA3", "LOHA", "LOKR", "ADALORA")


def adapter_type(adapter_dir: Path) -> str:
    cfg = Path(adapter_dir) / "adapter_config.json"
    if not cfg.exists():
        raise BadInputError("not a PEFT adapter folder (no adapter_config.json)", where=str(adapter_dir))
    return str(json.loads(cfg.read_text(encoding="utf-8")).get("peft_type", "")).upper()


def merge_adapter(base_spec: ModelSpec, adapter_dir: Path, out_dir: Path, fmt: str = "safetensors",
                  *, token: str | None = None) -> Path:
    """Write base + adapter as full weights to `out_dir` and return it."""
    kind = adapter_type(Path(adapter_dir))
    if kind not in MERGEABLE:
        raise BadInputError(f"a {kind} adapter cannot be merged into the weights "
                            f"(only {', '.join(MERGEABLE)} can)", where=str(adapter_dir))
    # a GGUF base loads from its dequantized copy (harness.core.models.dequantized_copy):
    # transformers would mark the GGUF-loaded model as quantised and refuse to save it
    model = load_model(base_spec, adapter=adapter_dir, dtype="float32",
                       token=token)
    merged = model.merge_and_unload()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(out_dir, safe_serialization=(fmt == "safetensors"))
    load_tokenizer(base_spec, token=token).save_pretrained(out_dir)
    return out_dir
