"""Write a commented starter medgate.yaml covering every section and key.

The file is generated from the config schema itself (every key with its default), so it
cannot fall out of step with what `load_config` accepts; the comments say what each key
means. Refuses to overwrite an existing file without --force.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

SECTION_HELP = {
    "model": "Base model: a preset (smollm2-135m), a Hugging Face id, a local folder or a .gguf file.",
    "dataset": "Training data: `demo`, a hub dataset, or a local json/jsonl/csv/parquet/arrow file or "
               "saved dataset folder. Columns: prompt | question+answer | instruction+input+output | messages.",
    "training": "Optimisation (the seed workflow's section 4, plus schedule, evaluation and early stopping).",
    "peft": "Fine-tuning method and LoRA/PEFT settings (the seed workflow's section 5).",
    "output": "Where the run directory goes and whether LoRA is merged into full weights.",
    "evaluation": "Suites that score the base model and every checkpoint.",
    "gates": "Gate policy deciding PROMOTE or BLOCK.",
    "preflight": "Data checks before training: PHI scan and train/test overlap.",
    "report": "Model card and checklist text.",
    "recipes": "Training recipes (README: Training recipes): mixture, tasks, curriculum, regularisers, "
               "augmentation, layer-wise learning rates, presets (finetune/presets). All off by default.",
    "tracking": "Experiment tracking in MLflow: run, gate checks, verdict, registered model.",
}

KEY_HELP = {
    "model.name": "smollm2-135m | meta-llama/Llama-3.1-8B-Instruct | ./models/my-model",
    "model.gguf_file": "a .gguf file inside model.name, when the folder holds several",
    "model.dtype": "auto (float32 on CPU) | float32 | bfloat16 | float16",
    "model.hf_token": "for gated models; better set HF_TOKEN in the environment (never written to disk)",
    "dataset.name": "demo = the bundled demo medical instructions (demo data, not for real use)",
    "dataset.format": "auto | json | jsonl | csv | parquet | arrow | dataset",
    "dataset.validation_split": "a split name (hub) or a file; empty = hold out validation_size",
    "dataset.validation_size": "fraction of rows held out for validation loss when no split is given",
    "dataset.prompt_field": "column of pre-formatted prompts (template included)",
    "dataset.max_samples": "0 = all rows",
    "dataset.system_prompt": "system message for rows formatted with the model's chat template",
    "dataset.replay.dataset": "general-domain data mixed in against forgetting (empty = none)",
    "dataset.replay.ratio": "share of replay rows in the training mix; the lecture suggests 0.1-0.2",
    "training.num_epochs": "used when max_steps is -1",
    "training.max_steps": "-1 = train for num_epochs",
    "training.learning_rate": "lecture: PEFT 1e-3..5e-3 (seed workflow 2e-4), full fine-tuning 1e-5..5e-5",
    "training.lr_scheduler": "linear | cosine | constant | constant_with_warmup",
    "training.warmup_ratio": "fraction of steps warming up (lecture: 0.05-0.1)",
    "training.micro_batch_size": "per-device batch; effective = micro x accumulation x devices",
    "training.max_seq_length": "longer rows are dropped and counted in train/data.json",
    "training.weight_decay": "lecture: 0.01-0.1",
    "training.max_grad_norm": "gradient clipping",
    "training.gradient_checkpointing": "saves activation memory for ~20% speed",
    "training.bf16": "bfloat16 weights and mixed precision: a GPU with bf16, or a CPU with "
                     "AVX512-BF16/AMX (elsewhere emulated, slower than float32)",
    "training.packing": "pack each micro batch into one padding-free sequence",
    "training.eval_steps": "validation loss every N steps",
    "training.save_steps": "a checkpoint (and the gate hook) every N steps",
    "training.save_total_limit": "keep only the newest N checkpoints (empty = keep all)",
    "training.early_stopping_patience": "stop after N evaluations without improvement and restore the "
                                        "best checkpoint (0 = off); save_steps must be a multiple of eval_steps",
    "evaluation.suite_options": "per-suite options over the spec's defaults, e.g. {safety: {judge: llm}}; "
                                "`medgate suites --json` lists what each suite accepts",
    "evaluation.suite_specs": "your own suite spec files or folders (YAML), read beside the bundled "
                              "ones: a suite added without code",
    "evaluation.checkpoint_limit": "items per suite scored while training (a quick screen for the printed verdict and gates.early_stop); every checkpoint is then evaluated in full, reusing those items from the cache",
    "evaluation.generation_batch_size": "prompts generated together (empty = batch_size); larger is faster on CPU",
    "gates.selection": "empty = the policy's selection.rule; best_primary | last_passing overrides it",
    "gates.early_stop.on_failed": "policy checks that end training at the first checkpoint failing them, e.g. [forgetting]",
    "gates.early_stop.metric": "SUITE.METRIC watched for improvement, e.g. general.accuracy (empty = off)",
    "gates.early_stop.patience": "checkpoints without improvement of `metric` before training stops",
    "training.method": "sft | dpo (preference pairs or expert ratings; reference = base, adapter off)",
    "training.dpo_beta": "DPO's beta: how far the policy may move from the reference",
    "training.report_to": "passed to transformers, e.g. [tensorboard] or [mlflow] (empty = none)",
    "tracking.mlflow_uri": "MLflow tracking server or store (empty = ./mlruns)",
    "tracking.register_model": "registered model name for a promoted model (empty = not registered)",
    "peft.method": "lora | qlora | prefix | ia3 | full",
    "peft.r": "LoRA rank (lecture: 8 for most medical NLP, 16 for reasoning, 32-64 multi-task)",
    "peft.alpha": "LoRA scaling factor",
    "peft.target_modules": "module names, or all-linear",
    "peft.quantization": "qlora only: 4bit | 8bit",
    "peft.quant_type": "qlora 4bit only: nf4 | fp4",
    "peft.double_quant": "qlora 4bit only: quantise the quantisation constants too",
    "peft.num_virtual_tokens": "prefix tuning only",
    "output.run_dir": "empty = <runs_root>/<time>",
    "output.merge_full_weights": "write merged/ (LoRA folded into the weights)",
    "report.reviewers_required": "distinct medical reviewers whose approval completes the expert review",
    "report.medical_roles": "sign-off roles that count as medical professionals (case-insensitive, "
                            "exact); other roles are recorded but do not count",
    "recipes.preset": "few-shot | rank-simple | rank-standard | rank-complex | rank-multitask | a YAML path",
    "recipes.mixture.sources": "[{name: general, dataset: FILE}]: data mixed with dataset.name (named main)",
    "recipes.mixture.weights": "{main: 0.8, general: 0.2}: the lecture recommends 80/20",
    "recipes.mixture.schedule": "constant | linear | step (to end_weights; step at step_at of training)",
    "recipes.tasks.field": "column naming each row's task (empty = one task)",
    "recipes.tasks.weighting": "uniform | proportional | temperature (p ~ n^(1/temperature))",
    "recipes.tasks.templates": "{TASK: 'text with {input}'}: a prompt template per task",
    "recipes.curriculum.order_by": "none | level (level_field) | loss (the base model's, cached)",
    "recipes.curriculum.pacing": "linear | root | step: admits start_fraction, all at full_at",
    "recipes.regularisers.general_data": "general text for EWC's Fisher and distillation (demo = bundled)",
    "recipes.augment.rate": "share of rows given a perturbed copy (robustness suite's engine and guard)",
    "recipes.layer_lr_ratio": "bottom:top learning-rate ratio by depth (lecture: 10); 1 = off",
}


def _yaml_value(value: Any) -> str:
    import yaml

    if value is None:
        return ""
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return text[:-4].strip() if text.endswith("\n...") else text.removesuffix("...").strip()


def render_starter() -> str:
    """The starter config text: every section and key with its default and a comment."""
    from harness.core.config import MedgateConfig

    defaults = MedgateConfig().to_public_dict()
    defaults["model"]["hf_token"] = None  # shown, commented, so users see where it goes
    lines = ["# medgate.yaml - written by `medgate init`. Every key is optional; the values",
             "# below are the defaults. Override any key on the command line with",
             "# --set section.key=value (e.g. --set training.max_steps=30).", ""]

    def emit(prefix: str, data: dict[str, Any], indent: int) -> None:
        pad = "  " * indent
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict) and value and key != "data":
                lines.append(f"{pad}{key}:")
                emit(path, value, indent + 1)
                continue
            comment = KEY_HELP.get(path)
            if path == "model.hf_token":
                lines.append(f"{pad}# hf_token:        # {comment}")
                continue
            rendered = _yaml_value(value)
            entry = f"{pad}{key}: {rendered}" if rendered != "" else f"{pad}{key}:"
            lines.append(f"{entry}  # {comment}" if comment else entry)

    for section, body in defaults.items():
        lines.append(f"# {SECTION_HELP.get(section, section)}")
        lines.append(f"{section}:")
        emit(section, body, 1)
        lines.append("")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="medgate.yaml", help="where to write (default medgate.yaml)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")


def run(args: argparse.Namespace) -> int:
    from harness.core.atomic import write_text
    from harness.core.config import load_config
    from harness.core.console import out
    from harness.core.errors import BadInputError

    path = Path(args.out)
    if path.exists() and not args.force:
        raise BadInputError("file exists; pass --force to overwrite it", where=str(path))
    text = render_starter()
    write_text(path, text)
    load_config(path)  # what we write must load back
    out.print(f"wrote {path}")
    return 0
