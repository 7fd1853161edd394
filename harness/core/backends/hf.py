"""The transformers backend (default): a PreTrainedModel handed to lm-eval's HFLM.

Log-likelihoods are lm-eval's `HFLM.loglikelihood`, unless the handle's `fast_path` is
on: then requests that share a context are answered by this backend's own forward
passes (harness.core.backends.hf_fast), proven equal to lm-eval's, and only the requests
that do not fit those passes go to HFLM.

On a CPU, log-likelihoods are computed with eager attention. In bfloat16, torch's fused
CPU attention (sdpa) gives a prompt different values depending on how far its batch is
padded (up to 0.54 in a log-probability of the default model, on 21 of 100 MedQA prompts:
`python -m bench.batch_invariance`), so an item's answer, and a borderline check, would
depend on which other items shared its batch: a sequential gate's blocks, `--exhaustive`,
a `--limit`, a batch size. Eager attention gives every item the same answer in any batch,
bit for bit, at the same speed. (In float32 both differ between batches by at most 4e-5.)
Generation keeps the model's default: with left padding neither implementation is
batch-invariant, and on a GPU the matrix kernels themselves depend on the batch's shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from harness.core.backends import lmeval_bridge as bridge
from harness.core.backends.base import GenerationSettings, LoglikelihoodRequest, ModelHandle
from harness.core.backends.hf_fast import answer_shared_contexts, supports_logits_to_keep
from harness.core.models import dtype_name, load_model


class HFHandle(ModelHandle):
    backend = "hf"

    @property
    def resolved_dtype(self) -> str:
        return dtype_name(self.dtype)

    @property
    def scoring_attention(self) -> str:
        """The attention implementation log-likelihoods are computed with ("default": the
        model's own choice)."""
        return "eager" if self.device == "cpu" else "default"

    @property
    def identity(self) -> list[str]:
        # the rule, not the device it resolved to: naming the device would import torch in
        # a fully cached re-run, which loads nothing else (answers computed before the rule
        # differ from its answers, so they are not reused)
        return [*super().identity, "loglikelihood-attention:eager-on-cpu"]

    def context_length(self, context: str) -> int:
        # tokens, not characters: batches of 100 MedQA prompts sorted by characters were
        # padded to 11448 tokens, sorted by tokens to 10388 (10187 without padding)
        return len(self.tokenizer(context, add_special_tokens=False)["input_ids"])

    @property
    def model(self):
        """The transformers model (with its adapter), loaded on first access."""
        if self._model is None:
            import torch

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
            bridge.quiet_lmeval()
            from lm_eval.models.huggingface import HFLM

            self._lm = HFLM(pretrained=self.model, tokenizer=self.tokenizer,
                            batch_size=self.batch_size)
        return self._lm

    def _loglikelihood(self, requests: list[LoglikelihoodRequest]) -> list[float]:
        answers: dict[int, float] = {}
        with attention(self.model, self.scoring_attention):
            if self.fast_path:
                answers = answer_shared_contexts(self.lm(), self.model, requests,
                                                 self.batch_size)
                self.stats["fast_path_requests"] = (self.stats.get("fast_path_requests", 0)
                                                    + len(answers))
            rest = [i for i in range(len(requests)) if i not in answers]
            if rest:  # lm-eval itself answers whatever the fast path does not fit
                values = bridge.loglikelihood(self.lm(), [requests[i] for i in rest])
                answers.update(zip(rest, values, strict=True))
        return [answers[i] for i in range(len(requests))]

    def _loglikelihood_rolling(self, texts: list[str]) -> list[tuple[float, int]]:
        with attention(self.model, self.scoring_attention):
            return bridge.loglikelihood_rolling(self.lm(), texts)

    def _generate(self, prompts: list[str], settings: GenerationSettings) -> list[str]:
        import torch

        tok = self.tokenizer
        model = self.model
        texts = [self._chat(p) if settings.chat_template and tok.chat_template else p
                 for p in prompts]
        outputs: list[str] = []
        last_position = last_position_kwargs(model)
        side = tok.padding_side
        tok.padding_side = "left"  # decoder-only: pad on the left so generation continues text
        try:
            step = self.generation_batch_size
            for start in range(0, len(texts), step):
                batch = tok(texts[start:start + step], return_tensors="pt",
                            padding=True, add_special_tokens=False).to(model.device)
                with torch.no_grad():
                    gen = model.generate(**batch, max_new_tokens=settings.max_new_tokens,
                                         do_sample=False, pad_token_id=tok.pad_token_id,
                                         **last_position)
                new = gen[:, batch["input_ids"].shape[1]:]
                outputs.extend(tok.batch_decode(new, skip_special_tokens=True))
        finally:
            tok.padding_side = side
        return [o.strip() for o in outputs]

    def _chat(self, prompt: str) -> str:
        return self.apply_chat_template([{"role": "user", "content": prompt}])


def last_position_kwargs(model: Any) -> dict[str, Any]:
    """`generate`'s keyword that asks for the last position's logits by index.

    transformers' own `logits_to_keep=1` slices the hidden states into a non-contiguous
    view; when the output projection's weight is frozen (every weight of a PEFT model),
    torch's matmul does not fold that view into one matrix product but broadcasts the
    weight over the batch, copying the vocabulary projection once per row. On the default
    model with a LoRA adapter that is 0.46 GB and 0.5 to 0.9 s more for each batch's
    first step. An index tensor gathers the rows into a contiguous tensor instead; the
    tokens generated are the same. Models whose forward takes no `logits_to_keep` get
    nothing."""
    import torch

    if not supports_logits_to_keep(model):
        return {}
    return {"logits_to_keep": torch.tensor([-1], device=model.device)}


@contextmanager
def attention(model: Any, implementation: str) -> Iterator[None]:
    """Compute with `implementation` inside the block ("default": leave the model's)."""
    if implementation == "default":
        yield
        return
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    before = base.config._attn_implementation
    base.set_attn_implementation(implementation)
    try:
        yield
    finally:
        base.set_attn_implementation(before)
