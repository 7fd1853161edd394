"""Release versions and backward compatibility between two released models.

A user of a released model depends on the way it is prompted: the evaluation prompt
formats, the chat template and the tokenizer. When any of them changes, prompts written
for the previous release give different requests, so the new release is not backward
compatible and must bump the major version. This is detected from what the run recorded
(its evaluation summaries, its records' prompt hashes and the tokenizer files promoted
with the model), never asked of the person releasing.

Versions are semantic versions (https://semver.org). The grammar is the one regular
expression semver.org publishes; no package is taken in for one regex and one ordering.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import BadInputError
from harness.core.io import file_sha256
from harness.core.records import read_records
from harness.core.rundir import RunDir
from harness.core.summaries import read_summaries

_SEMVER = re.compile(
    r"^(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$")

# Files that decide how text becomes token ids; the chat template is compared on its own.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "vocab.txt", "merges.txt",
                   "added_tokens.json", "special_tokens_map.json")


@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    pre: tuple[str, ...] = ()
    text: str = ""

    def key(self) -> tuple[Any, ...]:
        """semver precedence: a pre-release sorts before its release; numeric identifiers
        numerically and before alphanumeric ones; build metadata is ignored."""
        pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre)
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)

    def __str__(self) -> str:
        return self.text


def parse_version(text: str, *, where: str = "--version") -> Version:
    match = _SEMVER.match(text.strip())
    if not match:
        raise BadInputError(f"'{text}' is not a semantic version (MAJOR.MINOR.PATCH, e.g. "
                            "1.1.0)", where=where)
    pre = tuple(match["pre"].split(".")) if match["pre"] else ()
    return Version(int(match["major"]), int(match["minor"]), int(match["patch"]), pre,
                   text.strip())


def _sha_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _model_folder(run: RunDir) -> Path | None:
    """Where the promoted model's tokenizer files are: merged weights, else the adapter."""
    for name in ("merged", "adapter"):
        folder = run.promoted_dir / name
        if folder.is_dir():
            return folder
    return None


def _chat_template(folder: Path) -> str | None:
    """The chat template text as transformers saves it (a .jinja file, chat_template.json
    or the tokenizer_config.json key), whichever the folder holds."""
    jinja = folder / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    for name, key in (("chat_template.json", "chat_template"),
                      ("tokenizer_config.json", "chat_template")):
        path = folder / name
        if not path.is_file():
            continue
        try:
            value = json.loads(path.read_text(encoding="utf-8")).get(key)
        except (json.JSONDecodeError, AttributeError) as exc:
            raise BadInputError(f"not a JSON object ({exc})", where=str(path)) from exc
        if value is not None:
            return json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return None


def interface_of(run: RunDir, tag: str) -> dict[str, Any]:
    """What a user's prompts depend on, for the model `tag` of `run`.

    prompt_formats: per suite, the recorded prompt format, few-shot count and whether the
    chat template was applied; tokenizer_identity: the identity the evaluation recorded
    (vocabulary, rules and chat template together); chat_template_sha256 and
    tokenizer_sha256: hashes of the promoted model's own files (None when absent).
    """
    formats: dict[str, Any] = {}
    identities: set[str] = set()
    for suite, summary in read_summaries(run.eval_dir(tag)).items():
        extra = summary.info.extra
        formats[suite] = {k: extra.get(k) for k in
                          ("prompt_format", "num_fewshot", "apply_chat_template")}
        if extra.get("tokenizer_identity"):
            identities.add(str(extra["tokenizer_identity"]))
    folder = _model_folder(run)
    template = _chat_template(folder) if folder else None
    tokenizer_files = {name: file_sha256(folder / name) for name in TOKENIZER_FILES
                       if folder and (folder / name).is_file()}
    return {
        "prompt_formats": formats,
        "tokenizer_identity": sorted(identities) or None,
        "chat_template_sha256": _sha_text(template) if template is not None else None,
        "tokenizer_sha256": _sha_text(json.dumps(tokenizer_files, sort_keys=True))
        if tokenizer_files else None,
    }


def _changed_prompts(previous: RunDir, prev_tag: str, run: RunDir, tag: str) -> list[str]:
    """Suites whose shared items (same item and variant) were scored with other prompt
    text: the prompt format or the chat template changed what the model is asked."""
    changes = []
    for path in sorted(run.eval_dir(tag).glob("*.records.jsonl")):
        old_path = previous.eval_dir(prev_tag) / path.name
        if not old_path.is_file():
            continue
        old = {r.key: r.prompt_sha256 for r in read_records(old_path)}
        new = {r.key: r.prompt_sha256 for r in read_records(path)}
        differ = [k for k in old.keys() & new.keys() if old[k] != new[k]]
        if differ:
            suite = path.name.removesuffix(".records.jsonl")
            changes.append(f"prompts of suite '{suite}' changed on {len(differ)} of "
                           f"{len(old.keys() & new.keys())} shared items")
    return changes


def compatibility_changes(previous: RunDir, prev_tag: str, prev_interface: dict[str, Any],
                          run: RunDir, tag: str, interface: dict[str, Any]) -> list[str]:
    """Every way the new release breaks prompts written for the previous one."""
    changes = []
    old_formats, new_formats = prev_interface["prompt_formats"], interface["prompt_formats"]
    for suite in sorted(old_formats.keys() & new_formats.keys()):
        if old_formats[suite] != new_formats[suite]:
            changes.append(f"prompt format of suite '{suite}' changed: {old_formats[suite]} "
                           f"-> {new_formats[suite]}")
    for key, what in (("chat_template_sha256", "chat template"),
                      ("tokenizer_sha256", "tokenizer files"),
                      ("tokenizer_identity", "tokenizer identity recorded by the evaluation")):
        old, new = prev_interface.get(key), interface.get(key)
        if old is not None and new is not None and old != new:
            changes.append(f"{what} changed: {_short(old)} -> {_short(new)}")
        elif (old is None) != (new is None) and key == "chat_template_sha256":
            changes.append(f"{what} {'added' if old is None else 'removed'}")
    return changes + _changed_prompts(previous, prev_tag, run, tag)


def _short(value: Any) -> str:
    text = ",".join(value) if isinstance(value, list) else str(value)
    return text[:12]


def check_bump(previous: Version, new: Version, changes: list[str]) -> None:
    """A new release must come after the previous one, and bump the major version when it
    is not backward compatible."""
    if new.key() <= previous.key():
        raise BadInputError(f"version {new} does not come after the latest release "
                            f"{previous}: releases go forward", where="--version")
    if changes and new.major <= previous.major:
        raise BadInputError(
            f"version {new} is not a major bump of {previous}, but the release is not "
            f"backward compatible: {'; '.join(changes)}. Release it as "
            f"{previous.major + 1}.0.0", where="--version")
