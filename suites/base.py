"""What a suite is: items, a spec, and a `run` that turns a model into records and metrics.

Modelled on Inspect AI's dataset/solver/scorer split and lm-evaluation-harness's YAML
tasks: a suite is declared in suites/specs/<name>.yaml and only formats that need code
(perturbations, safety judging) point at a Python class. A suite turns its items into
requests for the model (harness.core.backends) and the answers into records; the
metrics its spec names (suites.metrics.registry) summarise the records.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from harness.core.backends import ModelHandle
from harness.core.records import Record
from harness.core.summaries import MetricEntry

# The labels of a multiple-choice item's options, in order: A, B, C, ...
LETTERS = string.ascii_uppercase

SuiteKind = Literal["multiple_choice", "generation", "perplexity", "derived"]


@dataclass(frozen=True)
class MCItem:
    """A multiple-choice item. `answer` indexes `options`; `context` is e.g. an abstract."""

    item_id: str
    question: str
    options: tuple[str, ...]
    answer: int
    context: str | None = None
    subject: str | None = None
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class GenItem:
    """A free-text item: a prompt, and a reference answer where the metric needs one."""

    item_id: str
    prompt: str
    reference: str | None = None
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class SuiteSpec:
    """The declarative part of a suite, read from suites/specs/<name>.yaml or a user's file.

    `tags` name the suite's roles (performance, forgetting, safety, ...; the vocabulary is
    suites.registry.TAGS): reports, checklists and tables find suites by role, never by
    name, so a suite added by a YAML file alone takes its place in them. `path` is the
    spec file, which a relative `default_data` of a user's spec resolves against.

    `lmeval_task` is the lm-evaluation-harness task the suite reproduces (`{subject}` in
    it stands for an item's subject, as lm-eval has one MMLU task per subject), and
    `lmeval_dataset` the hub dataset that task reads: results written in lm-eval's shape
    and the model card's model-index name them, so leaderboard tooling finds its own task.
    """

    name: str
    kind: SuiteKind
    description: str
    loader: str | None = None
    prompt_format: str | None = None
    metrics: tuple[str, ...] = ()
    default_data: str | None = None
    demo: bool = True
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    cls: str | None = None
    tags: tuple[str, ...] = ()
    lmeval_task: str | None = None
    lmeval_dataset: str | None = None
    path: Path | None = field(default=None, compare=False)


@dataclass
class RunContext:
    """Everything a suite needs besides the model: where its data is and how to score."""

    data_path: Path | None
    is_demo_data: bool
    limit: int | None = None
    seed: int = 1234
    num_fewshot: int = 0
    apply_chat_template: bool = False
    max_new_tokens: int = 96
    options: dict[str, Any] = field(default_factory=dict)
    # item ids not to score (training data contained them: data preflight, overlap=remove)
    exclude: frozenset[str] = frozenset()
    # Sequential evaluation (harness.app.sequential) scores the planned items in blocks:
    # `include` keeps only a block's items (after exclusion and the limit chose them), and a
    # list in `plan` asks for the planned item ids instead of a score (suites.items.PlanOnly).
    include: frozenset[str] | None = None
    plan: list[str] | None = None


@dataclass
class SuiteResult:
    """Per-item records, the metrics the spec names, and what the suite wants said about
    how it ran (the evaluator adds data, model and timing to it)."""

    records: list[Record]
    metrics: dict[str, MetricEntry]
    info: dict[str, Any] = field(default_factory=dict)


class Suite(Protocol):
    spec: SuiteSpec

    def run(self, model: ModelHandle, ctx: RunContext) -> SuiteResult:
        """Score `model`; return per-item records and summary metrics for this suite."""
        ...
