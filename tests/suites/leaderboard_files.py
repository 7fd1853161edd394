"""Writers of small files in each leaderboard benchmark's published format.

The questions are demo data written for these tests (not taken from any benchmark); the
layouts are the published ones, so the loaders and lm-eval's own task YAMLs read them as
they read the real files:

- MedQA: the 4-options JSONL (`question`, `options` {A..D}, `answer_idx`), and the
  Hugging Face form lm-eval's medqa_4options reads (`sent1`, `ending0..3`, `label`);
- PubMedQA: `ori_pqal.json` ({PMID: {QUESTION, CONTEXTS, LABELS, final_decision}}), and
  bigbio's source schema rows that lm-eval's pubmedqa reads;
- MedMCQA: the Hugging Face Parquet form (cop 0..3, the split lm-eval scores) and the
  original JSON lines (cop 1..4);
- MMLU: the original release's `test/<subject>_test.csv` (header-less) and cais/mmlu's
  `<subject>/test-00000-of-00001.parquet`.

`write_all(folder)` writes every form and returns the paths; the tests and a manual
`medgate eval --suites medical-leaderboard` run use it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

LEADERBOARD_SUBJECTS = ("anatomy", "clinical_knowledge", "college_biology", "college_medicine",
                        "medical_genetics", "professional_medicine")

# (question, four options, index of the answer) - demo items written for these tests
QUESTIONS = [
    ("A 45-year-old man has crushing chest pain radiating to the left arm. First test?",
     ["ECG", "Chest X-ray", "Lipid panel", "Colonoscopy"], 0),
    ("A child has a barking cough and stridor. Most likely diagnosis?",
     ["Asthma", "Croup", "Epiglottitis", "Pneumonia"], 1),
    ("Which vitamin deficiency causes scurvy?", ["Vitamin A", "Vitamin B12", "Vitamin C",
                                                 "Vitamin D"], 2),
    ("Which nerve is injured in wrist drop?", ["Median", "Ulnar", "Radial", "Axillary"], 2),
    ("First-line drug for anaphylaxis?", ["Antihistamine", "Epinephrine", "Steroid",
                                          "Fluids"], 1),
    ("Which chamber of the heart pumps blood into the aorta?",
     ["Right atrium", "Right ventricle", "Left atrium", "Left ventricle"], 3),
]

SUBJECT_QUESTIONS = {
    "anatomy": [("Which bone forms the point of the elbow?", ["Ulna", "Radius", "Humerus",
                                                               "Scapula"], 0),
                ("Where is the pancreas?", ["Pelvis", "Retroperitoneum", "Thorax", "Skull"], 1)],
    "clinical_knowledge": [("Normal adult resting heart rate, in beats per minute?",
                            ["20-40", "60-100", "120-160", "180-220"], 1),
                           ("Which site is used for an intramuscular injection in adults?",
                            ["Deltoid", "Cornea", "Tongue", "Earlobe"], 0)],
    "college_biology": [("Where does the Krebs cycle take place?",
                         ["Nucleus", "Ribosome", "Mitochondrial matrix", "Golgi body"], 2),
                        ("Which base pairs with adenine in DNA?",
                         ["Cytosine", "Guanine", "Uracil", "Thymine"], 3)],
    "college_medicine": [("Which hormone lowers blood glucose?",
                          ["Glucagon", "Insulin", "Cortisol", "Adrenaline"], 1),
                         ("Which ion sets the resting membrane potential mainly?",
                          ["Potassium", "Calcium", "Sodium", "Chloride"], 0)],
    "medical_genetics": [("How is cystic fibrosis inherited?",
                          ["X-linked", "Autosomal dominant", "Autosomal recessive",
                           "Mitochondrial"], 2),
                         ("Trisomy 21 causes which syndrome?",
                          ["Turner", "Down", "Edwards", "Patau"], 1)],
    "professional_medicine": [("A penicillin-allergic patient has a skin infection. Which "
                               + "drug is suitable?",
                               ["Amoxicillin", "Clindamycin", "Ampicillin", "Penicillin V"], 1),
                              ("Which test confirms a suspected pulmonary embolism?",
                               ["CT pulmonary angiography", "Spirometry", "Sputum culture",
                                "Echocardiogram of the hand"], 0)],
}

PUBMEDQA = [
    ("Does regular walking lower resting blood pressure in older adults?",
     ["Adults over 65 walked 30 minutes a day for 12 weeks.", "Systolic pressure fell by 6 mmHg."],
     "yes"),
    ("Does a single dose of vitamin D prevent winter colds?",
     ["Participants received one dose in autumn.", "Cold incidence did not differ."], "no"),
    ("Is screen time linked to sleep quality in teenagers?",
     ["A survey of 800 pupils was done.", "Associations were weak and inconsistent."], "maybe"),
    ("Does hand washing reduce ward infections?",
     ["Wards introduced hand-washing audits.", "Infection rates fell by a third."], "yes"),
]


def write_medqa(folder: Path) -> tuple[Path, Path]:
    """(the 4-options JSONL users hold, the sent1/ending form lm-eval's task reads)."""
    ours, theirs = folder / "phrases_no_exclude_test.jsonl", folder / "medqa_hf.jsonl"
    with ours.open("w") as a, theirs.open("w") as b:
        for q, opts, ans in QUESTIONS:
            a.write(json.dumps({"question": q, "answer": opts[ans],
                                "options": dict(zip("ABCD", opts)), "meta_info": "step1",
                                "answer_idx": "ABCD"[ans]}) + "\n")
            b.write(json.dumps({"sent1": q, **{f"ending{i}": o for i, o in enumerate(opts)},
                                "label": ans}) + "\n")
    return ours, theirs


def write_pubmedqa(folder: Path) -> tuple[Path, Path]:
    """(ori_pqal.json, bigbio's source schema as JSONL), the same questions."""
    rows = {str(21000000 + i): {"QUESTION": q, "CONTEXTS": ctx,
                                "LABELS": ["METHODS", "RESULTS"], "final_decision": label}
            for i, (q, ctx, label) in enumerate(PUBMEDQA)}
    ori = folder / "ori_pqal.json"
    ori.write_text(json.dumps(rows))
    source = folder / "pubmedqa_source.jsonl"
    source.write_text("".join(json.dumps({"PMID": k, **v}) + "\n" for k, v in rows.items()))
    return ori, source


def medmcqa_rows() -> list[dict]:
    """Rows of the Hugging Face form (cop 0..3)."""
    return [{"id": f"mcqa-{i:04d}", "question": q, "opa": o[0], "opb": o[1], "opc": o[2],
             "opd": o[3], "cop": a, "choice_type": "single", "exp": None,
             "subject_name": "Medicine", "topic_name": None}
            for i, (q, o, a) in enumerate(QUESTIONS)]


def write_medmcqa(folder: Path) -> tuple[Path, Path]:
    """(validation-00000-of-00001.parquet with cop 0..3, dev.json lines with cop 1..4)."""
    import pandas as pd

    parquet = folder / "validation-00000-of-00001.parquet"
    pd.DataFrame(medmcqa_rows()).to_parquet(parquet)
    original = folder / "dev.json"
    original.write_text("".join(json.dumps({**r, "cop": r["cop"] + 1}) + "\n"
                                for r in medmcqa_rows()))
    return parquet, original


def write_mmlu(folder: Path, subjects: tuple[str, ...] = LEADERBOARD_SUBJECTS,
               extra_subject: str | None = None) -> tuple[Path, Path]:
    """(the original release's test/ folder of CSVs, a cais/mmlu folder of Parquet files).

    `extra_subject` adds a file of a subject outside the leaderboard's six (it must be
    counted, not scored)."""
    import pandas as pd

    original, hub = folder / "data" / "test", folder / "cais_mmlu"
    original.mkdir(parents=True)
    items = {s: SUBJECT_QUESTIONS[s] for s in subjects}
    if extra_subject:
        items[extra_subject] = QUESTIONS[:2]
    for subject, questions in items.items():
        with (original / f"{subject}_test.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            for q, opts, ans in questions:
                writer.writerow([q, *opts, "ABCD"[ans]])
        (hub / subject).mkdir(parents=True)
        pd.DataFrame([{"question": q, "subject": subject, "choices": opts, "answer": ans}
                      for q, opts, ans in questions]).to_parquet(
            hub / subject / "test-00000-of-00001.parquet")
    return original, hub


def write_all(folder: Path) -> dict[str, Path]:
    """Every published form under `folder`; {name: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    medqa, medqa_hf = write_medqa(folder)
    ori, source = write_pubmedqa(folder)
    mcqa_parquet, mcqa_json = write_medmcqa(folder)
    mmlu_csv, mmlu_parquet = write_mmlu(folder)
    return {"medqa": medqa, "medqa_hf": medqa_hf, "pubmedqa": ori, "pubmedqa_source": source,
            "medmcqa": mcqa_parquet, "medmcqa_original": mcqa_json, "mmlu_csv": mmlu_csv,
            "mmlu_parquet": mmlu_parquet}
