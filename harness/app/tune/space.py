"""The search space file of `medgate tune`: config keys mapped to Optuna distributions.

```yaml
training.learning_rate: {low: 1.0e-4, high: 1.0e-2, log: true}
peft.r: {choices: [4, 8, 16]}
dataset.replay.ratio: {low: 0.0, high: 0.3}
objectives:            # optional; default: the policy's selection metric, maximised
  - {metric: medqa.accuracy, direction: maximize}
  - {metric: general.accuracy, delta_vs_base: true, direction: minimize}   # forgetting
sampler: tpe           # tpe (default) or random
seed: 0
```

Every dotted key is a medgate.yaml key, checked against the config schema when the file
is read (a typo is an error naming the key, never a silently unsearched parameter). A
range whose bounds are both integers is an integer range. Objectives are measured on the
selection items only: the items that confirm the promoted trial take no part in the search.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.core.errors import BadInputError
from harness.core.io import read_yaml

RESERVED = ("objectives", "sampler", "seed")
RANGE_KEYS = {"low", "high", "log", "step"}


@dataclass(frozen=True)
class Param:
    """One searched config key: a range (`low`..`high`, optionally `log` or `step`) or
    a list of `choices`."""

    key: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple[Any, ...] = ()

    @property
    def is_int(self) -> bool:
        return not self.choices and all(isinstance(v, int) and not isinstance(v, bool)
                                        for v in (self.low, self.high))

    def suggest(self, trial: Any) -> Any:
        """The value Optuna's trial draws for this key."""
        if self.choices:
            return trial.suggest_categorical(self.key, list(self.choices))
        if self.is_int:
            return trial.suggest_int(self.key, int(self.low), int(self.high), log=self.log,
                                     step=int(self.step or 1))
        return trial.suggest_float(self.key, float(self.low), float(self.high), log=self.log,
                                   step=self.step)

    def override(self, value: Any) -> str:
        """The `--set KEY=VALUE` assignment that puts `value` into a config (JSON is YAML)."""
        return f"{self.key}={json.dumps(value)}"

    def examples(self) -> list[Any]:
        return list(self.choices) if self.choices else [self.low, self.high]


@dataclass(frozen=True)
class Objective:
    """A metric of the trial's chosen checkpoint on the selection items, or (with
    `delta_vs_base`) the base's value minus the checkpoint's: forgetting."""

    suite: str
    metric: str
    direction: Literal["maximize", "minimize"] = "maximize"
    delta_vs_base: bool = False

    @property
    def name(self) -> str:
        return f"{'forgetting ' if self.delta_vs_base else ''}{self.suite}.{self.metric}"


@dataclass
class SearchSpace:
    params: list[Param]
    objectives: list[Objective] = field(default_factory=list)  # empty: the policy's metric
    sampler: Literal["tpe", "random"] = "tpe"
    seed: int | None = None
    source: str = ""

    def describe(self) -> dict[str, Any]:
        return {"source": self.source, "sampler": self.sampler, "seed": self.seed,
                "params": {p.key: ({"choices": list(p.choices)} if p.choices else
                                   {"low": p.low, "high": p.high, "log": p.log, "step": p.step})
                           for p in self.params},
                "objectives": [{"name": o.name, "direction": o.direction} for o in self.objectives]}


def _number(value: Any, where: str, name: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadInputError(f"'{name}' must be a number, got {value!r}", where=where)
    return value


def _param(key: str, spec: Any, where: str) -> Param:
    at = f"{where}: {key}"
    if not isinstance(spec, dict):
        raise BadInputError("a parameter maps to {low, high[, log, step]} or {choices: [...]}",
                            where=at)
    if "choices" in spec:
        extra = set(spec) - {"choices"}
        choices = spec["choices"]
        if extra:
            raise BadInputError(f"unknown keys {sorted(extra)} beside 'choices'", where=at)
        if not isinstance(choices, list) or not choices:
            raise BadInputError("'choices' must be a non-empty list", where=at)
        return Param(key, choices=tuple(choices))
    unknown = set(spec) - RANGE_KEYS
    if unknown:
        raise BadInputError(f"unknown keys {sorted(unknown)} (a range has low, high, log, "
                            "step; a list has choices)", where=at)
    if "low" not in spec or "high" not in spec:
        raise BadInputError("a range needs both 'low' and 'high'", where=at)
    low, high = _number(spec["low"], at, "low"), _number(spec["high"], at, "high")
    if not low < high:
        raise BadInputError(f"'low' ({low}) must be below 'high' ({high})", where=at)
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise BadInputError("'log' must be true or false", where=at)
    if log and low <= 0:
        raise BadInputError("a log range needs 'low' > 0", where=at)
    step = spec.get("step")
    if step is not None:
        step = _number(step, at, "step")
        if log:
            raise BadInputError("'step' and 'log' cannot be combined (Optuna refuses it)",
                                where=at)
    return Param(key, low=low, high=high, log=log, step=step)


def _objective(entry: Any, index: int, where: str) -> Objective:
    at = f"{where}: objectives[{index}]"
    if not isinstance(entry, dict) or "metric" not in entry:
        raise BadInputError("an objective is {metric: SUITE.METRIC, direction: maximize|"
                            "minimize[, delta_vs_base: true]}", where=at)
    unknown = set(entry) - {"metric", "direction", "delta_vs_base"}
    if unknown:
        raise BadInputError(f"unknown keys {sorted(unknown)}", where=at)
    suite, _, metric = str(entry["metric"]).partition(".")
    if not suite or not metric:
        raise BadInputError(f"'metric' must be SUITE.METRIC, got {entry['metric']!r}", where=at)
    direction = entry.get("direction", "maximize")
    if direction not in ("maximize", "minimize"):
        raise BadInputError(f"'direction' must be maximize or minimize, got {direction!r}",
                            where=at)
    delta = entry.get("delta_vs_base", False)
    if not isinstance(delta, bool):
        raise BadInputError("'delta_vs_base' must be true or false", where=at)
    return Objective(suite, metric, direction, delta)


def parse_space(data: Any, where: str) -> SearchSpace:
    """A SearchSpace from the file's parsed YAML (keys not yet checked against a config)."""
    if not isinstance(data, dict) or not data:
        raise BadInputError("the space file must map config keys to distributions", where=where)
    params = []
    for key, spec in data.items():
        if key in RESERVED:
            continue
        if not isinstance(key, str) or "." not in key:
            raise BadInputError(f"'{key}' is neither a config key (section.key) nor one of "
                                f"{', '.join(RESERVED)}", where=where)
        params.append(_param(key, spec, where))
    if not params:
        raise BadInputError("no parameter to search", where=where)
    raw = data.get("objectives", [])
    if not isinstance(raw, list):
        raise BadInputError("'objectives' must be a list", where=where)
    sampler = data.get("sampler", "tpe")
    if sampler not in ("tpe", "random"):
        raise BadInputError(f"'sampler' must be tpe or random, got {sampler!r}", where=where)
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise BadInputError(f"'seed' must be an integer, got {seed!r}", where=where)
    return SearchSpace(params, [_objective(o, i, where) for i, o in enumerate(raw)], sampler,
                       seed, where)


def read_space(path: str | Path) -> SearchSpace:
    return parse_space(read_yaml(path, what="space file"), str(path))
