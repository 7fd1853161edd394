"""Log-likelihood requests that share a context, answered with that context run once.

lm-eval's HFLM runs every (context + continuation) sequence in full, projecting the
vocabulary at every position. Multiple-choice requests come in groups with one context
and a handful of short continuations, so here:

- when every continuation is a single token (letter choices), each context is answered
  from one forward pass projecting only its last position (`logits_to_keep`), in
  lm-eval's length-descending batches with its right padding and no attention mask;
- otherwise (option texts) each context runs once (left padded, with an attention mask
  and explicit positions), its key/value cache is repeated once per continuation and all
  the continuations run together in a second pass.

Tokenisation is lm-eval's own `_encode_pair`, so each answer is lm-eval's to float
tolerance (tests/suites/test_suite_lmeval_equality.py checks both paths against HFLM).
A group that does not fit (empty context or continuation, a sequence longer than the
model's window, a model without `logits_to_keep` or with a cache that cannot be
repeated) is left unanswered here, and lm-eval answers it.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class Plan:
    """One context's requests, tokenised as lm-eval tokenises them."""

    indexes: list[int]  # positions of the requests in the caller's list
    context: list[int]
    continuations: list[list[int]]


def _forward_parameters(model: Any) -> set[str]:
    """The keyword arguments the model's own forward takes (under a PEFT wrapper)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return set(inspect.signature(base.forward).parameters)


def supports_logits_to_keep(model: Any) -> bool:
    return "logits_to_keep" in _forward_parameters(model)


def plan_groups(lm: Any, requests: Sequence[tuple[str, str]]) -> list[Plan]:
    """The requests grouped by context (first-seen order), each group tokenised with
    lm-eval's `_encode_pair`; groups that only lm-eval can score are left out."""
    groups: dict[str, list[int]] = {}
    for index, (context, _) in enumerate(requests):
        groups.setdefault(context, []).append(index)
    plans = []
    for context, indexes in groups.items():
        if not context:  # lm-eval conditions an empty context on its prefix token
            continue
        pairs = [lm._encode_pair(context, requests[i][1]) for i in indexes]
        ctx_enc = pairs[0][0]
        if any(ctx != ctx_enc or not cont for ctx, cont in pairs):
            continue
        if len(ctx_enc) + max(len(cont) for _, cont in pairs) > lm.max_length:
            continue  # lm-eval truncates from the left: its own path handles that
        plans.append(Plan(indexes, ctx_enc, [cont for _, cont in pairs]))
    return plans


def answer_shared_contexts(lm: Any, model: Any, requests: Sequence[tuple[str, str]],
                           batch_size: int) -> dict[int, float]:
    """{request index: log-likelihood} for every request these passes can answer."""
    if not requests or not supports_logits_to_keep(model):
        return {}
    plans = plan_groups(lm, requests)
    if all(len(c) == 1 for p in plans for c in p.continuations):
        return score_one_pass(plans, model, batch_size)
    # one kind of pass for the whole call: the shared-context pass also scores any
    # single-token groups, so each batch holds the same contexts whatever their choices
    return score_shared_context(plans, model, batch_size)


def score_one_pass(plans: list[Plan], model: Any, batch_size: int) -> dict[int, float]:
    """Single-token continuations from one forward pass per context (last position only)."""
    import torch
    import torch.nn.functional as F

    order = sorted(range(len(plans)), key=lambda i: (
        -(len(plans[i].context) + 1), tuple(plans[i].context) + (plans[i].continuations[0][0],)))
    answers: dict[int, float] = {}
    device = next(model.parameters()).device
    for start in range(0, len(order), batch_size):
        batch = [plans[i] for i in order[start:start + batch_size]]
        lengths = [len(p.context) for p in batch]
        ids = torch.zeros((len(batch), max(lengths)), dtype=torch.long)
        for row, plan in enumerate(batch):
            ids[row, : lengths[row]] = torch.tensor(plan.context)
        keep = sorted({n - 1 for n in lengths})
        with torch.no_grad():
            logits = model(ids.to(device), logits_to_keep=torch.tensor(keep, device=device)).logits
        # in float32, as the shared-context pass does: a bfloat16 log-probability near -5
        # is a multiple of 1/32, and choices that close would tie on rounding alone
        logprobs = F.log_softmax(logits.float(), dim=-1)  # [batch, len(keep), vocab]
        for row, plan in enumerate(batch):
            position = keep.index(lengths[row] - 1)
            tokens = [cont[0] for cont in plan.continuations]
            values = logprobs[row, position, tokens].tolist()
            answers.update(zip(plan.indexes, (float(v) for v in values), strict=True))
    return answers


def score_shared_context(plans: list[Plan], model: Any, batch_size: int) -> dict[int, float]:
    """Multi-token continuations with each context run once per batch; a batch whose
    key/value cache cannot be repeated is left unanswered."""
    answers: dict[int, float] = {}
    device = next(model.parameters()).device
    by_count: dict[int, list[Plan]] = {}  # one cache repeat factor per batch
    for plan in plans:
        by_count.setdefault(len(plan.continuations), []).append(plan)
    for n_cont, members in by_count.items():
        for start in range(0, len(members), batch_size):
            batch = members[start:start + batch_size]
            scores = _score_batch(batch, n_cont, model, device)
            if scores is None:
                continue
            for plan, values in zip(batch, scores, strict=True):
                answers.update(zip(plan.indexes, values, strict=True))
    return answers


def _score_batch(plans: list[Plan], n_cont: int, model: Any, device: Any
                 ) -> list[list[float]] | None:
    """Summed continuation log-likelihoods for a batch of plans; None when the model's
    key/value cache cannot be repeated across the continuations."""
    import torch
    import torch.nn.functional as F

    lengths = [len(p.context) for p in plans]
    width = max(lengths)
    ids = torch.zeros((len(plans), width), dtype=torch.long)
    mask = torch.zeros((len(plans), width), dtype=torch.long)
    for row, plan in enumerate(plans):  # left padding: every context ends at `width`
        ids[row, width - len(plan.context):] = torch.tensor(plan.context)
        mask[row, width - len(plan.context):] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    # the last position by index, not `logits_to_keep=1`: that slices a non-contiguous view,
    # and torch's matmul then copies the vocabulary projection once per row (8 x 49152 x
    # 576 values for a batch of 8 on the default model, 8-15% of the pass)
    last = torch.tensor([width - 1], device=device)
    with torch.no_grad():
        first = model(ids.to(device), attention_mask=mask.to(device),
                      position_ids=positions.to(device), use_cache=True, logits_to_keep=last)
        first_logprobs = F.log_softmax(first.logits[:, -1].float(), dim=-1)
        scores = [[float(first_logprobs[row, cont[0]]) for cont in plan.continuations]
                  for row, plan in enumerate(plans)]
        longest = max(len(cont) for plan in plans for cont in plan.continuations)
        if longest == 1:
            return scores
        cache = first.cache if _cache_keyword(model) == "cache" else first.past_key_values
        if not hasattr(cache, "batch_repeat_interleave"):
            return None
        cache.batch_repeat_interleave(n_cont)
        rows = len(plans) * n_cont
        rest_ids = torch.zeros((rows, longest - 1), dtype=torch.long)
        rest_positions = torch.zeros((rows, longest - 1), dtype=torch.long)
        for index, plan in enumerate(plans):
            for choice, cont in enumerate(plan.continuations):
                row = index * n_cont + choice
                rest_ids[row, : len(cont) - 1] = torch.tensor(cont[:-1])  # right padding
                rest_positions[row] = len(plan.context) + torch.arange(longest - 1)
        rest_mask = torch.cat([mask.repeat_interleave(n_cont, dim=0),
                               torch.ones((rows, longest - 1), dtype=torch.long)], dim=1)
        rest = model(rest_ids.to(device), attention_mask=rest_mask.to(device),
                     position_ids=rest_positions.to(device), use_cache=False,
                     **{_cache_keyword(model): cache})
        logprobs = F.log_softmax(rest.logits.float(), dim=-1)
        for index, plan in enumerate(plans):
            for choice, cont in enumerate(plan.continuations):
                row = index * n_cont + choice
                for position, token in enumerate(cont[1:]):
                    scores[index][choice] += float(logprobs[row, position, token])
    return scores


def _cache_keyword(model: Any) -> str:
    """The forward argument that takes a key/value cache: `cache` in the transformers that
    renamed `past_key_values` (which there still works, with a deprecation warning)."""
    return "cache" if "cache" in _forward_parameters(model) else "past_key_values"
