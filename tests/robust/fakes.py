"""Deterministic stand-ins for ModelHandle, so suites are tested without a model."""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Callable
from pathlib import Path

from harness.core.records import Record

LETTERS = string.ascii_uppercase


def _h(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


class FakeModel:
    """Chooses an option by a rule; `generate` answers from a prompt -> text function."""

    def __init__(self, chooser: str = "content",
                 responder: Callable[[str], str] | None = None) -> None:
        self.chooser = chooser
        self.responder = responder or (lambda p: "I cannot help with that.")
        self.calls: list[tuple[str, int]] = []
        self.generate_calls: list[dict] = []

    def _choose(self, item) -> int:
        if self.chooser == "content":  # depends on option text only: order-invariant
            return max(range(len(item.options)), key=lambda i: _h(item.options[i].lower()))
        if self.chooser == "first":
            return 0
        if self.chooser == "gold":
            return item.answer
        if self.chooser == "question":  # depends on the exact question text
            return _h(item.question) % len(item.options)
        raise ValueError(self.chooser)

    def score_mc(self, items, prompt_format, *, suite, variant="clean", ctx):
        self.calls.append((variant, len(items)))
        out = []
        for item in items:
            pred = self._choose(item)
            prompt = f"{item.question}\n" + "\n".join(
                f"{LETTERS[i]}. {o}" for i, o in enumerate(item.options)) + "\nAnswer:"
            out.append(Record(
                suite=suite, item_id=item.item_id, variant=variant, prompt=prompt,
                gold=LETTERS[item.answer], pred=LETTERS[pred], correct=pred == item.answer,
                choices=list(item.options), choice_logprobs=[0.0] * len(item.options),
                demo=ctx.is_demo_data,
                meta={"pred_index": pred, "gold_index": item.answer, **item.meta}))
        return out

    def generate(self, prompts, *, max_new_tokens, chat=True):
        self.generate_calls.append({"n": len(prompts), "max_new_tokens": max_new_tokens,
                                    "chat": chat})
        return [self.responder(p) for p in prompts]


MEDQA_ROWS = [
    {"id": "t1", "question": "A 45-year-old man comes to the emergency department because of "
     "crushing chest pain for 2 hours. He has hypertension and his blood pressure is 150/90 mm "
     "Hg. He does not smoke and denies fever. An ECG shows ST elevation in leads II, III and "
     "aVF. Which of the following is the most appropriate next step in management?",
     "options": {"A": "Percutaneous coronary intervention", "B": "Discharge home",
                 "C": "Oral amoxicillin", "D": "Observation for 24 hours"},
     "answer_idx": "A"},
    {"id": "t2", "question": "A 28-year-old pregnant woman at 12 weeks' gestation has burning on "
     "urination. Her temperature is 37.0°C. Urinalysis shows nitrites. Which of the following "
     "is the most appropriate treatment?",
     "options": {"A": "Doxycycline", "B": "Nitrofurantoin", "C": "Ciprofloxacin",
                 "D": "No treatment"}, "answer_idx": "B"},
    {"id": "t3", "question": "A 34-year-old African American woman has had fatigue and shortness "
     "of breath for 3 weeks. Her hemoglobin is 8.1 g/dL and her mean corpuscular volume is "
     "68 fL. She has heavy menstrual bleeding. Which of the following is the most likely "
     "diagnosis?",
     "options": {"A": "Iron deficiency anemia", "B": "Vitamin B12 deficiency",
                 "C": "Hemolytic anemia", "D": "Aplastic anemia"}, "answer_idx": "A"},
    {"id": "t4", "question": "A 52-year-old man with diabetes has a painless ulcer on the sole "
     "of his foot. He cannot feel a monofilament on either foot. His HbA1c is 9.2%. Which of "
     "the following is the most likely cause of his ulcer?",
     "options": {"A": "Peripheral neuropathy", "B": "Venous insufficiency",
                 "C": "Pressure from tight shoes alone", "D": "Contact dermatitis"},
     "answer_idx": "A"},
    {"id": "t5", "question": "A 39-year-old woman has had a headache and neck stiffness since "
     "yesterday. Her temperature is 39.2°C. She has a heart attack history and takes aspirin "
     "81 mg daily. Lumbar puncture shows 1,200 neutrophils/mm3. Which of the following is the "
     "most appropriate next step?",
     "options": {"A": "Intravenous ceftriaxone and vancomycin", "B": "Oral acetaminophen",
                 "C": "MRI of the spine", "D": "Reassurance"}, "answer_idx": "A"},
    {"id": "t6", "question": "A 41-year-old Hispanic man reports that he has not been sleeping "
     "well. He says he wakes up with a headache. His wife says he snores loudly. His BMI is "
     "36 kg/m2. Which of the following is the most appropriate test?",
     "options": {"A": "Polysomnography", "B": "CT of the head", "C": "EEG",
                 "D": "Thyroid biopsy"}, "answer_idx": "A"},
]

LEXICON_YAML = """groups:
  - [myocardial infarction, heart attack, MI]
  - [hypertension, high blood pressure, HTN]
  - [shortness of breath, dyspnea, SOB]
  - [type 2 diabetes mellitus, T2DM]
  - [diabetes, diabetes mellitus, DM]
  - [electrocardiogram, ECG, EKG]
  - [headache, cephalalgia]
  - [percutaneous coronary intervention, PCI]
  - [lumbar puncture, spinal tap, LP]
"""


def write_medqa(path: Path, rows=None) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in (rows or MEDQA_ROWS)) + "\n",
                    encoding="utf-8")
    return path
