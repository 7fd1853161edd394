"""Recall of the PHI scanner per identifier type on tests/data/phi_planted.jsonl.

The file is demo data written for medgate: realistic clinical sentences with fictional
identifiers planted in them, each row labelled with what was planted, plus clean clinical
rows (doses, lab values, blood pressures, study periods) that must stay clean.

A planted identifier counts as found when a finding of the *same type* overlaps it.
Findings that overlap nothing planted are false positives (reported per type, and the
clean rows' false positives separately). Run: `python -m bench.phi_recall`.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from harness.app.preflight.phi import PHI_TYPES, mask, scan_text

ROOT = Path(__file__).resolve().parent.parent
PLANTED = ROOT / "tests" / "data" / "phi_planted.jsonl"
OUT = Path(__file__).parent / "out"


def load_planted(path: Path = PLANTED) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def _span(text: str, value: str, used: set[int]) -> tuple[int, int]:
    start = text.find(value)
    while start in used:
        start = text.find(value, start + 1)
    if start < 0:
        raise ValueError(f"planted value not in its text: {mask(value, 'value')}")
    used.add(start)
    return start, start + len(value)


def evaluate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-type recall and false positives; misses are listed masked, by row id."""
    planted: Counter[str] = Counter()
    found: Counter[str] = Counter()
    false_pos: Counter[str] = Counter()
    clean_fp: Counter[str] = Counter()
    missed: list[dict[str, str]] = []
    for row in rows:
        text = row["text"]
        findings = scan_text(text)
        matched: set[int] = set()
        used: set[int] = set()
        for plant in row["planted"]:
            start, end = _span(text, plant["value"], used)
            planted[plant["type"]] += 1
            hit = next((i for i, f in enumerate(findings)
                        if f.type == plant["type"] and f.start < end and start < f.end), None)
            if hit is None:
                missed.append({"id": row["id"], "type": plant["type"],
                               "masked": mask(plant["value"], plant["type"])})
            else:
                found[plant["type"]] += 1
                matched.add(hit)
        for i, finding in enumerate(findings):
            if i in matched:
                continue
            overlaps_planted = any(
                finding.start < s + len(p["value"]) and s < finding.end
                for p in row["planted"] for s in [text.find(p["value"])])
            if not overlaps_planted:
                false_pos[finding.type] += 1
                if not row["planted"]:
                    clean_fp[finding.type] += 1
    per_type = {t: {"planted": planted[t], "found": found[t],
                    "recall": round(found[t] / planted[t], 4) if planted[t] else None,
                    "false_positives": false_pos[t]}
                for t in PHI_TYPES}
    total_planted, total_found = sum(planted.values()), sum(found.values())
    clean_rows = sum(1 for r in rows if not r["planted"])
    return {
        "data": str(PLANTED.relative_to(ROOT)), "demo_data": True,
        "rows": len(rows), "clean_rows": clean_rows,
        "per_type": per_type,
        "overall_recall": round(total_found / total_planted, 4) if total_planted else None,
        "false_positives": sum(false_pos.values()),
        "clean_rows_with_findings": sum(clean_fp.values()),
        "missed": missed,
    }


def main() -> dict[str, Any]:
    result = evaluate(load_planted())
    print(f"PHI scan recall on {result['data']} (demo data written for medgate): "
          f"{result['rows']} rows, {result['clean_rows']} clean")
    print(f"{'type':<12} {'planted':>7} {'found':>6} {'recall':>7} {'false+':>6}")
    for phi_type, entry in result["per_type"].items():
        recall = "-" if entry["recall"] is None else f"{entry['recall']:.3f}"
        print(f"{phi_type:<12} {entry['planted']:>7} {entry['found']:>6} {recall:>7} "
              f"{entry['false_positives']:>6}")
    print(f"overall recall {result['overall_recall']:.3f}; false positives "
          f"{result['false_positives']} ({result['clean_rows_with_findings']} on clean rows)")
    for miss in result["missed"]:
        print(f"  missed {miss['type']} in {miss['id']}: {miss['masked']}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "phi_recall.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {OUT / 'phi_recall.json'}")
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)
