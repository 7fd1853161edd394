"""The fine-tuning methods: which weights train, and how the base model is loaded for it.

lora / qlora / prefix / ia3 are peft configurations over a frozen base; full trains every
weight. QLoRA loads the base through bitsandbytes (NF4 or FP4 4-bit with optional double
quantisation, or 8-bit), which has a CPU backend, so the same path runs on a laptop and a
GPU. transformers cannot quantise a GGUF file while loading it, so a GGUF base is
dequantised once into a cache folder keyed by its fingerprint and quantised from there.
"""

from __future__ import annotations

from typing import Any

from harness.core.config import MedgateConfig
from harness.core.errors import BadInputError
from harness.core.models import ModelSpec, dequantized_copy, load_model

FEEDFORWARD_NAMES = ("down_proj", "up_proj", "gate_proj", "fc1", "fc2", "c_fc", "w1", "w2", "w3",
                     "dense_h_to_4h", "dense_4h_to_h", "mlp")


def quantization_config(config: MedgateConfig):
    import torch
    from transformers import BitsAndBytesConfig

    pc = config.peft
    compute = torch.bfloat16 if config.training.bf16 else torch.float32
    if pc.quantization == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=pc.quant_type,
                              bnb_4bit_use_double_quant=pc.double_quant,
                              bnb_4bit_compute_dtype=compute, bnb_4bit_quant_storage=torch.uint8)


def peft_config(config: MedgateConfig):
    """The peft config object for the method, or None for full fine-tuning."""
    from peft import IA3Config, LoraConfig, PrefixTuningConfig, TaskType

    pc = config.peft
    if pc.method in ("lora", "qlora"):
        return LoraConfig(r=pc.r, lora_alpha=pc.alpha, lora_dropout=pc.dropout,
                          target_modules=pc.target_modules, bias="none",
                          task_type=TaskType.CAUSAL_LM)
    if pc.method == "prefix":
        return PrefixTuningConfig(num_virtual_tokens=pc.num_virtual_tokens, task_type=TaskType.CAUSAL_LM)
    if pc.method == "ia3":
        if "target_modules" in pc.model_fields_set and pc.target_modules != "all-linear":
            targets = list(pc.target_modules)
            feedforward = [m for m in targets if m in FEEDFORWARD_NAMES]
            return IA3Config(target_modules=targets, feedforward_modules=feedforward,
                             task_type=TaskType.CAUSAL_LM)
        # peft's per-architecture defaults (keys, values and the MLP down projection)
        return IA3Config(task_type=TaskType.CAUSAL_LM)
    return None


def check_compatible(config: MedgateConfig) -> None:
    """Combinations that cannot work, refused before any model is loaded."""
    t, pc = config.training, config.peft
    if pc.method == "prefix" and t.packing:
        raise BadInputError("training.packing cannot be used with peft.method=prefix "
                            "(prefix tuning needs a per-sequence attention mask)")
    if pc.method == "prefix" and t.gradient_checkpointing:
        raise BadInputError("training.gradient_checkpointing cannot be used with peft.method=prefix; "
                            "set training.gradient_checkpointing=false")


def build_model(config: MedgateConfig, spec: ModelSpec, *, token: str | None = None) -> tuple[Any, dict]:
    """The model ready to train, and a description of what trains (for history and reports)."""
    pc = config.peft
    check_compatible(config)
    dtype = "bfloat16" if config.training.bf16 else config.model.dtype
    info: dict[str, Any] = {"method": pc.method}
    if pc.method == "qlora":
        source = dequantized_copy(spec, token)
        info["quantization"] = {"bits": 8 if pc.quantization == "8bit" else 4,
                                "quant_type": pc.quant_type if pc.quantization == "4bit" else "int8",
                                "double_quant": pc.double_quant if pc.quantization == "4bit" else False,
                                "loaded_from": source.source}
        model = load_model(source, dtype=dtype, token=token, quantization_config=quantization_config(config),
                           trust_remote_code=config.model.trust_remote_code)
        from peft import prepare_model_for_kbit_training

        info["quantization"]["quantized_modules"] = sum(
            1 for m in model.modules() if type(m).__name__ in ("Linear4bit", "Linear8bitLt"))
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=config.training.gradient_checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False})
    else:  # a GGUF model loads from its dequantized copy, which transformers will train
        model = load_model(spec, dtype=dtype, token=token,
                           trust_remote_code=config.model.trust_remote_code)
    model.train()
    model.config.use_cache = False
    cfg = peft_config(config)
    if cfg is not None:
        from peft import get_peft_model

        try:
            model = get_peft_model(model, cfg)
        except ValueError as exc:
            raise BadInputError(f"peft.{pc.method}: {exc}") from exc
        if config.training.gradient_checkpointing and pc.method != "qlora":
            model.enable_input_require_grads()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    info.update({"trainable_parameters": trainable, "total_parameters": total,
                 "trainable_fraction": trainable / total if total else 0.0,
                 "dtype": str(next(model.parameters()).dtype).replace("torch.", "")})
    if trainable == 0:
        raise BadInputError(f"peft.method={pc.method}: no trainable parameters (check peft.target_modules)")
    return model, info
