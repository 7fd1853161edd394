"""Figures for the model card, drawn with matplotlib and embedded as SVG data URIs.

A data URI keeps the page self-contained (no request, no file beside it) and, unlike
inline SVG markup, cannot carry markup into the page whatever the labels contain.
"""

from __future__ import annotations

import base64
import io
import math
from typing import Any

from reports.rundata import RunData


def _figure(width: float = 6.4, height: float = 3.2) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "medgate"  # stable ids, so re-renders are byte-identical
    plt.rcParams["svg.fonttype"] = "path"  # glyphs as paths: no font is needed to view
    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    ax.grid(True, alpha=0.3)
    return fig, ax


def _data_uri(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.tight_layout()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    encoded = base64.b64encode(buf.getvalue().encode("utf-8")).decode("ascii")
    return "data:image/svg+xml;base64," + encoded


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def loss_plot(data: RunData) -> str | None:
    """Training and validation loss against step, or None without a history."""
    train = [(h["step"], h["loss"]) for h in data.history
             if _finite(h.get("step")) and _finite(h.get("loss"))]
    val = [(h["step"], h["eval_loss"]) for h in data.history
           if _finite(h.get("step")) and _finite(h.get("eval_loss"))]
    if not train and not val:
        return None
    fig, ax = _figure()
    if train:
        ax.plot(*zip(*train), label="training loss", color="#1f5f8b")
    if val:
        ax.plot(*zip(*val), "o-", label="validation loss", color="#c0392b")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    return _data_uri(fig)


def _error_bars(points: list[tuple]) -> list[list[float]]:
    """matplotlib's [below, above] distances from (label, value, ci) points; no CI, no bar.

    Clamped at 0: a Wilson bound at 0 or 1 can sit a rounding error past the value, and
    matplotlib refuses a negative error.
    """
    below, above = [], []
    for _, value, ci in points:
        ok = isinstance(ci, list) and len(ci) == 2 and all(_finite(c) for c in ci)
        below.append(max(0.0, value - ci[0]) if ok else 0.0)
        above.append(max(0.0, ci[1] - value) if ok else 0.0)
    return [below, above]


def metric_across_checkpoints(data: RunData, suite: str, name: str) -> str | None:
    """One metric for every evaluated model (base first), with its CI as error bars."""
    points = []
    for tag in data.tags:
        entry = data.metric(tag, suite, name)
        if entry and _finite(entry.value):
            points.append((tag, entry.value, entry.ci))
    if not points:
        return None
    fig, ax = _figure(6.4, 2.8)
    xs = list(range(len(points)))
    values = [p[1] for p in points]
    ax.errorbar(xs, values, yerr=_error_bars(points), fmt="o-", capsize=4, color="#1f5f8b")
    ax.set_xticks(xs, [p[0] for p in points])
    ax.set_ylabel(f"{suite} {name}")
    return _data_uri(fig)


def perturbation_drop(data: RunData, tag: str | None, suite: str) -> str | None:
    """Accuracy drop per perturbation of one robustness suite for one model, with CIs."""
    bars = []
    for key, entry in data.metrics(tag, suite).items():
        if key.startswith("accuracy_drop.") and _finite(entry.value):
            bars.append((key.split(".", 1)[1], entry.value, entry.ci))
    if not bars:
        return None
    fig, ax = _figure(6.4, 0.6 + 0.5 * len(bars))
    ys = list(range(len(bars)))
    values = [b[1] for b in bars]
    ax.barh(ys, values, xerr=_error_bars(bars), capsize=4, color="#d98c1f")
    ax.set_yticks(ys, [b[0] for b in bars])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("accuracy drop vs clean (positive = worse)")
    return _data_uri(fig)
