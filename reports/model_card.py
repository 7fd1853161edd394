"""The model card, as a context for the HTML page, a Hugging Face README and a JSON file.

The same context feeds all three so they cannot disagree. JSON fields follow Google's
Model Card Toolkit schema (model_details, model_parameters, quantitative_analysis,
considerations) and, where they apply, the headings of CHAI's applied model card.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

import yaml

from gates.wording import LEGEND, NO_INFORMATION, needed, outcome_of
from harness.core.rundir import BASE_TAG
from harness.core.summaries import MetricEntry
from reports import plots, safety_judge, verdict
from reports.model_index import model_index
from reports.recipe_card import markdown_lines as recipe_markdown
from reports.recipe_card import recipe_context
from reports.release_view import markdown_lines, releases_context
from reports.review_card import expert_review_context
from reports.rundata import SAFETY_ROLES, RunData
from reports.signoff import SignoffStatus

ROBUST_PREFIXES = ("accuracy.", "accuracy_drop.", "consistency.", "flips.")
RATE_METRICS = ("harmful_rate", "over_refusal_rate", "disclaimer_rate", "critical_error_rate")

ETHICS = [
    ("Clinical harm from wrong answers",
     "Gate on critical errors and harmful output; require sign-off by medical reviewers; keep a clinician in the loop."),
    ("Over-confidence",
     "Calibration (ECE, Brier) is reported; answers are not to be presented to patients as advice."),
    ("Under-represented populations",
     "Benchmark items do not characterise the patient population; evaluate on local data before use."),
    ("Privacy",
     "Training data is scanned for PHI before training (see data provenance); no patient data is stored in reports."),
]


def fmt(value: Any, digits: int = 3) -> str:
    """Numbers for people: rounded, and a dash instead of None or NaN."""
    if value is None or isinstance(value, bool):
        return "—" if value is None else str(value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return "—"
        if isinstance(value, int):
            return str(value)
        text = f"{value:.{digits}f}"
        return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.000"
    return str(value)


def fmt_ci(ci: Any) -> str:
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(isinstance(c, (int, float)) for c in ci):
        return f"[{fmt(ci[0])}, {fmt(ci[1])}]"
    return "—"


def _num(entry: MetricEntry | None) -> float | None:
    value = entry.value if entry else None
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _plain(entry: MetricEntry | None) -> dict[str, Any]:
    """A metric entry as the plain data the three card formats share ({} when absent)."""
    return entry.to_json() if entry else {}


def _results(data: RunData, tag: str | None) -> list[dict[str, Any]]:
    rows = []
    for suite in data.suites():
        if data.has_role(suite, "latency"):  # timings have their own line, not a result row
            continue
        for name, entry in data.metrics(tag, suite).items():
            if name.startswith(ROBUST_PREFIXES):
                continue
            base = data.metric(BASE_TAG, suite, name)
            value, base_value = _num(entry), _num(base)
            rows.append({
                "suite": suite, "metric": name, "value": value, "ci": entry.ci,
                "n": entry.n, "base": base_value, "base_ci": base.ci if base else None,
                "delta": None if value is None or base_value is None else value - base_value,
                "demo": data.is_demo(suite), "safety": data.has_role(suite, *SAFETY_ROLES)})
    return rows


def _robustness(data: RunData, tag: str | None) -> list[dict[str, Any]]:
    rows = []
    for suite in data.suites_with("robustness"):
        metrics = data.metrics(tag, suite)
        variants = sorted({k.split(".", 1)[1] for k in metrics if k.startswith(ROBUST_PREFIXES)})
        for variant in variants:
            row = {key: _plain(metrics.get(f"{prefix}.{variant}")) for key, prefix in
                   (("accuracy", "accuracy"), ("drop", "accuracy_drop"),
                    ("consistency", "consistency"), ("flips", "flips"))}
            rows.append({"suite": suite, "variant": variant, **row})
    return rows


def _sample_size_statement(entry: dict[str, Any]) -> str:
    why = entry.get("not_measured")  # no items for it: say so rather than "0 items"
    if isinstance(why, str) and why:
        return f"{why[0].upper()}{why[1:]}."
    n, upper = entry.get("n"), entry.get("upper95")
    threshold, needed = entry.get("threshold"), entry.get("n_needed")
    parts = []
    if isinstance(n, int):
        parts.append(f"Measured on {n} items")
        if isinstance(upper, (int, float)):
            parts[-1] += f"; the true rate is below {fmt(upper)} with 95% confidence"
    if isinstance(threshold, (int, float)):
        parts.append(f"threshold {fmt(threshold)}")
        if isinstance(needed, int):
            parts.append(f"showing a rate below the threshold at 95% confidence needs at least "
                         f"{needed} items with zero events")
    return ". ".join(parts) + "." if parts else "No sample-size information was recorded."


def _safety(data: RunData, tag: str | None) -> list[dict[str, Any]]:
    """Rates of every suite with a safety role (safety, critical), in evaluation order."""
    rows = []
    for suite in data.suites_with(*SAFETY_ROLES):
        metrics = data.metrics(tag, suite)
        for name in RATE_METRICS:
            if name in metrics:
                entry = _plain(metrics[name])
                rows.append({"suite": suite, "metric": name, "entry": entry,
                             "base": _plain(data.metric(BASE_TAG, suite, name)),
                             "statement": _sample_size_statement(entry),
                             "demo": data.is_demo(suite)})
    return rows


def _forgetting(data: RunData, tag: str | None) -> list[dict[str, Any]]:
    rows = []
    for suite in data.suites_with("forgetting"):
        base, cur = _num(data.metric(BASE_TAG, suite, "accuracy")), _num(data.metric(tag, suite, "accuracy"))
        checks = [verdict.check_row(c) for c in data.checks()
                  if (c.suite or c.metric.split(".", 1)[0]) == suite]
        rows.append({"suite": suite, "base": base, "value": cur,
                     "delta": None if base is None or cur is None else base - cur,
                     "checks": checks})
    return rows


def _flagged(data: RunData, tag: str | None, limit: int = 25) -> list[dict[str, Any]]:
    """Harmful or critical answers of the described model, for the reviewer to read."""
    rows = []
    for suite, records in data.records.get(tag or "", {}).items():
        for r in records:
            harmful = bool((r.get("labels") or {}).get("harmful"))
            if harmful or r.get("critical"):
                text = r.get("output") or ""
                rows.append({"suite": suite, "item_id": r["item_id"], "variant": r["variant"],
                             "gold": r.get("gold"), "pred": r.get("pred"),
                             "output": text[:600] + ("…" if len(text) > 600 else ""),
                             "harmful": harmful, "critical": bool(r.get("critical"))})
    return rows[:limit]


def _evaluated_model(data: RunData) -> str | None:
    """The model name the suites recorded, for runs without a resolved config."""
    for suite in data.suites():
        name = data.suite_info(suite).model
        if name:
            return str(name)
    return None


def _lineage(data: RunData) -> dict[str, Any]:
    cfg = data.config
    model, peft, dataset = cfg.get("model") or {}, cfg.get("peft") or {}, cfg.get("dataset") or {}
    pre = data.preflight or {}
    suites = []
    for suite in data.suites():
        info = data.suite_info(suite)
        suites.append({"suite": suite, "tags": list(data.suite_tags(suite)),
                       "data": info.data or info.extra.get("path"),
                       "sha256": info.data_sha256 or info.extra.get("sha256"),
                       "demo": data.is_demo(suite), "n_items": info.n_items,
                       "n": next((e.n for e in data.metrics(data.subject_tag, suite).values()
                                  if e.n), info.n_items)})
    prov = data.training_provenance()
    rows = pre.get("rows") if isinstance(pre.get("rows"), dict) else {}
    rows = {**rows, **{k: prov[k] for k in ("rows_in_source", "rows_read") if k in prov}}
    return {"base_model": model.get("name") or _evaluated_model(data), "revision": model.get("revision"),
            "gguf_file": model.get("gguf_file"), "method": peft.get("method"),
            "training_method": (cfg.get("training") or {}).get("method"),
            "peft": {k: peft.get(k) for k in ("r", "alpha", "dropout", "target_modules") if k in peft},
            "dataset": dataset.get("name"), "dataset_rows": rows or None,
            "dataset_source": prov.get("source"), "dataset_files": prov.get("files") or [],
            "training_demo": data.training_demo,
            "dataset_sha256": pre.get("sha256") or pre.get("hashes"),
            "dropped": prov.get("rows_dropped") or pre.get("dropped"),
            "preflight_verdict": pre.get("verdict"),
            "phi": pre.get("phi"), "overlap": pre.get("overlap"),
            "overlap_action": pre.get("overlap_action"),
            "fingerprints": (data.manifest or {}).get("fingerprints") or {},
            "suites": suites}


def _limitations(data: RunData, results: list[dict[str, Any]],
                 collapsed: list[dict[str, Any]]) -> list[str]:
    out = [row["sentence"] + "." for row in collapsed]
    short = [c for c in data.checks() if outcome_of(c) == "insufficient"]
    if short:
        out.append("Insufficient evidence, which blocks the release: the data cannot show "
                   + ", ".join(f"{c.name} ({needed(c)})" for c in short)
                   + " at the policy's confidence.")
    demo = data.demo_suites()
    if demo:
        out.append("These suites ran on demo data written for this project, not on a clinical "
                   f"benchmark: {', '.join(demo)}. Their numbers show that the pipeline works, "
                   "not how the model performs.")
    small = sorted({r["suite"] for r in results if isinstance(r["n"], int) and r["n"] < 100})
    if small:
        out.append(f"Fewer than 100 items in: {', '.join(small)}; confidence intervals are wide.")
    if data.missing:
        out.append(f"Evidence missing from the run directory: {', '.join(data.missing)}.")
    out.append("Benchmarks are multiple-choice or short-answer exams; they do not measure "
               "performance in a clinical workflow.")
    # The judge each safety suite recorded in its info.
    judges = sorted({str(data.suite_info(s).extra["judge"]) for s in data.suites_with("safety")
                     if data.suite_info(s).extra.get("judge")})
    judge = ", ".join(judges) or "not recorded"
    out.append(f"Safety labels come from the configured judge ({judge}), which can "
               "miss harmful content a clinician would catch.")
    return out


def build_context(data: RunData, signoffs: list[SignoffStatus]) -> dict[str, Any]:
    """Everything the three model-card formats show."""
    tag = data.subject_tag
    cfg = data.config
    report = cfg.get("report") or {}
    results = _results(data, tag)
    collapsed = verdict.collapsed(data)
    plot_metrics = []
    for suite in data.suites():
        names: list[str] = []
        for model_tag in data.tags:
            names += [n for n in data.metrics(model_tag, suite) if "." not in n and n not in names]
        for name in names:  # every metric of every suite; per-slice ones (a.b) stay in tables
            uri = plots.metric_across_checkpoints(data, suite, name)
            if uri:
                plot_metrics.append({"suite": suite, "metric": name, "uri": uri})
    base_model = (cfg.get("model") or {}).get("name") or _evaluated_model(data)
    method = (cfg.get("peft") or {}).get("method")
    title = report.get("title") or (f"{base_model or 'model'} fine-tuned with {method}" if method
                                    else f"{base_model or 'model'} ({tag or 'not evaluated'})")
    return {
        "title": title,
        "run_id": data.run.root.resolve().name,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "verdict": data.verdict, "selected": data.selected, "subject": tag,
        "chosen": data.chosen,
        "policy": data.gate.policy.model_dump(mode="json") if data.gate else {},
        "demo_suites": data.demo_suites(), "missing": data.missing,
        "lineage": _lineage(data), "expert_review": expert_review_context(data.run),
        "intended_use": report.get("intended_use"), "out_of_scope": report.get("out_of_scope"),
        "training": cfg.get("training") or {}, "peft": cfg.get("peft") or {},
        "train_result": data.train_result or {},
        "recipe": recipe_context(data),
        "results": results, "robustness": _robustness(data, tag),
        "model_index": model_index(title, results, {s: data.suite_info(s) for s in data.suites()},
                                   run_id=data.run.root.resolve().name, tag=tag),
        "forgetting": _forgetting(data, tag), "safety": _safety(data, tag),
        "safety_judge": safety_judge.judge_rows(data, tag),
        "safety_vs_base": safety_judge.versus_base_rows(data),
        "flagged": _flagged(data, tag),
        "latency": [{"suite": s, "metrics": {n: e.value for n, e in data.metrics(tag, s).items()}}
                    for s in data.suites_with("latency") if data.metrics(tag, s)],
        "gate_tables": verdict.gate_tables(data), "split": verdict.split_view(data),
        "outcome_counts": verdict.outcome_counts(data),
        "confirmed": verdict.confirmed(data), "collapsed": collapsed, "legend": LEGEND,
        "no_information": NO_INFORMATION,
        "gate_json": data.gate.model_dump(mode="json") if data.gate else None,
        "gate_reasons": list(data.gate.reasons) if data.gate else [],
        "limitations": _limitations(data, results, collapsed), "ethics": ETHICS,
        "signoffs": [s.as_dict() for s in signoffs],
        "releases": releases_context(data.run),
        "plots": {"loss": plots.loss_plot(data), "metrics": plot_metrics,
                  "perturbation": [{"suite": s, "uri": uri} for s in data.suites_with("robustness")
                                   if (uri := plots.perturbation_drop(data, tag, s))]},
    }


# --- Hugging Face README ---------------------------------------------------------------


def _md_cell(text: object) -> str:
    """A Markdown table cell: no pipes, no newlines, no raw HTML (the Hub renders HTML)."""
    s = str(text).replace("|", "\\|").replace("\n", " ")
    return s.replace("<", "&lt;").replace(">", "&gt;")


def _markdown_gate(ctx: dict[str, Any]) -> list[str]:
    """The gate: which items chose and confirmed, the verdict's checks first, then the
    candidates', each result in the gate documents' words."""
    lines = ["", "## Gate", ""]
    split = ctx["split"]
    if split is None:
        return lines + ["Not gated: gate.json is missing."]
    lines += ["### Items that chose and items that confirmed", "", _md_cell(split["statement"])]
    if split["counts"]:
        lines += ["", "| suite | selection items (chose) | confirmation items (confirmed) |",
                  "| --- | --- | --- |"]
        lines += [f"| {_md_cell(c['suite'])} | {fmt(c['selection'])} | {fmt(c['confirmation'])} |"
                  for c in split["counts"]]
    for table in ctx["gate_tables"]:
        on = f" on {table['on']}" if table["on"] else ""
        role = "Verdict: " if table["confirms"] else "Candidate "
        lines += ["", f"### {role}{table['tag']}{on}: {table['verdict']}", "",
                  "| check | metric | value | CI | n | result | reason |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        lines += [f"| {_md_cell(r['name'])} | {_md_cell(r['metric'])} | {fmt(r['value'])} | "
                  f"{fmt_ci(r['ci'])} | {fmt(r['n'])} | {r['label']} | {_md_cell(r['reason'])} |"
                  for r in table["rows"]]
        collapsed = [f"- {_md_cell(r['name'])}: {r['collapsed']}" for r in table["rows"]
                     if r["collapsed"]]
        lines += ["", *collapsed] if collapsed else []
    lines += ["", "Results: " + "; ".join(f"**{label}**: {meaning}"
                                         for label, meaning in ctx["legend"]) + "."]
    if ctx["collapsed"]:
        lines += ["", "### Benchmarks that carried no information", ""]
        lines += [f"- {_md_cell(c['sentence'])}." for c in ctx["collapsed"]]
    return lines


def to_markdown(ctx: dict[str, Any]) -> str:
    """README.md with `model-index` front matter, readable on the Hub and in the bundle."""
    lineage = ctx["lineage"]
    front = {"base_model": lineage["base_model"], "library_name": "peft"
             if lineage["method"] not in (None, "full") else "transformers",
             "tags": ["medical", "medgate", str(lineage["method"])],
             "model-index": ctx["model_index"]}
    lines = ["---", yaml.safe_dump(front, sort_keys=False).rstrip(), "---", "",
             f"# {ctx['title']}", ""]
    if ctx["demo_suites"]:
        lines += [(f"> **Demo data:** {', '.join(ctx['demo_suites'])} ran on demo data written for "
                  "this project; the numbers are not clinical evidence."), ""]
    lines += [(f"Gate verdict: **{ctx['verdict']}** (selected: {ctx['selected'] or 'none'}; "
              f"run {ctx['run_id']})."), "", "## Intended use", "", str(ctx["intended_use"] or "—"),
              "", "## Out-of-scope use", "", str(ctx["out_of_scope"] or "—"), "",
              "## Results", "", "| suite | metric | value | 95% CI | n | base | Δ vs base |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in ctx["results"]:
        lines.append(f"| {row['suite']}{' (demo)' if row['demo'] else ''} | {row['metric']} | "
                     f"{fmt(row['value'])} | {fmt_ci(row['ci'])} | {fmt(row['n'])} | "
                     f"{fmt(row['base'])} | {fmt(row['delta'])} |")
    lines += ["", "## Safety", ""]
    for row in ctx["safety"]:
        lines.append(f"- {row['suite']} {row['metric']}: {fmt(row['entry'].get('value'))} "
                     f"{fmt_ci(row['entry'].get('ci'))}. {row['statement']}")
    for row in ctx["safety_judge"]:
        for name, why in row["absent"].items():
            lines.append(f"- {row['suite']} {name}: not measured ({_md_cell(why)}).")
        for name in ("harm_score_mean", "harm_score_rate"):
            if row[name]:
                lines.append(f"- {row['suite']} {name}: {fmt(row[name].get('value'))} "
                             f"{fmt_ci(row[name].get('ci'))} on {fmt(row[name].get('n'))} "
                             f"harmful requests ({fmt(row[name].get('unscored'))} unreadable "
                             "scores, counted as harmful).")
        if row["agreement_sentence"]:
            lines.append(f"- {row['suite']} rule judge vs LLM judge: "
                         f"{_md_cell(row['agreement_sentence'])}")
    for row in ctx["safety_vs_base"]:
        lines.append(f"- {_md_cell(row['line'])}")
    lines += recipe_markdown(ctx["recipe"])
    lines += _markdown_gate(ctx)
    lines += markdown_lines(ctx["releases"])
    lines += ["", "## Limitations", ""] + [f"- {item}" for item in ctx["limitations"]]
    lines += ["", "## Sign-offs", ""]
    if not ctx["signoffs"]:
        lines.append("None recorded.")
    for s in ctx["signoffs"]:
        lines.append(f"- {s['time']} {s['reviewer']} ({s['role']}): {s['decision']}"
                     f"{' — STALE, evidence changed since' if s['stale'] else ''}")
    return "\n".join(lines) + "\n"


# --- JSON (Model Card Toolkit + CHAI) ---------------------------------------------------


def to_json(ctx: dict[str, Any]) -> dict[str, Any]:
    lineage = ctx["lineage"]
    metrics = []
    for row in ctx["results"]:
        entry: dict[str, Any] = {"type": row["metric"], "value": row["value"], "slice": row["suite"]}
        if isinstance(row["ci"], list) and len(row["ci"]) == 2:
            entry["confidence_interval"] = {"lower_bound": row["ci"][0], "upper_bound": row["ci"][1]}
        metrics.append(entry)
    datasets = [{"name": s["suite"], "link": s["data"], "sensitive": {"sensitive_data": []},
                 "description": ("demo data written for this project" if s["demo"] else "evaluation data"),
                 "sha256": s["sha256"]} for s in lineage["suites"]]
    limitations = [{"description": item} for item in ctx["limitations"]]
    return {
        "schema": "Model Card Toolkit (v0.0.2 fields) with CHAI applied model card fields",
        "model_details": {
            "name": ctx["title"], "overview": f"Fine-tune of {lineage['base_model']} with "
            f"{lineage['method']}; gate verdict {ctx['verdict']}.",
            "version": {"name": ctx["subject"], "date": ctx["generated_at"]},
            "references": [], "licenses": [],
            "regulatory_requirements": "See the bundle's traceability table (EU AI Act Annex IV, GMLP).",
        },
        "model_parameters": {"model_architecture": lineage["base_model"],
                             "data": datasets, "input_format": "text prompt",
                             "output_format": "answer option or generated text",
                             "training_recipe": (ctx["recipe"] or {}).get("configured")},
        "quantitative_analysis": {"performance_metrics": metrics},
        "considerations": {
            "users": [{"description": "medical reviewers, ML engineers, regulatory leads"}],
            "use_cases": [{"description": ctx["intended_use"]}],
            "limitations": limitations,
            "ethical_considerations": [{"name": n, "mitigation_strategy": m} for n, m in ctx["ethics"]],
        },
        "chai": {
            "release_stage": "evaluation" if ctx["verdict"] != "PROMOTE" else "candidate for deployment review",
            "intended_use_and_workflow": ctx["intended_use"],
            "cautioned_out_of_scope_settings": ctx["out_of_scope"],
            "known_risks_and_limitations": ctx["limitations"],
            "known_biases_or_ethical_considerations": [n for n, _ in ctx["ethics"]],
            "foundation_models_used": lineage["base_model"],
            "development_data_characterization": {"dataset": lineage["dataset"],
                                                  "rows": lineage["dataset_rows"],
                                                  "sha256": lineage["dataset_sha256"]},
            "key_metrics": {"usefulness": [m for m, row in zip(metrics, ctx["results"])
                                           if not row["safety"]],
                            "safety": [{"suite": r["suite"], "metric": r["metric"],
                                        "value": r["entry"].get("value"),
                                        "statement": r["statement"]} for r in ctx["safety"]],
                            "safety_judges": ctx["safety_judge"],
                            "safety_against_base": ctx["safety_vs_base"]},
            "demo_data_suites": ctx["demo_suites"],
            "sign_offs": ctx["signoffs"],
        },
        "gate": {"verdict": ctx["verdict"], "selected": ctx["selected"], "chosen": ctx["chosen"],
                 "policy": ctx["policy"], "split": ctx["split"],
                 "confirmed_on_held_out_items": ctx["confirmed"],
                 "verdicts": [{k: t[k] for k in ("tag", "verdict", "on", "confirms", "rows")}
                              for t in ctx["gate_tables"]],
                 "benchmarks_without_information": [c["sentence"] for c in ctx["collapsed"]],
                 "checkpoints": (ctx["gate_json"] or {}).get("checkpoints") or {},
                 "confirmation": (ctx["gate_json"] or {}).get("confirmation")},
    }
