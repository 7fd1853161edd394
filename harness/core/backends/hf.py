"""The transformers backend (default): a PreTrainedModel handed to lm-eval's HFLM."""

from __future__ import annotations

from typing import Any

from harness.core.backends.base import ModelHandle


class HFHandle(ModelHandle):
    backend = "hf"

    @property
    def model(self):
        """The transformers model (with its adapter), loaded on first access."""
        if self._model is None:
            import torch

            from harness.core.models import load_model

            model = load_model(self.spec, adapter=self.adapter, dtype=self.dtype,
                               token=self._token)
            if torch.cuda.is_available():
                model = model.to("cuda")

            def count(_module, _args):
                self.stats["forward_calls"] += 1

            model.register_forward_pre_hook(count)
            self._model = model
            self.stats["loads"] += 1
        return self._model

    def lm(self) -> Any:
        if self._lm is None:
            from harness.core.backends.lmeval_bridge import quiet_lmeval

            quiet_lmeval()
            from lm_eval.models.huggingface import HFLM

            self._lm = HFLM(pretrained=self.model, tokenizer=self.tokenizer,
                            batch_size=self.batch_size)
        return self._lm

    def _fast_score(self, items, fmt):
        if fmt.cloze:
            scored = score_shared_context(self.lm(), self.model, items, fmt, self.batch_size)
        else:
            scored = score_one_pass(self.lm(), self.model, items, fmt, self.batch_size)
        if scored is not None:
            self.stats["fast_path_items"] = self.stats.get("fast_path_items", 0) + len(items)
        return scored

    def _generate(self, prompts: list[str], max_new_tokens: int, chat: bool) -> list[str]:
        import torch

        tok = self.tokenizer
        model = self.model
        texts = [self._as_chat(p) if chat and tok.chat_template else p for p in prompts]
        outputs: list[str] = []
        side = tok.padding_side
        tok.padding_side = "left"  # decoder-only: pad on the left so generation continues text
        try:
            step = self.generation_batch_size
            for start in range(0, len(texts), step):
                batch = tok(texts[start:start + step], return_tensors="pt",
                            padding=True, add_special_tokens=False).to(model.device)
                with torch.no_grad():
                    gen = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                         pad_token_id=tok.pad_token_id)
                new = gen[:, batch["input_ids"].shape[1]:]
                outputs.extend(tok.batch_decode(new, skip_special_tokens=True))
        finally:
            tok.padding_side = side
        return [o.strip() for o in outputs]

    def _as_chat(self, prompt: str) -> str:
        return self.tokenizer.apply_chat_template([{"role": "user", "content": prompt}],
                                                  tokenize=False, add_generation_prompt=True)


def _supports_logits_to_keep(model) -> bool:
    import inspect

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "logits_to_keep" in inspect.signature(base.forward).parameters


def _plan_items(lm, items, fmt) -> list[tuple[str, list[int], list[list[int]]]] | None:
    """(prompt, prompt ids, ids of each choice) per item, with lm-eval's own tokenisation
    (`_encode_pair`); None when a choice splits the prompt's tokens differently or a
    sequence exceeds the model's window, which only lm-eval itself then handles."""
    from harness.core.backends.lmeval_bridge import render

    plans = []
    for item in items:
        context = render(item, fmt)
        pairs = [lm._encode_pair(context, " " + choice) for choice in fmt.continuations(item)]
        ctx_enc = pairs[0][0]
        if any(ctx != ctx_enc or not cont for ctx, cont in pairs):
            return None
        if len(ctx_enc) + max(len(cont) for _, cont in pairs) > lm.max_length:
            return None
        plans.append((context, ctx_enc, [cont for _, cont in pairs]))
    return plans


def score_one_pass(lm, model, items, fmt, batch_size: int):
    """Single-token choices scored from one forward pass per item, as lm-eval scores them.

    lm-eval already runs one forward pass per context when every continuation is a single
    token, but computes the vocabulary projection and log-softmax at every position. Here
    only the last position of each prompt is projected (`logits_to_keep`), with lm-eval's
    own tokenisation (`_encode_pair`), its length-descending batches and its right padding
    without an attention mask, so the per-item log-likelihoods are lm-eval's. Returns None
    when any item does not fit this shape (multi-token choice, prompt longer than the
    model's window, model without `logits_to_keep`): the caller then uses lm-eval itself.
    """
    import torch
    import torch.nn.functional as F

    from harness.core.backends.lmeval_bridge import Scored

    if not _supports_logits_to_keep(model):
        return None
    planned = _plan_items(lm, items, fmt)
    if planned is None or any(len(cont) != 1 for _, _, conts in planned for cont in conts):
        return None
    plans = [(context, ctx_enc, [cont[0] for cont in conts]) for context, ctx_enc, conts in planned]
    order = sorted(range(len(plans)), key=lambda i: (-(len(plans[i][1]) + 1),
                                                     tuple(plans[i][1]) + (plans[i][2][0],)))
    results: dict[int, Scored] = {}
    device = next(model.parameters()).device
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        lengths = [len(plans[i][1]) for i in batch]
        width = max(lengths)
        ids = torch.zeros((len(batch), width), dtype=torch.long)
        for row, i in enumerate(batch):
            ids[row, : lengths[row]] = torch.tensor(plans[i][1])
        keep = sorted({n - 1 for n in lengths})
        with torch.no_grad():
            logits = model(ids.to(device), logits_to_keep=torch.tensor(keep, device=device)).logits
        logprobs = F.log_softmax(logits, dim=-1)  # [batch, len(keep), vocab]
        for row, i in enumerate(batch):
            position = keep.index(lengths[row] - 1)
            values = logprobs[row, position, plans[i][2]].tolist()
            results[i] = Scored(prompt=plans[i][0], logprobs=[float(v) for v in values])
    return [results[i] for i in range(len(plans))]


def score_shared_context(lm, model, items, fmt, batch_size: int = 8):
    """Multi-token choices scored with each prompt run once, as lm-eval scores them.

    lm-eval runs every (prompt + choice) sequence in full, so a four-option cloze item
    costs four passes over its prompt. Here a batch of prompts runs once (left-padded,
    with an attention mask and explicit positions), its key/value cache is repeated once
    per choice, and all the choices run together in a second pass. Tokenisation is
    lm-eval's `_encode_pair`, so each choice's summed log-likelihood is lm-eval's to float
    tolerance (tested against lm-eval itself). Returns None when an item does not fit this
    shape (the choices split the prompt's tokens differently, or a sequence exceeds the
    model's window): lm-eval then scores the items.
    """
    from harness.core.backends.lmeval_bridge import Scored

    if not _supports_logits_to_keep(model):
        return None
    plans = _plan_items(lm, items, fmt)
    if plans is None:
        return None
    device = next(model.parameters()).device
    results: dict[int, Scored] = {}
    # one cache repeat factor per batch: group the items by their number of choices
    groups: dict[int, list[int]] = {}
    for index, (_, _, conts) in enumerate(plans):
        groups.setdefault(len(conts), []).append(index)
    for n_choices, members in groups.items():
        for start in range(0, len(members), batch_size):
            batch = members[start:start + batch_size]
            scores = _score_batch([plans[i] for i in batch], n_choices, model, device)
            if scores is None:
                return None
            for i, values in zip(batch, scores, strict=True):
                results[i] = Scored(prompt=plans[i][0], logprobs=values)
    return [results[i] for i in range(len(plans))]


def _score_batch(plans, n_choices: int, model, device) -> list[list[float]] | None:
    """Summed choice log-likelihoods for a batch of (prompt, prompt ids, choice ids) plans;
    None when the model's key/value cache cannot be repeated across the choices."""
    import torch
    import torch.nn.functional as F

    lengths = [len(ctx) for _, ctx, _ in plans]
    width = max(lengths)
    ids = torch.zeros((len(plans), width), dtype=torch.long)
    mask = torch.zeros((len(plans), width), dtype=torch.long)
    for row, (_, ctx, _) in enumerate(plans):  # left padding: every prompt ends at `width`
        ids[row, width - len(ctx):] = torch.tensor(ctx)
        mask[row, width - len(ctx):] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        first = model(ids.to(device), attention_mask=mask.to(device),
                      position_ids=positions.to(device), use_cache=True, logits_to_keep=1)
        first_logprobs = F.log_softmax(first.logits[:, -1].float(), dim=-1)
        scores = [[float(first_logprobs[row, cont[0]]) for cont in conts]
                  for row, (_, _, conts) in enumerate(plans)]
        longest = max(len(cont) for _, _, conts in plans for cont in conts)
        if longest == 1:
            return scores
        cache = first.past_key_values
        if not hasattr(cache, "batch_repeat_interleave"):
            return None
        cache.batch_repeat_interleave(n_choices)
        rows = len(plans) * n_choices
        rest_ids = torch.zeros((rows, longest - 1), dtype=torch.long)
        rest_positions = torch.zeros((rows, longest - 1), dtype=torch.long)
        for index, (_, ctx, conts) in enumerate(plans):
            for choice, cont in enumerate(conts):
                row = index * n_choices + choice
                rest_ids[row, : len(cont) - 1] = torch.tensor(cont[:-1])  # right padding
                rest_positions[row] = len(ctx) + torch.arange(longest - 1)
        rest_mask = torch.cat([mask.repeat_interleave(n_choices, dim=0),
                               torch.ones((rows, longest - 1), dtype=torch.long)], dim=1)
        rest = model(rest_ids.to(device), attention_mask=rest_mask.to(device),
                     position_ids=rest_positions.to(device), past_key_values=cache, use_cache=False)
        logprobs = F.log_softmax(rest.logits.float(), dim=-1)
        for index, (_, _, conts) in enumerate(plans):
            for choice, cont in enumerate(conts):
                row = index * n_choices + choice
                for position, token in enumerate(cont[1:]):
                    scores[index][choice] += float(logprobs[row, position, token])
    return scores
