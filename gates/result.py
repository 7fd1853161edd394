"""The gate's results as types: one check's outcome, one checkpoint's verdict, the run's verdict.

gate.json is a `GateResult` dumped (`write_gate_json`) and read back (`read_gate`); JUnit,
summary.md, `medgate gate --baseline`, promotion and the reports read these types, so a
key renamed in one place cannot silently go missing in another. The file keeps the layout
of the design: `checkpoints: {tag: {verdict, checks: [...], failed, primary, demo_suites}}`;
a check's optional fields (a rate's bound, a paired check's McNemar counts, the device of
a cuda-gated check) are written only when the check set them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_serializer,
    model_validator,
)

from gates.policy import Bound, Direction, Judge, Op
from harness.core.atomic import write_json
from harness.core.errors import BadInputError

PROMOTE = "PROMOTE"
BLOCK = "BLOCK"

Verdict = Literal["PROMOTE", "BLOCK"]
SelectionRule = Literal["best_primary", "last_passing"]
# Where the rule that chose came from: the policy file, the run's config (gates.selection),
# or `medgate gate --selection`.
SelectionSource = Literal["policy", "config", "cli"]
# A check's outcome. "insufficient": the data cannot show the threshold at the policy's
# confidence (it BLOCKs, and the check says how many items would); "reported": measured and
# shown, not gated (a cuda-gated check measured on a CPU).
Outcome = Literal["pass", "fail", "insufficient", "reported"]
# Which items a check was judged on: the selection part (the items that chose among the
# candidates), the confirmation part (the items held out from choosing) or all of them
# (no split: the confidence is then corrected for the number of candidates).
ItemPart = Literal["selection", "confirmation", "all"]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class _Result(BaseModel):
    # Assignments are validated: the check code fills a result step by step, and a wrong
    # type must fail where it is made, not when a report reads gate.json.
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class CheckResult(_Result):
    """One policy check judged on one model: an entry of a checkpoint's `checks`.

    `compared` is the number actually held against `threshold` (a point estimate or a
    bound). `outcome` is pass, fail, insufficient (the data cannot show the threshold:
    `n_needed` says how many items would) or reported (not gated); `passed` is True only
    on a pass and None only for a reported check. `screened` marks a check judged on a
    point estimate by the policy's explicit choice: it passed a screen, it did not show
    the threshold.
    """

    name: str
    suite: str = ""
    metric: str = ""
    judge: Judge | None = None
    value: float | None = None
    op: Op | None = None
    threshold: float | None = None
    ci: list[float | None] | None = None
    compared: float | None = None
    bound: Bound | None = None
    n: int | None = None
    min_n: int | None = None
    gated: bool = True
    passed: bool | None = False  # fail closed: a result nobody judged has not passed
    outcome: Outcome = "fail"
    screened: bool = False
    reason: str = ""
    # The items judged (selection, confirmation or all) and the confidence the bounds were
    # computed at (the policy's, or corrected for the number of candidates).
    items: ItemPart | None = None
    confidence: float | None = None
    # The spread of the model's answers when they collapsed onto one option (modal,
    # modal_share, entropy_bits, n): the suite carried no information about this model.
    degenerate: dict[str, Any] | None = None
    # Written only when set: the device of a cuda-gated check ...
    device: str | None = None
    # ... a rare-event rate's one-sided bound, its events and the items that would show it ...
    upper95: float | None = None
    events: int | None = None
    n_needed: int | None = None
    # ... and a paired check's accuracies, pairing counts and McNemar's p.
    acc_model: float | None = None
    acc_base: float | None = None
    n_paired: int | None = None
    only_model: int | None = None
    only_base: int | None = None
    mcnemar_p: float | None = None
    unpaired_model: int | None = None
    unpaired_base: int | None = None
    baseline: str | None = None
    # ... and a rate_vs_base check's direction, the two rates on the paired items and
    # which one-sided alternative its McNemar p tests ("less": rate(model) < rate(base),
    # "greater": rate(model) > rate(base); the other paired checks' p is two-sided).
    direction: Direction | None = None
    rate_model: float | None = None
    rate_base: float | None = None
    mcnemar_alternative: Literal["less", "greater"] | None = None
    # ... and, when its suite was scored sequentially and stopped before the plan ran out:
    # the rule that settled it (gates.sequential), the items scored and planned.
    sequential: dict[str, Any] | None = None

    @model_serializer(mode="wrap")
    def _on_disk(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        return {k: v for k, v in data.items() if k in _ALWAYS or k in self.model_fields_set}


_ALWAYS = ("name", "suite", "metric", "judge", "value", "op", "threshold", "ci", "compared",
           "bound", "n", "min_n", "gated", "passed", "outcome", "screened", "reason")


class CheckpointVerdict(_Result):
    """Every check of the policy on one model; PROMOTE only when every gated check passed."""

    tag: str = Field("", exclude=True)  # the key it is filed under in gate.json
    verdict: Verdict
    checks: list[CheckResult] = []
    primary: float | None = None
    demo_suites: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _drop_derived(cls, data: Any) -> Any:
        # `failed` on disk is derived from `checks`, so it is not read back.
        if isinstance(data, dict) and "failed" in data:
            data = {k: v for k, v in data.items() if k != "failed"}
        return data

    @model_serializer(mode="wrap")
    def _on_disk(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        return {"verdict": data["verdict"], "checks": data["checks"],
                "failed": [c.name for c in self.failed], "primary": data["primary"],
                "demo_suites": data["demo_suites"]}

    @property
    def passed(self) -> bool:
        return self.verdict == PROMOTE

    @property
    def failed(self) -> list[CheckResult]:
        """Gated checks that did not pass (failed, insufficient evidence or unjudgeable)."""
        return [c for c in self.checks if c.gated and c.passed is not True]

    @property
    def insufficient(self) -> list[CheckResult]:
        """Gated checks whose data could not show their threshold."""
        return [c for c in self.checks if c.gated and c.outcome == "insufficient"]

    @property
    def screened(self) -> list[CheckResult]:
        """Passed checks judged on a point estimate (screened, not shown)."""
        return [c for c in self.checks if c.screened and c.passed is True]


class SelectionRecord(_Result):
    """How the promoted checkpoint was chosen: the rule, where it came from, what it ranked."""

    rule: SelectionRule | None = None
    source: SelectionSource | None = None
    description: str = ""
    primary_metric: str | None = None
    passing: list[str] = []
    primary_values: dict[str, float | None] | None = None

    @model_serializer(mode="wrap")
    def _on_disk(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        optional = ("primary_metric", "primary_values")  # absent when nothing was ranked
        return {k: v for k, v in data.items() if k not in optional or k in self.model_fields_set}


class SplitRecord(_Result):
    """How the judged items were split between choosing and confirming.

    With the split on, every item is assigned by its id alone (`method`): the share
    `confirm_fraction` confirms, the rest selects; the candidates are judged and ranked on
    the selection part, and the one chosen is judged again on the confirmation part, whose
    verdict is the run's. With it off, every candidate is judged on all items at a
    confidence corrected for the `candidates` judged (`correction`).
    """

    enabled: bool = True
    confirm_fraction: float | None = None
    method: str = ""
    candidates: int = 0
    correction: Literal["none", "bonferroni"] = "none"
    confidence: float | None = None
    # Per suite: {"selection": n items, "confirmation": n items}.
    items: dict[str, dict[str, int]] = {}


class PolicyRef(_Result):
    """The policy that judged: its name, file and the sha256 that binds the verdict to it."""

    name: str = ""
    path: str = ""
    sha256: str = ""


class BaselineRef(_Result):
    """The model the paired checks compared with: a run directory and a model tag."""

    run_dir: str | None = None
    tag: str | None = None


class GateResult(_Result):
    """The run's verdict: the contents of gate.json."""

    verdict: Verdict
    selected: str | None = None
    reasons: list[str] = []
    selection: SelectionRecord = SelectionRecord()
    # The candidates, each judged on the selection items (all items with the split off).
    checkpoints: dict[str, CheckpointVerdict] = {}
    split: SplitRecord = SplitRecord()
    # The chosen candidate judged on the confirmation items: the run's verdict (None when
    # nothing was chosen, or with the split off).
    chosen: str | None = None
    confirmation: CheckpointVerdict | None = None
    policy: PolicyRef = PolicyRef()
    baseline: BaselineRef = BaselineRef()
    run_dir: str = ""
    # How the evidence was gathered: exhaustive, or sequential with its method and, per
    # model and suite, the items scored against the items planned (gates.sequential).
    sequential: dict[str, Any] | None = None
    created_at: str = Field(default_factory=_now)

    @model_validator(mode="after")
    def _tags_from_keys(self) -> GateResult:
        for tag, verdict in self.checkpoints.items():
            if not verdict.tag:
                verdict.tag = tag
        if self.confirmation is not None and not self.confirmation.tag and self.chosen:
            self.confirmation.tag = self.chosen
        return self

    @property
    def failed_checks(self) -> int:
        return sum(len(v.failed) for v in self.checkpoints.values())

    @property
    def deciding(self) -> CheckpointVerdict | None:
        """The verdict that decided the run: the confirmation of the chosen checkpoint,
        else (split off) the selected checkpoint's own verdict."""
        if self.confirmation is not None:
            return self.confirmation
        if self.selected:
            return self.checkpoints.get(self.selected)
        return None


def write_gate_json(path: str | Path, result: GateResult) -> Path:
    """gate.json, written atomically (a reader never sees half a verdict)."""
    return write_json(path, result.model_dump(mode="json"))


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    if err["type"] == "extra_forbidden":
        return f"unknown key '{key}'{more}"
    return f"key '{key}': {err['msg']}{more}"


def read_gate(path: str | Path) -> GateResult:
    """A gate.json read back as a GateResult; unreadable JSON or a wrong shape is bad input
    naming the file (and the key)."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BadInputError("gate.json not found: run `medgate gate` first",
                            where=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"cannot read gate.json ({exc})", where=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise BadInputError(f"not valid JSON ({exc.msg}, line {exc.lineno})",
                            where=str(path)) from exc
    if not isinstance(raw, dict):
        raise BadInputError("gate.json must be a JSON object", where=str(path))
    try:
        return GateResult.model_validate(raw)
    except ValidationError as exc:
        raise BadInputError(f"not a gate result: {_first_error(exc)}", where=str(path)) from exc
