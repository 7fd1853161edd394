"""The LLM judge a config asks for must exist before any model runs.

A suite option `judge: llm` without a usable judge would only fail when the safety suite
first scores the base model, minutes into a run, and a run that never gets a judge must
not look like one judged by rules. So every suite of the run whose options ask for the
LLM judge has its `llm_judge` options checked here, at start, without contacting the
endpoint or loading the judge model: an endpoint needs an http(s) URL and a model name;
a local judge needs a model folder, a .gguf file, a preset, or a hub id that is in the
local cache when the hub is offline.
"""

from __future__ import annotations

import os
from pathlib import Path

from harness.core.config import EvaluationConfig
from harness.core.errors import BadInputError
from harness.core.models import resolve_model
from suites.registry import OPTIONS_KEY, effective_options
from suites.safety.llm_judge import from_options


def check_llm_judges(evaluation: EvaluationConfig) -> None:
    """Refuse (BadInputError, exit 2) a run whose suites ask for an LLM judge they cannot
    have; it is never replaced by the rules judge."""
    for name in evaluation.suites:
        options = effective_options(name, evaluation.suite_options.get(name))
        if options.get("judge") != "llm":
            continue
        where = f"{OPTIONS_KEY}.{name}.llm_judge"
        judge = options.get("llm_judge") or {}
        if not isinstance(judge, dict) or not (judge.get("endpoint") or judge.get("model")):
            raise BadInputError(
                f"suite '{name}' asks for the LLM judge (judge: llm) but names none: set "
                f"{where}.model (a local model folder, .gguf file or preset) or {where}.endpoint "
                f"with {where}.model (an OpenAI-compatible server). The rules judge does not "
                "stand in for it; set judge: rules to use the rules judge.", where=where)
        try:
            if not judge.get("endpoint"):
                _check_local_model(str(judge["model"]))
            from_options(dict(judge))  # URL, model, key variable, threshold; nothing is sent
        except BadInputError as exc:
            raise BadInputError(f"suite '{name}' asks for the LLM judge (judge: llm), which "
                                f"cannot be used: {exc}", where=where) from exc


def _check_local_model(model: str) -> None:
    """The judge model can be loaded without the network being asked for it."""
    spec = resolve_model(model)
    if spec.is_local:
        folder = Path(spec.source)
        if spec.gguf_file is None and not (folder / "config.json").exists():
            raise BadInputError(f"judge model folder '{model}' holds no model (no config.json)")
        return
    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
    if offline and not _in_hub_cache(spec.source):
        raise BadInputError(f"judge model '{model}' is neither a local folder nor in the "
                            "local hub cache, and the hub is offline (HF_HUB_OFFLINE)")


def _in_hub_cache(repo_id: str) -> bool:
    # huggingface_hub is imported only for a hub judge: every run checks its judges at
    # start, and most ask for none.
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, "config.json")
    return isinstance(found, str)
