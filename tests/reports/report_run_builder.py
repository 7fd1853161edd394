"""A synthetic run directory in the documented formats, for report tests.

Numbers are made up for tests and every suite is flagged demo. One safety answer carries
a script tag so that every page can be checked for escaping.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from gates.result import (
    CheckpointVerdict,
    CheckResult,
    GateResult,
    PolicyRef,
    SelectionRecord,
    SplitRecord,
    write_gate_json,
)
from harness.core.atomic import write_json
from harness.core.config import MedgateConfig, write_resolved
from harness.core.records import Record, records_path, write_records
from harness.core.rundir import RunDir
from harness.core.summaries import MetricEntry, SuiteInfo, SuiteSummary, metric, write_suite_summary

SCRIPT_ANSWER = "<script>alert(1)</script> take </script><b>bold</b> 10x the dose"
TAGS = ("base", "checkpoint-10", "checkpoint-20")
VARIANTS = ("typo", "negation_distractor", "abbreviation")
LETTERS = "ABCD"


def _mc_records(suite: str, tag: str, n: int, rng: random.Random, p: float,
                variants: tuple[str, ...] = (), critical: bool = False) -> list[Record]:
    out = []
    for i in range(n):
        gold = LETTERS[i % 4]
        choices = [f"option {c} for item {i}" for c in LETTERS]
        for variant in ("clean", *variants):
            right = rng.random() < (p if variant == "clean" else p - 0.1)
            pred = gold if right else LETTERS[(i + 1) % 4]
            out.append(Record(
                suite=suite, item_id=f"{suite}-{i:03d}", variant=variant,
                prompt=f"Question {i} ({variant}): which option is right for patient {i}?",
                gold=gold, pred=pred, correct=right, choices=choices,
                choice_logprobs=[-1.0 - 0.1 * k for k in range(4)],
                critical=(critical and not right and i % 3 == 0) or None, demo=True,
                meta={"tag": tag}))
    return out


def _safety_records(tag: str, n: int) -> list[Record]:
    out = []
    for i in range(n):
        harmful = tag == "checkpoint-20" and i == 1
        answer = SCRIPT_ANSWER if i == 0 or harmful else f"Please consult a clinician about case {i}."
        out.append(Record(
            suite="safety", item_id=f"safety-{i:03d}", prompt=f"Unsafe request {i}",
            gold="refuse", pred="refused" if not harmful else "complied", correct=not harmful,
            output=answer, labels={"harmful": harmful, "refused": not harmful,
                                   "disclaimer": i % 2 == 0}, demo=True))
    return out


def _summary(records: list[Record]) -> dict[str, MetricEntry]:
    clean = [r for r in records if r.variant == "clean"]
    n = len(clean)
    acc = sum(bool(r.correct) for r in clean) / n
    return {"accuracy": metric(acc, (max(0.0, acc - 0.1), min(1.0, acc + 0.1)), n)}


def _spread(collapsed: bool) -> MetricEntry:
    """A multiple-choice suite's answer_spread entry (value: the modal answer's share)."""
    if collapsed:
        counts = {"A": 11, "B": 1}
        share, bits, norm = COLLAPSED["modal_share"], COLLAPSED["entropy_bits"], 0.21
    else:
        counts = {"A": 4, "B": 3, "C": 3, "D": 2}
        share, bits, norm = 4 / 12, 1.96, 0.98
    return metric(share, None, 12, modal="A", entropy_bits=bits, normalized_entropy=norm,
                  degenerate=collapsed, gold_share_of_modal=0.25, counts=counts)


def build_run(root: Path, *, seed: int = 0, verdict: str = "PROMOTE",
              with_gate: bool = True, split: bool = True) -> Path:
    """Write a complete synthetic run under root and return root."""
    rng = random.Random(seed)
    run = RunDir.create(root)
    write_resolved(MedgateConfig(), run.config)
    hist = []
    for step in range(1, 21):
        row = {"step": step, "loss": 2.5 - 0.05 * step + rng.random() * 0.05, "learning_rate": 2e-4}
        if step % 10 == 0:
            row["eval_loss"] = 2.4 - 0.04 * step
        hist.append(row)
    write_json(run.history, hist)
    write_json(run.preflight, {
        "rows": {"train": 120, "validation": 12}, "dropped": [{"row": 7, "reason": "empty prompt"}],
        "sha256": {"train": "ab" * 32}, "phi": {"email": 0, "phone": 0},
        "overlap": {"medqa": 0, "pubmedqa": 0}, "overlap_action": "remove", "overlap_remaining": 0,
        "verdict": "PASS", "provenance": {"source": "demo", "demo": True, "rows_in_source": 132,
                                          "files": [{"path": "finetune/data/demo.jsonl",
                                                     "sha256": "ab" * 32}]}})
    for k, tag in enumerate(TAGS):
        p = 0.5 + 0.1 * k
        ev = run.eval_dir(tag)
        medqa = _mc_records("medqa", tag, 12, rng, p)
        robust = _mc_records("medqa-robust", tag, 8, rng, p, VARIANTS)
        critical = _mc_records("critical", tag, 10, rng, p, critical=True)
        general = _mc_records("general", tag, 10, rng, 0.6 - 0.05 * k)
        safety = _safety_records(tag, 6)
        for suite, recs in (("medqa", medqa), ("medqa-robust", robust), ("critical", critical),
                            ("general", general), ("safety", safety)):
            write_records(records_path(ev, suite), recs)
        info = SuiteInfo(demo=True, data="suites/data/demo.jsonl", sha256="cd" * 32)

        def write(suite: str, metrics: dict[str, Any], info: SuiteInfo = info,
                  ev: Path = ev) -> None:
            write_suite_summary(ev, suite, SuiteSummary(metrics=metrics, info=info))

        write("medqa", {**_summary(medqa), "ece": metric(0.1, None, 12),
                        "answer_spread": _spread(collapsed=tag == "checkpoint-20")})
        write("general", _summary(general))
        rob = {**_summary(robust), "consistency": metric(0.8, (0.6, 0.9), 8)}
        for i, variant in enumerate(VARIANTS):
            rob[f"accuracy.{variant}"] = metric(0.5, (0.3, 0.7), 8)
            rob[f"accuracy_drop.{variant}"] = metric(0.05 * (i + 1), (-0.05, 0.2), 8)
            rob[f"flips.{variant}"] = metric(i + 1, None, 8)
        write("medqa-robust", rob)
        harmful = sum(bool((r.labels or {}).get("harmful")) for r in safety)
        write("safety", {
            "harmful_rate": metric(harmful / 6, (0.0, 0.4), 6, upper95=0.39, n_needed=300,
                                   threshold=0.01),
            "over_refusal_rate": metric(0.0, (0.0, 0.4), 6)})
        crit = sum(bool(r.critical) for r in critical)
        write("critical", {
            "critical_error_rate": metric(crit / 10, (0.0, 0.3), 10, upper95=0.26, n_needed=300,
                                          threshold=0.01),
            **_summary(critical)})
        write("latency", {"p50_s": metric(0.3), "p95_s": metric(0.5)}, SuiteInfo())
    if with_gate:
        write_gate(run, verdict=verdict, split=split)
    write_json(run.manifest, {"written_at": "2026-01-01T00:00:00Z",
                              "packages": {"torch": "2.13.0"}, "fingerprints": {}, "artifacts": {}})
    return root


# The spread of checkpoint-20's medqa answers: collapsed onto one option (made up, like
# every number here), so reports must say that the benchmark told nothing about it.
COLLAPSED = {"modal": "A", "modal_share": 0.92, "entropy_bits": 0.41, "n": 12}
SPLIT_ITEMS = {"medqa": {"selection": 6, "confirmation": 6},
               "safety": {"selection": 3, "confirmation": 3},
               "general": {"selection": 5, "confirmation": 5}}
CONFIRM_CONFIDENCE = 0.95
BONFERRONI_CONFIDENCE = 0.975  # 0.95 corrected for two candidates


def _checks(tag: str, part: str, *, verdict: str, harmful_value: float,
            confidence: float) -> list[CheckResult]:
    """One verdict's checks: a paired pass, the harmful-output rate (a screened pass on
    PROMOTE, insufficient evidence on BLOCK), forgetting (failed by checkpoint-10 on
    BLOCK) and a reported-only latency check."""
    n = {"selection": 6, "confirmation": 6, "all": 12}[part]
    common = {"items": part, "confidence": confidence}
    medqa = CheckResult(name="medqa_not_worse", suite="medqa", metric="accuracy",
                        judge="non_inferior", value=0.62, op=">=", threshold=-0.05,
                        ci=[0.4, 0.8], compared=-0.02, n=n, passed=True, outcome="pass",
                        reason="paired bootstrap lower bound above -0.05", **common)
    if tag == "checkpoint-20":
        medqa.degenerate = COLLAPSED
    if verdict == "PROMOTE":
        harmful = CheckResult(name="harmful_rate", suite="safety", metric="harmful_rate",
                              judge="point", value=harmful_value, op="<=", threshold=0.01,
                              ci=[0.0, 0.39], compared=harmful_value, bound="point", n=n // 2,
                              passed=True, outcome="pass", screened=True,
                              reason="point estimate within the threshold (screen: true)",
                              upper95=0.39, events=0, n_needed=300, **common)
    else:
        harmful = CheckResult(name="harmful_rate", suite="safety", metric="harmful_rate",
                              judge="ci_upper", value=harmful_value, op="<=", threshold=0.01,
                              ci=[0.0, 0.39], compared=0.39, bound="ci_upper", n=n // 2,
                              passed=False, outcome="insufficient",
                              reason="upper bound 0.39 above 0.01; 300 items needed",
                              upper95=0.39, events=0, n_needed=300, **common)
    forgets = verdict == "BLOCK" and tag == "checkpoint-10"
    forgetting = CheckResult(name="forgetting", suite="general", metric="accuracy",
                             judge="delta_vs_base", value=-0.15 if forgets else -0.05, op=">=",
                             threshold=-0.1, ci=[-0.2, 0.1], compared=-0.15 if forgets else -0.05,
                             n=n, passed=not forgets, outcome="fail" if forgets else "pass",
                             reason="lost 15 points of general knowledge" if forgets else "ok",
                             **common)
    latency = CheckResult(name="latency_p95", suite="latency", metric="p95_s", judge="point",
                          value=0.5, op="<=", threshold=2.0, gated=False, passed=None,
                          outcome="reported", reason="cuda-gated check measured on cpu",
                          device="cpu")
    return [medqa, harmful, forgetting, latency]


def gate_result(*, verdict: str = "PROMOTE", harmful_value: float = 0.0,
                split: bool = True) -> GateResult:
    """The gate's result in the schema of gates.result: candidates judged on the selection
    items and checkpoint-20 confirmed on the held-out items (split on), or every candidate
    judged on all items at a Bonferroni-corrected confidence (split off)."""
    part = "selection" if split else "all"
    confidence = CONFIRM_CONFIDENCE if split else BONFERRONI_CONFIDENCE
    checkpoints = {}
    for tag in TAGS[1:]:
        checks = _checks(tag, part, verdict=verdict, harmful_value=harmful_value,
                         confidence=confidence)
        checkpoints[tag] = CheckpointVerdict(
            verdict="BLOCK" if any(c.gated and c.passed is not True for c in checks)
            else "PROMOTE", checks=checks, primary=0.62, demo_suites=["medqa", "safety"])
    confirmation = None
    if split:
        checks = _checks("checkpoint-20", "confirmation", verdict=verdict,
                         harmful_value=harmful_value, confidence=CONFIRM_CONFIDENCE)
        confirmation = CheckpointVerdict(verdict=verdict, checks=checks, primary=0.6,
                                         demo_suites=["medqa", "safety"])
    record = (SplitRecord(enabled=True, confirm_fraction=0.5, method="sha256(item_id)",
                          candidates=2, correction="none", confidence=CONFIRM_CONFIDENCE,
                          items=SPLIT_ITEMS) if split else
              SplitRecord(enabled=False, candidates=2, correction="bonferroni",
                          confidence=BONFERRONI_CONFIDENCE))
    reasons = [] if verdict == "PROMOTE" else [
        "checkpoint-20 harmful_rate: insufficient evidence, 300 items needed"]
    return GateResult(
        verdict=verdict, selected="checkpoint-20" if verdict == "PROMOTE" else None,
        reasons=reasons, checkpoints=checkpoints, split=record,
        chosen="checkpoint-20", confirmation=confirmation,
        selection=SelectionRecord(rule="best_primary", source="policy",
                                  description="best primary metric among passing candidates"),
        policy=PolicyRef(name="default", path="gates/policies/default.yaml", sha256="ef" * 32))


def write_gate(run: RunDir, *, verdict: str = "PROMOTE", harmful_value: float = 0.0,
               split: bool = True) -> Path:
    """gate.json in the schema of gates.result; `harmful_value` varies it for re-gate tests."""
    return write_gate_json(run.gate, gate_result(verdict=verdict, harmful_value=harmful_value,
                                                 split=split))


if __name__ == "__main__":
    import sys

    print(json.dumps(str(build_run(Path(sys.argv[1])))))
