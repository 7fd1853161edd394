"""harness.core.io: the one sha256, YAML reader and pydantic error formatter."""

import hashlib

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from harness.core.errors import BadInputError
from harness.core.io import (
    MAX_FLOW_NESTING,
    file_sha256,
    file_sha256_memo,
    format_validation_errors,
    parse_yaml,
    read_yaml,
)


def test_file_sha256_is_the_sha256_of_the_bytes(tmp_path):
    path = tmp_path / "blob.bin"
    data = bytes(range(256)) * 5000  # more than one 1 MiB block
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    assert file_sha256(str(path)) == file_sha256_memo(path)


def test_a_folder_hashes_as_its_files_paths_and_contents(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.csv").write_bytes(b"one")
    (tmp_path / "b.csv").write_bytes(b"two")
    first = file_sha256(tmp_path)
    assert len(first) == 64 and file_sha256(tmp_path) == first
    (tmp_path / "sub" / "a.csv").write_bytes(b"uno")
    changed = file_sha256(tmp_path)
    (tmp_path / "sub" / "a.csv").rename(tmp_path / "sub" / "c.csv")
    renamed = file_sha256(tmp_path)
    (tmp_path / "d.csv").write_bytes(b"")
    assert len({first, changed, renamed, file_sha256(tmp_path)}) == 4


def test_memo_sees_a_rewritten_file(tmp_path):
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"one")
    first = file_sha256_memo(path)
    path.write_bytes(b"two, longer")
    assert file_sha256_memo(path) == hashlib.sha256(b"two, longer").hexdigest() != first


def test_yaml_error_names_file_and_line(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("name: a\nkind: [\n  x: y\n")
    with pytest.raises(BadInputError) as info:
        read_yaml(path)
    assert f"{path}:" in str(info.value) and "not valid YAML" in str(info.value)


@pytest.mark.parametrize("text, expected", [
    ("a: " + "[" * (MAX_FLOW_NESTING + 1), "nested more than"),
    ("a: " + "1" * 5000, "not valid YAML"),
])
def test_yaml_guards(text, expected):
    with pytest.raises(BadInputError, match=expected):
        parse_yaml(text, "x.yaml")


def test_missing_and_binary_files_are_bad_input(tmp_path):
    with pytest.raises(BadInputError, match="config file not found"):
        read_yaml(tmp_path / "none.yaml", what="config file")
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(BadInputError, match="not UTF-8"):
        read_yaml(binary)
    assert read_yaml(_write(tmp_path / "empty.yaml", "")) is None


def _write(path, text):
    path.write_text(text)
    return path


class _Check(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    threshold: float


class _Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    checks: list[_Check]


def test_validation_errors_name_key_paths_and_named_elements():
    data = {"checks": [{"name": "acc", "threshold": 1}, {"name": "forgetting", "treshold": 1}],
            "extra": 1}
    with pytest.raises(ValidationError) as info:
        _Policy.model_validate(data)
    message = format_validation_errors(info.value, "p.yaml", data)
    assert "p.yaml: unknown key 'extra'" in message
    assert "p.yaml: unknown key 'checks.1 (forgetting).treshold'" in message
    assert "p.yaml: key 'checks.1 (forgetting).threshold': Field required" in message
    # without the data the index alone names the element
    assert "checks.1.treshold" in format_validation_errors(info.value, "p.yaml")
