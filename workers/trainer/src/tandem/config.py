"""The one training configuration: HF TRL's GRPOConfig names where a counterpart exists, plus tandem's own.

`p_junior = 0` is vanilla GRPO; any other value is Tandem RL. Both run through the same code path, so the
comparison between them is fair. Unknown or invalid fields are errors that name the field.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .data import MAX_TRAIN_SIZE


class ConfigError(ValueError):
    """A config was rejected; the message names every offending field."""


LOSS_TYPES = ("grpo", "bnpo", "dr_grpo", "dapo")
SCALE_REWARDS = ("group", "batch", "none")
# Who writes the next token of a tandem rollout (rollout.py; docs/rollout-protocols.md). "paper" is the rule of
# the paper's own runs; the others are our whole-word rule and ablations.
HANDOFF_RULES = ("paper", "whole_word", "token", "alternating", "chunk", "paragraph")
# The older binary switch for which tokens reach the loss, as the junior_token_weight it stands for.
LOSS_TOKENS_WEIGHT = {"senior": 0.0, "all": 1.0}
# Trackers a run may log to (Transformers' report_to) and the Python package each one needs; "none" logs to none.
# TensorBoard is a trainer dependency; wandb (always offline) and trackio (always local) are used when installed.
TRACKER_PACKAGES = {"tensorboard": "tensorboard", "wandb": "wandb", "trackio": "trackio"}
REPORT_TO = (*TRACKER_PACKAGES, "none")


def spec(default: Any, help: str, group: str, *, unit: str | None = None, minimum: float | None = None,
         maximum: float | None = None, above: float | None = None, choices: tuple | None = None,
         launch: bool = True) -> Any:
    """A config field with what a form needs to show and pre-check it (`field_specs()`); `validate()` decides.

    minimum/maximum are inclusive bounds, `above` an exclusive lower bound; `launch=False` marks fields the
    platform fills in itself (paths, the dataset), which the console's launch form does not show.
    """
    meta = {"help": help, "group": group, "unit": unit, "minimum": minimum, "maximum": maximum, "above": above,
            "choices": list(choices) if choices else None, "launch": launch}
    if isinstance(default, list):  # a dataclass default must not be shared between instances
        return dataclasses.field(default_factory=lambda: list(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclass
class TandemConfig:
    # what to train, on what
    model_name_or_path: str = spec("base", "A local HF model directory, or \"base\" for the tiny default base model.",
                                   "model", launch=False)
    junior_name_or_path: str | None = spec(
        None, "The frozen junior; empty: a frozen copy of the senior's starting weights (the paper's setup).",
        "model", launch=False)
    dataset: str = spec("digit_chains", "A generated task (\"digit_chains\", the default testbed, or \"arithmetic\" word "
                        "problems) or a local .jsonl, .csv or .parquet file.", "data", launch=False)
    dataset_size: int = spec(4000, "Problems of a generated task's fixed training split.", "data", minimum=1,
                             maximum=MAX_TRAIN_SIZE, launch=False)
    output_dir: str = spec("runs/run", "Where checkpoints and logs are written.", "runtime", launch=False)
    # GRPO (names as in HF TRL's GRPOConfig)
    num_generations: int = spec(8, "Completions per prompt: the group whose rewards are normalised together.",
                                "grpo", unit="completions", minimum=2, maximum=256)
    per_device_train_batch_size: int = spec(
        128, "Completions per optimizer micro-step; a multiple of num_generations.", "grpo", unit="completions",
        minimum=1, maximum=4096)
    gradient_accumulation_steps: int = spec(1, "Micro-steps per optimizer step.", "grpo", unit="micro-steps",
                                            minimum=1, maximum=1024)
    max_steps: int = spec(100, "Optimizer steps to train for.", "grpo", unit="steps", minimum=1, maximum=100_000)
    learning_rate: float = spec(5e-5, "AdamW learning rate (5e-5: chosen for the tiny base on the validation split with GRPO).", "grpo", above=0, maximum=1)
    beta: float = spec(0.0, "KL coefficient to the reference (the junior's starting weights); 0 disables the KL term.",
                       "grpo", minimum=0, maximum=10)
    epsilon: float = spec(0.2, "Lower clipping range of the importance ratio.", "grpo", above=0, maximum=0.99)
    epsilon_high: float | None = spec(None, "Upper clipping range; empty: the same as epsilon.", "grpo",
                                      above=0, maximum=10)
    loss_type: str = spec("dapo", "How token losses are averaged (TRL's loss_type).", "grpo", choices=LOSS_TYPES)
    scale_rewards: str = spec("group", "Advantage scaling: by the group's std, the batch's, or none (Dr.GRPO-style).",
                              "grpo", choices=SCALE_REWARDS)
    num_iterations: int = spec(1, "Policy updates per batch of rollouts.", "grpo", unit="updates", minimum=1, maximum=16)
    max_completion_length: int = spec(64, "Longest completion generated.", "generation", unit="tokens",
                                      minimum=1, maximum=32768)
    temperature: float = spec(0.6, "Sampling temperature of the rollouts (0.6 in the paper).", "generation", above=0, maximum=10)
    top_p: float = spec(1.0, "Nucleus sampling mass.", "generation", above=0, maximum=1)
    top_k: int = spec(0, "Sample from the k most likely tokens; 0: no limit.", "generation", unit="tokens",
                      minimum=0, maximum=100_000)
    seed: int = spec(0, "Seeds data order, rollouts and initialisation.", "runtime", minimum=0, maximum=2_147_483_647)
    save_steps: int = spec(10, "Save a checkpoint every this many steps (runs resume from the newest).", "runtime",
                           unit="steps", minimum=1, maximum=100_000)
    logging_steps: int = spec(1, "Log metrics every this many steps.", "runtime", unit="steps", minimum=1, maximum=100_000)
    # Rollouts kept for the run page (rollout_log.py). The per-run budget bounds the rollout_samples rows one run may
    # hold (2,000 = 125 logged steps of 2 groups of 8); past it every other kept step is dropped, so the kept steps
    # stay spread over the whole run with the first and the newest among them.
    rollout_log_groups: int = spec(2, "Rollout groups kept at each logged step for the run page (prompt, every "
                                   "completion with its authors, reward, verdict, advantage); 0 keeps none.",
                                   "runtime", unit="groups", minimum=0, maximum=16)
    rollout_log_max_samples: int = spec(2000, "Most rollout samples a run keeps (the newest step is always kept); past "
                                        "it every other kept step is dropped, so the kept steps stay spread over "
                                        "the whole run.", "runtime",
                                        unit="samples", minimum=1, maximum=50_000)
    # tandem
    p_junior: float = spec(0.5, "Chance the junior is drawn at each handoff point; 0 is vanilla GRPO.", "tandem",
                           minimum=0, maximum=1)
    handoff_rule: str = spec(
        "paper", "Where the author is redrawn: paper (after every word-starting token and every max_gap_tokens), "
        "whole_word, token, alternating, chunk or paragraph (docs/rollout-protocols.md).", "tandem",
        choices=HANDOFF_RULES)
    max_gap_tokens: int = spec(32, "handoff_rule paper: the author is redrawn at least this often.", "tandem",
                               unit="tokens", minimum=1, maximum=32768)
    chunk_size: int = spec(8, "handoff_rule chunk: tokens per chunk (senior chunk, junior chunk, ...).", "tandem",
                           unit="tokens", minimum=1, maximum=32768)
    handoff_granularity: str = spec("word", "handoff_rule whole_word: one author per word, or per reasoning step "
                                    "(line).", "tandem", choices=("word", "step"))
    junior_token_weight: float | None = spec(
        None, "Weight of junior-written tokens in the loss: 0 = senior tokens only (the paper), 1 = every token; "
        "empty: 0, or what loss_tokens says.", "tandem", minimum=0, maximum=1)
    loss_tokens: str | None = spec(
        None, "Older name for junior_token_weight: \"senior\" = 0, \"all\" = 1.", "tandem",
        choices=tuple(LOSS_TOKENS_WEIGHT), launch=False)
    # runtime
    device: str = spec("auto", "Where the worker trains.", "runtime", choices=("auto", "cpu", "cuda"))
    bf16: bool | None = spec(None, "bf16 weights and activations; empty: bf16 on CUDA, fp32 on CPU.", "runtime")
    report_to: list[str] = spec(
        ["tensorboard"], "Trackers the run logs to (Transformers' report_to), into <output_dir>/tensorboard for "
        "TensorBoard: tensorboard, wandb (offline only), trackio (local only), or none.", "runtime", launch=False)

    @property
    def algorithm(self) -> str:
        return "grpo" if self.p_junior == 0 else "trl"

    @property
    def junior_weight(self) -> float:
        """The loss weight of a junior-written token: junior_token_weight, else the loss_tokens alias, else 0.
        Both are kept as given (not merged) so a later override of either one is not mistaken for a conflict."""
        if self.junior_token_weight is not None:
            return self.junior_token_weight
        return LOSS_TOKENS_WEIGHT.get(self.loss_tokens or "senior", 0.0)

    # ---------------------------------------------------------------- validation

    def validate(self) -> "TandemConfig":
        errors = []

        def need(ok: bool, name: str, message: str):
            if not ok:
                errors.append(f"{name}: {message} (got {getattr(self, name)!r})")

        need(0.0 <= self.p_junior <= 1.0, "p_junior", "must be between 0 and 1")
        if self.handoff_rule not in HANDOFF_RULES:
            hint = difflib.get_close_matches(str(self.handoff_rule), HANDOFF_RULES, n=1)
            errors.append(f"handoff_rule: must be one of {', '.join(HANDOFF_RULES)}"
                          + (f" (did you mean '{hint[0]}'?)" if hint else "") + f" (got {self.handoff_rule!r})")
        need(self.max_gap_tokens >= 1, "max_gap_tokens", "must be at least 1")
        need(self.chunk_size >= 1, "chunk_size", "must be at least 1")
        need(self.handoff_granularity in ("word", "step"), "handoff_granularity", "must be 'word' or 'step'")
        if self.handoff_granularity == "step" and self.handoff_rule != "whole_word":
            errors.append(f"handoff_granularity: 'step' applies to handoff_rule 'whole_word' only (got handoff_rule "
                          f"{self.handoff_rule!r}); for one author per paragraph use handoff_rule 'paragraph'")
        weight = self.junior_token_weight
        need(weight is None or 0.0 <= weight <= 1.0, "junior_token_weight",
             "must be between 0 (senior tokens only) and 1 (every token)")
        need(self.loss_tokens is None or self.loss_tokens in LOSS_TOKENS_WEIGHT, "loss_tokens",
             "must be 'senior' or 'all' (or use junior_token_weight)")
        if (weight is not None and self.loss_tokens in LOSS_TOKENS_WEIGHT
                and LOSS_TOKENS_WEIGHT[self.loss_tokens] != weight):
            errors.append(f"junior_token_weight: {weight!r} conflicts with loss_tokens {self.loss_tokens!r} "
                          f"(= junior_token_weight {LOSS_TOKENS_WEIGHT[self.loss_tokens]}); give only one of them")
        need(self.loss_type in LOSS_TYPES, "loss_type", f"must be one of {LOSS_TYPES}")
        need(self.scale_rewards in SCALE_REWARDS, "scale_rewards", f"must be one of {SCALE_REWARDS}")
        need(self.num_generations >= 2, "num_generations", "must be at least 2 (group-normalised advantages)")
        need(self.per_device_train_batch_size >= 1, "per_device_train_batch_size", "must be positive")
        if self.num_generations >= 2 and self.per_device_train_batch_size % self.num_generations:
            errors.append(
                f"per_device_train_batch_size: must be a multiple of num_generations={self.num_generations} "
                f"(got {self.per_device_train_batch_size})"
            )
        need(self.gradient_accumulation_steps >= 1, "gradient_accumulation_steps", "must be at least 1")
        need(self.max_steps >= 1, "max_steps", "must be at least 1")
        need(self.learning_rate > 0, "learning_rate", "must be positive")
        need(self.beta >= 0, "beta", "must be >= 0")
        need(0 < self.epsilon < 1, "epsilon", "must be in (0, 1)")
        need(self.epsilon_high is None or self.epsilon_high >= self.epsilon, "epsilon_high", "must be >= epsilon")
        need(self.num_iterations >= 1, "num_iterations", "must be at least 1")
        need(1 <= self.max_completion_length <= 32768, "max_completion_length", "must be in 1..32768")
        need(self.temperature > 0, "temperature", "must be positive for sampling rollouts")
        need(0 < self.top_p <= 1, "top_p", "must be in (0, 1]")
        need(self.top_k >= 0, "top_k", "must be >= 0")
        need(self.save_steps >= 1, "save_steps", "must be at least 1")
        need(self.logging_steps >= 1, "logging_steps", "must be at least 1")
        need(0 <= self.rollout_log_groups <= 16, "rollout_log_groups", "must be in 0..16")
        need(1 <= self.rollout_log_max_samples <= 50_000, "rollout_log_max_samples", "must be in 1..50000")
        need(1 <= self.dataset_size <= MAX_TRAIN_SIZE, "dataset_size",
             f"must be in 1..{MAX_TRAIN_SIZE} (a generated task's training split)")
        need(self.device in ("auto", "cpu", "cuda"), "device", "must be 'auto', 'cpu' or 'cuda'")
        need(bool(self.output_dir), "output_dir", "must not be empty")
        errors += _report_to_errors(self.report_to)
        if errors:
            raise ConfigError("invalid config:\n  " + "\n  ".join(errors))
        return self

    # ---------------------------------------------------------------- (de)serialisation

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> "TandemConfig":
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a mapping of field names to values, got {type(data).__name__}")
        known = {f.name: f for f in fields(cls)}
        errors, values = [], {}
        for key, value in data.items():
            if key not in known:
                hint = difflib.get_close_matches(str(key), known, n=1)
                errors.append(f"{key}: unknown field" + (f" (did you mean '{hint[0]}'?)" if hint else ""))
                continue
            try:
                values[key] = _coerce(value, known[key].type, key)
            except ConfigError as e:
                errors.append(str(e))
        try:
            cls(**values).validate()
        except ConfigError as e:
            errors += str(e).splitlines()[1:]
        if errors:
            raise ConfigError(f"invalid {source}:\n  " + "\n  ".join(e.strip() for e in errors))
        return cls(**values)

    @classmethod
    def from_file(cls, path: str | Path) -> "TandemConfig":
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        text = path.read_text(encoding="utf-8")
        try:
            if path.suffix in (".yaml", ".yml"):
                import yaml

                data = yaml.safe_load(text) or {}
            else:
                data = json.loads(text)
        except Exception as e:
            raise ConfigError(f"{path}: cannot parse ({e})") from None
        return cls.from_dict(data, source=str(path))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# Named bundles of settings a launch can start from (`tandem train --preset NAME`, the console's preset buttons via
# packages/tandem-config/presets.json). "paper": the training half of the paper's runs (CSSLab/Tandem-RLVR
# train/tandem_grpo.sh): rollout temperature 0.6 with the full distribution, no KL term, G = 8 completions for
# 16 prompts per step, symmetric clip 0.2, group-std advantages, verl's token-mean loss (TRL's dapo), the paper's
# handoff rule at p_junior 0.5 with the 32-token gap, and senior tokens only in the loss. The learning rate is not
# in it: the paper's 1e-6 is for a 4B model, and the tiny models here need theirs chosen on a validation split.
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {
        "temperature": 0.6, "top_p": 1.0, "top_k": 0, "beta": 0.0, "num_generations": 8,
        "per_device_train_batch_size": 128, "epsilon": 0.2, "epsilon_high": None, "scale_rewards": "group",
        "loss_type": "dapo", "handoff_rule": "paper", "p_junior": 0.5, "max_gap_tokens": 32,
        "junior_token_weight": 0.0,
    },
}


def preset(name: str) -> dict[str, Any]:
    """A copy of the named preset's field values; an unknown name is a ConfigError with a suggestion."""
    if name not in PRESETS:
        hint = difflib.get_close_matches(str(name), PRESETS, n=1)
        raise ConfigError(f"preset: unknown preset {name!r}, known: {', '.join(PRESETS)}"
                          + (f" (did you mean '{hint[0]}'?)" if hint else ""))
    return dict(PRESETS[name])


def _report_to_errors(report_to: Any) -> list[str]:
    """What is wrong with a report_to list: unknown names, "none" mixed with trackers, trackers whose package this
    Python cannot import (named, with how to install it)."""
    if not isinstance(report_to, list) or not report_to:
        return [f"report_to: must be a non-empty list of {', '.join(REPORT_TO)} (got {report_to!r})"]
    errors = []
    for name in report_to:
        if name not in REPORT_TO:
            hint = difflib.get_close_matches(str(name), REPORT_TO, n=1)
            errors.append(f"report_to: unknown tracker {name!r}, known: {', '.join(REPORT_TO)}"
                          + (f" (did you mean '{hint[0]}'?)" if hint else ""))
    if "none" in report_to and len(report_to) > 1:
        errors.append(f"report_to: 'none' cannot be combined with trackers (got {report_to!r})")
    import importlib.util

    for name in dict.fromkeys(report_to):
        package = TRACKER_PACKAGES.get(name)
        if package and importlib.util.find_spec(package) is None:
            errors.append(f"report_to: {name!r} needs the Python package {package!r}, which is not installed here "
                          f"(pip install {package}, or remove {name!r} from report_to)")
    return errors


def field_specs() -> list[dict[str, Any]]:
    """Every field's name, type, default and form metadata, in declaration order: `tandem config-fields` writes
    this as JSON for the web console's launch form (packages/tandem-config/fields.json)."""
    out = []
    for f in fields(TandemConfig):
        options = [t.strip() for t in str(f.type).split("|")]
        kind = next(t for t in options if t != "None")
        default = f.default_factory() if f.default is dataclasses.MISSING else f.default
        out.append({"name": f.name, "type": kind, "nullable": "None" in options, "default": default,
                    **{k: v for k, v in f.metadata.items()}})
    return out


_TYPES = {"int": int, "float": float, "str": str, "bool": bool}


def _coerce(value: Any, annotation: str, name: str) -> Any:
    """Accept a value of the declared type (ints for floats too); anything else is an error naming the field."""
    options = [t.strip() for t in str(annotation).split("|")]
    if value is None:
        if "None" in options:
            return None
        raise ConfigError(f"{name}: must not be null")
    if "list[str]" in options:  # a single name stands for a list of one, as in Transformers' report_to
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        raise ConfigError(f"{name}: expected a list of strings, got {type(value).__name__} {value!r}")
    for option in options:
        kind = _TYPES.get(option)
        if kind is bool and isinstance(value, bool):
            return value
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if kind is float and isinstance(value, str) and "int" not in options:
            try:  # YAML 1.1 reads 1e-4 as a string
                return float(value)
            except ValueError:
                pass
        if kind is str and isinstance(value, str):
            return value
    wanted = " or ".join(o for o in options if o != "None")
    raise ConfigError(f"{name}: expected {wanted}, got {type(value).__name__} {value!r}")
