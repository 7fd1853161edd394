"""Regulatory mapping: EU AI Act Annex IV items, GMLP principles and the risk register,
each tied to the bundle files that evidence it and to the checklist's current status.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

from reports.checklist import Item, gmlp_principles

# Files the GMLP principles are evidenced by inside an export bundle.
_GMLP_FILES = {
    "gmlp1_multidisciplinary": ["signoffs/"],
    "gmlp2_engineering_security": ["manifest.json", "config.resolved.yaml", "packages.json"],
    "gmlp3_representative_data": ["provenance.json", "report/model_card.html"],
    "gmlp4_independent_data": ["data/preflight.json", "provenance.json"],
    "gmlp5_reference_standard": ["evals/", "report/evidence.html"],
    "gmlp6_design_fits_use": ["config.resolved.yaml", "report/model_card.html"],
    "gmlp7_human_ai_team": ["report/checklist.html", "signoffs/"],
    "gmlp8_clinical_conditions": ["evals/", "gate.json", "report/model_card.html"],
    "gmlp9_user_information": ["report/model_card.html", "report/model_card.md", "report/model_card.json"],
    "gmlp10_monitoring": ["report/model_card.html", "gate.json"],
}


def _load(name: str) -> Any:
    return yaml.safe_load(resources.files("reports").joinpath(f"data/{name}").read_text(encoding="utf-8"))


def annex_iv_rows() -> list[dict[str, Any]]:
    return [{"framework": "EU AI Act Annex IV", "id": i["id"], "title": i["title"],
             "files": list(i.get("files") or []),
             "note": "" if i.get("files") else "not evidenced by this bundle; the provider documents it"}
            for i in _load("annex_iv.yaml")["items"]]


def gmlp_rows(items: list[Item]) -> list[dict[str, Any]]:
    status = {i.key: i.status for i in items}
    return [{"framework": "GMLP", "id": p["key"], "title": p["title"],
             "files": _GMLP_FILES.get(p["key"], []), "status": status.get(p["key"], "pending"),
             "note": ""} for p in gmlp_principles()]


def risk_rows(items: list[Item]) -> list[dict[str, Any]]:
    status = {i.key: (i.status, i.detail) for i in items}
    rows = []
    for risk in _load("risk_register.yaml")["risks"]:
        state, detail = status.get(risk["control"], ("pending", "control not evaluated"))
        rows.append({**risk, "control_status": state, "control_detail": detail})
    return rows


def traceability(items: list[Item]) -> list[dict[str, Any]]:
    return annex_iv_rows() + gmlp_rows(items)
