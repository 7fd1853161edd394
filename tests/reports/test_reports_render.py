"""Rendering: every page from the run directory, escaped, self-contained, demo-labelled."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from report_run_builder import SCRIPT_ANSWER, build_run

from harness.app.cli import main
from harness.core.errors import BadInputError
from harness.core.records import Record, records_path, write_records
from reports.render import PAGES, render_all

RAW_SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build_run(tmp_path_factory.mktemp("rendered") / "run")
    render_all(root)
    return root


def _page(root: Path, name: str) -> str:
    return (root / "report" / name).read_text(encoding="utf-8")


def test_report_command_writes_every_file(tmp_path: Path) -> None:
    root = build_run(tmp_path / "run")
    assert main(["report", "--run-dir", str(root)]) == 0
    for name in (*PAGES, "model_card.md", "model_card.json"):
        assert (root / "report" / name).stat().st_size > 500, name


@pytest.mark.parametrize("name", PAGES)
def test_script_in_model_answer_is_text(rendered: Path, name: str) -> None:
    html = _page(rendered, name)
    assert RAW_SCRIPT not in html
    assert "</script><b>" not in html
    scripts = re.findall(r"<script\b[^>]*>", html)
    # Only the page's own scripts: the evidence data block and its filter code.
    assert scripts == ([] if name != "evidence.html"
                       else ['<script type="application/json" id="evidence-data">', "<script>"])


def test_model_answer_shown_escaped_on_model_card_and_in_evidence_data(rendered: Path) -> None:
    card = _page(rendered, "model_card.html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card
    evidence = _page(rendered, "evidence.html")
    blob = re.search(r'<script type="application/json" id="evidence-data">(.*?)</script>',
                     evidence, re.DOTALL).group(1)
    payload = json.loads(blob)
    outputs = [v["output"] for items in payload["items"].values() for it in items
               for v in it["variants"]]
    assert SCRIPT_ANSWER in outputs


@pytest.mark.parametrize("name", PAGES)
def test_pages_are_self_contained(rendered: Path, name: str) -> None:
    html = _page(rendered, name)
    assert "default-src 'none'" in html
    for attr in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert not re.match(r"^(https?:)?//", attr), attr
        assert attr.startswith(("data:image/svg+xml;base64,", "#", "../")) or \
            re.match(r"^[a-z_]+\.html(#[\w-]+)?$", attr), attr
    assert "@import" not in html and "url(" not in html


@pytest.mark.parametrize("name", PAGES)
def test_demo_data_is_stated(rendered: Path, name: str) -> None:
    html = _page(rendered, name)
    assert 'id="demo-banner"' in html and 'id="demo-training-banner"' in html
    assert "demo data written for this project" in html


def test_model_card_sections_and_plots(rendered: Path) -> None:
    card = _page(rendered, "model_card.html")
    for anchor in ("lineage", "use", "training", "results", "forgetting", "robustness", "safety",
                   "gate", "split", "confirmed", "limitations", "signoffs"):
        assert f'id="{anchor}"' in card
    assert card.count("data:image/svg+xml;base64,") >= 3  # loss, metrics, perturbation
    assert "smollm2-135m" in card and "PROMOTE" in card
    assert "needs at least 300 items" in card  # sample-size statement of a rate metric
    assert "negation_distractor" in card


def test_markdown_has_model_index_and_json_has_card_fields(rendered: Path) -> None:
    md = _page(rendered, "model_card.md")
    front = yaml.safe_load(md.split("---")[1])
    results = front["model-index"][0]["results"]
    assert any(r["dataset"]["type"] == "medgate-demo-medqa" and r["metrics"][0]["type"] == "accuracy"
               for r in results)
    assert "Demo data" in md
    card = json.loads(_page(rendered, "model_card.json"))
    for key in ("model_details", "model_parameters", "quantitative_analysis", "considerations", "chai"):
        assert key in card
    assert card["chai"]["demo_data_suites"]
    assert {i["key"] for i in card["checklist"]} >= {"performance", "safety", "expert_review"}


def test_template_syntax_in_model_output_is_not_evaluated(run_dir: Path) -> None:
    path = records_path(run_dir / "evals" / "checkpoint-20", "safety")
    write_records(path, [Record(suite="safety", item_id="s-x", prompt="q", output="{{ 7*7 }} {% if 1 %}x{% endif %}",
                                labels={"harmful": True}, demo=True)])
    render_all(run_dir)
    card = _page(run_dir, "model_card.html")
    assert "{{ 7*7 }} {% if 1 %}x{% endif %}" in card


def test_missing_gate_renders_and_fails_closed(tmp_path: Path) -> None:
    root = build_run(tmp_path / "run", with_gate=False)
    rendered = render_all(root)
    status = {i.key: i.status for i in rendered.items}
    assert status["safety"] == "fail" and status["performance"] == "fail"
    card = _page(root, "model_card.html")
    assert "NOT GATED" in card and "Missing evidence" in card and "gate.json" in card


def test_not_a_run_dir_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError):
        render_all(tmp_path)
    assert main(["report", "--run-dir", str(tmp_path)]) == 2


def test_malformed_records_name_file_and_line(run_dir: Path, capsys: pytest.CaptureFixture) -> None:
    path = run_dir / "evals" / "base" / "medqa.records.jsonl"
    path.write_text(path.read_text().splitlines()[0] + "\n{not json\n")
    assert main(["report", "--run-dir", str(run_dir)]) == 2
    assert "medqa.records.jsonl:2" in capsys.readouterr().err.replace("\n", "")


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    return build_run(tmp_path / "run")


def test_crashed_suite_and_missing_manifest_are_shown(run_dir: Path) -> None:
    from harness.core.rundir import RunDir
    from harness.core.summaries import SuiteInfo, SuiteSummary, write_suite_summary

    write_suite_summary(run_dir / "evals" / "checkpoint-20", "pubmedqa",
                        SuiteSummary(error="RuntimeError: <b>boom</b>", info=SuiteInfo(demo=True)))
    (run_dir / "manifest.json").unlink()
    rendered = render_all(RunDir(run_dir))  # the pipeline passes a RunDir
    status = {i.key: i.status for i in rendered.items}
    assert status["gmlp2_engineering_security"] == "pending"
    html = _page(run_dir, "model_card.html")
    assert "Evaluation errors" in html and "checkpoint-20 / pubmedqa" in html
    assert "RuntimeError: &lt;b&gt;boom&lt;/b&gt;" in html
    assert "manifest.json (train-and-gate writes it after this render" in html


@pytest.mark.parametrize("gate", [{"verdict": "PROMOTE", "checkpoints": []},
                                  {"verdict": "PROMOTE", "checkpoints": {"checkpoint-20": {"checks": 3}}}])
def test_malformed_gate_is_bad_input_naming_the_key(run_dir: Path, gate: dict,
                                                    capsys: pytest.CaptureFixture) -> None:
    (run_dir / "gate.json").write_text(json.dumps(gate))
    assert main(["report", "--run-dir", str(run_dir)]) == 2
    message = capsys.readouterr().err.replace("\n", "")
    assert "gate.json" in message and "checkpoints" in message


def test_malformed_summary_is_bad_input(run_dir: Path, capsys: pytest.CaptureFixture) -> None:
    (run_dir / "evals" / "base" / "summary.json").write_text(json.dumps({"medqa": [1, 2]}))
    assert main(["report", "--run-dir", str(run_dir)]) == 2
    assert "suite 'medqa'" in capsys.readouterr().err.replace("\n", "")


def test_overlap_left_in_training_data_fails_independence(run_dir: Path) -> None:
    path = run_dir / "data" / "preflight.json"
    pre = json.loads(path.read_text())
    pre.update(overlap_action="block", overlap_remaining=4)
    path.write_text(json.dumps(pre))
    status = {i.key: i for i in render_all(run_dir).items}
    assert status["gmlp4_independent_data"].status == "fail"
    assert "4 training items overlap" in status["gmlp4_independent_data"].detail
    (run_dir / "data" / "preflight.json").unlink()
    status = {i.key: i.status for i in render_all(run_dir).items}
    assert status["gmlp4_independent_data"] == "fail"  # no evidence: fails closed
