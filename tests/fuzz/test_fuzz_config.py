"""Fuzz `harness.core.config.load_config` with generated YAML documents, bytes and `--set` strings.

For every input: a MedgateConfig whose text values are exactly the text given (template
and markup syntax stays text), or a BadInputError naming the file (with the line for YAML
syntax) or the key path; never another exception, never a hang.
"""

from __future__ import annotations

import itertools
import os
from datetime import timedelta

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from harness.core.config import MedgateConfig, load_config
from harness.core.errors import BadInputError

from .strategies import HOSTILE_SNIPPETS, POOL_TEXTS, texts

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1000"))
FUZZ = settings(max_examples=EXAMPLES, deadline=timedelta(seconds=5),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_counter = itertools.count()


def _key_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, info in model.model_fields.items():
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += _key_paths(ann, f"{prefix}{name}.")
        else:
            out.append(prefix + name)
    return out


KEYS = _key_paths(MedgateConfig)
SECTIONS = sorted(MedgateConfig.model_fields)
# Keys whose value is free text: what a user types there must come back unchanged.
TEXT_KEYS = ["model.name", "report.title", "report.intended_use", "dataset.system_prompt",
             "dataset.prompt_field", "gates.policy", "evaluation.data.medqa"]
JUNK_KEYS = ["trainng", "model.nme", "evaluation.suites.0", "", " ", "a..b", ".x", "x.",
             "{{ 7*7 }}", "<script>", "training.seed.extra", "1", "null"]

YAML_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
              st.floats(allow_nan=True, allow_infinity=True), POOL_TEXTS,
              st.sampled_from(HOSTILE_SNIPPETS)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["a", "name", "seed", "1"]), inner,
                                            max_size=3)),
    max_leaves=6,
)


@st.composite
def documents(draw) -> dict:
    """A config mapping: real sections and keys mixed with typos and wrong value types."""
    doc: dict = {}
    for path in draw(st.lists(st.sampled_from(KEYS + JUNK_KEYS[:2] + ["model.nme"]),
                              max_size=5)):
        node = doc
        parts = path.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[parts[-1]] = draw(YAML_VALUES)
    if draw(st.integers(0, 9)) == 0:
        doc[draw(st.sampled_from(SECTIONS))] = draw(YAML_VALUES)  # a section that is no mapping
    return doc


YAML_FRAGMENTS = ["{", "}", "[", "]", ": ", "- ", "&a ", "*a", "!!python/object:os.system ",
                  "!!binary ", "%YAML 1.1\n", "---\n", "...\n", "\t", "? ", "|\n", ">\n",
                  "\n  ", "model:", "training:\n  seed: ", "'", '"', "#", "@", "`", "\x00",
                  "9" * 5000, "[" * 2000, "2020-13-45", ".inf", ".nan", "<<: *a\n"]


def _write(folder, data: bytes):
    path = folder / f"medgate-{next(_counter)}.yaml"
    path.write_bytes(data)
    return path


def _load_checked(path, overrides=None):
    try:
        return load_config(path, overrides)
    except BadInputError as exc:
        message = str(exc)
        assert "Traceback" not in message
        if path is not None:
            assert str(path) in message, message[:300]
        else:
            assert "--set" in message or "key '" in message, message[:300]
        if "key '" in message or "unknown key" in message:
            return None
        assert ("YAML" in message or "UTF-8" in message or "mapping" in message
                or "--set" in message or "cannot read" in message), message[:300]
        return None


@FUZZ
@given(doc=documents())
def test_generated_documents(tmp_path_factory, doc):
    folder = tmp_path_factory.getbasetemp()
    try:
        text = yaml.safe_dump(doc, allow_unicode=True)
    except yaml.YAMLError:
        return
    _load_checked(_write(folder, text.encode("utf-8")))


@FUZZ
@given(values=st.dictionaries(st.sampled_from(TEXT_KEYS), texts(huge=False), min_size=1,
                              max_size=4),
       how=st.sampled_from(["file", "set"]))
def test_text_values_come_back_unchanged(tmp_path_factory, values, how):
    doc: dict = {}
    for key, value in values.items():
        node = doc
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    if how == "file":  # double-quoted: PyYAML writes a plain U+0085 that it reads as a break
        text = yaml.safe_dump(doc, allow_unicode=True, width=float("inf"), default_style='"')
        config = load_config(_write(tmp_path_factory.getbasetemp(), text.encode("utf-8")))
    else:  # --set KEY=VALUE with the value as a quoted YAML scalar
        overrides = [f"{k}={yaml.safe_dump(v, default_style=chr(34), width=float('inf')).strip()}"
                     for k, v in values.items()]
        config = load_config(None, overrides)
    data = config.model_dump()
    for key, value in values.items():
        node = data
        for part in key.split("."):
            node = node[part]
        assert node == value  # byte for byte: "{{ 7*7 }}" is never rendered


@FUZZ
@given(raw=st.one_of(st.lists(st.sampled_from(YAML_FRAGMENTS) | POOL_TEXTS, max_size=8)
                     .map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass")),
                     st.binary(max_size=200),
                     st.sampled_from(["", "model:\n  name: x\n"]).map(
                         lambda t: t.encode("utf-16"))))
def test_raw_bytes_and_yaml_fragments(tmp_path_factory, raw):
    _load_checked(_write(tmp_path_factory.getbasetemp(), raw))


@FUZZ
@given(assignments=st.lists(
    st.tuples(st.sampled_from(KEYS + JUNK_KEYS + TEXT_KEYS),
              st.sampled_from(["=", "", "==", "= "]),
              st.one_of(st.sampled_from(YAML_FRAGMENTS), POOL_TEXTS,
                        st.integers().map(str), st.just(""))).map("".join),
    min_size=1, max_size=4))
def test_set_strings(assignments):
    _load_checked(None, assignments)


def test_set_value_with_template_syntax_stays_text():
    config = load_config(None, ["report.title={{ 7*7 }}", "model.name=<script>x</script>"])
    assert config.report.title == "{{ 7*7 }}"
    assert config.model.name == "<script>x</script>"
