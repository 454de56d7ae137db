"""Trackers: every run writes TensorBoard event files under <output_dir>/tensorboard with TRL's metrics and ours
(the run_metrics names); report_to names only known trackers whose packages are installed; nothing goes online."""

from __future__ import annotations

import importlib.util
import math
import os

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tandem.config import ConfigError, TandemConfig
from tandem.trainer import TENSORBOARD_DIR, _enable_trackers, read_metrics, tracker_scalars, train

# ours (TandemCallback's row, the run_metrics columns) and TRL's own, as TensorBoard tags (Transformers prefixes
# training logs with train/)
OUR_TAGS = {"accuracy", "senior_token_share", "zero_signal_groups", "groups", "tokens_per_second", "clip_fraction",
            "completion_length", "elapsed_s", "author_switches"}
TRL_TAGS = {"reward", "kl", "loss", "grad_norm", "entropy", "clip_ratio/region_mean"}


def _config(model_dir, out, **kw) -> TandemConfig:
    base = dict(model_name_or_path=str(model_dir), output_dir=str(out), max_steps=2, num_generations=4,
                per_device_train_batch_size=8, save_steps=2, max_completion_length=16, dataset_size=40,
                learning_rate=1e-2, beta=0.02, temperature=1.0, dataset="arithmetic", p_junior=0.5)
    return TandemConfig(**{**base, **kw}).validate()


def _scalars(log_dir) -> dict[str, list[tuple[int, float]]]:
    events = EventAccumulator(str(log_dir))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def test_a_run_writes_tensorboard_event_files_with_our_metric_names(fixture_model_dir, tmp_path):
    out = tmp_path / "run"
    train(_config(fixture_model_dir, out), log=lambda *_: None)

    log_dir = out / TENSORBOARD_DIR
    assert list(log_dir.glob("events.out.tfevents.*")), f"no event files in {log_dir}"
    assert not (out / "runs").exists()  # not Transformers' default time-stamped folder
    scalars = _scalars(log_dir)
    missing = {f"train/{name}" for name in OUR_TAGS | TRL_TAGS} - set(scalars)
    assert not missing, f"tags missing from the event files: {sorted(missing)} (have {sorted(scalars)})"
    # one point per logged step, with the value metrics.jsonl (and so run_metrics) holds for it
    rows = {r["step"]: r for r in read_metrics(out)}
    assert sorted(rows) == [1, 2]
    for name in ("accuracy", "senior_token_share", "zero_signal_groups", "tokens_per_second", "reward", "kl"):
        points = scalars[f"train/{name}"]
        assert [step for step, _ in points] == [1, 2], name
        for step, value in points:
            assert math.isclose(value, rows[step][name], rel_tol=1e-5, abs_tol=1e-6), (name, step, value)
    # the rows themselves keep only our names: the trackers' extra keys do not leak into metrics.jsonl
    assert all("clip_ratio/region_mean" not in r for r in rows.values())


def test_report_to_none_writes_no_event_files(fixture_model_dir, tmp_path):
    out = tmp_path / "quiet"
    train(_config(fixture_model_dir, out, max_steps=1, save_steps=1, report_to=["none"]), log=lambda *_: None)
    assert [r["step"] for r in read_metrics(out)] == [1]
    assert not (out / TENSORBOARD_DIR).exists() and not (out / "runs").exists()


def test_report_to_defaults_to_tensorboard_and_accepts_a_single_name():
    a, b = TandemConfig(), TandemConfig()
    assert a.report_to == ["tensorboard"]
    a.report_to.append("none")
    assert b.report_to == ["tensorboard"]  # the default list is not shared between configs
    assert TandemConfig.from_dict({"report_to": "tensorboard"}).report_to == ["tensorboard"]
    assert TandemConfig.from_dict({"report_to": ["none"]}).report_to == ["none"]


@pytest.mark.parametrize("value, message", [
    (["tensorbord"], "report_to: unknown tracker 'tensorbord', known: tensorboard, wandb, trackio, none "
                     "(did you mean 'tensorboard'?)"),
    (["mlflow"], "report_to: unknown tracker 'mlflow'"),
    (["none", "tensorboard"], "report_to: 'none' cannot be combined with trackers"),
    ([], "report_to: must be a non-empty list"),
    (3, "report_to: expected a list of strings, got int 3"),
])
def test_report_to_rejects_unknown_or_contradictory_trackers(value, message):
    with pytest.raises(ConfigError) as err:
        TandemConfig.from_dict({"report_to": value})
    assert message in str(err.value)


def test_report_to_names_the_missing_package(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else real(name, *a))
    with pytest.raises(ConfigError) as err:
        TandemConfig.from_dict({"report_to": ["tensorboard", "wandb"]})
    text = str(err.value)
    assert "report_to: 'wandb' needs the Python package 'wandb', which is not installed here" in text
    assert "pip install wandb" in text and "tensorboard" not in text.split("report_to:", 1)[1].split("needs")[0]


def test_wandb_is_forced_offline_with_its_files_beside_the_checkpoints(monkeypatch, tmp_path):
    monkeypatch.setenv("WANDB_MODE", "online")
    monkeypatch.delenv("WANDB_DIR", raising=False)
    assert _enable_trackers(["tensorboard", "wandb"], tmp_path) == ["tensorboard", "wandb"]
    assert os.environ["WANDB_MODE"] == "offline"
    assert os.environ["WANDB_DIR"] == str(tmp_path)
    assert _enable_trackers(["none"], tmp_path) == []


def test_tracker_scalars_add_our_numbers_without_overriding_trl():
    row = {"step": 3, "reward": 0.5, "accuracy": 0.25, "zero_signal_groups": 1, "entropy": None, "flag": True}
    logs = {"loss": 0.1, "reward": 0.5}
    assert tracker_scalars(row, logs) == {"accuracy": 0.25, "zero_signal_groups": 1}
