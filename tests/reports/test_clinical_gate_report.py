"""A clinical run judged and reported from records: base vs a checkpoint on the demo data.

The two models are fixed answerers (no model runs): the base lists a few entities and
writes reports naming findings the input does not support; the checkpoint answers like
the references. The clinical policy's paired checks and hallucination ceiling are judged
by `medgate gate`, and `medgate report` shows the clinical-tasks section and the
unsupported entities per item.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from chromium_probe import find_chromium, probe

from harness.app.cli import main
from harness.core.atomic import write_json
from harness.core.config import MedgateConfig, write_resolved
from harness.core.records import records_path, write_records
from harness.core.rundir import RunDir
from harness.core.summaries import SuiteInfo, SuiteSummary, write_suite_summary
from reports.render import render_all
from suites.clinical.extraction import gold_answer
from suites.clinical.ner_data import read_spans
from suites.registry import get_suite, make_context

DATA = Path(__file__).resolve().parents[2] / "suites" / "data"
SUITES = ("clinical-ner", "clinical-report", "clinical-education")
CHROMIUM = find_chromium()


class FixedModel:
    backend, device = "fixed", "cpu"

    def __init__(self, answer):
        self.answer = answer

    def generate(self, prompts, settings):
        return [self.answer(p) for p in prompts]


def _references():
    notes = {n.text: gold_answer(n) for n in read_spans(DATA / "clinical_ner_demo.jsonl")}
    reports = {}
    for line in (DATA / "clinical_reports_demo.jsonl").read_text().splitlines():
        row = json.loads(line)
        reports[row["findings"]] = row["impression"]
    return notes, reports


def _answerer(trained: bool):
    notes, reports = _references()

    def answer(prompt: str) -> str:
        for text, gold in notes.items():
            if text in prompt:
                return gold if trained else gold.splitlines()[0]
        for findings, impression in reports.items():
            if findings in prompt:
                return impression if trained else "Right lower lobe pneumonia with a pneumothorax."
        condition = re.search(r"Explain (.+) in patient", prompt).group(1)
        if trained:
            return f"{condition.capitalize()} is a health problem. Please see your doctor soon."
        return (f"{condition.capitalize()} represents a multifactorial pathophysiological "
                "condition necessitating comprehensive multidisciplinary evaluation.")
    return answer


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("clinical-run")
    run = RunDir.create(root)
    write_resolved(MedgateConfig(), run.config)
    for tag, trained in (("base", False), ("checkpoint-40", True)):
        ev = run.eval_dir(tag)
        for name in SUITES:
            result = get_suite(name).run(FixedModel(_answerer(trained)), make_context(name))
            write_records(records_path(ev, name), result.records)
            info = SuiteInfo(demo=True, data=name, n_items=len(result.records), tag=tag,
                             **result.info)
            write_suite_summary(ev, name, SuiteSummary(metrics=result.metrics, info=info))
    write_json(run.manifest, {"written_at": "2026-01-01T00:00:00Z", "packages": {},
                              "fingerprints": {}, "artifacts": {}})
    return root


def test_the_demo_references_state_no_unsupported_entity(run_dir):
    records = (run_dir / "evals" / "checkpoint-40" / "clinical-report.records.jsonl")
    rows = [json.loads(line) for line in records.read_text().splitlines()]
    assert rows and all(r["labels"]["unsupported_entities"] == [] for r in rows)


def test_clinical_policy_judges_the_better_checkpoint_with_paired_cis(run_dir):
    # 30 demo reports with no unsupported entity cannot show the rate below 10%: the
    # honest verdict on a demo-sized set is BLOCK, saying how many items would show it.
    assert main(["gate", "--run-dir", str(run_dir), "--policy", "clinical"]) == 1
    gate = json.loads((run_dir / "gate.json").read_text())
    checks = {c["name"]: c for c in gate["checkpoints"]["checkpoint-40"]["checks"]}
    assert checks["entity_f1_no_regression"]["outcome"] == "pass"
    assert checks["report_rouge_l_no_regression"]["outcome"] == "pass"
    f1 = checks["entity_f1_no_regression"]
    assert f1["ci"][0] > 0 and f1["n_paired"] == 30 and "mean entity_f1" in f1["reason"]
    ceiling = checks["hallucination_rate"]
    assert ceiling["value"] == 0.0 and ceiling["outcome"] == "insufficient"
    assert 30 < ceiling["n_needed"] < 60


def test_clinical_policy_blocks_the_base_against_itself_on_hallucinations(run_dir, tmp_path):
    assert main(["gate", "--run-dir", str(run_dir), "--policy", "clinical",
                 "--tags", "base", "--junit", str(tmp_path / "j.xml")]) == 1


def test_model_card_section_and_unsupported_entities_in_the_evidence_explorer(run_dir):
    main(["gate", "--run-dir", str(run_dir), "--policy", "clinical"])
    assert main(["report", "--run-dir", str(run_dir)]) == 0
    card = (run_dir / "report" / "model_card.html").read_text()
    section = card[card.index('id="clinical"'):card.index('id="forgetting"')]
    assert "hallucination_rate" in section and "entity_f1" in section
    assert "report_rouge_l_no_regression" in section
    evidence = (run_dir / "report" / "evidence.html").read_text()
    payload = re.search(r'<script type="application/json" id="evidence-data">(.*?)</script>',
                        evidence, re.DOTALL).group(1)
    items = json.loads(payload)["items"]
    reports = [i for i in items["base"] if i["suite"] == "clinical-report"]
    negated = [i for i in reports if "No pneumothorax." in i["prompt"]]
    assert negated and all("pneumothorax (disease)" in i["variants"][0]["unsupported"]
                           for i in negated)
    trained = [i for i in items["checkpoint-40"] if i["suite"] == "clinical-report"]
    assert trained and all(i["variants"][0]["unsupported"] == [] for i in trained)
    ner = next(i for i in items["base"] if i["suite"] == "clinical-ner")
    assert ner["variants"][0]["unsupported"] is None


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not found on PATH (install Debian's "
                    "chromium: `make setup-test` or `apt-get install -y chromium`)")
def test_the_evidence_explorer_shows_each_reports_entity_support(run_dir):
    main(["gate", "--run-dir", str(run_dir), "--policy", "clinical"])
    render_all(run_dir)
    report = probe(CHROMIUM, run_dir / "report" / "evidence.html")
    assert report.loaded and report.console_errors == []
    # the subject (checkpoint-40) is shown first: its reports state only supported entities
    assert "every entity supported by the input" in report.text
