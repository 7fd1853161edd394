"""Deterministic stand-ins for a model backend, so suites are tested without a model.

`FakeModel` answers the backend's requests (log-likelihoods of continuations, greedy
generations) from rules over the request text, as a real backend would answer them: it
knows nothing of items or records. The multiple-choice rules read the MedQA prompt the
suite sent ("Question: ...", "A. ...", ..., "Answer:") and the letter being scored.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from harness.core.backends import GenerationSettings
from suites.base import LETTERS, MCItem

_OPTION = re.compile(r"^([A-Z])\. (.*)$", re.MULTILINE)


def _h(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def parse_mc_prompt(context: str) -> tuple[str, list[str]]:
    """(question, option texts) of a MedQA-format prompt."""
    options = _OPTION.findall(context)
    first = context.index(f"\n{options[0][0]}. ")
    question = context[:first].removeprefix("Question: ")
    return question, [text for _, text in options]


class FakeModel:
    """Prefers one option by a rule; `generate` answers from a prompt -> text function.

    choosers: "content" (option text only: order-invariant), "first" (always A),
    "question" (the exact question text), "gold" (the right option text, from `items`).
    """

    backend = "fake"
    device = "cpu"

    def __init__(self, chooser: str = "content",
                 responder: Callable[[str], str] | None = None,
                 items: Iterable[MCItem] = ()) -> None:
        self.chooser = chooser
        self.responder = responder or (lambda p: "I cannot help with that.")
        self.gold = {i.question: i.options[i.answer] for i in items}
        self.loglikelihood_calls: list[int] = []
        self.generate_calls: list[dict] = []

    def _choose(self, context: str) -> int:
        question, options = parse_mc_prompt(context)
        if self.chooser == "content":
            return max(range(len(options)), key=lambda i: _h(options[i].lower()))
        if self.chooser == "first":
            return 0
        if self.chooser == "gold":
            return options.index(self.gold[question])
        if self.chooser == "question":
            return _h(question) % len(options)
        raise ValueError(self.chooser)

    def loglikelihood(self, requests: list[tuple[str, str]]) -> list[float]:
        """0.0 for the preferred option's letter, -1.0 for every other continuation."""
        self.loglikelihood_calls.append(len(requests))
        return [0.0 if continuation.strip() == LETTERS[self._choose(context)] else -1.0
                for context, continuation in requests]

    def generate(self, prompts: list[str], settings: GenerationSettings) -> list[str]:
        self.generate_calls.append({"n": len(prompts), **settings.key()})
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
