from __future__ import annotations

import pytest

from .fakes import LEXICON_YAML, write_medqa


@pytest.fixture
def medqa_file(tmp_path):
    return write_medqa(tmp_path / "medqa.jsonl")


@pytest.fixture
def lexicon_file(tmp_path):
    path = tmp_path / "lexicon.yaml"
    path.write_text(LEXICON_YAML, encoding="utf-8")
    return path
