"""The one record type: a per-item result.

Suites write records, gates read them (paired statistics need per-item data, not
averages), reports render them. Nothing downstream re-runs a model, so a record must
hold everything a reviewer or a statistic needs about one scored prompt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.core.atomic import write_jsonl
from harness.core.errors import BadInputError

CLEAN = "clean"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Record(BaseModel):
    """One scored prompt. `variant` is `clean` or the name of a perturbation."""

    model_config = ConfigDict(extra="forbid")

    suite: str
    item_id: str
    variant: str = CLEAN
    prompt: str
    prompt_sha256: str = ""
    gold: Any = None
    pred: Any = None
    correct: bool | None = None
    choices: list[str] | None = None
    choice_logprobs: list[float] | None = None
    output: str | None = None
    labels: dict[str, Any] | None = None
    critical: bool | None = None
    demo: bool = False
    meta: dict[str, Any] = Field(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        if not self.prompt_sha256:
            self.prompt_sha256 = sha256_text(self.prompt)

    @property
    def key(self) -> tuple[str, str]:
        """Pairs a record with its counterpart in another model's run."""
        return (self.item_id, self.variant)


def records_path(eval_dir: str | Path, suite: str) -> Path:
    return Path(eval_dir) / f"{suite}.records.jsonl"


def write_records(path: str | Path, records: Iterable[Record]) -> Path:
    return write_jsonl(path, (r.model_dump(mode="json") for r in records))


def iter_records(path: str | Path) -> Iterator[Record]:
    """Read a records file, naming file and line on any malformed row."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError as exc:
        raise BadInputError("records file not found", where=str(path)) from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield Record.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as exc:
                first = str(exc).splitlines()[0]
                raise BadInputError(f"malformed record: {first}", where=f"{path}:{number}") from exc


def read_records(path: str | Path) -> list[Record]:
    return list(iter_records(path))
