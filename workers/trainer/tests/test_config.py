"""The config dataclass: TRL names, tandem fields, errors that name the field."""

from __future__ import annotations

import json

import pytest

from tandem.config import ConfigError, TandemConfig


def test_defaults_are_valid_and_algorithm_follows_p_junior():
    assert TandemConfig().validate().algorithm == "trl"
    assert TandemConfig(p_junior=0.0).validate().algorithm == "grpo"


def test_unknown_field_is_named_with_a_suggestion():
    with pytest.raises(ConfigError, match=r"num_generation: unknown field \(did you mean 'num_generations'\?\)"):
        TandemConfig.from_dict({"num_generation": 4})


@pytest.mark.parametrize(
    "field,value,fragment",
    [
        ("p_junior", 1.5, "p_junior: must be between 0 and 1"),
        ("handoff_granularity", "sentence", "handoff_granularity: must be 'word' or 'step'"),
        ("loss_tokens", "junior", "loss_tokens"),
        ("loss_type", "ppo", "loss_type"),
        ("num_generations", 1, "num_generations: must be at least 2"),
        ("per_device_train_batch_size", 30, "multiple of num_generations=8"),
        ("learning_rate", "fast", "learning_rate: expected float"),
        ("max_steps", 2.5, "max_steps: expected int"),
        ("beta", None, "beta: must not be null"),
        ("bf16", "yes", "bf16: expected bool"),
    ],
)
def test_bad_values_name_the_field(field, value, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(")):
        TandemConfig.from_dict({field: value})


def test_all_errors_reported_at_once():
    with pytest.raises(ConfigError) as e:
        TandemConfig.from_dict({"p_junior": -1, "epsilon": 2.0, "nope": 1})
    text = str(e.value)
    assert "p_junior" in text and "nope" in text


def test_from_file_yaml_and_json(tmp_path):
    (tmp_path / "c.yaml").write_text("p_junior: 0\nmax_steps: 3\nlearning_rate: 1e-4\n")
    c = TandemConfig.from_file(tmp_path / "c.yaml")
    assert (c.p_junior, c.max_steps, c.learning_rate) == (0.0, 3, 1e-4)
    (tmp_path / "c.json").write_text(json.dumps({"epsilon_high": 0.28}))
    assert TandemConfig.from_file(tmp_path / "c.json").epsilon_high == 0.28
    (tmp_path / "bad.yaml").write_text("p_junior: [unclosed")
    with pytest.raises(ConfigError, match="cannot parse"):
        TandemConfig.from_file(tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match="not found"):
        TandemConfig.from_file(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        TandemConfig.from_file(tmp_path / "list.yaml")


def test_committed_field_specs_are_current():
    """packages/tandem-config/fields.json feeds the console's launch form; regenerate it with
    `tandem config-fields --out packages/tandem-config/fields.json` after changing TandemConfig."""
    from pathlib import Path

    from tandem.config import field_specs

    committed = Path(__file__).resolve().parents[3] / "packages/tandem-config/fields.json"
    assert json.loads(committed.read_text()) == field_specs(), f"{committed} is stale: regenerate it"


def test_every_value_the_form_allows_is_valid():
    """The form's bounds and choices may be stricter than validate(), never looser: its edge values pass."""
    from tandem.config import field_specs

    for spec in field_specs():
        edges = list(spec["choices"] or []) + [v for v in (spec["minimum"], spec["maximum"]) if v is not None]
        if spec["above"] is not None:
            edges.append(spec["above"] + 1e-6)
        for value in edges:
            config = {spec["name"]: value}
            if spec["name"] == "per_device_train_batch_size":
                config["num_generations"] = 2 if value % 2 == 0 else 1
                if value % 2:
                    continue  # a single-completion group is not a group: num_generations must be >= 2
            if spec["name"] == "epsilon_high":
                config["epsilon"] = min(value, 0.2)
            if spec["name"] == "num_generations":
                config["per_device_train_batch_size"] = value * 2
            TandemConfig.from_dict(config)  # raises ConfigError naming the field if the form allows a bad value
