from __future__ import annotations

import pytest

from finetune.formatting import (
    IGNORE_INDEX,
    detect_format,
    row_to_example,
    split_preformatted,
    tokenize_example,
)
from harness.core.errors import BadInputError


def test_detect_format_by_columns():
    assert detect_format(["instruction", "input", "output"]) == "instruction"
    assert detect_format(["question", "answer"]) == "qa"
    assert detect_format(["messages"]) == "messages"
    assert detect_format(["prompt"]) == "prompt"
    assert detect_format(["text"], prompt_field="text") == "prompt"
    with pytest.raises(BadInputError, match="cannot tell the row format"):
        detect_format(["foo", "bar"])


def test_missing_answer_names_field_and_row():
    with pytest.raises(BadInputError) as exc:
        row_to_example({"question": "What is sepsis?", "answer": None}, "qa", row_no=7,
                       where="data.jsonl: row 7", system_prompt=None)
    assert "data.jsonl: row 7" in str(exc.value) and "'answer'" in str(exc.value)


def test_split_preformatted_at_last_assistant_marker():
    text = ("<|start_header_id|>user<|end_header_id|>\n\nQ1<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nA1<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nA2<|eot_id|>")
    prompt, response = split_preformatted(text)
    assert response == "A2<|eot_id|>"
    assert prompt.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")
    assert split_preformatted("no markers here") is None


def test_preformatted_without_marker_trains_whole_sequence():
    ex = row_to_example({"prompt": "plain text"}, "prompt", row_no=1, where="f: row 1", system_prompt=None)
    assert ex.meta["loss_on"] == "full_sequence" and ex.response_text == "plain text"


def test_loss_only_on_response(smol_tokenizer):
    ex = row_to_example({"instruction": "Explain asthma in patient-friendly language", "input": "",
                         "output": "Asthma narrows the airways."}, "instruction", row_no=1,
                        where="f: row 1", system_prompt="You are careful.")
    tokens = tokenize_example(ex, smol_tokenizer)
    labels, ids = tokens["labels"], tokens["input_ids"]
    assert len(labels) == len(ids)
    first = next(i for i, x in enumerate(labels) if x != IGNORE_INDEX)
    assert all(x == IGNORE_INDEX for x in labels[:first])
    assert labels[first:] == ids[first:]
    answer = smol_tokenizer.decode(ids[first:])
    assert answer.startswith("Asthma narrows the airways.")
    prompt = smol_tokenizer.decode(ids[:first])
    assert "You are careful." in prompt and "Explain asthma" in prompt and "Asthma narrows" not in prompt
    assert prompt.rstrip().endswith("assistant")  # the chat template's generation prompt


def test_messages_rows_keep_their_system_prompt():
    row = {"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "U"},
                        {"role": "assistant", "content": "A"}]}
    ex = row_to_example(row, "messages", row_no=1, where="f: row 1", system_prompt="other")
    assert [m["content"] for m in ex.messages] == ["S", "U", "A"]
    with pytest.raises(BadInputError, match="last message"):
        row_to_example({"messages": [{"role": "user", "content": "U"}]}, "messages", row_no=2,
                       where="f: row 2", system_prompt=None)
