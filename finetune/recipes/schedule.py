"""The numbers behind the sampling recipes: mixture weights over training, task
probabilities, and the curriculum's pacing. Pure functions, so the tests can check the
trainer's realised proportions against exactly what the config asks for."""

from __future__ import annotations

import math

from harness.core.config import CurriculumConfig, MixtureConfig, TasksConfig


def normalised(weights: dict[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    return {name: w / total for name, w in weights.items()}


def mixture_weights(mixture: MixtureConfig, progress: float) -> dict[str, float]:
    """Each source's probability at `progress` (0 at the first example, 1 at the end)."""
    start = normalised(mixture.weights)
    if mixture.schedule == "constant" or mixture.end_weights is None:
        return start
    end = normalised(mixture.end_weights)
    if mixture.schedule == "step":
        return start if progress < mixture.step_at else end
    t = min(max(progress, 0.0), 1.0)
    return {name: (1 - t) * start[name] + t * end[name] for name in start}


def task_probabilities(tasks: TasksConfig, sizes: dict[str, int]) -> dict[str, float]:
    """uniform 1/K, proportional n/N, or temperature sampling n^(1/T) / sum."""
    if tasks.weighting == "uniform":
        raw = {task: 1.0 for task in sizes}
    elif tasks.weighting == "proportional":
        raw = {task: float(n) for task, n in sizes.items()}
    else:
        raw = {task: float(n) ** (1.0 / tasks.temperature) for task, n in sizes.items()}
    return normalised(raw)


def admitted_fraction(curriculum: CurriculumConfig, progress: float) -> float:
    """The share of examples (easiest first) the curriculum admits at `progress`.

    linear: from start_fraction to 1 at full_at; root: the same with a square-root ramp
    (more of the hard examples early); step: start_fraction until full_at, then all.
    """
    s, full = curriculum.start_fraction, curriculum.full_at
    t = min(max(progress / full, 0.0), 1.0)
    if curriculum.pacing == "step":
        return 1.0 if t >= 1.0 else s
    if curriculum.pacing == "root":
        t = math.sqrt(t)
    return s + (1.0 - s) * t
