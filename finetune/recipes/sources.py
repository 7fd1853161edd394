"""The rows the recipes read besides the main training rows: a field of each main row
(its task or curriculum level), the mixture's other sources, and the general text of the
forgetting regularisers. Read with the training reader, so every bad row is named by
file and row as the main data's are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from finetune.datasets import _examples, _open_source, _source_label
from finetune.formatting import Example
from harness.core.config import MedgateConfig
from harness.core.errors import BadInputError

DEMO_GENERAL = Path(__file__).resolve().parents[1] / "data" / "demo_general_text.jsonl"


def row_field(config: MedgateConfig, field: str, key: str) -> dict[int, Any]:
    """Row number -> the value of `field` in the main training data (`key` names the
    config key asking for it, for the error a missing value gets)."""
    dc = config.dataset
    ds, info = _open_source(dc.name, dc.format, dc.config_name, dc.split, config.hf_token())
    where = _source_label(info)
    if field not in ds.column_names:
        raise BadInputError(f"{key}: the training data has no column '{field}' "
                            f"(columns: {sorted(ds.column_names)})", where=where)
    values: dict[int, Any] = {}
    for index, value in enumerate(ds[field]):
        if dc.max_samples and index >= dc.max_samples:
            break
        if value is None or (isinstance(value, str) and not value.strip()):
            raise BadInputError(f"field '{field}' ({key}) is missing or empty",
                                where=f"{where}: row {index + 1}")
        values[index + 1] = value
    return values


def read_source(config: MedgateConfig, name: str, split: str = "train") -> tuple[list[Example], dict[str, Any]]:
    """Every row of another training input (a mixture source or the general text)."""
    if name == "demo-general":
        name = str(DEMO_GENERAL)
    ds, info = _open_source(name, "auto", None, split, config.hf_token())
    examples, fmt = _examples(ds, _source_label(info), system_prompt=config.dataset.system_prompt,
                              prompt_field=config.dataset.prompt_field)
    if name == str(DEMO_GENERAL):
        info = {**info, "source": "demo-general", "demo": True}
    return examples, {**info, "format": fmt, "rows_read": len(examples)}


def general_source(config: MedgateConfig) -> str:
    """The general text of the regularisers: `demo` is the bundled demo file."""
    name = config.recipes.regularisers.general_data
    return "demo-general" if name == "demo" else name
