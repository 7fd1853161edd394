"""Estimate training memory (weights, gradients, optimizer state, activations) and
recommend a micro batch, gradient checkpointing and quantisation for a GPU.

The parameter count comes from the preset or a local/cached config; for a hub id that
is not available offline it is parsed from the name (e.g. "Llama-3.1-8B"), and the
output says so. Estimates are for planning, not measurements.
"""

from __future__ import annotations

import argparse
import json

from rich.table import Table

from finetune.plan import model_shape, recommend
from harness.core.console import out
from harness.core.errors import BadInputError

METHODS = ("lora", "qlora", "prefix", "ia3", "full")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="smollm2-135m", help="preset, hub id or local folder")
    parser.add_argument("--gpu-mem", type=float, default=24.0, metavar="GB", help="GPU memory in GB (default 24)")
    parser.add_argument("--method", choices=METHODS, default="qlora")
    parser.add_argument("--seq-len", type=int, default=2048, help="training.max_seq_length (default 2048)")
    parser.add_argument("--r", type=int, default=64, help="LoRA rank (default 64, the seed workflow's)")
    parser.add_argument("--target-modules", default="q_proj,k_proj,v_proj,o_proj",
                        help="comma-separated LoRA target modules")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON on stdout")


def run(args: argparse.Namespace) -> int:
    if args.gpu_mem <= 0:
        raise BadInputError("--gpu-mem must be a positive number of GB")
    if args.seq_len < 16:
        raise BadInputError("--seq-len must be at least 16")
    targets = [m.strip() for m in args.target_modules.split(",") if m.strip()]
    shape = model_shape(args.model)
    plan = recommend(shape, gpu_gib=args.gpu_mem, method=args.method, seq_len=args.seq_len,
                     r=args.r, target_modules=targets)
    est = plan["estimate"]
    if args.json:
        print(json.dumps({"model": args.model, "parameters": shape.params, "shape_source": shape.source,
                          "notes": shape.notes, "gpu_mem_gb": args.gpu_mem, "requested_method": args.method,
                          "fits": plan["fits"], "estimate": est.to_dict(),
                          "gradient_accumulation": plan["gradient_accumulation"],
                          "reasons": plan["reasons"]}, indent=2))
        return 0

    out.print(f"[bold]{args.model}[/]: {shape.params / 1e9:.3g}B parameters ({shape.source})")
    for note in shape.notes:
        out.print(f"[yellow]note:[/] {note}")
    table = Table(title=f"memory estimate: {est.method}, micro batch {est.micro_batch}, "
                        f"seq {est.seq_len}, checkpointing {'on' if est.gradient_checkpointing else 'off'}")
    table.add_column("component")
    table.add_column("GiB", justify="right")
    table.add_column("basis")
    table.add_row("weights", f"{est.weights_gib:.2f}", est.quantization)
    table.add_row("gradients", f"{est.gradients_gib:.2f}", f"{est.trainable_params:,} trainable parameters")
    table.add_row("optimizer state", f"{est.optimizer_gib:.2f}", "AdamW")
    table.add_row("activations", f"{est.activations_gib:.2f}",
                  "checkpointed" if est.gradient_checkpointing else "all layers kept")
    table.add_row("overhead", f"{est.overhead_gib:.2f}", "CUDA context, fragmentation")
    table.add_row("[bold]total[/]", f"[bold]{est.total_gib:.2f}[/]",
                  f"budget {plan['budget_gib']:.1f} of {args.gpu_mem:g} GB")
    out.print(table)
    if plan["fits"]:
        out.print(f"[green]recommended:[/] peft.method={est.method} training.micro_batch_size={est.micro_batch} "
                  f"training.gradient_accumulation={plan['gradient_accumulation']} "
                  f"training.gradient_checkpointing={str(est.gradient_checkpointing).lower()}"
                  + (" peft.quantization=4bit" if est.method == "qlora" else ""))
    else:
        out.print("[red]does not fit[/]")
    for reason in plan["reasons"]:
        out.print(f"  - {reason}")
    return 0
