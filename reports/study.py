"""The study report of `medgate tune`: trials, optimisation history, importances, front.

Rendered from the study's result.json alone (written by the tune layer from the study's
storage), like every other report: a table of the trials (parameters, objective values,
feasibility and the failing checks, pruning, errors), the optimisation history with the
best feasible value so far, Optuna's parameter importances, and the Pareto front when the
study has several objectives. Figures are SVG data URIs, as in the model card.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.core.atomic import write_text
from harness.core.errors import BadInputError
from reports.plots import _data_uri, _figure, _finite
from reports.render import _csp_hash, _static, environment


def _history_plot(record: dict[str, Any]) -> str | None:
    """Objective 1 per finished trial (feasible filled, infeasible hollow) and the best
    feasible value so far."""
    objective = record["objectives"][0]
    sign = 1 if objective["direction"] == "maximize" else -1
    points = [(t["number"], t["values"][0], t["feasible"]) for t in record["trials"]
              if t.get("values") and _finite(t["values"][0])]
    if not points:
        return None
    fig, ax = _figure()
    ax.scatter([p[0] for p in points if p[2]], [p[1] for p in points if p[2]],
               label="feasible", color="tab:green")
    ax.scatter([p[0] for p in points if not p[2]], [p[1] for p in points if not p[2]],
               label="infeasible (fails the gate)", facecolors="none", edgecolors="tab:red")
    best, xs, ys = None, [], []
    for number, value, feasible in sorted(points):
        if feasible and (best is None or sign * value > sign * best):
            best = value
        if best is not None:
            xs.append(number)
            ys.append(best)
    if xs:
        ax.step(xs, ys, where="post", label="best feasible so far", color="tab:blue")
    ax.set_xlabel("trial")
    ax.set_ylabel(f"{objective['name']} (selection items)")
    ax.legend(fontsize=8)
    return _data_uri(fig)


def _pareto_plot(record: dict[str, Any]) -> str | None:
    if len(record["objectives"]) < 2:
        return None
    front = set(record["pareto_front"])
    points = [(t["number"], t["values"][0], t["values"][1], t["feasible"])
              for t in record["trials"] if t.get("values") and len(t["values"]) >= 2]
    if not points:
        return None
    fig, ax = _figure(5.0, 4.0)
    for number, x, y, feasible in points:
        colour = "tab:blue" if number in front else ("tab:green" if feasible else "tab:red")
        ax.scatter([x], [y], color=colour, marker="o" if feasible else "x")
        ax.annotate(str(number), (x, y), fontsize=7)
    ax.set_xlabel(record["objectives"][0]["name"])
    ax.set_ylabel(record["objectives"][1]["name"])
    return _data_uri(fig)


def read_study(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInputError(f"cannot read the study result: {exc}", where=str(path)) from exc
    missing = [k for k in ("trials", "objectives", "verdict") if k not in record]
    if missing:
        raise BadInputError(f"not a study result: no {', '.join(missing)}", where=str(path))
    return record


def render_study(result_path: str | Path, out_path: str | Path) -> Path:
    """Write the study report (HTML) from the study's result.json."""
    record = read_study(result_path)
    env = environment()
    css = _static("style.css")
    html = env.get_template("study.html.j2").render(
        study=record, css=css, csp={"style": _csp_hash(css), "script": None},
        history=_history_plot(record), pareto=_pareto_plot(record))
    return write_text(out_path, html)
