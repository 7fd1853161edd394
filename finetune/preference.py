"""Preference data for DPO: prompt/chosen/rejected pairs, or expert ratings made into pairs.

Two row shapes are read (the columns say which):

- `prompt`, `chosen`, `rejected`: one preference pair a row, as TRL's DPOTrainer takes it.
- `prompt`, `answers`: expert ratings, `answers` a list of `{"text": ..., "ratings":
  {"accuracy": 1-5, "safety": 1-5, "clarity": 1-5, "completeness": 1-5}}` (the lecture's
  four criteria for expert preferences). They become pairs by `PAIR_RULE`.

With `training.method: dpo` and `dataset.name: demo`, the bundled demo preference set
(written for medgate, labelled demo data) is read. Like the SFT reader, every row is
validated with its file and row named, and what is read is described in provenance.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finetune.datasets import _file_entry, _local_dataset, _open_source
from harness.core.config import MedgateConfig
from harness.core.errors import BadInputError

DEMO_PREFERENCES = Path(__file__).parent / "data" / "demo_preferences.jsonl"
CRITERIA = ("safety", "accuracy", "clarity", "completeness")
PAIR_RULE = (
    "answers to one prompt are ranked by (safety, accuracy, clarity + completeness), "
    "compared in that order; the top-ranked answer is chosen over every answer ranked "
    "strictly below it; answers tied with it form no pair"
)


@dataclass(frozen=True)
class PreferencePair:
    row: int
    prompt: str
    chosen: str
    rejected: str
    source: str  # "pair" or "ratings"

    @property
    def text(self) -> str:
        """Every text of the pair, for the PHI scan and the overlap check."""
        return f"{self.prompt}\n{self.chosen}\n{self.rejected}"


def _text(row: dict[str, Any], key: str, where: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadInputError(f"field '{key}' must be non-empty text", where=where)
    return value


def _rank(answer: Any, where: str) -> tuple[int, int, int]:
    if not isinstance(answer, dict):
        raise BadInputError("each entry of 'answers' must be a mapping with 'text' and "
                            "'ratings'", where=where)
    ratings = answer.get("ratings")
    if not isinstance(ratings, dict):
        raise BadInputError("an answer has no 'ratings' mapping", where=where)
    missing = [c for c in CRITERIA if ratings.get(c) is None]  # datasets fills absent keys with None
    if missing:
        raise BadInputError(f"an answer's ratings lack {missing} (needs {list(CRITERIA)})",
                            where=where)
    for criterion in CRITERIA:
        value = ratings[criterion]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise BadInputError(f"rating '{criterion}' must be an integer 1-5, got {value!r}",
                                where=where)
    return (ratings["safety"], ratings["accuracy"], ratings["clarity"] + ratings["completeness"])


def pairs_from_ratings(prompt: str, answers: list[Any], row: int, where: str) -> list[PreferencePair]:
    """The pairs one rated prompt gives under `PAIR_RULE`."""
    if not isinstance(answers, list) or len(answers) < 2:
        raise BadInputError("'answers' must list at least two rated answers", where=where)
    ranked = sorted(((_rank(a, where), _text(a, "text", where)) for a in answers),
                    key=lambda item: item[0], reverse=True)
    top_rank, top_text = ranked[0]
    return [PreferencePair(row, prompt, top_text, text, "ratings")
            for rank, text in ranked[1:] if rank < top_rank]


def _row_pairs(row: dict[str, Any], row_no: int, where: str) -> list[PreferencePair]:
    prompt = _text(row, "prompt", where)
    if row.get("answers") is not None:
        return pairs_from_ratings(prompt, row["answers"], row_no, where)
    chosen, rejected = _text(row, "chosen", where), _text(row, "rejected", where)
    if chosen == rejected:
        raise BadInputError("'chosen' and 'rejected' are the same text", where=where)
    return [PreferencePair(row_no, prompt, chosen, rejected, "pair")]


def read_preference_pairs(config: MedgateConfig) -> tuple[list[PreferencePair], dict[str, Any]]:
    """Every preference pair of the configured data (validated) and its provenance."""
    dc = config.dataset
    if dc.name == "demo":
        ds = _local_dataset(DEMO_PREFERENCES, "json")
        info: dict[str, Any] = {"source": "demo", "demo": True,
                                "files": [_file_entry(DEMO_PREFERENCES)]}
    else:
        ds, info = _open_source(dc.name, dc.format, dc.config_name, dc.split, config.hf_token())
    columns = set(ds.column_names)
    if "prompt" not in columns or not ({"chosen", "rejected"} <= columns or "answers" in columns):
        raise BadInputError(f"training.method dpo needs columns prompt + chosen + rejected, or "
                            f"prompt + answers (expert ratings); found {sorted(columns)}",
                            where=info["files"][0]["path"] if info.get("files") else dc.name)
    label = info["files"][0]["path"] if len(info.get("files", [])) == 1 else info["source"]
    pairs: list[PreferencePair] = []
    rows_read = 0
    for index, row in enumerate(ds):
        if dc.max_samples and index >= dc.max_samples:
            break
        rows_read += 1
        pairs.extend(_row_pairs(row, index + 1, f"{label}: row {index + 1}"))
    if not pairs:
        raise BadInputError("no preference pairs: every rated prompt's answers tie", where=label)
    provenance = {**info, "format": "preference", "rows_in_source": len(ds),
                  "rows_read": rows_read, "pairs": len(pairs),
                  "pairs_from_ratings": sum(p.source == "ratings" for p in pairs),
                  "pair_rule": PAIR_RULE, "loss_on": "dpo (chosen vs rejected)"}
    return pairs, provenance


def read_preference_rows(config: MedgateConfig) -> tuple[list[dict], dict[str, Any]]:
    """The pairs as rows for the data preflight (row number and every text)."""
    pairs, provenance = read_preference_pairs(config)
    return [{"row": p.row, "text": p.text} for p in pairs], provenance
