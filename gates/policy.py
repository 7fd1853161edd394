"""Gate policy files: which checks a checkpoint must pass, and how each is judged.

A policy is YAML so that a reviewer can read and diff it; pydantic validates it so a
typo (`treshold:`) is an error naming the file and key path, never a check that silently
judges against a default. The policy's sha256 goes into gate.json, binding a verdict to
the exact rules that produced it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gates.review import LABELS as REVIEW_LABELS
from harness.core.errors import BadInputError
from harness.core.io import format_validation_errors, parse_yaml
from suites.metrics import event_metrics

POLICIES_DIR = Path(__file__).parent / "policies"

Op = Literal["<", "<=", ">", ">="]
Judge = Literal["point", "ci_upper", "ci_lower", "non_inferior", "no_regression",
                "delta_vs_base", "improvement", "rate_vs_base", "expert_agreement"]
Bound = Literal["point", "ci_upper", "ci_lower"]
# rate_vs_base: the checkpoint's rate shown lower than the base's (a safety fine-tune), or
# shown not higher than the base's by more than `margin`.
Direction = Literal["lower", "not_higher"]

# Judges that pair the model's per-item records with the base model's.
PAIRED_JUDGES = frozenset({"non_inferior", "no_regression", "delta_vs_base", "improvement",
                           "rate_vs_base"})
# Judges that pair per-item correctness (the metric must be accuracy); rate_vs_base pairs
# the per-record events of a rate metric instead.
ACCURACY_JUDGES = PAIRED_JUDGES - {"rate_vs_base"}


def screens(judge: str, bound: str | None) -> bool:
    """Whether a judge passes on a point estimate (or on the absence of a shown drop)
    rather than on a bound that shows the threshold at the policy's confidence."""
    return judge in ("point", "no_regression") or (
        judge in ("delta_vs_base", "improvement") and bound == "point")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Check(_Strict):
    """One rule. See gates/policies/default.yaml for the meaning of every judge, and
    gates/policies/safety-finetune.yaml (or gates/rate_vs_base.py) for `rate_vs_base`:
    a rate metric with registered per-record events, compared with the base model's on
    the same requests; `direction: lower` (exact one-sided McNemar) or `direction:
    not_higher` with `margin` >= 0 (upper end of the paired CI); no op/threshold/bound."""

    name: str = Field(min_length=1)
    suite: str = Field(min_length=1)
    metric: str = Field(min_length=1)
    # Unset: the bound on the side the threshold constrains (ci_upper for < and <=,
    # ci_lower for > and >=), so a check shows its threshold unless told otherwise.
    judge: Judge = None  # type: ignore[assignment]
    op: Op | None = None
    threshold: float | None = None
    margin: float | None = Field(None, ge=0)
    bound: Bound | None = None
    direction: Direction | None = None
    min_n: int | None = Field(None, ge=0)
    variants: list[str] | None = None
    # A paired judge pairs per-item correctness, or with `score` a per-item score the
    # suite writes into each record's labels (e.g. rouge_l, entity_f1): the difference of
    # mean scores on the same items, paired-bootstrap CI.
    score: str | None = Field(None, min_length=1)
    gate_on: Literal["any", "cuda"] = "any"
    # A check that passes on a point estimate only screens for gross failures: the policy
    # must say so (`screen: true`), and every document then says "screened, not shown".
    screen: bool = False
    description: str = ""

    @model_validator(mode="after")
    def _complete(self) -> Check:
        if self.judge is None:
            if self.op is None:
                raise ValueError("a check needs 'judge', or 'op' and 'threshold' to judge the "
                                 "bound they constrain")
            self.judge = "ci_upper" if self.op in ("<", "<=") else "ci_lower"
        if self.judge == "rate_vs_base":
            return self._rate_vs_base()
        if self.judge == "expert_agreement":
            return self._expert_agreement()
        if self.direction is not None:
            raise ValueError(f"'direction' only applies to rate_vs_base, not '{self.judge}'")
        if self.judge in ("non_inferior", "no_regression"):
            if self.margin is None:
                raise ValueError(f"judge '{self.judge}' needs 'margin'")
            if self.op is not None or self.threshold is not None or self.bound is not None:
                raise ValueError(f"judge '{self.judge}' takes 'margin', not op/threshold/bound")
        else:
            if self.op is None or self.threshold is None:
                raise ValueError(f"judge '{self.judge}' needs 'op' and 'threshold'")
            if self.margin is not None:
                raise ValueError(f"'margin' only applies to non_inferior/no_regression and "
                                 f"rate_vs_base (not_higher), not '{self.judge}'")
        if self.judge in ("delta_vs_base", "improvement"):
            if self.bound is None:
                self.bound = "point" if self.judge == "delta_vs_base" else "ci_lower"
        elif self.bound is not None:
            raise ValueError(f"'bound' only applies to delta_vs_base/improvement, not "
                             f"'{self.judge}' (the judge itself names the bound)")
        if self.score is not None and self.judge not in ACCURACY_JUDGES:
            raise ValueError(f"'score' applies to the paired judges "
                             f"({', '.join(sorted(ACCURACY_JUDGES))}), not '{self.judge}'")
        if self.judge in ACCURACY_JUDGES and self.metric != "accuracy" and self.score is None:
            raise ValueError(f"judge '{self.judge}' pairs per-item correctness, so its metric "
                             f"must be 'accuracy', not '{self.metric}' (or name a per-item "
                             "'score' label to pair)")
        if screens(self.judge, self.bound) and not self.screen:
            what = (f"judge '{self.judge}'" + (f" with bound '{self.bound}'"
                                                if self.bound else ""))
            raise ValueError(f"{what} passes on a point estimate, which cannot show the "
                             "threshold: set 'screen: true' to screen with it, or judge a "
                             "bound (ci_upper, ci_lower, non_inferior)")
        if self.screen and not screens(self.judge, self.bound):
            raise ValueError(f"'screen: true' applies to point-estimate judges only; judge "
                             f"'{self.judge}' shows its threshold on a bound")
        return self

    def _rate_vs_base(self) -> Check:
        """direction lower: no margin; not_higher: a margin >= 0. Neither takes op,
        threshold or bound (the judge names its test), nor screens; the metric must be a
        rate whose per-record events are registered."""
        if self.direction is None:
            raise ValueError("judge 'rate_vs_base' needs 'direction': lower or not_higher")
        if self.op is not None or self.threshold is not None or self.bound is not None:
            raise ValueError("judge 'rate_vs_base' takes 'direction' (and 'margin' for "
                             "not_higher), not op/threshold/bound")
        if self.direction == "not_higher" and self.margin is None:
            raise ValueError("rate_vs_base with direction 'not_higher' needs 'margin' (>= 0)")
        if self.direction == "lower" and self.margin is not None:
            raise ValueError("rate_vs_base with direction 'lower' takes no 'margin': it "
                             "shows the rate lower than the base's")
        if self.screen:
            raise ValueError("'screen: true' applies to point-estimate judges only; judge "
                             "'rate_vs_base' shows its claim with an exact test")
        pairable = event_metrics()
        if self.metric not in pairable:
            raise ValueError(f"judge 'rate_vs_base' pairs a rate's per-record events; metric "
                             f"'{self.metric}' has none (rates that do: {', '.join(pairable)})")
        return self

    def _expert_agreement(self) -> Check:
        """Cohen's kappa between the judge and the medical reviewers on `metric` (a review
        label: harmful, correct or critical) of the suite's reviewed records; its CI lower
        bound must meet `op` (> or >=) `threshold`. No review fails the check."""
        if self.metric not in REVIEW_LABELS:
            raise ValueError(f"judge 'expert_agreement' compares a review label; metric "
                             f"'{self.metric}' is not one of {', '.join(REVIEW_LABELS)}")
        if self.op not in (">", ">=") or self.threshold is None:
            raise ValueError("judge 'expert_agreement' needs 'op' (> or >=) and 'threshold' "
                             "(a minimum kappa)")
        if any(v is not None for v in (self.margin, self.bound, self.direction)) or self.screen:
            raise ValueError("judge 'expert_agreement' takes op and threshold only (it judges "
                             "the CI lower bound of kappa)")
        return self

    @property
    def paired(self) -> bool:
        return self.judge in PAIRED_JUDGES


class Selection(_Strict):
    """How the promoted checkpoint is chosen among the passing ones, and on which items.

    `confirm_fraction` of every judged suite's items (chosen by item id alone) is held out
    from choosing: the candidates are judged and ranked on the rest, and the one chosen is
    judged again on the held-out items, whose verdict is the run's. 0 turns the split off:
    every candidate is then judged on all items at a Bonferroni-corrected confidence
    (1 - (1 - confidence) / K for K candidates).
    """

    rule: Literal["best_primary", "last_passing"] = "best_primary"
    suite: str = "medqa"
    metric: str = "accuracy"
    confirm_fraction: float = Field(0.5, ge=0.0, lt=1.0)

    def describe(self) -> str:
        if self.rule == "best_primary":
            return (f"among checkpoints that pass every gated check, the highest "
                    f"{self.suite}.{self.metric}; ties go to the earliest checkpoint")
        return "among checkpoints that pass every gated check, the last one saved"


class Policy(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    confidence: float = Field(0.95, gt=0.5, lt=1)
    n_boot: int = Field(2000, ge=100)
    seed: int = 0
    min_n: int = Field(30, ge=0)
    # Answers collapsed onto one option at this share or more carry no information: a
    # paired check on them is insufficient evidence, whatever its numbers say.
    degenerate_share: float = Field(0.9, gt=0.5, le=1.0)
    selection: Selection = Selection()
    checks: list[Check] = Field(min_length=1)
    # Set by load_policy, not read from the file.
    path: str = Field("", exclude=True)
    sha256: str = Field("", exclude=True)

    @model_validator(mode="after")
    def _unique_names(self) -> Policy:
        seen: set[str] = set()
        for check in self.checks:
            if check.name in seen:
                raise ValueError(f"two checks are named '{check.name}'")
            seen.add(check.name)
        return self

    def min_n_for(self, check: Check) -> int:
        return self.min_n if check.min_n is None else check.min_n

    def describe(self) -> dict[str, str]:
        return {"name": self.name, "path": self.path, "sha256": self.sha256}


def builtin_policies() -> list[str]:
    return sorted(p.stem for p in POLICIES_DIR.glob("*.yaml"))


def parse_policy(text: str, source: str) -> Policy:
    data = parse_yaml(text, source)
    if not isinstance(data, dict):
        raise BadInputError("a policy is a mapping with 'name' and 'checks'", where=source)
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise BadInputError(format_validation_errors(exc, source, data)) from exc
    policy.path = source
    policy.sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return policy


def load_policy(name_or_path: str | Path) -> Policy:
    """A built-in policy by name ("default", "strict", "permissive") or a YAML file."""
    candidate = Path(name_or_path)
    if not candidate.suffix and not candidate.exists():
        builtin = POLICIES_DIR / f"{name_or_path}.yaml"
        if not builtin.exists():
            raise BadInputError(f"no such policy '{name_or_path}' (built-in: "
                                f"{', '.join(builtin_policies())}; or give a YAML file)")
        candidate = builtin
    try:
        text = candidate.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise BadInputError("policy file not found", where=str(candidate)) from exc
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise BadInputError("policy file is not UTF-8 text", where=str(candidate)) from exc
    return parse_policy(text, str(candidate))
