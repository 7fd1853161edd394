"""Keep tokens out of every message, log line and file a run writes.

Secrets come from the config (`model.hf_token`) or the environment. `redact` replaces any
of their values, and anything shaped like a Hugging Face or OpenAI token, with ***.
"""

from __future__ import annotations

import os
import re

# Environment variables whose values are secrets wherever they turn up. Kept here, not in
# the config module, so that redacting an error message never loads pydantic (the CLI's
# error path and `medgate --help` stay light).
SECRET_ENV_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "OPENAI_API_KEY", "MEDGATE_JUDGE_API_KEY")
_TOKEN_SHAPES = re.compile(r"\b(hf_[A-Za-z0-9]{20,}|sk-[A-Za-z0-9_-]{20,})\b")
_registered: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret so that `redact` removes it wherever it appears."""
    if value and len(value) >= 6:
        _registered.add(value)


def known_secrets() -> set[str]:
    found = set(_registered)
    for name in SECRET_ENV_VARS:
        value = os.environ.get(name)
        if value and len(value) >= 6:
            found.add(value)
    return found


def redact(text: str) -> str:
    for secret in sorted(known_secrets(), key=len, reverse=True):
        text = text.replace(secret, "***")
    return _TOKEN_SHAPES.sub("***", text)
