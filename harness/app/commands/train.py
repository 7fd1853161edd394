"""Fine-tune a model (LoRA, QLoRA, prefix, IA3 or full) into a run directory.

Without -c the embedded demo config runs: SmolLM2-135M-Instruct with LoRA on the bundled
demo data, sized for a CPU. Progress (step, loss, tokens/s, ETA) goes to stderr; where
the checkpoints, adapter and merged weights were written goes to stdout.

Several processes (CPU with gloo, or one per GPU) train the same config into the same
run directory when started by torchrun:
    torchrun --nproc_per_node 2 -m harness.app.cli train -c medgate.yaml --run-dir runs/ddp
"""

from __future__ import annotations

import argparse
from contextlib import nullcontext

from finetune.trainer import is_main_process, train
from harness.app.commands.run_options import add_run_options, config_from_args
from harness.core.console import err, out
from harness.core.errors import BadInputError
from harness.core.lock import RunLock
from harness.core.rundir import RunDir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_options(parser, resume_help="continue from the last checkpoint in the run directory")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs only)")


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    root = args.run_dir or config.output.run_dir
    if args.resume and not root:
        raise BadInputError("--resume needs --run-dir (or output.run_dir) naming the run to continue")
    run_dir = RunDir.create(root, parent=config.output.runs_root)

    main = is_main_process()
    if main:
        err.print(f"[bold]medgate train[/] model={config.model.name} method={config.peft.method} "
                  f"data={config.dataset.name} run={run_dir.root}")
    # one writer per run directory; the other ranks of a torchrun launch are its helpers
    with RunLock(run_dir.root) if main else nullcontext():
        result = train(config, run_dir, resume=args.resume, progress=not args.no_progress)
    if not main:
        return 0
    first, last = result.first_loss(), result.last_loss()
    prov = result.data_provenance
    out.print(f"run directory   {run_dir.root}")
    out.print(f"steps           {result.final_step}" + (f" (stopped early: {result.stop_reason})"
                                                        if result.stopped_early else ""))
    if first is not None and last is not None:
        out.print(f"loss            first {first:.4f} -> last {last:.4f}")
    evals = [h["eval_loss"] for h in result.history if "eval_loss" in h]
    if evals:
        out.print(f"eval loss       {' -> '.join(f'{v:.4f}' for v in evals)}")
    dropped = {k: v for k, v in prov.get("rows_dropped", {}).items() if v}
    out.print(f"data            {prov.get('source')} ({prov.get('format')}): {prov.get('rows_kept')} train rows, "
              f"{prov.get('validation_rows_kept', 0)} validation rows"
              + (f", dropped {dropped}" if dropped else "")
              + (f", {prov.get('replay_rows')} replay rows" if prov.get("replay_rows") else "")
              + (" \\[demo data]" if prov.get("demo") else ""))
    for step, path in result.checkpoints:
        out.print(f"checkpoint      {step:>5}  {path}")
    if result.best_checkpoint:
        out.print(f"best checkpoint {result.best_checkpoint}")
    if result.adapter_dir:
        out.print(f"adapter         {result.adapter_dir}")
    if result.merged_dir:
        out.print(f"merged weights  {result.merged_dir}")
    out.print(f"history         {run_dir.history}")
    out.print(f"log             {run_dir.train_log}")
    out.print(f"config          {run_dir.config}")
    return 0
