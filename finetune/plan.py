"""Will it fit? Training memory by component, and settings that fit a given GPU.

The layout follows the hands-on course's "deep learning memory layout": for x billion
parameters, weights take 2x GB in 16-bit, gradients 2x GB, optimizer state 2x to 12x GB,
plus activations. PEFT shrinks gradients and optimizer state to the adapter's
parameters; QLoRA shrinks the frozen weights to about half a byte each. Activations use
the per-layer estimate of Korthikanti et al. (2022) with a fused attention kernel (no
sequence-squared term): 34·s·b·h bytes per layer, or 2·s·b·h per layer plus one layer's
worth when gradient checkpointing recomputes them. These are estimates for planning,
not measurements; the output says which inputs were assumed.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.core.errors import BadInputError
from harness.core.models import resolve_model

GIB = 1024**3
OVERHEAD_BYTES = 1.0 * GIB  # CUDA context, allocator fragmentation, kernels: the "+ alpha"
USABLE_FRACTION = 0.9  # headroom so a plan that "fits" does not OOM on a long batch
EFFECTIVE_BATCH = 16  # the seed workflow's micro_batch_size x gradient_accumulation

# Llama-family shapes by size, for a model known only by its name (params, hidden, layers, vocab).
_REFERENCE_SHAPES = [
    (0.135e9, 576, 30, 49152), (0.36e9, 960, 32, 49152), (0.5e9, 896, 24, 151936),
    (1.1e9, 2048, 22, 32000), (1.7e9, 2048, 24, 49152), (3e9, 3072, 28, 128256),
    (7e9, 4096, 32, 32000), (8e9, 4096, 32, 128256), (13e9, 5120, 40, 32000),
    (34e9, 8192, 48, 32000), (70e9, 8192, 80, 128256),
]
_SIZE_RE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*([bBmM])(?![a-zA-Z])")


@dataclass
class ModelShape:
    params: int
    hidden: int
    layers: int
    vocab: int
    intermediate: int
    kv_dim: int
    tied_embeddings: bool
    source: str  # where the numbers came from
    notes: list[str] = field(default_factory=list)


@dataclass
class Estimate:
    method: str
    micro_batch: int
    seq_len: int
    gradient_checkpointing: bool
    quantization: str
    trainable_params: int
    weights_gib: float
    gradients_gib: float
    optimizer_gib: float
    activations_gib: float
    overhead_gib: float

    @property
    def total_gib(self) -> float:
        return (self.weights_gib + self.gradients_gib + self.optimizer_gib + self.activations_gib
                + self.overhead_gib)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total_gib": self.total_gib}


def params_from_name(name: str) -> float | None:
    """'meta-llama/Llama-3.1-8B-Instruct' -> 8e9; None when the name carries no size."""
    found = _SIZE_RE.findall(name.split("/")[-1])
    if not found:
        return None
    number, unit = found[-1]
    return float(number) * (1e9 if unit.lower() == "b" else 1e6)


def _shape_from_config(cfg, params: int, source: str) -> ModelShape:
    hidden = getattr(cfg, "hidden_size", None) or getattr(cfg, "n_embd", None) or getattr(cfg, "d_model", 0)
    layers = getattr(cfg, "num_hidden_layers", None) or getattr(cfg, "n_layer", 0)
    heads = getattr(cfg, "num_attention_heads", None) or getattr(cfg, "n_head", 1)
    kv_heads = getattr(cfg, "num_key_value_heads", None) or heads
    inter = getattr(cfg, "intermediate_size", None) or 4 * hidden
    return ModelShape(params=params, hidden=int(hidden), layers=int(layers), vocab=int(cfg.vocab_size),
                      intermediate=int(inter), kv_dim=int(hidden // heads * kv_heads),
                      tied_embeddings=bool(getattr(cfg, "tie_word_embeddings", False)), source=source)


def model_shape(name: str) -> ModelShape:
    """Shape from a preset or local/cached config; else from the size in the name."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    spec = resolve_model(name)
    kwargs: dict[str, Any] = {"gguf_file": spec.gguf_file} if spec.gguf_file else {}
    try:
        cfg = AutoConfig.from_pretrained(spec.source, local_files_only=True, **kwargs)
    except (OSError, ValueError):
        cfg = None
    if cfg is not None:
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(cfg)
        params = sum(p.numel() for p in model.parameters())
        where = "local files" if spec.is_local else "the local hub cache"
        return _shape_from_config(cfg, params, f"config of {spec.name} ({where})")
    guessed = params_from_name(name)
    if guessed is None:
        raise BadInputError("no config is available offline and the name carries no size "
                            "(like '8B' or '135M'); pass a local model folder", where=name)
    ref = min(_REFERENCE_SHAPES, key=lambda r: abs(math.log(r[0] / guessed)))
    _, hidden, layers, vocab = ref
    shape = ModelShape(params=int(guessed), hidden=hidden, layers=layers, vocab=vocab,
                       intermediate=int(hidden * 3.5), kv_dim=hidden, tied_embeddings=False,
                       source=f"parameter count parsed from the name '{name}'")
    shape.notes.append(f"no config available offline: size parsed from the name, and a Llama-like "
                       f"shape assumed (hidden {hidden}, {layers} layers, vocab {vocab})")
    return shape


_MODULE_DIMS = {
    "q_proj": lambda s: (s.hidden, s.hidden), "o_proj": lambda s: (s.hidden, s.hidden),
    "k_proj": lambda s: (s.hidden, s.kv_dim), "v_proj": lambda s: (s.hidden, s.kv_dim),
    "gate_proj": lambda s: (s.hidden, s.intermediate), "up_proj": lambda s: (s.hidden, s.intermediate),
    "down_proj": lambda s: (s.intermediate, s.hidden),
}


def lora_params(shape: ModelShape, r: int, target_modules: list[str]) -> int:
    """r·(in + out) per adapted matrix per layer."""
    unknown = [m for m in target_modules if m not in _MODULE_DIMS]
    if unknown:
        raise BadInputError(f"cannot size LoRA for modules {unknown}; known: {sorted(_MODULE_DIMS)}")
    per_layer = sum(r * sum(_MODULE_DIMS[m](shape)) for m in target_modules)
    return per_layer * shape.layers


def estimate(shape: ModelShape, *, method: str, micro_batch: int, seq_len: int,
             gradient_checkpointing: bool, r: int = 64,
             target_modules: list[str] | None = None, num_virtual_tokens: int = 20) -> Estimate:
    """Bytes by component for one training configuration (16-bit compute)."""
    targets = target_modules or ["q_proj", "k_proj", "v_proj", "o_proj"]
    embed = shape.vocab * shape.hidden * (1 if shape.tied_embeddings else 2)
    if method == "qlora":
        # NF4: 4 bits + double-quantised block constants (~0.127 bits); embeddings stay 16-bit
        weights = (shape.params - embed) * (4.127 / 8) + embed * 2
        quant = "4bit-nf4"
    else:
        weights = shape.params * 2
        quant = "none (bf16)"
    if method == "full":
        trainable = shape.params
        gradients = trainable * 2
        optimizer = trainable * 12  # AdamW moments + fp32 master weights
    else:
        if method in ("lora", "qlora"):
            trainable = lora_params(shape, r, targets)
        elif method == "prefix":
            trainable = num_virtual_tokens * shape.layers * 2 * shape.hidden
        else:  # ia3: a vector per adapted key, value and feed-forward projection
            trainable = shape.layers * (2 * shape.kv_dim + shape.intermediate)
        gradients = trainable * 4
        optimizer = trainable * 8  # AdamW's two fp32 moments
    tokens = micro_batch * seq_len
    per_layer = 34 * tokens * shape.hidden
    if gradient_checkpointing:
        activations = shape.layers * 2 * tokens * shape.hidden + per_layer
    else:
        activations = shape.layers * per_layer
    activations += tokens * shape.vocab * 8  # fp32 logits and their gradient for the loss
    return Estimate(method=method, micro_batch=micro_batch, seq_len=seq_len,
                    gradient_checkpointing=gradient_checkpointing, quantization=quant,
                    trainable_params=int(trainable), weights_gib=weights / GIB,
                    gradients_gib=gradients / GIB, optimizer_gib=optimizer / GIB,
                    activations_gib=activations / GIB, overhead_gib=OVERHEAD_BYTES / GIB)


def _fallbacks(method: str) -> list[str]:
    return {"full": ["full", "lora", "qlora"], "lora": ["lora", "qlora"]}.get(method, [method])


def recommend(shape: ModelShape, *, gpu_gib: float, method: str, seq_len: int, r: int = 64,
              target_modules: list[str] | None = None) -> dict[str, Any]:
    """The first setting that fits: the asked method before a quantised one, a micro batch
    of 4 or more without checkpointing before turning checkpointing on."""
    budget = gpu_gib * USABLE_FRACTION
    tried: list[Estimate] = []

    def fit(m: str, gc: bool) -> Estimate | None:
        for b in (16, 8, 4, 2, 1):
            est = estimate(shape, method=m, micro_batch=b, seq_len=seq_len, gradient_checkpointing=gc,
                           r=r, target_modules=target_modules)
            tried.append(est)
            if est.total_gib <= budget:
                return est
        return None

    for m in _fallbacks(method):
        plain, checkpointed = fit(m, False), fit(m, True)
        choice = plain if plain is not None and plain.micro_batch >= 4 else (checkpointed or plain)
        if choice is not None:
            reasons = []
            if m != method:
                reasons.append(f"{method} does not fit in {gpu_gib:g} GB; {m} does")
            if choice.gradient_checkpointing:
                reasons.append("gradient checkpointing trades ~20% speed for activation memory")
            return {"fits": True, "estimate": choice,
                    "gradient_accumulation": max(1, math.ceil(EFFECTIVE_BATCH / choice.micro_batch)),
                    "reasons": reasons, "budget_gib": budget}
    smallest = min(tried, key=lambda e: e.total_gib)
    return {"fits": False, "estimate": smallest, "gradient_accumulation": EFFECTIVE_BATCH,
            "reasons": [(f"nothing fits in {gpu_gib:g} GB at sequence length {seq_len}: shorten "
                        "training.max_seq_length, use a GPU with more memory, or shard over several "
                        "GPUs (DeepSpeed ZeRO-3 / FSDP)")], "budget_gib": budget}
