"""Training through TRL's GRPOTrainer with the tandem rollout: metrics, masking, checkpoints, resume, cancel."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import tandem.trainer as trainer_module
from tandem.config import TandemConfig
from tandem.models import load_model
from tandem.trainer import METRICS_FILE, read_metrics, train

REQUIRED = {"step", "reward", "accuracy", "kl", "clip_fraction", "entropy", "senior_token_share",
            "zero_signal_groups", "tokens_per_second"}


def _config(model_dir, out, **kw) -> TandemConfig:
    base = dict(model_name_or_path=str(model_dir), output_dir=str(out), max_steps=2, num_generations=4,
                per_device_train_batch_size=8, save_steps=2, max_completion_length=16, dataset_size=40,
                learning_rate=1e-2, beta=0.02, temperature=1.0, dataset="arithmetic")  # beta > 0: TRL logs kl
    return TandemConfig(**{**base, **kw}).validate()


@pytest.fixture
def parity_reward(monkeypatch):
    """A reward with variance inside every group (the fixture model never solves a problem)."""

    def fake(texts, answers):
        rewards = [float(len(t) % 2) for t in texts]
        return rewards, ["correct" if r else "incorrect" for r in rewards]

    monkeypatch.setattr(trainer_module, "team_rewards", fake)


def _max_weight_change(model_dir, out_dir) -> float:
    before, after = load_model(model_dir), load_model(out_dir / "final")
    return max((a - b).abs().max().item() for a, b in zip(after.parameters(), before.parameters()))


def test_grpo_and_trl_runs_write_metrics_checkpoints_and_final_model(fixture_model_dir, tmp_path):
    for p_junior, name in ((0.0, "grpo"), (0.5, "trl")):
        out = tmp_path / name
        result = train(_config(fixture_model_dir, out, p_junior=p_junior), log=lambda *_: None)
        assert result.completed and result.final_step == 2
        rows = read_metrics(out)
        assert [r["step"] for r in rows] == [1, 2]
        assert all(REQUIRED <= set(r) for r in rows)
        assert all(r["groups"] == 2 for r in rows)
        share = [r["senior_token_share"] for r in rows]
        assert share == [1.0, 1.0] if p_junior == 0 else all(0.2 < s < 0.8 for s in share)
        assert (out / "checkpoint-2" / "model.safetensors").is_file()
        assert (out / "final" / "config.json").is_file() and (out / "final" / "checkpoint.json").is_file()


def test_junior_tokens_are_kept_out_of_the_loss(fixture_model_dir, tmp_path, parity_reward):
    # The junior writes every token: with loss_tokens=senior nothing is left to learn from.
    masked = tmp_path / "masked"
    rows = (train(_config(fixture_model_dir, masked, p_junior=1.0), log=lambda *_: None), read_metrics(masked))[1]
    assert all(r["grad_norm"] == 0 for r in rows)
    assert _max_weight_change(fixture_model_dir, masked) == 0
    # The ablation loss_tokens=all trains the senior on the junior's tokens.
    everything = tmp_path / "all"
    train(_config(fixture_model_dir, everything, p_junior=1.0, loss_tokens="all"), log=lambda *_: None)
    assert any(r["grad_norm"] > 0 for r in read_metrics(everything))
    assert _max_weight_change(fixture_model_dir, everything) > 0


def test_zero_signal_groups_are_counted(fixture_model_dir, tmp_path):
    out = tmp_path / "zero"
    train(_config(fixture_model_dir, out, p_junior=0.0), log=lambda *_: None)
    # the fixture model never answers correctly: every group has equal rewards and gives no gradient
    assert all(r["zero_signal_groups"] == r["groups"] == 2 and r["grad_norm"] == 0 for r in read_metrics(out))


def test_cancel_then_resume_matches_an_uninterrupted_run(fixture_model_dir, tmp_path, parity_reward):
    straight = tmp_path / "straight"
    train(_config(fixture_model_dir, straight, max_steps=4, save_steps=2), log=lambda *_: None)

    resumed = tmp_path / "resumed"
    steps_seen = []
    cancel = _config(fixture_model_dir, resumed, max_steps=4, save_steps=2)
    first = train(cancel, log=lambda *_: None, on_step=lambda row, _: steps_seen.append(row["step"]),
                  should_stop=lambda: len(steps_seen) >= 1)
    assert not first.completed and first.final_step == 1  # stopped within one step of the request
    second = train(cancel, log=lambda *_: None)
    assert second.resumed_from == 1 and second.completed

    a, b = read_metrics(straight), read_metrics(resumed)
    assert [r["step"] for r in b] == [1, 2, 3, 4]
    for x, y in zip(a, b):
        assert x["reward"] == y["reward"] and x["senior_token_share"] == y["senior_token_share"]
        assert x["loss"] == pytest.approx(y["loss"], abs=1e-6)
    wa, wb = load_model(straight / "final"), load_model(resumed / "final")
    assert all(torch.allclose(p, q, atol=1e-6) for p, q in zip(wa.parameters(), wb.parameters()))


def test_kill_9_mid_run_then_resume_has_contiguous_steps(fixture_model_dir, tmp_path):
    out = tmp_path / "killed"
    args = [sys.executable, "-m", "tandem.cli", "train",
            "--set", f"model_name_or_path={fixture_model_dir}", "--set", f"output_dir={out}",
            "--set", "max_steps=6", "--set", "save_steps=2", "--set", "num_generations=4",
            "--set", "per_device_train_batch_size=8", "--set", "max_completion_length=16", "--set", "dataset_size=40"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "checkpoint-2" / "trainer_state.json").exists():
        time.sleep(0.2)
    while time.time() < deadline and len(read_metrics(out)) < 3:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(read_metrics(out)) >= 3  # rows past the checkpoint exist and must not be duplicated
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert [r["step"] for r in read_metrics(out)] == [1, 2, 3, 4, 5, 6]
    assert (out / METRICS_FILE).read_text().count('"step": 3,') == 1


def test_bad_config_fails_before_touching_anything(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tandem.cli", "train", "--set", "p_junior=2",
                             "--set", f"output_dir={tmp_path / 'x'}"], capture_output=True, text=True)
    assert result.returncode == 2 and "p_junior: must be between 0 and 1" in result.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_two_process_data_parallel_training_via_accelerate(fixture_model_dir, tmp_path):
    """The multi-GPU path (accelerate launch) exercised with two CPU processes (gloo DDP)."""
    out = tmp_path / "ddp"
    cmd = [str(Path(sys.executable).parent / "accelerate"), "launch", "--cpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "tandem.cli", "train",
           "--set", f"model_name_or_path={fixture_model_dir}", "--set", f"output_dir={out}", "--set", "max_steps=2",
           "--set", "num_generations=4", "--set", "per_device_train_batch_size=8", "--set", "max_completion_length=16",
           "--set", "dataset_size=40", "--set", "save_steps=2", "--set", "p_junior=0.5"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert [r["step"] for r in read_metrics(out)] == [1, 2]
    assert (out / "final" / "model.safetensors").is_file() and (out / "checkpoint-2").is_dir()


def test_resume_skips_a_checkpoint_left_half_written(tmp_path):
    from tandem.trainer import last_checkpoint

    for step, complete in ((2, True), (4, True), (6, False)):
        d = tmp_path / f"checkpoint-{step}"
        d.mkdir()
        (d / "model.safetensors").write_bytes(b"x")
        if complete:
            (d / "trainer_state.json").write_text("{}")
    assert last_checkpoint(tmp_path) == tmp_path / "checkpoint-4"
    assert last_checkpoint(tmp_path / "missing") is None
