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
        ("handoff_rule", "papr", "handoff_rule: must be one of paper, whole_word, .* \\(did you mean 'paper'\\?\\)"),
        ("handoff_rule", "sentence", "handoff_rule: must be one of"),
        ("max_gap_tokens", 0, "max_gap_tokens: must be at least 1"),
        ("chunk_size", 0, "chunk_size: must be at least 1"),
        ("junior_token_weight", 1.5, "junior_token_weight: must be between 0"),
        ("junior_token_weight", -0.1, "junior_token_weight: must be between 0"),
        ("junior_token_weight", "half", "junior_token_weight: expected float"),
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
    pattern = fragment if "\\(" in fragment else fragment.replace("(", r"\(")
    with pytest.raises(ConfigError, match=pattern):
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
            if spec["name"] == "handoff_granularity":
                config["handoff_rule"] = "whole_word"  # the form checks the pair as validate() does
            TandemConfig.from_dict(config)  # raises ConfigError naming the field if the form allows a bad value


def test_handoff_defaults_are_the_papers():
    c = TandemConfig().validate()
    assert (c.handoff_rule, c.max_gap_tokens, c.p_junior, c.junior_weight) == ("paper", 32, 0.5, 0.0)


@pytest.mark.parametrize("given,weight", [
    ({}, 0.0),
    ({"loss_tokens": "senior"}, 0.0),
    ({"loss_tokens": "all"}, 1.0),
    ({"junior_token_weight": 0.5}, 0.5),
    ({"junior_token_weight": 1}, 1.0),
    ({"junior_token_weight": 0.0, "loss_tokens": "senior"}, 0.0),
    ({"junior_token_weight": 1.0, "loss_tokens": "all"}, 1.0),
])
def test_junior_token_weight_and_its_loss_tokens_alias(given, weight):
    c = TandemConfig.from_dict(given)
    assert c.junior_weight == weight
    assert TandemConfig(**given).validate().junior_weight == weight  # the constructor path agrees


@pytest.mark.parametrize("given", [{"junior_token_weight": 0.0, "loss_tokens": "all"},
                                   {"junior_token_weight": 0.5, "loss_tokens": "senior"}])
def test_conflicting_weight_and_alias_name_both_fields(given):
    with pytest.raises(ConfigError, match=r"junior_token_weight: .* conflicts with loss_tokens"):
        TandemConfig.from_dict(given)


def test_an_override_of_the_alias_is_not_a_conflict(tmp_path):
    """What `tandem train --config FILE --set loss_tokens=all` does: the file's fields, then the override."""
    (tmp_path / "c.yaml").write_text("loss_tokens: senior\n")
    data = TandemConfig.from_file(tmp_path / "c.yaml").to_dict()
    assert TandemConfig.from_dict({**data, "loss_tokens": "all"}).junior_weight == 1.0
    assert TandemConfig.from_dict({**data, "loss_tokens": None, "junior_token_weight": 0.25}).junior_weight == 0.25


def test_step_granularity_belongs_to_whole_word():
    assert TandemConfig(handoff_rule="whole_word", handoff_granularity="step").validate()
    with pytest.raises(ConfigError, match="handoff_granularity: 'step' applies to handoff_rule 'whole_word' only"):
        TandemConfig.from_dict({"handoff_rule": "token", "handoff_granularity": "step"})


def test_paper_preset_is_valid_and_holds_the_papers_training_settings():
    from tandem.config import PRESETS, preset

    c = TandemConfig.from_dict(preset("paper"))
    assert (c.temperature, c.beta, c.num_generations, c.per_device_train_batch_size // c.num_generations) == (
        0.6, 0.0, 8, 16)
    assert (c.epsilon, c.epsilon_high, c.scale_rewards, c.loss_type) == (0.2, None, "group", "dapo")
    assert (c.handoff_rule, c.p_junior, c.max_gap_tokens, c.junior_weight) == ("paper", 0.5, 32, 0.0)
    assert "learning_rate" not in PRESETS["paper"]  # the paper's 1e-6 is for 4B; chosen per model here
    preset("paper")["temperature"] = 9  # a copy
    assert PRESETS["paper"]["temperature"] == 0.6
    with pytest.raises(ConfigError, match=r"preset: unknown preset 'papr'.*did you mean 'paper'"):
        preset("papr")


def test_committed_presets_are_current():
    """packages/tandem-config/presets.json feeds the console's preset buttons (`tandem config-fields`)."""
    from pathlib import Path

    from tandem.config import PRESETS

    committed = Path(__file__).resolve().parents[3] / "packages/tandem-config/presets.json"
    assert json.loads(committed.read_text()) == PRESETS, f"{committed} is stale: regenerate it"


def test_committed_eval_presets_are_current():
    """packages/tandem-config/eval-presets.json feeds the evaluation form's preset button (`tandem config-fields`)."""
    from pathlib import Path

    from tandem.evaluate import PRESETS

    committed = Path(__file__).resolve().parents[3] / "packages/tandem-config/eval-presets.json"
    assert json.loads(committed.read_text()) == PRESETS, f"{committed} is stale: regenerate it"
