"""Preference tuning with TRL's DPOTrainer, gated like SFT.

The trainer module keeps the loop (callbacks, checkpoints, history, merge); this module
supplies what differs for DPO: the preference data in TRL's conversational shape, the
`DPOConfig` and the trainer. The reference policy is the base model with the adapter
disabled (TRL does this when it is given the base and a peft config, and no ref_model),
so DPO holds one copy of the weights, as SFT does; a full fine-tune has no adapter to
disable and is refused.
"""

from __future__ import annotations

import random
from typing import Any

from finetune.datasets import TrainingData
from finetune.preference import PreferencePair, read_preference_pairs
from harness.core.config import MedgateConfig
from harness.core.errors import BadInputError


def check_dpo(config: MedgateConfig) -> None:
    """Settings DPO cannot honour, refused before a model loads."""
    if config.peft.method == "full":
        raise BadInputError("training.method dpo needs an adapter (peft.method lora, qlora, "
                            "prefix or ia3): its reference model is the base with the adapter "
                            "disabled, and a full fine-tune has none")
    if config.training.packing:
        raise BadInputError("training.packing is not used by training.method dpo; set it false")
    if config.dataset.replay.ratio > 0:
        raise BadInputError("dataset.replay mixes SFT rows into training; it cannot be mixed "
                            "into preference pairs (training.method dpo)")


def _conversation(pair: PreferencePair, system_prompt: str | None) -> dict[str, Any]:
    prompt = ([{"role": "system", "content": system_prompt}] if system_prompt else []) + [
        {"role": "user", "content": pair.prompt}]
    return {"prompt": prompt,
            "chosen": [{"role": "assistant", "content": pair.chosen}],
            "rejected": [{"role": "assistant", "content": pair.rejected}]}


def load_preference_data(config: MedgateConfig, tokenizer: Any = None) -> TrainingData:
    """Train (and validation) preference datasets; the validation pairs are held out by
    prompt row, so a prompt's pairs never sit on both sides."""
    import datasets

    check_dpo(config)
    pairs, provenance = read_preference_pairs(config)
    rows = sorted({p.row for p in pairs})
    val_rows: set[int] = set()
    if config.dataset.validation_size > 0 and len(rows) >= 2:
        order = list(rows)
        random.Random(config.training.seed).shuffle(order)
        val_rows = set(order[:max(1, round(len(rows) * config.dataset.validation_size))])
    system = config.dataset.system_prompt
    train = [_conversation(p, system) for p in pairs if p.row not in val_rows]
    validation = [_conversation(p, system) for p in pairs if p.row in val_rows]
    provenance.update({"validation": ({"source": "held out from training rows", "seed":
                                       config.training.seed, "rows": sorted(val_rows)}
                                      if val_rows else None),
                       "train_rows": len(train), "rows_kept": len(train),
                       "validation_rows_kept": len(validation),
                       "max_seq_length": config.training.max_seq_length,
                       "rows_dropped": {}})
    return TrainingData(train=datasets.Dataset.from_list(train),
                        validation=datasets.Dataset.from_list(validation) if validation else None,
                        provenance=provenance,
                        texts=[(p.row, p.text) for p in pairs])


def dpo_arguments_class(config: MedgateConfig):
    """DPOConfig with DPO's own settings bound: the trainer fills in the rest as for SFT."""
    from functools import partial

    from trl import DPOConfig

    return partial(DPOConfig, beta=config.training.dpo_beta,
                   max_length=config.training.max_seq_length)


def dpo_trainer(config: MedgateConfig, model: Any, args: Any, data: TrainingData,
                tokenizer: Any, callbacks: list[Any]):
    """A DPOTrainer over the base with a fresh adapter, the reference being the base with
    the adapter disabled.

    `model` is the adapter-wrapped model built for SFT; its base is handed to TRL with the
    same peft config: given a ready PeftModel and no reference, TRL would copy the adapter
    as a second "ref" adapter instead of disabling it.
    """
    from trl import DPOTrainer

    from finetune.methods import peft_config

    base = model.unload() if hasattr(model, "unload") else model.get_base_model()
    return DPOTrainer(model=base, ref_model=None, args=args, train_dataset=data.train,
                      eval_dataset=data.validation, processing_class=tokenizer,
                      callbacks=callbacks, peft_config=peft_config(config))
