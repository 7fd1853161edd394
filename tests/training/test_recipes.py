"""Training recipes on the tiny model: the examples the trainer actually consumed
(train/consumed.jsonl) checked against the config's proportions and order; the
regularisers' terms logged and doing what they say; augmentation through the
perturbation engine and its guard; layer-wise learning rates; presets end to end."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from finetune.recipes.schedule import admitted_fraction, mixture_weights, task_probabilities
from finetune.trainer import train
from harness.app.cli import main
from harness.core.config import PRESETS_DIR, load_config
from harness.core.errors import BadInputError
from harness.core.rundir import RunDir

from .conftest import TASKS, write_jsonl

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _rows(sizes: dict[str, int], level_of=None) -> list[dict]:
    rows = []
    for task, n in sizes.items():
        prompt, answer = TASKS[task]
        for i in range(n):
            row = {"task": task, "instruction": prompt.format(x=f"case {task} {i}"), "input": "",
                   "output": answer}
            if level_of:
                row["level"] = level_of(len(rows))
            rows.append(row)
    return rows


@pytest.fixture
def general_file(tmp_path) -> Path:
    return write_jsonl(tmp_path / "general.jsonl",
                       [{"question": f"Name a colour number {i}.", "answer": f"Colour {i} is blue."}
                        for i in range(12)])


def _base(tiny_model_dir, data: Path, steps: int, batch: int = 16) -> list[str]:
    return [f"model.name={tiny_model_dir}", f"dataset.name={data}", f"training.max_steps={steps}",
            f"training.micro_batch_size={batch}", "training.gradient_accumulation=1",
            "training.max_seq_length=128", "training.gradient_checkpointing=false",
            f"training.save_steps={steps}", f"training.eval_steps={steps}",
            "training.logging_steps=5", "training.learning_rate=0.005",
            "dataset.validation_size=0", "dataset.system_prompt=", "output.merge_full_weights=false",
            "peft.r=4", "peft.alpha=8"]


def _train(tmp_path, overrides):
    config = load_config(None, overrides)
    run = RunDir.create(tmp_path / "run")
    result = train(config, run, progress=False)
    consumed = [json.loads(line) for line in (run.train_dir / "consumed.jsonl").read_text().splitlines()]
    return config, run, result, consumed


def test_mixture_and_task_weights_realised_in_the_examples_trained(tmp_path, tiny_model_dir, general_file):
    sizes = {"diagnosis": 24, "treatment": 8, "test_interpretation": 4}
    data = write_jsonl(tmp_path / "tasks.jsonl", _rows(sizes))
    steps, batch = 100, 16
    config, run, result, consumed = _train(tmp_path, [
        *_base(tiny_model_dir, data, steps, batch),
        f"recipes.mixture.sources=[{{name: general, dataset: {general_file}}}]",
        "recipes.mixture.weights={main: 0.8, general: 0.2}",
        "recipes.tasks.field=task", "recipes.tasks.weighting=temperature", "recipes.tasks.temperature=2"])
    assert result.final_step == steps and len(consumed) == steps * batch
    # every example the trainer consumed, in the order of the recipe's sequence
    assert [c["index"] for c in consumed] == list(range(steps * batch))
    assert [c["step"] for c in consumed] == [1 + i // batch for i in range(steps * batch)]
    n = len(consumed)
    share = Counter(c["source"] for c in consumed)
    assert abs(share["main"] / n - 0.8) <= 0.02 and abs(share["general"] / n - 0.2) <= 0.02
    expected = task_probabilities(config.recipes.tasks, sizes)
    assert expected["diagnosis"] == pytest.approx(24 ** 0.5 / (24 ** 0.5 + 8 ** 0.5 + 2))
    tasks = Counter(c["task"] for c in consumed if c["task"])
    for task, p in expected.items():
        assert abs(tasks[task] / n - 0.8 * p) <= 0.02, (task, tasks[task] / n, 0.8 * p)
    # the logged share per logging step is the share of that step's consumed examples
    history = json.loads(run.history.read_text())
    logged = [h for h in history if "recipe.share.main" in h]
    assert [h["step"] for h in logged][:3] == [1, 5, 10]
    window = [c for c in consumed if 6 <= c["step"] <= 10]
    assert logged[2]["recipe.share.main"] == pytest.approx(
        sum(c["source"] == "main" for c in window) / len(window))
    assert all(f"recipe.task_loss.{t}" in logged[-1] for t in sizes)
    recipes = json.loads((run.train_dir / "recipes.json").read_text())
    assert recipes["configured"]["tasks"]["weighting"] == "temperature"
    assert set(recipes["plan"]["pools"]) == {"main/diagnosis", "main/treatment",
                                             "main/test_interpretation", "general"}


def test_linear_and_step_mixture_schedules_move_the_share(tmp_path, tiny_model_dir, general_file,
                                                         smol_tokenizer):
    from finetune.datasets import load_training_data
    from finetune.recipes.stream import build_stream

    data = write_jsonl(tmp_path / "tasks.jsonl", _rows({"diagnosis": 20}))
    linear = [f"recipes.mixture.sources=[{{name: general, dataset: {general_file}}}]",
              "recipes.mixture.weights={main: 0.5, general: 0.5}",
              "recipes.mixture.end_weights={main: 0.9, general: 0.1}",
              "recipes.mixture.schedule=linear"]
    steps, batch = 30, 16
    config, _run, _, consumed = _train(tmp_path, [*_base(tiny_model_dir, data, steps, batch), *linear])
    # what the trainer consumed is the planned sequence, example for example
    planned = build_stream(config, smol_tokenizer, load_training_data(config, smol_tokenizer))
    assert [(c["index"], c["id"]) for c in consumed] == [(i, m["id"]) for i, m in enumerate(planned.meta)]
    half = len(consumed) // 2
    assert (sum(c["source"] == "main" for c in consumed[:half])
            < sum(c["source"] == "main" for c in consumed[half:]))
    # over enough examples, each quarter's share is the schedule's mean over that quarter
    long = load_config(None, [*_base(tiny_model_dir, data, 1000, batch), *linear])
    meta = build_stream(long, smol_tokenizer, load_training_data(long, smol_tokenizer)).meta
    n = len(meta)
    for quarter in range(4):
        lo, hi = quarter * n // 4, (quarter + 1) * n // 4
        expected = sum(mixture_weights(long.recipes.mixture, (i + 0.5) / n)["main"]
                       for i in range(lo, hi)) / (hi - lo)
        realised = sum(m["source"] == "main" for m in meta[lo:hi]) / (hi - lo)
        assert abs(realised - expected) <= 0.02, (quarter, realised, expected)
    step = load_config(None, ["recipes.mixture.sources=[{name: g, dataset: x}]",
                              "recipes.mixture.weights={main: 1, g: 1}",
                              "recipes.mixture.end_weights={main: 9, g: 1}",
                              "recipes.mixture.schedule=step", "recipes.mixture.step_at=0.25"])
    assert mixture_weights(step.recipes.mixture, 0.2)["main"] == 0.5
    assert mixture_weights(step.recipes.mixture, 0.3)["main"] == pytest.approx(0.9)


def test_curriculum_by_level_admits_harder_examples_as_paced(tmp_path, tiny_model_dir):
    levels = ["facts", "concepts", "reasoning", "clinical judgment"]
    data = write_jsonl(tmp_path / "levels.jsonl",
                       _rows({"diagnosis": 16, "treatment": 16}, level_of=lambda i: levels[i % 4]))
    steps, batch = 30, 8
    config, run, _, consumed = _train(tmp_path, [
        *_base(tiny_model_dir, data, steps, batch), "recipes.curriculum.order_by=level",
        f"recipes.curriculum.levels={json.dumps(levels)}", "recipes.curriculum.pacing=step",
        "recipes.curriculum.start_fraction=0.25", "recipes.curriculum.full_at=0.5"])
    order = json.loads((run.train_dir / "recipes.json").read_text())["plan"]["curriculum"]["order"]["main"]
    assert [o["level"] for o in order] == sorted(o["level"] for o in order)  # the order used, recorded
    rank = {o["id"]: i for i, o in enumerate(order)}
    n = len(consumed)
    for c in consumed:  # nothing harder than the pacing admits at that point of training
        admitted = admitted_fraction(config.recipes.curriculum, c["index"] / n) * len(order)
        assert rank[c["id"]] < max(1, -(-admitted // 1)), c
    # step pacing: the easiest quarter (the facts) for the first half, then every level
    assert {c["level"] for c in consumed[: n // 2]} == {0.0}
    assert {c["level"] for c in consumed[n // 2:]} == {0.0, 1.0, 2.0, 3.0}
    assert len({c["id"] for c in consumed[: n // 2]}) == 8  # each of the 8 facts drawn
    linear = config.recipes.curriculum.model_copy(update={"pacing": "linear"})
    root = config.recipes.curriculum.model_copy(update={"pacing": "root"})
    assert admitted_fraction(linear, 0.25) == pytest.approx(0.625)
    assert admitted_fraction(root, 0.125) == pytest.approx(0.625)
    assert admitted_fraction(linear, 0.0) == 0.25 and admitted_fraction(linear, 0.9) == 1.0


def test_curriculum_by_base_model_loss_is_cached(tmp_path, tiny_model_dir, monkeypatch):
    monkeypatch.setenv("MEDGATE_CACHE", str(tmp_path / "cache"))
    data = write_jsonl(tmp_path / "d.jsonl", _rows({"diagnosis": 6, "treatment": 6}))
    overrides = [*_base(tiny_model_dir, data, 4, 4), "recipes.curriculum.order_by=loss"]
    _, run, _, _consumed = _train(tmp_path, overrides)
    order = json.loads((run.train_dir / "recipes.json").read_text())["plan"]["curriculum"]["order"]["main"]
    losses = [o["level"] for o in order]
    assert losses == sorted(losses) and len(set(losses)) > 1
    cached = list((tmp_path / "cache" / "difficulty").glob("*.json"))
    assert len(cached) == 1 and sorted(json.loads(cached[0].read_text())) == losses


def test_regularisers_log_their_terms_and_l2_sp_holds_the_adapter_back(tmp_path, tiny_model_dir):
    data = write_jsonl(tmp_path / "d.jsonl", _rows({"diagnosis": 8, "treatment": 8}))
    base = [*_base(tiny_model_dir, data, 6, 4), "training.logging_steps=1",
            "training.learning_rate=0.05", "training.lr_scheduler=constant", "training.warmup_ratio=0"]
    from safetensors.torch import load_file

    def adapter_norm(run):
        weights = load_file(run.adapters_dir / "adapter_model.safetensors")
        return sum(float((w ** 2).sum()) for k, w in weights.items() if "lora_B" in k)

    runs = {}
    for name, extra in {"none": [], "l2_sp": ["recipes.regularisers.l2_sp.strength=1000"],
                        "all": ["recipes.regularisers.ewc.strength=100",
                                "recipes.regularisers.distill.strength=1"]}.items():
        config = load_config(None, [*base, *extra])
        run = RunDir.create(tmp_path / name)
        train(config, run, progress=False)
        runs[name] = (run, json.loads(run.history.read_text()))
    assert adapter_norm(runs["l2_sp"][0]) < 0.5 * adapter_norm(runs["none"][0])
    l2 = [h["recipe.l2_sp"] for h in runs["l2_sp"][1] if "recipe.l2_sp" in h]
    assert l2[0] == 0.0 and l2[-1] > 0  # zero at the start, then the distance travelled
    last = [h for h in runs["all"][1] if "recipe.ewc" in h][-1]
    assert last["recipe.ewc"] > 0 and last["recipe.distill"] > 0
    assert not any(k.startswith("recipe.") for h in runs["none"][1] for k in h)
    record = json.loads((runs["all"][0].train_dir / "recipes.json").read_text())
    assert record["general_data"]["source"] == "demo-general" and record["general_data"]["rows"] == 40


def test_distillation_refuses_a_full_fine_tune(tmp_path, tiny_model_dir):
    data = write_jsonl(tmp_path / "d.jsonl", _rows({"diagnosis": 4}))
    config = load_config(None, [*_base(tiny_model_dir, data, 1, 2), "peft.method=full",
                                "recipes.regularisers.distill.strength=1"])
    with pytest.raises(BadInputError, match="adapter disabled"):
        train(config, RunDir.create(tmp_path / "run"), progress=False)


def _user(example) -> str:
    return [m["content"] for m in example.messages if m["role"] == "user"][-1]


def test_augmented_copies_keep_the_answer_and_pass_the_guard(tmp_path, tiny_model_dir):
    from finetune.datasets import read_examples
    from finetune.recipes.augment import augment

    rows = _rows({"diagnosis": 20, "treatment": 20})
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    config = load_config(None, [*_base(tiny_model_dir, data, 4, 4), "recipes.augment.rate=0.5"])
    examples, _ = read_examples(config)
    copies, info = augment(examples, config.recipes.augment)
    assert 8 <= info["copies"] <= 32 and sum(info["by_status"].values()) >= info["copies"]
    original = {e.row: e for e in examples}
    for copy, variant in copies:
        src = original[copy.row]
        assert copy.messages[-1] == src.messages[-1]  # the answer as written
        assert _user(copy) != _user(src)
        assert variant in config.recipes.augment.variants
    again, _ = augment(examples, config.recipes.augment)
    assert [c.text for c, _ in again] == [c.text for c, _ in copies]  # seeded
    _, _run, _, consumed = _train(tmp_path, [*_base(tiny_model_dir, data, 10, 8),
                                            "recipes.augment.rate=0.5"])
    assert any(c["id"].startswith("augmented:") for c in consumed)
    bad = load_config(None, ["recipes.augment.rate=0.5", "recipes.augment.variants=[age_shift]"])
    with pytest.raises(BadInputError, match="recipes.augment.variants"):
        augment(examples, bad.recipes.augment)


def test_layer_wise_learning_rates_run_bottom_to_top(tmp_path, tiny_model_dir):
    data = write_jsonl(tmp_path / "d.jsonl", _rows({"diagnosis": 8}))
    config = load_config(None, [*_base(tiny_model_dir, data, 2, 4), "recipes.layer_lr_ratio=10",
                                "training.lr_scheduler=constant", "training.warmup_ratio=0"])
    seen = {}
    from finetune.recipes import runtime

    original = runtime.RecipeMixin.create_optimizer

    def spy(self, model=None):
        optimizer = original(self, model)
        seen["lrs"] = sorted({g["lr"] for g in optimizer.param_groups})
        return optimizer

    runtime.RecipeMixin.create_optimizer = spy
    try:
        train(config, RunDir.create(tmp_path / "run"), progress=False)
    finally:
        runtime.RecipeMixin.create_optimizer = original
    assert seen["lrs"] == pytest.approx([0.0005, 0.005])  # 2 layers: 1:10, bottom to top


@pytest.mark.parametrize("preset", sorted(p.stem for p in PRESETS_DIR.glob("*.yaml")))
def test_every_preset_trains_end_to_end(tmp_path, tiny_model_dir, tiny_overrides, preset):
    overrides = [*tiny_overrides, f"recipes.preset={preset}", "output.merge_full_weights=false"]
    config = load_config(None, overrides)
    values = load_config(PRESETS_DIR / f"{preset}.yaml")
    assert config.peft.r == 4  # --set wins over the preset ...
    assert config.peft.dropout == values.peft.dropout  # ... and the preset over the defaults
    assert config.recipes.regularisers == values.recipes.regularisers
    run = RunDir.create(tmp_path / "run")
    result = train(config, run, progress=False)
    assert result.final_step == 4
    assert json.loads((run.train_dir / "recipes.json").read_text())["configured"]["preset"] == preset


def test_few_shot_preset_sets_the_lecture_values():
    config = load_config(None, ["recipes.preset=few-shot"])
    assert config.training.learning_rate == 0.005 and config.training.num_epochs == 30
    assert config.peft.dropout == 0.2 and config.recipes.regularisers.l2_sp.strength > 0
    assert load_config(None, ["recipes.preset=rank-complex"]).peft.r == 16


@pytest.mark.parametrize("setting, named", [
    ("recipes.mixtrue.weights={main: 1}", "mixtrue"),
    ("recipes.curriculum.order_by=random", "order_by"),
    ("recipes.mixture.weights={main: 1}", "recipes.mixture.weights needs"),
    ("recipes.tasks.templates={diagnosis: 'no placeholder'}", "{input}"),
    ("recipes.preset=no-such-preset", "no preset 'no-such-preset'"),
    ("recipes.regularisers.ewc.strenght=1", "strenght"),
])
def test_bad_recipe_settings_exit_2_naming_the_key(setting, named, capsys):
    assert main(["train", "--set", setting, "--run-dir", "/nonexistent/never"]) == 2
    assert named in " ".join(capsys.readouterr().err.split())  # the console wraps long lines


def test_replay_with_a_recipe_sequence_is_refused(tmp_path, tiny_model_dir, general_file):
    data = write_jsonl(tmp_path / "d.jsonl", _rows({"diagnosis": 8}))
    config = load_config(None, [*_base(tiny_model_dir, data, 2, 4), "recipes.tasks.field=task",
                                f"dataset.replay.dataset={general_file}", "dataset.replay.ratio=0.2"])
    with pytest.raises(BadInputError, match="recipes.mixture source"):
        train(config, RunDir.create(tmp_path / "run"), progress=False)
