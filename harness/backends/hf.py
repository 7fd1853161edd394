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
