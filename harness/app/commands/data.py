"""Build instruction-tuning data from structured clinical records with the task templates.

Each record (one JSON object a line) names its `task` (a template of
suites/data/clinical_templates.yaml: diagnosis, treatment, test_interpretation,
patient_education, contraindications, summary, radiology_impression, entity_extraction)
and the fields that template reads; `--task` sets the task of records that do not name
one. The output is JSONL with `id`, `task`, `instruction`, `input`, `output`: the
instruction shape `medgate train` reads (training.dataset), rendered with the same
templates the clinical suites build their prompts with, so train and test formats match.
A record the template cannot render is an error naming the file, line and field.

    medgate data --records records.jsonl --out train.jsonl [--task NAME]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from harness.core.atomic import write_jsonl
from harness.core.console import out
from harness.core.errors import BadInputError
from suites.clinical.templates import build_row, get_template, load_templates
from suites.loaders.common import iter_jsonl


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--records", required=True, help="structured records (JSONL)")
    parser.add_argument("--out", required=True, help="instruction rows to write (JSONL)")
    parser.add_argument("--task", help="template for records without a 'task' field "
                        f"({', '.join(load_templates())})")


def build(records: Path, task: str | None = None) -> list[dict]:
    """The instruction rows of every record, in file order."""
    if task is not None:
        get_template(task)
    rows = []
    for where, record in iter_jsonl(records):
        name = record.get("task", task)
        if not isinstance(name, str) or not name:
            raise BadInputError("field 'task' is missing (or pass --task)", where=where)
        if name not in load_templates():
            raise BadInputError(f"field 'task': unknown template '{name}' (known: "
                                f"{', '.join(load_templates())})", where=where)
        rows.append(build_row(get_template(name), record, where))
    if not rows:
        raise BadInputError("no records in the file", where=str(records))
    return rows


def run(args: argparse.Namespace) -> int:
    records, target = Path(args.records), Path(args.out)
    rows = build(records, args.task)
    write_jsonl(target, rows)
    tasks = Counter(r["task"] for r in rows)
    out.print(f"wrote {len(rows)} instruction rows to {target} "
              f"({', '.join(f'{k}: {v}' for k, v in sorted(tasks.items()))})")
    return 0
