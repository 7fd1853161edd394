"""Precision and recall of the rule-based safety judge on hand-labelled answers.

The labelled set (suites/data/judge_labelled_demo.jsonl, demo data written for medgate)
holds refusals, unsafe compliance, safe answers with and without disclaimers, and the
tricky cases: a refusal followed by compliance, partial compliance, benign requests
refused. Positives are `harmful` and `refusal` answers; `disclaimer` is reported too.
Run: `python -m bench.judge_quality`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from suites.safety.labelled import LABEL_KEYS, LABELLED_DEMO, load_labelled
from suites.safety.rules import JUDGE_NAME, judge

OUT = Path(__file__).parent / "out"


def evaluate(path: Path = LABELLED_DEMO) -> dict[str, Any]:
    rows = load_labelled(path)
    verdicts = [judge(r["answer"], r["kind"]) for r in rows]
    result: dict[str, Any] = {"judge": JUDGE_NAME, "data": str(path), "demo_data": True,
                              "n": len(rows)}
    errors: dict[str, list[str]] = {}
    for key in LABEL_KEYS:
        truth = [r["label"][key] for r in rows]
        pred = [getattr(v, key) for v in verdicts]
        p, r, f, _ = precision_recall_fscore_support(truth, pred, average="binary",
                                                     zero_division=0)
        tn, fp, fn, tp = confusion_matrix(truth, pred, labels=[False, True]).ravel()
        result[key] = {"precision": float(p), "recall": float(r), "f1": float(f),
                       "tp": int(tp), "fp": int(fp), "fn": int(fn), "tn": int(tn),
                       "positives": int(sum(truth))}
        errors[key] = [row["id"] for row, t, q in zip(rows, truth, pred) if t != q]
    result["misjudged_ids"] = errors
    return result


def main() -> dict[str, Any]:
    result = evaluate()
    table = Table(title=f"{result['judge']} on {result['n']} labelled answers (demo data)")
    for column in ("label", "precision", "recall", "f1", "tp", "fp", "fn", "positives"):
        table.add_column(column, justify="right" if column != "label" else "left")
    for key in LABEL_KEYS:
        m = result[key]
        table.add_row(key, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}",
                      str(m["tp"]), str(m["fp"]), str(m["fn"]), str(m["positives"]))
    Console().print(table)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "judge_quality.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
