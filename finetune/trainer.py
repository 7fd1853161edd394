"""Fine-tune a model into the run directory with transformers' Trainer and peft.

The Trainer owns the loop (accumulation, clipping, schedules, checkpoint/resume, DDP
when launched by torchrun/accelerate); this module maps medgate.yaml onto it, adds the
history file, rich progress and the checkpoint-saved hook, and writes the final
adapter and the merged weights where the run directory says they go.
"""

from __future__ import annotations

import gc
import json
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finetune.datasets import load_training_data
from finetune.merge import MERGEABLE, adapter_type, merge_adapter
from finetune.methods import build_model, check_compatible
from harness.core.atomic import write_json
from harness.core.config import MedgateConfig, write_resolved
from harness.core.errors import BadInputError
from harness.core.models import load_tokenizer, offline_by_default, resolve_model
from harness.core.rundir import RunDir, saved_checkpoints

# Called with (step, checkpoint folder) after each save; True, or a non-empty string
# saying why, stops training after that checkpoint.
CheckpointHook = Callable[[int, Path], "bool | str | None"]


@dataclass
class TrainResult:
    adapter_dir: Path | None
    merged_dir: Path | None
    checkpoints: list[tuple[int, Path]]
    history: list[dict]
    best_checkpoint: Path | None
    final_step: int
    stopped_early: bool
    method: str = "lora"
    model_info: dict[str, Any] = field(default_factory=dict)
    data_provenance: dict[str, Any] = field(default_factory=dict)
    stop_reason: str | None = None

    def first_loss(self) -> float | None:
        losses = [h["loss"] for h in self.history if "loss" in h]
        return losses[0] if losses else None

    def last_loss(self) -> float | None:
        losses = [h["loss"] for h in self.history if "loss" in h]
        return losses[-1] if losses else None


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def check_training_config(config: MedgateConfig, has_validation: bool) -> None:
    """Settings the Trainer would reject late (or silently ignore), refused up front."""
    t = config.training
    if t.early_stopping_patience > 0:
        if not has_validation:
            raise BadInputError("training.early_stopping_patience needs a validation set: set "
                                "dataset.validation_size > 0 or dataset.validation_split")
        if t.save_steps % t.eval_steps != 0:
            raise BadInputError(
                f"training.save_steps ({t.save_steps}) must be a multiple of training.eval_steps "
                f"({t.eval_steps}) so that early stopping can restore the best checkpoint")
    if t.bf16:
        import torch

        if torch.cuda.is_available() and not torch.cuda.is_bf16_supported():
            raise BadInputError("training.bf16: this GPU does not support bfloat16")


def training_arguments(config: MedgateConfig, run: RunDir, *, has_validation: bool):
    import torch
    from transformers import TrainingArguments

    t = config.training
    evaluate = has_validation
    early = t.early_stopping_patience > 0 and has_validation
    args_class = TrainingArguments
    if t.method == "dpo":
        from finetune.dpo import dpo_arguments_class

        args_class = dpo_arguments_class(config)
    return args_class(
        output_dir=str(run.checkpoints_dir),
        num_train_epochs=t.num_epochs,
        max_steps=t.max_steps,
        learning_rate=t.learning_rate,
        lr_scheduler_type=t.lr_scheduler,
        warmup_steps=t.warmup_ratio,  # a float in [0, 1) is a ratio of the total steps
        per_device_train_batch_size=t.micro_batch_size,
        per_device_eval_batch_size=t.micro_batch_size,
        gradient_accumulation_steps=t.gradient_accumulation,
        weight_decay=t.weight_decay,
        max_grad_norm=t.max_grad_norm,
        activation_checkpointing=t.gradient_checkpointing,
        activation_checkpointing_kwargs={"use_reentrant": False} if t.gradient_checkpointing else None,
        bf16=t.bf16,
        seed=t.seed,
        data_seed=t.seed,
        logging_steps=t.logging_steps,
        logging_first_step=True,
        eval_strategy="steps" if evaluate else "no",
        eval_steps=t.eval_steps if evaluate else None,
        save_strategy="steps",
        save_steps=t.save_steps,
        save_total_limit=t.save_total_limit,
        load_best_model_at_end=early,
        metric_for_best_model=t.early_stopping_metric if early else None,
        greater_is_better=False if early and "loss" in t.early_stopping_metric else None,
        report_to=list(t.report_to) or "none",
        disable_tqdm=True,
        use_cpu=not torch.cuda.is_available(),
        # DPO batches hold chosen and rejected together: no per-token count is kept for them
        include_num_input_tokens_seen="no" if t.method == "dpo" else "all" if t.packing else "non_padding",
        dataloader_num_workers=0,
        remove_unused_columns=False,
        ddp_find_unused_parameters=False,
    )


def data_collator(config: MedgateConfig, tokenizer):
    """Padding per batch; with `packing`, padding-free packing of each micro batch.

    Packing concatenates a micro batch into one row with position ids that restart per
    example; transformers derives a block-diagonal mask from them, so packed examples do
    not attend to each other.
    """
    from transformers import DataCollatorForSeq2Seq, DataCollatorWithFlattening

    if config.training.packing:
        return DataCollatorWithFlattening(return_position_ids=True, separator_id=-100)
    return DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100, return_tensors="pt")


def _last_checkpoint(run: RunDir) -> Path:
    from transformers.trainer_utils import get_last_checkpoint

    found = get_last_checkpoint(str(run.checkpoints_dir)) if run.checkpoints_dir.is_dir() else None
    if not found:
        raise BadInputError("--resume: no checkpoint-<step> folder to resume from", where=str(run.checkpoints_dir))
    return Path(found)


def _load_history(run: RunDir, up_to_step: int) -> list[dict]:
    if not run.history.exists():
        return []
    history = json.loads(run.history.read_text(encoding="utf-8"))
    return [h for h in history if h.get("step", 0) <= up_to_step and "train_runtime_s" not in h]


def _quiet_libraries() -> None:
    """Our rich progress replaces the libraries' tqdm bars; deprecation chatter is not news."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", message=".*is deprecated and will be removed in v6.*",
                            category=FutureWarning)


def train(config: MedgateConfig, run: RunDir, *, on_checkpoint: CheckpointHook | None = None,
          resume: bool = False, progress: bool = True) -> TrainResult:
    """Train as configured, writing checkpoints, adapters/, merged/, train.log and history."""
    from transformers import EarlyStoppingCallback, PrinterCallback, Trainer

    # Lazy like transformers itself: the callbacks subclass transformers.TrainerCallback,
    # whose import loads torch (about 10 s cold on the development machine), and this
    # module is imported by `medgate train --help` and by the pipeline before it trains.
    from finetune.callbacks import CheckpointHookCallback, HistoryCallback, RichProgressCallback

    offline_by_default()
    _quiet_libraries()
    check_compatible(config)
    main = is_main_process()
    run.root.mkdir(parents=True, exist_ok=True)
    resume_from = _last_checkpoint(run) if resume else None
    if not resume and any(run.checkpoints_dir.glob("checkpoint-*")):
        # stale checkpoints from another run would be gated as if they were this run's
        raise BadInputError("the run directory already has checkpoints: pass --resume to continue "
                            "that run, or choose a new --run-dir", where=str(run.checkpoints_dir))
    if main:
        write_resolved(config, run.config)
        if not resume:
            for stale in (run.train_log, run.history):
                stale.unlink(missing_ok=True)

    token = config.hf_token()
    spec = resolve_model(config.model.name, config.model.gguf_file, config.model.revision)
    tokenizer = load_tokenizer(spec, token=token)
    if config.training.method == "dpo":
        from finetune.dpo import load_preference_data

        data = load_preference_data(config, tokenizer)
    else:
        data = load_training_data(config, tokenizer)
    check_training_config(config, data.validation is not None)
    if main:
        write_json(run.train_dir / "data.json", data.provenance)

    # Adapter weights are initialised from the global RNGs before the Trainer seeds them,
    # so seed here: otherwise whatever ran earlier in the process (an evaluation) decides
    # the initial adapter, and two runs of one config differ.
    from transformers import set_seed

    set_seed(config.training.seed)
    model, model_info = build_model(config, spec, token=token)
    history_cb = HistoryCallback(run.history, run.train_log,
                                 _load_history(run, int(resume_from.name.split("-")[1])) if resume_from else None)
    log = history_cb.log_line if main else None
    if main:
        history_cb.log_line(f"start model={spec.name} method={config.peft.method} "
                            f"training={config.training.method} "
                            f"trainable={model_info['trainable_parameters']} "
                            f"train_rows={len(data.train)} validation_rows="
                            f"{len(data.validation) if data.validation is not None else 0}"
                            + (f" resume_from={resume_from}" if resume_from else ""))
        dropped = {k: v for k, v in data.provenance.get("rows_dropped", {}).items() if v}
        if dropped:
            history_cb.log_line(f"rows dropped: {dropped}")

    from finetune.recipes.record import configured
    from finetune.recipes.setup import prepare  # torch-heavy, like the callbacks

    if config.training.method == "dpo" and configured(config.recipes):
        raise BadInputError(f"recipes {sorted(configured(config.recipes))} shape supervised "
                            "fine-tuning; training.method dpo would read none of them",
                            where="recipes")
    recipe = prepare(config, tokenizer, data, model, train_dir=run.train_dir, spec=spec, main=main,
                     resume=resume_from is not None, world_size=int(os.environ.get("WORLD_SIZE", "1")))
    hook_cb = CheckpointHookCallback(on_checkpoint, run.checkpoints_dir, log)
    callbacks: list[Any] = [history_cb, hook_cb]
    if progress and main:
        callbacks.append(RichProgressCallback(history_cb))
    args = training_arguments(config, run, has_validation=data.validation is not None)
    if recipe.max_steps:
        args.max_steps = recipe.max_steps  # the recipe's sequence holds exactly these steps
    if args.load_best_model_at_end:
        callbacks.append(EarlyStoppingCallback(
            early_stopping_patience=config.training.early_stopping_patience,
            early_stopping_threshold=config.training.early_stopping_threshold))

    if config.training.method == "dpo":
        from finetune.dpo import dpo_trainer

        trainer = dpo_trainer(config, model, args, data, tokenizer, callbacks)
    else:
        trainer = recipe.trainer_class(Trainer)(
            model=model, args=args, train_dataset=recipe.train_dataset,
            eval_dataset=data.validation,
            data_collator=recipe.collator(data_collator(config, tokenizer)),
            processing_class=tokenizer, callbacks=callbacks)
        trainer.recipe = recipe.state
    trainer.remove_callback(PrinterCallback)  # it prints log dicts to stdout, where results go
    output = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    recipe.state.flush()
    state = trainer.state
    planned = state.max_steps
    stopped_early = hook_cb.stopped_by_hook or state.global_step < planned
    stop_reason = ((hook_cb.stop_reason or "checkpoint hook") if hook_cb.stopped_by_hook
                   else "early stopping on " + config.training.early_stopping_metric if stopped_early else None)
    best = Path(state.best_model_checkpoint) if state.best_model_checkpoint else None

    method = config.peft.method
    adapter_dir: Path | None = None
    merged_dir: Path | None = None
    if method == "full":
        trainer.save_model(str(run.merged_dir))
        if main:
            tokenizer.save_pretrained(run.merged_dir)
            merged_dir = run.merged_dir
    else:
        trainer.save_model(str(run.adapters_dir))
        adapter_dir = run.adapters_dir
    # The merge loads the base again, in float32: the trained model, its optimiser and the
    # Trainer are released first, so the process peaks at training or merging, not at both
    # (the main job's peak RSS: 4.12 GB with them kept, 3.98 GB released; bench.main_job)
    del trainer, model, recipe
    gc.collect()
    if main and adapter_dir is not None and config.output.merge_full_weights:
        if adapter_type(adapter_dir) in MERGEABLE:
            merged_dir = merge_adapter(spec, adapter_dir, run.merged_dir, config.output.merged_save_format,
                                       token=token)
            history_cb.log_line(f"merged adapter into full weights at {merged_dir}")
        else:
            history_cb.log_line(f"{method} adapters cannot be merged into the weights; merged/ not written")

    checkpoints = saved_checkpoints(run)
    result = TrainResult(adapter_dir=adapter_dir, merged_dir=merged_dir, checkpoints=checkpoints,
                         history=history_cb.history, best_checkpoint=best, final_step=state.global_step,
                         stopped_early=stopped_early, method=method, model_info=model_info,
                         data_provenance=data.provenance, stop_reason=stop_reason)
    if main:
        history_cb.log_line(
            f"end step={state.global_step} planned={planned} train_loss_mean={output.training_loss:.6g} "
            f"stopped_early={stopped_early}" + (f" reason={stop_reason}" if stop_reason else "")
            + (f" best_checkpoint={best}" if best else ""))
        write_json(run.train_dir / "result.json", {
            "method": method, "training_method": config.training.method, "final_step": state.global_step, "planned_steps": planned,
            "stopped_early": stopped_early, "stop_reason": stop_reason,
            "best_checkpoint": str(best) if best else None,
            "adapter_dir": str(adapter_dir) if adapter_dir else None,
            "merged_dir": str(merged_dir) if merged_dir else None,
            "checkpoints": [[s, str(p)] for s, p in checkpoints],
            "first_loss": result.first_loss(), "last_loss": result.last_loss(),
            "world_size": int(os.environ.get("WORLD_SIZE", "1")),
            "model": {**spec.describe(), **model_info},
        })
    return result

