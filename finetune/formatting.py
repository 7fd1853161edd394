"""Turn a raw dataset row into a prompt/response pair, then into tokens with a masked loss.

Five row shapes are accepted (the seed workflow's pre-formatted `prompt`, `question`/
`answer`, `instruction`/`input`/`output`, chat `messages`, and MedSafetyBench's
`harmful_medical_request`/`safe_response` demonstrations, which teach the safe answer).
Whatever the shape, the model is trained on the response only: prompt tokens get the
label -100, so the loss teaches answers rather than the questions the dataset happens to
contain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.core.errors import BadInputError

IGNORE_INDEX = -100

# Where a pre-formatted prompt hands over to the model, for the chat formats the seed
# workflow's datasets use (Llama 3, ChatML, Gemma, Mistral/Llama 2, Alpaca).
ASSISTANT_MARKERS = (
    "<|start_header_id|>assistant<|end_header_id|>\n\n",
    "<|start_header_id|>assistant<|end_header_id|>",
    "<|im_start|>assistant\n",
    "<start_of_turn>model\n",
    "[/INST]",
    "### Response:\n",
    "### Response:",
)

FORMATS = ("messages", "prompt", "qa", "instruction", "medsafetybench")
SAFETY_REQUEST, SAFETY_RESPONSE = "harmful_medical_request", "safe_response"


@dataclass
class Example:
    """One training example before tokenization.

    `messages` is set for every shape except a pre-formatted prompt, which carries its
    template already and is split into `prompt_text` / `response_text` instead.
    """

    row: int
    messages: list[dict[str, str]] | None = None
    prompt_text: str | None = None
    response_text: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The raw prompt + response, for PHI scans and train/test overlap checks."""
        if self.messages is not None:
            return "\n".join(m["content"] for m in self.messages)
        return (self.prompt_text or "") + (self.response_text or "")

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "messages": self.messages, "prompt_text": self.prompt_text,
                "response_text": self.response_text, "text": self.text, **self.meta}


def detect_format(columns: list[str], prompt_field: str = "prompt") -> str:
    """Which row shape a dataset has, from its column names."""
    cols = set(columns)
    if "messages" in cols:
        return "messages"
    if {"instruction", "output"} <= cols:
        return "instruction"
    if {"question", "answer"} <= cols:
        return "qa"
    if SAFETY_REQUEST in cols:
        if SAFETY_RESPONSE not in cols:
            raise BadInputError(f"column '{SAFETY_REQUEST}' without '{SAFETY_RESPONSE}': "
                                "training on a safety demonstration needs its safe response")
        return "medsafetybench"
    if prompt_field in cols:
        return "prompt"
    raise BadInputError(
        f"cannot tell the row format from columns {sorted(cols)}: expected '{prompt_field}' "
        "(pre-formatted), 'question'+'answer', 'instruction'+'output' (+'input'), 'messages', or "
        f"'{SAFETY_REQUEST}'+'{SAFETY_RESPONSE}'"
    )


def _text(row: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadInputError(f"field '{key}' is missing or empty", where=where)
        return ""
    if not isinstance(value, str):
        raise BadInputError(f"field '{key}' must be text, got {type(value).__name__}", where=where)
    return value


def split_preformatted(text: str) -> tuple[str, str] | None:
    """Split at the last assistant marker; None when the text has none."""
    best: tuple[int, str] | None = None
    for marker in ASSISTANT_MARKERS:
        pos = text.rfind(marker)
        if pos >= 0 and (best is None or pos + len(marker) > best[0]):
            best = (pos + len(marker), marker)
    if best is None:
        return None
    cut = best[0]
    return text[:cut], text[cut:]


def row_to_example(row: dict[str, Any], fmt: str, *, row_no: int, where: str,
                   system_prompt: str | None, prompt_field: str = "prompt") -> Example:
    """Validate one row and turn it into an Example. `where` names file and row in errors."""
    system = [{"role": "system", "content": system_prompt}] if system_prompt else []
    if fmt == "instruction":
        instruction = _text(row, "instruction", where)
        extra = _text(row, "input", where, required=False)
        output = _text(row, "output", where)
        user = f"{instruction}\n\n{extra}" if extra else instruction
        msgs = [*system, {"role": "user", "content": user}, {"role": "assistant", "content": output}]
        return Example(row=row_no, messages=msgs)
    if fmt in ("qa", "medsafetybench"):
        asked, answered = ("question", "answer") if fmt == "qa" else (SAFETY_REQUEST,
                                                                     SAFETY_RESPONSE)
        question = _text(row, asked, where)
        answer = _text(row, answered, where)
        msgs = [*system, {"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        kept = {key: row[key] for key in ("source", "category") if fmt == "medsafetybench"
                and isinstance(row.get(key), str) and row[key]}
        return Example(row=row_no, messages=msgs, meta=kept)
    if fmt == "messages":
        msgs = row.get("messages")
        if not isinstance(msgs, list) or not msgs:
            raise BadInputError("field 'messages' must be a non-empty list", where=where)
        clean = []
        for i, m in enumerate(msgs):
            if not isinstance(m, dict) or not isinstance(m.get("role"), str) or not isinstance(m.get("content"), str):
                raise BadInputError(f"field 'messages[{i}]' needs text 'role' and 'content'", where=where)
            clean.append({"role": m["role"], "content": m["content"]})
        if clean[-1]["role"] != "assistant" or not clean[-1]["content"].strip():
            raise BadInputError("field 'messages': the last message must be a non-empty assistant answer",
                                where=where)
        if clean[0]["role"] != "system" and system:
            clean = system + clean
        return Example(row=row_no, messages=clean)
    if fmt == "prompt":
        text = _text(row, prompt_field, where)
        parts = split_preformatted(text)
        if parts is None:
            return Example(row=row_no, prompt_text="", response_text=text, meta={"loss_on": "full_sequence"})
        prompt, response = parts
        if not response.strip():
            raise BadInputError(f"field '{prompt_field}': nothing after the last assistant marker "
                                "(the answer is missing)", where=where)
        return Example(row=row_no, prompt_text=prompt, response_text=response)
    raise BadInputError(f"unknown row format '{fmt}'")


# --- tokenization ------------------------------------------------------------------------


def _plain_template(messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
    """A readable fallback for tokenizers without a chat template (base models)."""
    parts = [f"### {m['role'].capitalize()}:\n{m['content']}\n\n" for m in messages]
    if add_generation_prompt:
        parts.append("### Assistant:\n")
    return "".join(parts)


def render_prompt_response(example: Example, tokenizer) -> tuple[str, str]:
    """The exact prompt and response text the model sees, using its chat template."""
    if example.messages is None:
        return example.prompt_text or "", example.response_text or ""
    msgs = example.messages
    has_template = bool(getattr(tokenizer, "chat_template", None))
    if has_template:
        prompt = tokenizer.apply_chat_template(msgs[:-1], add_generation_prompt=True, tokenize=False)
        full = tokenizer.apply_chat_template(msgs, tokenize=False)
    else:
        prompt = _plain_template(msgs[:-1], add_generation_prompt=True)
        full = _plain_template(msgs, add_generation_prompt=False)
    if full.startswith(prompt):
        return prompt, full[len(prompt):]
    # A template that rewrites earlier turns once an answer follows: keep its prompt and
    # append the answer and end-of-sequence token, so the response is still what is learnt.
    return prompt, msgs[-1]["content"] + (tokenizer.eos_token or "")


def tokenize_example(example: Example, tokenizer) -> dict[str, list[int]]:
    """input_ids, attention_mask and labels with the prompt masked out."""
    prompt, response = render_prompt_response(example, tokenizer)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"] if prompt else []
    response_ids = tokenizer(response, add_special_tokens=False)["input_ids"]
    eos = tokenizer.eos_token_id
    if eos is not None and (not response_ids or response_ids[-1] != eos) and example.messages is None:
        response_ids = [*response_ids, eos]
    input_ids = prompt_ids + response_ids
    labels = [IGNORE_INDEX] * len(prompt_ids) + list(response_ids)
    return {"input_ids": input_ids, "attention_mask": [1] * len(input_ids), "labels": labels}
