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


class ConfigError(ValueError):
    """A config was rejected; the message names every offending field."""


LOSS_TYPES = ("grpo", "bnpo", "dr_grpo", "dapo")
SCALE_REWARDS = ("group", "batch", "none")


@dataclass
class TandemConfig:
    # what to train, on what
    model_name_or_path: str = "base"  # a local HF model directory, or "base" for the tiny default base model
    junior_name_or_path: str | None = None  # None: a frozen copy of the senior's starting weights (the paper's setup)
    dataset: str = "arithmetic"  # "arithmetic" (generated) or a local .jsonl / .parquet file
    dataset_size: int = 2000  # generated problems (only for dataset = "arithmetic")
    output_dir: str = "runs/run"
    # GRPO (names as in HF TRL's GRPOConfig)
    num_generations: int = 8  # completions per prompt (the group)
    per_device_train_batch_size: int = 32  # completions per optimizer micro-step; a multiple of num_generations
    gradient_accumulation_steps: int = 1
    max_steps: int = 60
    learning_rate: float = 1e-4
    beta: float = 0.02  # KL coefficient to the reference (= the junior's starting weights); 0 disables
    epsilon: float = 0.2
    epsilon_high: float | None = None  # None: same as epsilon
    loss_type: str = "dapo"
    scale_rewards: str = "group"  # "none" = Dr.GRPO-style advantages without std scaling
    num_iterations: int = 1
    max_completion_length: int = 96
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    seed: int = 0
    save_steps: int = 10
    logging_steps: int = 1
    # tandem
    p_junior: float = 0.5  # chance the junior writes each word (0 = vanilla GRPO)
    handoff_granularity: str = "word"  # "word" | "step"
    loss_tokens: str = "senior"  # "senior": junior tokens are context only; "all": ablation
    # runtime
    device: str = "auto"  # "auto" | "cpu" | "cuda"
    bf16: bool | None = None  # None: bf16 on CUDA, fp32 on CPU

    @property
    def algorithm(self) -> str:
        return "grpo" if self.p_junior == 0 else "trl"

    # ---------------------------------------------------------------- validation

    def validate(self) -> "TandemConfig":
        errors = []

        def need(ok: bool, name: str, message: str):
            if not ok:
                errors.append(f"{name}: {message} (got {getattr(self, name)!r})")

        need(0.0 <= self.p_junior <= 1.0, "p_junior", "must be between 0 and 1")
        need(self.handoff_granularity in ("word", "step"), "handoff_granularity", "must be 'word' or 'step'")
        need(self.loss_tokens in ("senior", "all"), "loss_tokens", "must be 'senior' or 'all'")
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
        need(self.dataset_size >= 1, "dataset_size", "must be at least 1")
        need(self.device in ("auto", "cpu", "cuda"), "device", "must be 'auto', 'cpu' or 'cuda'")
        need(bool(self.output_dir), "output_dir", "must not be empty")
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


_TYPES = {"int": int, "float": float, "str": str, "bool": bool}


def _coerce(value: Any, annotation: str, name: str) -> Any:
    """Accept a value of the declared type (ints for floats too); anything else is an error naming the field."""
    options = [t.strip() for t in str(annotation).split("|")]
    if value is None:
        if "None" in options:
            return None
        raise ConfigError(f"{name}: must not be null")
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
