"""medgate gates: policies, fail-closed checks with paired statistics, selection, promotion.

The pipeline and the CLI use only what is named here. gate.json is a `GateResult`
(gates.result): written by `write_gate`, read back by `read_gate`.
"""

from gates.judge import (
    judge_checkpoint,
    judge_run,
    preflight_block,
    resolve_baseline_tag,
    selection_metric,
    write_gate,
)
from gates.policy import Check, Policy, builtin_policies, load_policy
from gates.promote import promote
from gates.result import (
    BLOCK,
    PROMOTE,
    CheckpointVerdict,
    CheckResult,
    GateResult,
    SelectionRecord,
    read_gate,
)

__all__ = [
    "BLOCK", "PROMOTE", "Check", "CheckResult", "CheckpointVerdict", "GateResult", "Policy",
    "SelectionRecord", "builtin_policies", "judge_checkpoint", "judge_run", "load_policy",
    "preflight_block", "promote", "read_gate", "resolve_baseline_tag", "selection_metric",
    "write_gate",
]
