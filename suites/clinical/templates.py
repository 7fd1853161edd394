"""Clinical task templates: one definition for training rows and for test prompts.

The templates are data (suites/data/clinical_templates.yaml). `build_row` turns a
structured record into an instruction-tuning row (`instruction`, `input`, `output`: the
shape finetune.formatting reads), and `prompt` renders the user turn a model is asked at
test time exactly as the trainer renders that row's user turn, so a checkpoint is tested
in the format it was trained on. A field the template names and the record lacks is an
error naming the record and field, never an empty hole in a prompt.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from harness.core.errors import BadInputError
from harness.core.io import read_yaml

TEMPLATES = Path(__file__).resolve().parents[1] / "data" / "clinical_templates.yaml"


@dataclass(frozen=True)
class Template:
    name: str
    instruction: str
    input: str
    output: str

    @property
    def fields(self) -> list[str]:
        """The record fields the instruction and input read, in order."""
        names = [f for text in (self.instruction, self.input)
                 for _, f, _, _ in string.Formatter().parse(text) if f]
        return list(dict.fromkeys(names))


@cache
def load_templates(path: Path = TEMPLATES) -> dict[str, Template]:
    raw = read_yaml(path, what="clinical task templates")
    if not isinstance(raw, dict) or not isinstance(raw.get("templates"), dict):
        raise BadInputError("expected a mapping with 'templates:'", where=str(path))
    out = {}
    for name, body in raw["templates"].items():
        where = f"{path}: templates.{name}"
        if not isinstance(body, dict) or set(body) != {"instruction", "input", "output"} \
                or not all(isinstance(v, str) for v in body.values()):
            raise BadInputError("a template has exactly the text keys instruction, input "
                                "and output", where=where)
        out[name] = Template(name, body["instruction"].strip(), body["input"], body["output"])
    return out


def get_template(name: str) -> Template:
    templates = load_templates()
    if name not in templates:
        raise BadInputError(f"unknown clinical task template '{name}' (known: "
                            f"{', '.join(templates)})")
    return templates[name]


def _field_text(record: dict[str, Any], name: str, where: str) -> str:
    value = record.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise BadInputError(f"field '{name}' is missing or empty (the template needs it)",
                            where=where)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    if not isinstance(value, str | int | float):
        raise BadInputError(f"field '{name}' must be text, got {type(value).__name__}",
                            where=where)
    return str(value)


def render(template: Template, record: dict[str, Any], where: str) -> tuple[str, str]:
    """(instruction, input) of `record` by `template`."""
    values = {f: _field_text(record, f, where) for f in template.fields}
    return template.instruction.format(**values), template.input.format(**values).strip()


def prompt(template: Template, record: dict[str, Any], where: str) -> str:
    """The user turn, as finetune.formatting builds it from an instruction row."""
    instruction, extra = render(template, record, where)
    return f"{instruction}\n\n{extra}" if extra else instruction


def entity_lines(text: str, entities: list[Any], where: str) -> str:
    """Span annotations as the answer the extraction suite parses: `TYPE: entity` lines,
    each distinct entity once, in order of appearance."""
    lines: list[str] = []
    for k, e in enumerate(sorted(entities, key=lambda e: e.get("start", 0)
                                 if isinstance(e, dict) else 0)):
        if not isinstance(e, dict) or not isinstance(e.get("start"), int) \
                or not isinstance(e.get("end"), int) or not isinstance(e.get("type"), str) \
                or not 0 <= e["start"] < e["end"] <= len(text):
            raise BadInputError(f"field 'entities[{k}]' needs integer start < end within the "
                                "text and a type", where=where)
        line = f"{e['type']}: {text[e['start']:e['end']]}"
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)


def build_row(template: Template, record: dict[str, Any], where: str) -> dict[str, Any]:
    """An instruction-tuning row (id, task, instruction, input, output) from a record."""
    instruction, extra = render(template, record, where)
    answer = record.get(template.output)
    if template.output == "entities" and isinstance(answer, list):
        answer = entity_lines(_field_text(record, "text", where), answer, where)
    if not isinstance(answer, str) or not answer.strip():
        raise BadInputError(f"field '{template.output}' (the answer) is missing or empty",
                            where=where)
    row: dict[str, Any] = {"task": template.name, "instruction": instruction, "input": extra,
                           "output": answer.strip()}
    if isinstance(record.get("id"), str):
        row = {"id": record["id"], **row}
    return row
