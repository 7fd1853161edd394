"""The vLLM backend (optional extra `medgate[vllm]`): lm-eval's VLLM model, LoRA included.

vllm is imported only when this backend is asked for, so the default install never needs
it, and asking for it without it installed is a clear bad-input error, not a traceback.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from harness.core.backends import lmeval_bridge as bridge
from harness.core.backends.base import GenerationSettings, ModelHandle
from harness.core.errors import BadInputError


def require_vllm() -> None:
    if importlib.util.find_spec("vllm") is None:
        raise BadInputError("--backend vllm needs the vllm package, which is not installed "
                            "(pip install 'medgate[vllm]' on a machine with a GPU); "
                            "use --backend hf otherwise")


class VLLMHandle(ModelHandle):
    """lm-eval's VLLM answers every request; `dtype` "auto" is the model config's dtype,
    which the weight fingerprint already pins."""

    backend = "vllm"

    def lm(self) -> Any:
        if self._lm is None:
            require_vllm()
            bridge.quiet_lmeval()
            from lm_eval.models.vllm_causallms import VLLM

            pretrained = self.spec.source
            kwargs: dict[str, Any] = {}
            if self.spec.gguf_file:  # vLLM reads a GGUF file path, tokenizer from its folder
                pretrained = f"{self.spec.source}/{self.spec.gguf_file}"
                kwargs["tokenizer"] = self.spec.source
            if self.adapter is not None:
                kwargs["lora_local_path"] = str(self.adapter)
                kwargs["max_lora_rank"] = _adapter_rank(self.adapter)
            self._lm = VLLM(pretrained=pretrained, dtype=self.dtype, revision=self.spec.revision,
                            batch_size=self.batch_size, **kwargs)
            self.stats["loads"] += 1
        return self._lm

    def _generate(self, prompts: list[str], settings: GenerationSettings) -> list[str]:
        if settings.chat_template and self.tokenizer.chat_template:
            prompts = [self.apply_chat_template([{"role": "user", "content": p}])
                       for p in prompts]
        outputs = bridge.generate_until(self.lm(), prompts, settings.max_new_tokens)
        return [o.strip() for o in outputs]


def _adapter_rank(adapter: Path) -> int:
    config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    rank = int(config.get("r", 16))
    return next(r for r in (8, 16, 32, 64, 128, 256, 512) if r >= rank)
