"""lm-eval's own task YAMLs, pointed at local files and run by lm-eval's evaluator: what the
equality tests compare medgate with. Only the data source of a task is replaced; its
prompt, choices and metrics stay lm-eval's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

QUESTIONS = [  # written for these tests
    ("A 45-year-old man has crushing chest pain radiating to the left arm. First test?",
     ["ECG", "Chest X-ray", "Lipid panel", "Colonoscopy"], 0),
    ("A child has a barking cough and stridor. Most likely diagnosis?",
     ["Asthma", "Croup", "Epiglottitis", "Pneumonia"], 1),
    ("Which vitamin deficiency causes scurvy?", ["A", "B12", "C", "D"], 2),
    ("A woman with polyuria and polydipsia has glucose 300 mg/dL. Initial therapy?",
     ["Insulin", "Antibiotics", "Diuretics", "Steroids"], 0),
    ("Which nerve is injured in wrist drop?", ["Median", "Ulnar", "Radial", "Axillary"], 2),
    ("First-line drug for anaphylaxis?", ["Antihistamine", "Epinephrine", "Steroid", "Fluids"], 1),
]


def tasks_dir() -> Path:
    """lm-eval's bundled task folder in site-packages."""
    import lm_eval

    return Path(lm_eval.__file__).parent / "tasks"


def local_task(yaml_path: Path, data_file: Path, *, builder: str = "json",
               split: str = "test") -> dict[str, Any]:
    """lm-eval's own task config with its data source replaced by a local file."""
    from lm_eval.tasks._yaml_loader import load_yaml

    cfg = load_yaml(yaml_path)
    cfg.pop("dataset_name", None)
    for key in ("training_split", "validation_split", "fewshot_split"):
        cfg.pop(key, None)
    cfg.update(dataset_path=builder, dataset_kwargs={"data_files": {split: str(data_file)}},
               test_split=split)
    return cfg


def simple_evaluate(model_dir: Path, configs: list[dict[str, Any]], **kwargs: Any) -> dict:
    """lm-eval's simple_evaluate with its HF model over `configs`, samples logged."""
    from lm_eval import evaluator
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager
    from transformers import AutoModelForCausalLM, AutoTokenizer

    lm = HFLM(pretrained=AutoModelForCausalLM.from_pretrained(model_dir),
              tokenizer=AutoTokenizer.from_pretrained(model_dir), batch_size=4)
    return evaluator.simple_evaluate(model=lm, tasks=configs, log_samples=True,
                                     task_manager=TaskManager(include_defaults=False), **kwargs)
