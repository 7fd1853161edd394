"""Render every report page of a run directory with jinja2 (autoescape on).

Templates are fixed files of this package; run data only ever enters as template
variables, so model text is escaped and can never become template source. Each page
carries a Content-Security-Policy that allows nothing from the network and only the
page's own script and style (by hash), so even a missed escape could not run code.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from harness.core.atomic import write_text
from harness.core.rundir import RunDir
from reports import checklist, evidence, model_card, traceability
from reports.review_status import review_progress
from reports.rundata import RunData, load_run
from reports.signoff import ReviewState, medical_roles, read_signoffs, review_state

PAGES = ("model_card.html", "checklist.html", "evidence.html")


def _static(name: str) -> str:
    return resources.files("reports").joinpath(f"templates/{name}").read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=True,  # every template here is HTML
        undefined=jinja2.ChainableUndefined,  # a field a producer did not write renders empty
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["num"] = model_card.fmt
    env.filters["ci"] = model_card.fmt_ci
    return env


@dataclass
class Rendered:
    """What `render_all` wrote, and the checklist state it computed."""

    paths: dict[str, Path]
    items: list[checklist.Item]
    review: ReviewState


def _reviewers_required(data: RunData) -> int:
    value = (data.config.get("report") or {}).get("reviewers_required", 3)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 3


def assess(root: str | Path | RunDir) -> tuple[list[checklist.Item], ReviewState]:
    """The checklist's items and the sign-off state, without writing any page."""
    data = load_run(root)
    review = review_state(read_signoffs(data.run.root), _reviewers_required(data),
                          medical_roles(data.config, str(data.run.config)),
                          review_progress(data.run))
    return checklist.build_items(data, review), review


def render_all(root: str | Path | RunDir) -> Rendered:
    """Write report/model_card.{html,md,json}, checklist.html and evidence.html."""
    data = load_run(root)
    signoffs = read_signoffs(data.run.root)
    review = review_state(signoffs, _reviewers_required(data),
                          medical_roles(data.config, str(data.run.config)),
                          review_progress(data.run))
    items = checklist.build_items(data, review)
    ctx = model_card.build_context(data, signoffs)
    env = environment()
    css, js = _static("style.css"), _static("evidence.js")
    common: dict[str, Any] = {"css": css, "run_id": ctx["run_id"], "generated_at": ctx["generated_at"],
                              "demo_suites": ctx["demo_suites"], "missing": ctx["missing"],
                              "suite_errors": data.suite_errors(), "training_demo": data.training_demo}
    out = data.run.report_dir
    paths: dict[str, Path] = {}

    def page(name: str, template: str, script: str | None = None, **extra: Any) -> None:
        csp = {"style": _csp_hash(css), "script": _csp_hash(script) if script else None}
        variables = {**extra, **common, "page": name.split(".")[0], "csp": csp}
        html = env.get_template(template).render(**variables)
        paths[name] = write_text(out / name, html)

    page("model_card.html", "model_card.html.j2", **ctx)
    counts = {s: sum(i.status == s for i in items) for s in checklist.STATUSES}
    page("checklist.html", "checklist.html.j2", items=[i.as_dict() for i in items], counts=counts,
         review=review, subject=ctx["subject"], verdict=ctx["verdict"], signoffs=ctx["signoffs"],
         trace=traceability.traceability(items), risks=traceability.risk_rows(items))
    page("evidence.html", "evidence.html.j2", script=js, js=js,
         payload=evidence.embed_json(evidence.build_items(data)))
    paths["model_card.md"] = write_text(out / "model_card.md", model_card.to_markdown(ctx))
    card = model_card.to_json(ctx)
    card["checklist"] = [i.as_dict() for i in items]
    paths["model_card.json"] = write_text(out / "model_card.json",
                                          json.dumps(card, indent=2, default=str) + "\n")
    return Rendered(paths=paths, items=items, review=review)
