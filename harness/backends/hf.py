"""The transformers backend (default): a PreTrainedModel handed to lm-eval's HFLM."""

from __future__ import annotations

from typing import Any

from harness.backends.base import ModelHandle


class HFHandle(ModelHandle):
    backend = "hf"

    @property
    def model(self):
        """The transformers model (with its adapter), loaded on first access."""
        if self._model is None:
            import torch

            from harness.models import load_model

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
            from harness.backends.lmeval_bridge import quiet_lmeval

            quiet_lmeval()
            from lm_eval.models.huggingface import HFLM

            self._lm = HFLM(pretrained=self.model, tokenizer=self.tokenizer,
                            batch_size=self.batch_size)
        return self._lm

    def _fast_score(self, items, fmt):
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
            for start in range(0, len(texts), self.batch_size):
                batch = tok(texts[start:start + self.batch_size], return_tensors="pt",
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

    from harness.backends.lmeval_bridge import Scored, render

    if not _supports_logits_to_keep(model):
        return None
    plans = []
    for item in items:
        context = render(item, fmt)
        pairs = [lm._encode_pair(context, " " + label) for label in fmt.labels(item)]
        ctx_enc = pairs[0][0]
        if any(len(cont) != 1 or ctx != ctx_enc for ctx, cont in pairs):
            return None
        if len(ctx_enc) + 1 > lm.max_length:
            return None
        plans.append((context, ctx_enc, [cont[0] for _, cont in pairs]))
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
