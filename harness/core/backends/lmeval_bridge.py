"""Requests answered by an lm-evaluation-harness `LM` (HFLM, VLLM), as its evaluator asks them.

A backend wraps its model in lm-eval's own `LM` class, so a log-likelihood is computed
with lm-eval's tokenisation (`_encode_pair`), batching and truncation: the answers a
suite gets are the ones lm-eval's evaluator would get for the same requests. This module
knows nothing of tasks, formats or items; suites build the requests.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any


def quiet_lmeval() -> None:
    """lm-eval must not reach for the network, and its INFO logging is not our output."""
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    for name in ("lm-eval", "lm_eval", "lm_eval.evaluator", "lm_eval.api.task"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _instances(request_type: str, arguments: Sequence[tuple]) -> list:
    from lm_eval.api.instance import Instance

    return [Instance(request_type=request_type, doc={}, arguments=tuple(args), idx=i)
            for i, args in enumerate(arguments)]


def loglikelihood(lm: Any, requests: Sequence[tuple[str, str]]) -> list[float]:
    """Summed log-likelihood of each continuation after its context (lm-eval's
    `LM.loglikelihood`, whose is-greedy flag no suite reads)."""
    if not requests:
        return []
    quiet_lmeval()
    answers = lm.loglikelihood(_instances("loglikelihood", requests), disable_tqdm=True)
    return [float(answer[0]) for answer in answers]


def loglikelihood_rolling(lm: Any, texts: Sequence[str]) -> list[tuple[float, int]]:
    """(log-likelihood sum, tokens) per text via lm-eval's rolling windows."""
    if not texts:
        return []
    quiet_lmeval()
    sums = lm.loglikelihood_rolling(_instances("loglikelihood_rolling", [(t,) for t in texts]),
                                    disable_tqdm=True)
    return [(float(s), len(lm.tok_encode(t))) for s, t in zip(sums, texts, strict=True)]


def generate_until(lm: Any, prompts: Sequence[str], max_new_tokens: int) -> list[str]:
    """Greedy generation through lm-eval's own request path (used for vLLM)."""
    kwargs = {"until": [], "max_gen_toks": max_new_tokens, "do_sample": False, "temperature": 0}
    requests = _instances("generate_until", [(p, dict(kwargs)) for p in prompts])
    return list(lm.generate_until(requests, disable_tqdm=True))
