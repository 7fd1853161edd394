"""Suite groups: several suites run together and summarised as one published number.

A group is declared in YAML like a suite (suites/specs/groups/<name>.yaml, or a user's
spec file with `kind: group`): its member suites, and the tasks whose scores it combines,
each a `suite.metric` of a member. The bundled `medical-leaderboard` is the Open
Medical-LLM Leaderboard: lm-eval's nine medical tasks, zero-shot, scored by `acc`, and
their unweighted average.

The group's result is computed from the members' summaries after they ran; it is
written beside summary.json (`groups.json`), never into it. A task without a score (its
suite failed or was not run, its metric is absent because the data lacked a subject, a
NaN) makes the average absent, naming the task: an average over fewer tasks is not the
leaderboard's number. So do members scored on bundled demo data, or under other
conditions than the group declares (the leaderboard is zero-shot, no chat template).
A `--limit` that cut a member keeps the average but says it covers only the first items; a task
may state the item count of the split the published number is over (`items`), and a
different count is noted (e.g. PubMedQA's ori_pqal.json holds 1000 labelled questions,
the leaderboard scores the 500 of the test split).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core.errors import BadInputError
from harness.core.summaries import SuiteSummary, finite

GROUP_KIND = "group"
_KEYS = {"name", "kind", "description", "members", "tasks", "conditions"}
# Run settings a group may pin; each is read from a member's summary info.
_CONDITIONS = {"num_fewshot": int, "apply_chat_template": bool}


@dataclass(frozen=True)
class GroupTask:
    """One scored task of a group: its published name and where its score is."""

    name: str
    suite: str
    metric: str
    items: int | None = None  # items in the split the published number is over


@dataclass(frozen=True)
class GroupSpec:
    """A declared group: member suites (run in this order) and the tasks it averages."""

    name: str
    description: str
    members: tuple[str, ...]
    tasks: tuple[GroupTask, ...]
    conditions: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    path: Path | None = field(default=None, compare=False)


def parse_group(raw: Any, path: Path) -> GroupSpec:
    """A group spec from its YAML mapping; every fault names the file and key."""
    where = str(path)
    if not isinstance(raw, dict):
        raise BadInputError("a group spec must be a mapping", where=where)
    unknown = set(raw) - _KEYS
    if unknown:
        raise BadInputError(f"unknown key(s) {sorted(unknown)} in a group (known: "
                            f"{sorted(_KEYS)})", where=where)
    for key in ("name", "description"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise BadInputError(f"missing key '{key}'", where=where)
    members = raw.get("members")
    if (not isinstance(members, list) or not members
            or not all(isinstance(m, str) and m for m in members)):
        raise BadInputError("key 'members' must be a non-empty list of suite names",
                            where=where)
    if len(set(members)) != len(members):
        raise BadInputError("key 'members' names a suite twice", where=where)
    tasks_raw = raw.get("tasks")
    if not isinstance(tasks_raw, dict) or not tasks_raw:
        raise BadInputError("key 'tasks' must map each task name to 'suite.metric'",
                            where=where)
    tasks = [_parse_task(str(task), value, members, f"{where}: tasks.{task}")
             for task, value in tasks_raw.items()]
    conditions = raw.get("conditions") or {}
    if not isinstance(conditions, dict):
        raise BadInputError("key 'conditions' must be a mapping", where=where)
    for key, value in conditions.items():
        kind = _CONDITIONS.get(key)
        if kind is None or type(value) is not kind:
            raise BadInputError(f"condition '{key}' is not one of "
                                f"{', '.join(f'{k} ({t.__name__})' for k, t in _CONDITIONS.items())}",
                                where=f"{where}: conditions.{key}")
    return GroupSpec(name=raw["name"], description=" ".join(raw["description"].split()),
                     members=tuple(members), tasks=tuple(tasks), conditions=dict(conditions),
                     path=path)


def _parse_task(task: str, value: Any, members: list[str], where: str) -> GroupTask:
    """`task: suite.metric`, or `task: {score: suite.metric, items: N}`."""
    items = None
    if isinstance(value, dict):
        unknown = set(value) - {"score", "items"}
        if unknown:
            raise BadInputError(f"unknown key(s) {sorted(unknown)} (known: items, score)",
                                where=where)
        items = value.get("items")
        if items is not None and (type(items) is not int or items < 1):
            raise BadInputError(f"'items' must be a positive integer, got {items!r}",
                                where=where)
        value = value.get("score")
    suite, dot, metric = value.partition(".") if isinstance(value, str) else ("", "", "")
    if not dot or not suite or not metric:
        raise BadInputError(f"task '{task}' must name 'suite.metric', got {value!r}",
                            where=where)
    if suite not in members:
        raise BadInputError(f"task '{task}' reads suite '{suite}', which is not a member "
                            f"({', '.join(members)})", where=where)
    return GroupTask(name=task, suite=suite, metric=metric, items=items)


def _task_entry(task: GroupTask, summaries: Mapping[str, SuiteSummary],
                cut: Mapping[str, int]) -> dict[str, Any]:
    """The task's score and n, or `missing` saying why there is none (`cut`: the members a
    --limit cut, and the limit)."""
    entry: dict[str, Any] = {"suite": task.suite, "metric": task.metric, "value": None,
                             "n": None, "published_items": task.items}
    summary = summaries.get(task.suite)
    if summary is None:
        entry["missing"] = f"suite '{task.suite}' was not evaluated"
    elif summary.failed:
        entry["missing"] = f"suite '{task.suite}' failed: {summary.error}"
    elif task.metric not in summary.metrics and task.suite in cut:
        entry["missing"] = (f"suite '{task.suite}' has no metric '{task.metric}': none of its "
                            f"items among the first {cut[task.suite]} scored (--limit counts "
                            "the suite's items, not each subject's)")
    elif task.metric not in summary.metrics:
        entry["missing"] = (f"suite '{task.suite}' has no metric '{task.metric}' (no items "
                            "of it in the data?)")
    else:
        m = summary.metrics[task.metric]
        entry.update(value=finite(m.value), n=m.n, data=summary.info.data)
        if entry["value"] is None or not m.n:
            entry["missing"] = f"'{task.suite}.{task.metric}' has no value"
    return entry


def _condition_faults(group: GroupSpec, summaries: Mapping[str, SuiteSummary]) -> list[str]:
    """Why members' numbers are not the group's published number, member by member."""
    faults = []
    for suite in group.members:
        summary = summaries.get(suite)
        if summary is None or summary.failed:
            continue  # said by the task entries
        info = summary.info
        if info.demo:
            faults.append(f"{suite} was scored on bundled demo data, not the benchmark: "
                          f"pass --data {suite}=PATH")
        for key, wanted in group.conditions.items():
            got = info.extra.get(key)
            if got != wanted:
                faults.append(f"{suite} ran with {key}={got!r}; the group's number needs "
                              f"{key}={wanted!r}")
    return faults


def group_result(group: GroupSpec, summaries: Mapping[str, SuiteSummary]) -> dict[str, Any]:
    """The group's tasks with value and n, and their unweighted mean when every task has
    a score under the group's conditions; else `average` is None and `average_absent`
    says why, task by task."""
    # members a --limit may have cut: as many items scored as the limit allowed
    cut = {name: s.info.limit for name in group.members
           if (s := summaries.get(name)) is not None and s.info.limit is not None
           and (s.info.n_items is None or s.info.n_items >= s.info.limit)}
    tasks = {task.name: _task_entry(task, summaries, cut) for task in group.tasks}
    absent = [f"{name}: {entry['missing']}" for name, entry in tasks.items()
              if "missing" in entry]
    absent += _condition_faults(group, summaries)
    average = None
    if not absent:
        values = [entry["value"] for entry in tasks.values()]
        average = {"value": sum(values) / len(values), "n_tasks": len(values),
                   "method": "unweighted mean of the task scores"}
    notes = [f"{name}: --limit {limit} scored only the first {limit} items, not the whole "
             "file" for name, limit in cut.items()]
    notes += [f"{task.name}: {tasks[task.name]['n']} items scored; the published split has "
              f"{task.items}: a different file or split gives a different number"
              for task in group.tasks if task.items is not None and task.suite not in cut
              and tasks[task.name]["n"] not in (None, task.items)]
    return {"description": group.description, "members": list(group.members),
            "conditions": dict(group.conditions), "tasks": tasks, "average": average,
            "average_absent": absent, "notes": notes}
