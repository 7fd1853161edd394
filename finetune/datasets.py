"""Training data: read through `datasets`, validate every row, tokenize with a masked loss.

`read_training_rows` needs no tokenizer, so the data preflight can check rows, hashes,
PHI and overlap before a model is loaded. `load_training_data` adds tokenization, the
length filter, the validation split and general-data replay, and reports what it kept
and dropped (and why) in `provenance`: nothing a user gave disappears unreported.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finetune.formatting import (
    SAFETY_REQUEST,
    SAFETY_RESPONSE,
    Example,
    detect_format,
    row_to_example,
    tokenize_example,
)
from harness.core.config import MedgateConfig
from harness.core.errors import BadInputError
from harness.core.io import file_sha256_memo
from suites.safety.sources import is_category_file, read_csv, read_folder

DEMO_DATA = Path(__file__).parent / "data" / "demo_medical_instructions.jsonl"
_SUFFIX_FORMATS = {".json": "json", ".jsonl": "json", ".csv": "csv", ".parquet": "parquet",
                   ".arrow": "arrow"}


@dataclass
class TrainingData:
    train: Any  # datasets.Dataset
    validation: Any | None
    provenance: dict[str, Any]
    texts: list[tuple[int, str]] = field(default_factory=list)


# --- reading -------------------------------------------------------------------------------


def _file_entry(path: Path) -> dict[str, str]:
    """A data file in the provenance: its path and sha256 (memoised: hashed once a run)."""
    return {"path": str(path), "sha256": file_sha256_memo(path)}


def _check_jsonl(path: Path) -> None:
    """Name the line of a malformed JSON Lines file (datasets' own error does not)."""
    rows = 0
    with path.open(encoding="utf-8-sig") as handle:  # -sig: datasets skips a leading BOM too
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            rows += 1
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadInputError(f"not valid JSON ({exc.msg})", where=f"{path}:{line_no}") from exc
            except (ValueError, RecursionError) as exc:  # a 5000-digit number, [[[[...
                reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:120]
                raise BadInputError(f"not valid JSON ({reason})", where=f"{path}:{line_no}") from exc
            if not isinstance(value, dict):
                raise BadInputError("each line must be a JSON object", where=f"{path}:{line_no}")
    if not rows:
        raise BadInputError("no rows: the file is empty", where=str(path))


def _check_csv(path: Path) -> list[str]:
    """The header of a CSV file, after checking each record against what pandas does.

    pandas takes a surplus first cell as the row index and shifts the others one column
    left, and skips a line of only spaces as blank: either way a row would be read wrongly
    or lost without a word; here each is an error naming the row.
    """
    import csv

    with path.open(encoding="utf-8-sig", newline="") as handle:
        last = [""]

        def lines():
            for line in handle:
                last[0] = line
                yield line

        reader = csv.reader(lines())
        try:
            header = next(reader, None)
            if not header:
                raise BadInputError("CSV file without a header row", where=str(path))
            if "" in header or len(set(header)) != len(header):
                raise BadInputError(f"CSV header has an empty or repeated column name: {header}",
                                    where=f"{path}:1")
            row_no = 0
            for cells in reader:
                if not cells:  # blank lines are skipped by the reader as well
                    continue
                row_no += 1
                raw = last[0].rstrip("\r\n")
                if raw and not raw.strip(" \t"):  # pandas drops it as blank: a lost row
                    raise BadInputError("a line of only spaces or tabs", where=f"{path}: row {row_no}")
                if len(cells) > len(header):
                    raise BadInputError(f"{len(cells)} cells but the header has {len(header)}",
                                        where=f"{path}: row {row_no}")
        except csv.Error as exc:
            raise BadInputError(f"broken CSV ({exc})", where=f"{path}:{reader.line_num}") from exc
    return header


def _csv_header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle), [])
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BadInputError(f"cannot read the CSV header ({exc})", where=f"{path}:1") from exc


def _medsafetybench(path: Path, fmt: str):
    """MedSafetyBench's train demonstrations as published, else None: a folder of
    `*category_<N>.csv` files (e.g. its datasets/train/gpt4) or one such CSV, whose unnamed
    pandas index column is not a training field. Read by the safety suite's reader
    (suites/safety/sources.py), so a bad line is named by file and line, and each row keeps
    its file:line as `source` for the errors and findings that follow."""
    import datasets

    if fmt not in ("auto", "csv"):
        return None
    if path.is_dir():
        if fmt == "csv" or any((path / name).exists() for name in
                               ("dataset_info.json", "dataset_dict.json", "state.json")):
            return None
        if not any(is_category_file(p) for p in path.rglob("*.csv")):
            return None
        found = read_folder(path, purpose="training")
    elif path.suffix.lower() == ".csv" and SAFETY_REQUEST in (c.strip() for c in _csv_header(path)):
        found = read_csv(path)
    else:
        return None
    return datasets.Dataset.from_list([
        {SAFETY_REQUEST: d.request, SAFETY_RESPONSE: d.safe_response or "", "source": d.where,
         "category": d.category} for d in found])


def _local_dataset(path: Path, fmt: str):
    import datasets

    safety = _medsafetybench(path, fmt)
    if safety is not None:
        return safety
    if fmt == "auto":
        if path.is_dir():
            fmt = "dataset"
        else:
            fmt = _SUFFIX_FORMATS.get(path.suffix.lower(), "")
            if not fmt:
                raise BadInputError("unknown data file type; set dataset.format "
                                    "(json, jsonl, csv, parquet, arrow, dataset)", where=str(path))
    try:
        if fmt == "dataset":
            loaded = datasets.load_from_disk(str(path))
            return loaded
        if fmt == "arrow":
            return datasets.Dataset.from_file(str(path))
        builder = "json" if fmt in ("json", "jsonl") else fmt
        if path.suffix.lower() == ".jsonl" or fmt == "jsonl":
            _check_jsonl(path)
        if fmt == "csv":
            # Every cell as the text written: pandas would otherwise read "NA" or "None" as
            # missing and "007" as the number 7.
            features = datasets.Features({name: datasets.Value("string")
                                          for name in _check_csv(path)})
            return datasets.load_dataset("csv", data_files=str(path), split="train",
                                         features=features, keep_default_na=False)
        return datasets.load_dataset(builder, data_files=str(path), split="train")
    except BadInputError:
        raise
    except Exception as exc:  # any reader failure is the file's fault here
        raise BadInputError(f"cannot read as {fmt}: {type(exc).__name__}: {str(exc)[:300]}",
                            where=str(path)) from exc


def _hub_dataset(name: str, config_name: str | None, split: str, token: str | None):
    import datasets

    try:
        return datasets.load_dataset(name, config_name, split=split, token=token)
    except Exception as exc:  # offline, missing or gated: the user's input
        raise BadInputError(
            f"cannot load dataset '{name}' split '{split}' ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:300] if str(exc) else ''}). It is not a local file or "
            "folder and the hub could not be reached or does not have it.") from exc


def _open_source(name: str, fmt: str, config_name: str | None, split: str,
                 token: str | None) -> tuple[Any, dict[str, Any]]:
    """A datasets.Dataset and what it is, for provenance."""
    import datasets

    if name == "demo":
        path = DEMO_DATA
        if not path.exists():
            raise BadInputError("the bundled demo data file is missing", where=str(path))
        ds = _local_dataset(path, "json")
        return ds, {"source": "demo", "demo": True, "files": [_file_entry(path)]}
    path = Path(name).expanduser()
    if path.exists():
        ds = _local_dataset(path, fmt)
        if isinstance(ds, datasets.DatasetDict):
            if split not in ds:
                raise BadInputError(f"split '{split}' not in saved dataset (has {sorted(ds)})", where=str(path))
            ds = ds[split]
        files = ([_file_entry(p) for p in sorted(path.rglob("*")) if p.is_file()]
                 if path.is_dir() else [_file_entry(path)])
        return ds, {"source": str(path), "demo": False, "files": files}
    if name.startswith((".", "/", "~")) or name.endswith(tuple(_SUFFIX_FORMATS)):
        raise BadInputError("dataset file not found", where=name)
    ds = _hub_dataset(name, config_name, split, token)
    fingerprint = getattr(ds, "_fingerprint", None)
    return ds, {"source": f"hub:{name}", "demo": False, "split": split, "config_name": config_name,
                "files": [], "hub_fingerprint": fingerprint}


def _examples(ds, where: str, *, system_prompt: str | None, prompt_field: str,
              limit: int = 0) -> tuple[list[Example], str]:
    try:
        fmt = detect_format(list(ds.column_names), prompt_field)
    except BadInputError as exc:  # the columns are the file's: say which file
        raise BadInputError(str(exc), where=where) from exc
    examples = []
    for index, row in enumerate(ds):
        if limit and index >= limit:
            break
        row_no = index + 1
        # MedSafetyBench rows carry their own file:line (a folder holds many files)
        loc = row["source"] if fmt == "medsafetybench" and row.get("source") \
            else f"{where}: row {row_no}"
        examples.append(row_to_example(row, fmt, row_no=row_no, where=loc,
                                       system_prompt=system_prompt, prompt_field=prompt_field))
    return examples, fmt


def _source_label(info: dict[str, Any]) -> str:
    return info["files"][0]["path"] if len(info["files"]) == 1 else info["source"]


def read_examples(config: MedgateConfig) -> tuple[list[Example], dict[str, Any]]:
    """Every training row, validated, as Examples (no tokenizer), plus provenance."""
    dc = config.dataset
    ds, info = _open_source(dc.name, dc.format, dc.config_name, dc.split, config.hf_token())
    total = len(ds)
    examples, fmt = _examples(ds, _source_label(info), system_prompt=dc.system_prompt,
                              prompt_field=dc.prompt_field, limit=dc.max_samples)
    full_seq = sum(1 for e in examples if e.meta.get("loss_on") == "full_sequence")
    provenance = {
        **info,
        "format": fmt,
        "rows_in_source": total,
        "rows_read": len(examples),
        "max_samples": dc.max_samples or None,
        "rows_beyond_max_samples": max(0, total - len(examples)),
        "loss_on": "response_only" if not full_seq else (
            "full_sequence" if full_seq == len(examples) else "mixed"),
        "rows_full_sequence_loss": full_seq,
    }
    if full_seq:
        provenance["note"] = (f"{full_seq} pre-formatted rows have no assistant marker; "
                              "the loss covers their whole text")
    return examples, provenance


def read_training_rows(config: MedgateConfig) -> tuple[list[dict], dict]:
    """Raw, validated rows (row number, messages or prompt/response, text) and provenance."""
    examples, provenance = read_examples(config)
    return [e.to_dict() for e in examples], provenance


def _read_replay(config: MedgateConfig) -> tuple[list[Example], dict[str, Any]]:
    rc = config.dataset.replay
    ds, info = _open_source(rc.dataset, "auto", None, rc.split, config.hf_token())
    examples, fmt = _examples(ds, _source_label(info), system_prompt=config.dataset.system_prompt,
                              prompt_field=config.dataset.prompt_field)
    return examples, {**info, "format": fmt, "rows_in_source": len(examples)}


def _replay_used(config: MedgateConfig) -> bool:
    """Whether replay rows are mixed into training; a ratio without data is an error."""
    rc = config.dataset.replay
    if rc.ratio > 0 and not rc.dataset:
        raise BadInputError("dataset.replay.ratio > 0 needs dataset.replay.dataset")
    return bool(rc.dataset) and rc.ratio > 0


def _read_validation(config: MedgateConfig) -> tuple[list[Example], dict[str, Any]] | None:
    """The rows of a separate validation file or split; None when there is none (the
    validation rows are then held out of the training rows, or there are none)."""
    dc = config.dataset
    if not dc.validation_split:
        return None
    val_path = Path(dc.validation_split).expanduser()
    if val_path.exists() or dc.name == "demo" or Path(dc.name).exists():
        if not val_path.exists():
            raise BadInputError("dataset.validation_split must be a split of a hub dataset or "
                                "a local file", where=dc.validation_split)
        ds, vinfo = _open_source(str(val_path), "auto", None, "train", config.hf_token())
    else:
        ds, vinfo = _open_source(dc.name, dc.format, dc.config_name, dc.validation_split,
                                 config.hf_token())
    examples, fmt = _examples(ds, _source_label(vinfo), system_prompt=dc.system_prompt,
                              prompt_field=dc.prompt_field)
    return examples, {**vinfo, "format": fmt, "rows_read": len(examples)}


def read_replay_rows(config: MedgateConfig) -> tuple[list[dict], dict[str, Any]] | None:
    """Every row of the replay data when training mixes it in (else None), for the data
    preflight: the rows drawn into training are a sample of these, so all are checked."""
    if not _replay_used(config):
        return None
    examples, info = _read_replay(config)
    return [e.to_dict() for e in examples], info


def read_validation_rows(config: MedgateConfig) -> tuple[list[dict], dict[str, Any]] | None:
    """The rows of a separate validation file or split (else None), for the data preflight."""
    found = _read_validation(config)
    if found is None:
        return None
    examples, info = found
    return [e.to_dict() for e in examples], info


# --- tokenizing ----------------------------------------------------------------------------


def _tokenize(examples: list[Example], tokenizer, max_len: int) -> tuple[list[dict], dict[str, list[int]]]:
    """Tokenized rows that fit, and the row numbers dropped per reason."""
    kept: list[dict] = []
    dropped: dict[str, list[int]] = {"too_long": [], "empty_response": []}
    for example in examples:
        tokens = tokenize_example(example, tokenizer)
        if len(tokens["input_ids"]) > max_len:
            dropped["too_long"].append(example.row)
        elif all(label == -100 for label in tokens["labels"]):
            dropped["empty_response"].append(example.row)
        else:
            kept.append({**tokens, "row": example.row})
    return kept, dropped


def _to_dataset(rows: list[dict]):
    import datasets

    return datasets.Dataset.from_list([{k: r[k] for k in ("input_ids", "attention_mask", "labels")}
                                       for r in rows])


def load_training_data(config: MedgateConfig, tokenizer) -> TrainingData:
    """Tokenized train (and validation) sets with the loss on responses only."""
    dc = config.dataset
    examples, provenance = read_examples(config)
    max_len = config.training.max_seq_length
    texts = [(e.row, e.text) for e in examples]

    validation_examples: list[Example] = []
    separate = _read_validation(config)
    if separate is not None:
        validation_examples, vinfo = separate
        train_examples = examples
        provenance["validation"] = {"source": vinfo["source"], "split": dc.validation_split,
                                    "rows_read": len(validation_examples)}
    elif dc.validation_size > 0 and len(examples) >= 2:
        order = list(range(len(examples)))
        random.Random(config.training.seed).shuffle(order)
        n_val = max(1, round(len(examples) * dc.validation_size))
        val_idx = set(order[:n_val])
        validation_examples = [e for i, e in enumerate(examples) if i in val_idx]
        train_examples = [e for i, e in enumerate(examples) if i not in val_idx]
        provenance["validation"] = {"source": "held out from training rows", "fraction": dc.validation_size,
                                    "seed": config.training.seed,
                                    "rows": sorted(e.row for e in validation_examples)}
    else:
        train_examples = examples
        provenance["validation"] = None

    train_rows, train_dropped = _tokenize(train_examples, tokenizer, max_len)
    val_rows, val_dropped = _tokenize(validation_examples, tokenizer, max_len)
    provenance["rows_kept"] = len(train_rows)
    provenance["validation_rows_kept"] = len(val_rows)
    provenance["rows_dropped"] = {k: len(train_dropped[k]) + len(val_dropped[k]) for k in train_dropped}
    provenance["dropped_rows"] = {k: sorted(train_dropped[k] + val_dropped[k]) for k in train_dropped}
    provenance["max_seq_length"] = max_len
    if not train_rows:
        raise BadInputError(
            f"no training rows left of {len(train_examples)}: dropped {provenance['rows_dropped']} "
            f"(training.max_seq_length={max_len} tokens)", where=provenance["source"])

    replay_info = None
    if _replay_used(config):
        replay_examples, replay_info = _read_replay(config)
        replay_rows, replay_dropped = _tokenize(replay_examples, tokenizer, max_len)
        wanted = round(len(train_rows) * dc.replay.ratio / (1.0 - dc.replay.ratio))
        random.Random(config.training.seed + 1).shuffle(replay_rows)
        chosen = replay_rows[:wanted]
        replay_info.update({"ratio": dc.replay.ratio, "rows_wanted": wanted, "rows_used": len(chosen),
                            "rows_dropped": {k: len(v) for k, v in replay_dropped.items()}})
        if len(chosen) < wanted:
            replay_info["note"] = (f"replay data has only {len(chosen)} usable rows for the "
                                   f"{wanted} the ratio asks for")
        train_rows = train_rows + chosen
        random.Random(config.training.seed + 2).shuffle(train_rows)
    elif dc.replay.dataset:
        replay_info = {"source": dc.replay.dataset, "ratio": 0.0, "rows_used": 0,
                       "note": "dataset.replay.ratio is 0: no replay rows mixed in"}
    provenance["replay"] = replay_info
    provenance["replay_rows"] = replay_info["rows_used"] if replay_info else 0
    provenance["train_rows"] = len(train_rows)
    provenance["train_tokens"] = sum(len(r["input_ids"]) for r in train_rows)
    provenance["train_response_tokens"] = sum(sum(1 for x in r["labels"] if x != -100)
                                              for r in train_rows)

    return TrainingData(train=_to_dataset(train_rows),
                        validation=_to_dataset(val_rows) if val_rows else None,
                        provenance=provenance, texts=texts)
