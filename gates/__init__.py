"""medgate gates: policies, fail-closed checks with paired statistics, selection, promotion.

The pipeline and the CLI use only what is named here.
"""

from gates.judge import (
    BLOCK,
    PROMOTE,
    CheckpointVerdict,
    GateResult,
    judge_checkpoint,
    judge_run,
    preflight_block,
    resolve_baseline_tag,
    write_gate,
)
from gates.policy import Check, Policy, builtin_policies, load_policy
from gates.promote import promote

__all__ = [
    "BLOCK", "PROMOTE", "Check", "CheckpointVerdict", "GateResult", "Policy", "builtin_policies",
    "judge_checkpoint", "judge_run", "load_policy", "preflight_block", "promote",
    "resolve_baseline_tag", "write_gate",
]
