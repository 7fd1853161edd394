"""Whether bfloat16 is fast here, and the warning when it is asked for where it is not.

A CPU with bfloat16 instructions (AVX512-BF16 or AMX) runs a bf16 forward pass in about
0.4 of the float32 time (the embedded default on 2 cores: 1.6 s against 4.0 s for 8
prompts of 256 tokens; `python -m bench.dtype_agreement`), so the embedded default
scores and trains in bf16. A CPU without them emulates bf16 and is slower than float32:
asking for bf16 there is allowed (the numbers are the same) but said, with the setting
that is faster.
"""

from __future__ import annotations

from harness.core.console import err

_warned: set[str] = set()


def cpu_computes_bf16() -> bool:
    """Whether this CPU has bfloat16 instructions, as torch detects them (False when the
    torch build cannot say)."""
    import torch

    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


def emulated_bf16_warning(dtype: str) -> str | None:
    """Why `dtype` will be slow on this machine, or None: bfloat16 asked for with neither
    a CUDA GPU nor a CPU that computes it."""
    if dtype != "bfloat16":
        return None
    import torch

    if torch.cuda.is_available() or cpu_computes_bf16():
        return None
    return ("bfloat16 is emulated on this CPU (no AVX512-BF16 or AMX) and runs slower than "
            "float32: set --set model.dtype=float32 --set training.bf16=false to go faster")


def warn_if_emulated(dtype: str) -> None:
    """Print `emulated_bf16_warning` once per process."""
    message = emulated_bf16_warning(dtype)
    if message and message not in _warned:
        _warned.add(message)
        err.print(f"[yellow]warning:[/] {message}")
