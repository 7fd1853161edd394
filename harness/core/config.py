"""medgate.yaml: one pydantic model per concern, named after the seed workflow.

Sections follow the fine-tuning workflow's parameter table (model, dataset, training,
peft, output) plus evaluation, gates and report. Unknown keys are errors (a typo such
as `trainng:` must not silently fall back to defaults), and every error names the key
path. Secrets are `SecretStr` and are stripped from anything written to disk.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from harness.core.errors import BadInputError
from harness.core.io import (
    check_flow_nesting,
    format_validation_errors,
    read_yaml,
    yaml_failure,
)

DEFAULT_MODEL = "smollm2-135m"
# Keys that once sat in `evaluation` and are refused with a pointer to their replacement.
RETIRED_JUDGE_KEYS = ("judge", "judge_model", "judge_endpoint")
DEFAULT_MEDICAL_ROLES = (
    "physician", "medical doctor", "surgeon", "general practitioner", "nurse",
    "nurse practitioner", "physician assistant", "midwife", "pharmacist", "clinical pharmacist",
    "clinical pharmacologist", "dentist",
)


class Section(BaseModel):
    # allow_inf_nan=False: `.inf` epochs or a NaN rate is never a setting, only a typo or worse.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class ModelConfig(Section):
    """Which base model. `name` is a preset (smollm2-135m), a hub id or a local folder."""

    name: str = DEFAULT_MODEL
    gguf_file: str | None = None
    revision: str | None = None
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    trust_remote_code: bool = False
    hf_token: SecretStr | None = None


class ReplayConfig(Section):
    """General-domain replay mixed into training, the lecture's defence against forgetting."""

    dataset: str | None = None
    ratio: float = Field(0.0, ge=0.0, lt=1.0)
    split: str = "train"


class DatasetConfig(Section):
    """Training data. `name` is a hub dataset, a local file or folder, or `demo`."""

    name: str = "demo"
    format: Literal["auto", "json", "jsonl", "csv", "parquet", "arrow", "dataset"] = "auto"
    config_name: str | None = None
    split: str = "train"
    validation_split: str | None = None
    validation_size: float = Field(0.1, ge=0.0, lt=1.0)
    prompt_field: str = "prompt"
    max_samples: int = Field(0, ge=0)
    system_prompt: str = "You are a careful medical assistant. Answer accurately and say when a clinician must be consulted."
    replay: ReplayConfig = ReplayConfig()


class TrainingConfig(Section):
    """Optimisation. Defaults follow the seed workflow; the demo config shrinks them."""

    num_epochs: float = Field(3.0, gt=0)
    max_steps: int = -1
    learning_rate: float = Field(2e-4, gt=0)
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "cosine"
    warmup_ratio: float = Field(0.05, ge=0, lt=1)
    micro_batch_size: int = Field(1, ge=1)
    gradient_accumulation: int = Field(16, ge=1)
    max_seq_length: int = Field(2048, ge=16)
    weight_decay: float = Field(0.01, ge=0)
    max_grad_norm: float = Field(1.0, gt=0)
    gradient_checkpointing: bool = True
    bf16: bool = False
    packing: bool = False
    seed: int = 42
    logging_steps: int = Field(1, ge=1)
    eval_steps: int = Field(10, ge=1)
    save_steps: int = Field(10, ge=1)
    save_total_limit: int | None = None
    early_stopping_patience: int = Field(0, ge=0)
    early_stopping_threshold: float = Field(0.0, ge=0)
    early_stopping_metric: str = "eval_loss"
    # Preference tuning: `dpo` trains on prompt/chosen/rejected pairs (or expert ratings
    # turned into pairs, finetune.preference) with TRL's DPOTrainer; `sft` is the default.
    method: Literal["sft", "dpo"] = "sft"
    dpo_beta: float = Field(0.1, gt=0)
    # Passed to transformers' TrainingArguments.report_to (e.g. [tensorboard], [mlflow]).
    report_to: list[str] = []

    @model_validator(mode="after")
    def _beta_needs_dpo(self) -> TrainingConfig:
        # A beta other than the default asks for something only DPO reads (a starter config
        # that spells out every default is fine).
        default = type(self).model_fields["dpo_beta"].default
        if self.dpo_beta != default and self.method != "dpo":
            raise ValueError("training.dpo_beta is read only with training.method dpo")
        return self


class PeftConfig(Section):
    """LoRA / PEFT. `qlora` is LoRA on a bitsandbytes-quantised base (NF4 by default)."""

    method: Literal["lora", "qlora", "prefix", "ia3", "full"] = "lora"
    r: int = Field(64, ge=1)
    alpha: int = Field(16, ge=1)
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: list[str] | Literal["all-linear"] = ["q_proj", "k_proj", "v_proj", "o_proj"]
    quantization: Literal["4bit", "8bit"] = "4bit"
    quant_type: Literal["nf4", "fp4"] = "nf4"
    double_quant: bool = True
    num_virtual_tokens: int = Field(20, ge=1)


class OutputConfig(Section):
    run_dir: str | None = None
    runs_root: str = "runs"
    merge_full_weights: bool = True
    merged_save_format: Literal["safetensors", "bin"] = "safetensors"


class EvaluationConfig(Section):
    """Which suites score every model, and how."""

    suites: list[str] = ["medqa", "pubmedqa", "general", "medqa-robust", "safety",
                         "over-refusal", "critical"]
    data: dict[str, str] = {}
    # Per-suite options over the defaults in each suite's spec, e.g. {safety: {judge: llm}};
    # checked against the options the suite declares (`medgate suites --json` lists them).
    suite_options: dict[str, dict[str, Any]] = {}
    # The user's suite spec files, or folders of them, read beside the bundled specs: a
    # suite added by a YAML file alone (relative paths resolve against the working folder).
    suite_specs: list[str] = []
    limit: int | None = Field(None, ge=1)
    # Per-suite caps on top of `limit`, e.g. {medqa-robust: 40}: the perturbation suite
    # scores every item nine times, so a CPU demo samples it while the rest stay whole.
    limits: dict[str, int] = {}
    # Items per suite scored while training runs (the screen behind the printed verdict and
    # gates.early_stop); every checkpoint is then evaluated in full, its screened items
    # coming back from the result cache.
    checkpoint_limit: int | None = Field(None, ge=1)
    backend: Literal["hf", "vllm"] = "hf"
    # The hf backend answers log-likelihood requests that share a prompt without lm-eval's
    # HFLM: single-token choices from one forward pass (last position only), option texts
    # (cloze) with the prompt run once; tested to give lm-eval's log-likelihoods. Requests
    # that do not fit (or any request on vllm) are answered by lm-eval's LM. On by
    # default: tests/suites/test_suite_lmeval_equality.py proves the answers equal.
    fast_path: bool = True
    # train-and-gate scores each suite in a seeded random order, in blocks, and stops a
    # suite once no check of the policy needs more of it (gates.sequential: exact
    # curtailment, and futility by an anytime-valid confidence sequence for rates);
    # candidates are scored on the selection items while they are chosen and only the
    # chosen one on the confirmation items. `exhaustive: true` (--exhaustive) scores every
    # item of every suite for every model, as does a run with `checkpoint_limit` (its own
    # screen while training).
    exhaustive: bool = False
    batch_size: int = Field(8, ge=1)
    # Prompts generated together by the free-text suites (None: batch_size). Each decoding
    # step costs about the same for 8 or 32 prompts on a CPU, so larger batches finish
    # sooner there; bounded by memory on a GPU.
    generation_batch_size: int | None = Field(None, ge=1)
    num_fewshot: int = Field(0, ge=0)
    apply_chat_template: bool = False
    max_new_tokens: int = Field(96, ge=1)
    seed: int = 1234
    cache: bool = True

    @model_validator(mode="before")
    @classmethod
    def _no_retired_judge_keys(cls, data: Any) -> Any:
        """The judge is a suite option; the old top-level keys were read by nothing, so a
        config naming them asked for a judge it silently did not get."""
        if isinstance(data, dict):
            retired = [key for key in RETIRED_JUDGE_KEYS if key in data]
            if retired:
                raise ValueError(
                    f"unknown key {', '.join(f'evaluation.{k}' for k in retired)} (it was never "
                    "read): the LLM judge is asked for with evaluation.suite_options, e.g. "
                    "{safety: {judge: llm, llm_judge: {model: PATH}}} or "
                    "{safety: {judge: llm, llm_judge: {endpoint: URL, model: NAME}}}")
        return data


class GateEarlyStopConfig(Section):
    """Stop training on the gate's own evidence, read as each checkpoint is evaluated.

    `on_failed` names policy checks that end training at the first checkpoint failing
    them (forgetting only grows with more steps of the same data); `metric` ("suite.metric")
    ends it when that metric has not improved by `min_delta` for `patience` checkpoints.
    Off unless one of them is set.
    """

    on_failed: list[str] = []
    metric: str | None = None
    mode: Literal["max", "min"] = "max"
    patience: int = Field(1, ge=1)
    min_delta: float = Field(0.0, ge=0)


class GatesConfig(Section):
    policy: str = "default"
    selection: Literal["last_passing", "best_primary"] | None = None  # None: the policy's rule
    early_stop: GateEarlyStopConfig = GateEarlyStopConfig()


class PreflightConfig(Section):
    phi: Literal["warn", "block"] = "block"
    overlap: Literal["remove", "block"] = "remove"
    ngram: int = Field(13, ge=3)
    max_row_chars: int = Field(20000, ge=1)


class ReportConfig(Section):
    title: str | None = None
    intended_use: str = (
        "Research evaluation of a fine-tuned medical language model. Not for clinical "
        "decision-making without qualified human oversight."
    )
    out_of_scope: str = (
        "Diagnosis or treatment of real patients without clinician review; emergency triage; "
        "use by patients as a substitute for professional care."
    )
    reviewers_required: int = Field(3, ge=0)
    # The sign-off roles that count toward the expert review's "N+ medical professionals",
    # matched case-insensitively with whitespace normalised; any other role is on record
    # but does not count (regulatory roles count toward the regulatory item instead).
    medical_roles: list[str] = Field(default_factory=lambda: list(DEFAULT_MEDICAL_ROLES),
                                     min_length=1)

    @field_validator("medical_roles")
    @classmethod
    def _roles_named(cls, roles: list[str]) -> list[str]:
        cleaned = [" ".join(role.split()) for role in roles]
        if not all(cleaned):
            raise ValueError("a medical role must not be empty")
        return cleaned


# --- training recipes (the lecture's mixture, multi-task, curriculum, forgetting
# regularisers, augmentation, layer-wise learning rates and presets) ---------------------

MIXTURE_MAIN = "main"  # the name `recipes.mixture.weights` gives the dataset.name rows
PRESETS_DIR = Path(__file__).resolve().parents[2] / "finetune" / "presets"


class MixtureSourceConfig(Section):
    """One more training source mixed with the main data (a file, folder or hub id)."""

    name: str = Field(min_length=1)
    dataset: str = Field(min_length=1)
    split: str = "train"


class MixtureConfig(Section):
    """Domain mixture: each source's share of the examples trained, constant or moving
    (linear, or one step at `step_at` of training) from `weights` to `end_weights`.
    Weight names are `main` (dataset.name) and each source's `name`."""

    sources: list[MixtureSourceConfig] = []
    weights: dict[str, float] = {}
    end_weights: dict[str, float] | None = None
    schedule: Literal["constant", "linear", "step"] = "constant"
    step_at: float = Field(0.5, gt=0, lt=1)

    @model_validator(mode="after")
    def _weights_name_sources(self) -> MixtureConfig:
        if not self.sources:
            if self.weights or self.end_weights:
                raise ValueError("recipes.mixture.weights needs recipes.mixture.sources")
            return self
        names = [s.name for s in self.sources]
        if MIXTURE_MAIN in names or len(set(names)) != len(names):
            raise ValueError(f"recipes.mixture.sources: names must be unique and not "
                             f"'{MIXTURE_MAIN}', got {names}")
        expected = {MIXTURE_MAIN, *names}
        for key, weights in (("weights", self.weights), ("end_weights", self.end_weights)):
            if weights is None:
                continue
            if set(weights) != expected:
                raise ValueError(f"recipes.mixture.{key} must name exactly {sorted(expected)}, "
                                 f"got {sorted(weights)}")
            if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
                raise ValueError(f"recipes.mixture.{key}: weights are >= 0 with a positive sum")
        if self.schedule != "constant" and self.end_weights is None:
            raise ValueError(f"recipes.mixture.schedule={self.schedule} needs end_weights")
        if self.schedule == "constant" and self.end_weights is not None:
            raise ValueError("recipes.mixture.end_weights needs schedule linear or step")
        return self


class TasksConfig(Section):
    """Multi-task training: the task of a row is its `field`; tasks are drawn uniformly,
    in proportion to their size, or with temperature sampling p ~ n^(1/T). A task's
    template rewrites its prompt; `{input}` stands for the row's own prompt."""

    field: str | None = None
    weighting: Literal["uniform", "proportional", "temperature"] = "proportional"
    temperature: float = Field(2.0, gt=0)
    templates: dict[str, str] = {}

    @field_validator("templates")
    @classmethod
    def _templates_take_input(cls, templates: dict[str, str]) -> dict[str, str]:
        missing = [task for task, text in templates.items() if "{input}" not in text]
        if missing:
            raise ValueError(f"a task template must contain {{input}}: {missing}")
        return templates


class CurriculumConfig(Section):
    """Easy before hard: order by a level field or by the base model's loss on each
    example; `pacing` admits harder examples from `start_fraction` of the easiest to
    all of them at `full_at` of training."""

    order_by: Literal["none", "level", "loss"] = "none"
    level_field: str = "level"
    levels: list[str] = []  # level names from easiest to hardest; empty: numeric levels
    pacing: Literal["linear", "root", "step"] = "linear"
    start_fraction: float = Field(0.25, gt=0, le=1)
    full_at: float = Field(0.5, gt=0, le=1)


class EwcConfig(Section):
    strength: float = Field(0.0, ge=0)
    samples: int = Field(32, ge=1)  # general-data examples for the Fisher estimate


class L2SPConfig(Section):
    strength: float = Field(0.0, ge=0)


class DistillConfig(Section):
    strength: float = Field(0.0, ge=0)
    temperature: float = Field(1.0, gt=0)
    batch_size: int = Field(2, ge=1)


class RegularisersConfig(Section):
    """Forgetting regularisers added to the training loss; 0 strength is off."""

    general_data: str = "demo"  # general text for EWC's Fisher and distillation
    ewc: EwcConfig = EwcConfig()
    l2_sp: L2SPConfig = L2SPConfig()
    distill: DistillConfig = DistillConfig()


class AugmentConfig(Section):
    """Perturbed copies of training prompts (the robustness suite's engine and guard)."""

    rate: float = Field(0.0, ge=0, le=1)
    variants: list[str] = ["typo_keyboard", "ocr", "spelling", "synonym"]
    seed: int = 7


class RecipesConfig(Section):
    preset: str | None = None  # a file in finetune/presets (name without .yaml) or a path
    mixture: MixtureConfig = MixtureConfig()
    tasks: TasksConfig = TasksConfig()
    curriculum: CurriculumConfig = CurriculumConfig()
    regularisers: RegularisersConfig = RegularisersConfig()
    augment: AugmentConfig = AugmentConfig()
    # Discriminative learning rates: the bottom layer trains at learning_rate / ratio,
    # the top at learning_rate, geometric in between (lecture: 1:10); 1 is off.
    layer_lr_ratio: float = Field(1.0, ge=1)


def preset_values(name: str, source: str = "config") -> dict[str, Any]:
    """The config values of a preset: a name in finetune/presets or a YAML path. Errors
    name the key and the config (`source`) that asked for the preset."""
    try:
        path = Path(name).expanduser()
        if not path.suffix:
            path = PRESETS_DIR / f"{name}.yaml"
        found = path.is_file()
    except (ValueError, OSError):  # a NUL byte, a name too long for the file system
        found = False
    if not found:
        known = sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))
        raise BadInputError(f"key 'recipes.preset': no preset '{name[:80]}' (known: {known}, or a "
                            "path to a .yaml file)", where=source)
    loaded = read_yaml(path, what="preset file") or {}
    if not isinstance(loaded, dict) or (loaded.get("recipes") or {}).get("preset"):
        raise BadInputError("a preset is a mapping of config sections and names no preset",
                            where=str(path))
    return loaded


class TrackingConfig(Section):
    """Experiment tracking in MLflow: the run's parameters, training metrics, every gate
    check, the verdict and the reports; the promoted model registered with its verdict.
    On with `enabled` or a `mlflow_uri`; enabled with no URI, a local `mlruns/` folder."""

    enabled: bool = False
    mlflow_uri: str | None = None
    experiment: str = "medgate"
    register_model: str | None = None  # registered model name (None: not registered)

    @property
    def active(self) -> bool:
        """Tracking is on when asked for, or when a tracking URI is given."""
        return self.enabled or self.mlflow_uri is not None

    @model_validator(mode="after")
    def _registry_needs_tracking(self) -> TrackingConfig:
        if self.register_model and not self.active:
            raise ValueError("tracking.register_model needs tracking (tracking.enabled: true "
                             "or a tracking.mlflow_uri)")
        return self


class MedgateConfig(Section):
    model: ModelConfig = ModelConfig()
    dataset: DatasetConfig = DatasetConfig()
    training: TrainingConfig = TrainingConfig()
    peft: PeftConfig = PeftConfig()
    output: OutputConfig = OutputConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    gates: GatesConfig = GatesConfig()
    preflight: PreflightConfig = PreflightConfig()
    report: ReportConfig = ReportConfig()
    recipes: RecipesConfig = RecipesConfig()
    tracking: TrackingConfig = TrackingConfig()

    def hf_token(self) -> str | None:
        """The token from config, else from the environment; never stored anywhere."""
        if self.model.hf_token is not None:
            return self.model.hf_token.get_secret_value()
        return os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")

    def to_public_dict(self) -> dict[str, Any]:
        """The resolved config as plain data with every secret removed."""
        data = self.model_dump(mode="json")
        data["model"].pop("hf_token", None)
        return data


# --- loading ---------------------------------------------------------------------------


def _parse_scalar(text: str) -> Any:
    """`--set` values are YAML scalars/lists, so `1e-4`, `true`, `[q_proj,v_proj]` work."""
    check_flow_nesting(text, "--set value")
    try:
        return yaml.safe_load(text) if text != "" else ""
    except yaml.YAMLError:
        return text
    except (ValueError, RecursionError) as exc:  # 2020-13-45, a 5000-digit int, [[[[...
        raise BadInputError(f"--set value '{text[:60]}' cannot be read: {yaml_failure(exc)}") from exc


def apply_override(data: dict[str, Any], assignment: str) -> None:
    if "=" not in assignment:
        raise BadInputError(f"--set expects KEY=VALUE, got '{assignment}'")
    key, value = assignment.split("=", 1)
    parts = key.strip().split(".")
    if not all(parts):
        raise BadInputError(f"--set: empty key segment in '{key}'")
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise BadInputError(f"--set: '{part}' in '{key}' is not a section")
        node = child
    node[parts[-1]] = _parse_scalar(value)


def load_config(path: str | Path | None = None, overrides: list[str] | None = None,
                base: dict[str, Any] | None = None) -> MedgateConfig:
    """Read YAML (or start from `base`), apply `--set` overrides, validate."""
    source = "defaults"
    data: dict[str, Any] = dict(base or {})
    if path is not None:
        source = str(path)
        loaded = read_yaml(path, what="config file")
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise BadInputError("top level must be a mapping of sections", where=source)
        data = _deep_merge(data, loaded)
    for assignment in overrides or []:
        apply_override(data, assignment)
    recipes = data.get("recipes")
    preset = recipes.get("preset") if isinstance(recipes, dict) else None
    if isinstance(preset, str) and preset:
        # over the embedded defaults (`base`), under what the file and --set say
        user: dict[str, Any] = _deep_merge({}, loaded) if path is not None else {}
        for assignment in overrides or []:
            apply_override(user, assignment)
        asked = source + (" (with --set)" if overrides else "")
        data = _deep_merge(_deep_merge(dict(base or {}), preset_values(preset, asked)), user)
    try:
        return MedgateConfig.model_validate(data)
    except ValidationError as exc:
        raise BadInputError(format_validation_errors(exc, source + (" (with --set)" if overrides else ""))) from exc


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def write_resolved(config: MedgateConfig, path: str | Path) -> Path:
    from harness.core.atomic import write_text

    return write_text(path, yaml.safe_dump(config.to_public_dict(), sort_keys=False))
