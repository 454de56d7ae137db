"""Rollouts kept per logged step (rollout_log.py): advantages as TRL computes them, author spans from the per-token
author mask, which groups and steps are kept, and a TRAIN job storing the samples of each step."""

from __future__ import annotations

import pytest
import torch
from psycopg.types.json import Jsonb

from tandem.config import ConfigError, TandemConfig
from tandem.rollout import JUNIOR, SENIOR
from tandem.rollout_log import (RolloutRecorder, group_advantages, max_steps_kept, pick_groups, steps_to_drop,
                                store_step)


# ---------------------------------------------------------------- advantages


def _trl_advantages(rewards: list[float], group_size: int, scale: str) -> list[float]:
    """TRL's own formula (grpo_trainer.py, sum_then_normalize) on tensors, to compare against."""
    from trl.trainer.utils import nanstd

    r = torch.tensor(rewards, dtype=torch.float64)
    mean = r.view(-1, group_size).mean(1).repeat_interleave(group_size)
    std = nanstd(r.view(-1, group_size), dim=1).repeat_interleave(group_size) if scale != "batch" else nanstd(r).expand_as(r)
    adv = r - mean
    return (adv / (std + 1e-4) if scale != "none" else adv).tolist()


@pytest.mark.parametrize("scale", ["group", "batch", "none"])
def test_advantages_match_trl(scale):
    rewards = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    assert group_advantages(rewards, 4, scale) == pytest.approx(_trl_advantages(rewards, 4, scale))


def test_advantages_by_hand_and_a_zero_signal_group_gets_zero():
    # group 1: mean 0.5, Bessel std of (1, 0) = 0.7071; group 2: all 1, std 0
    assert group_advantages([1.0, 0.0, 1.0, 1.0], 2) == pytest.approx([0.5 / 0.70721, -0.5 / 0.70721, 0.0, 0.0], rel=1e-4)
    with pytest.raises(ValueError, match="groups of 4"):
        group_advantages([1.0, 0.0, 1.0], 4)
    with pytest.raises(ValueError, match="scale_rewards"):
        group_advantages([1.0, 0.0], 2, "std")


# ---------------------------------------------------------------- author spans from the mask


class _CharTokenizer:
    """One token per character: id = code point (enough to check where spans are cut)."""

    def decode(self, ids, skip_special_tokens=True, clean_up_tokenization_spaces=False):
        return "".join(chr(i) for i in ids)


def test_spans_follow_the_author_mask_and_tile_the_completion():
    recorder = RolloutRecorder(_CharTokenizer(), group_size=2, groups_per_step=1)
    texts = ["ab cd", "xyz"]
    authors = [[SENIOR, SENIOR, SENIOR, JUNIOR, JUNIOR], [JUNIOR, JUNIOR, JUNIOR]]
    recorder.add_rollout(["p", "p"], [[ord(c) for c in t] for t in texts], authors, texts)
    recorder.add_scores([1.0, 0.0], ["correct", "incorrect"])
    first, second = recorder.drain()
    assert first["spans"] == [{"author": "senior", "text": "ab ", "start": 0, "end": 3},
                              {"author": "junior", "text": "cd", "start": 3, "end": 5}]
    assert "".join(s["text"] for s in first["spans"]) == first["completion"] == "ab cd"
    assert second["spans"] == [{"author": "junior", "text": "xyz", "start": 0, "end": 3}]
    assert (first["verdict"], first["reward"], second["reward"]) == ("correct", 1.0, 0.0)
    assert first["advantage"] > 0 > second["advantage"] and not first["zero_signal"]
    assert recorder.drain() == []  # the window is forgotten once drained


def test_recorder_keeps_spread_groups_marks_zero_signal_and_skips_unscored_batches():
    recorder = RolloutRecorder(_CharTokenizer(), group_size=2, groups_per_step=2)
    rows = ["a", "b", "c", "d", "e", "f", "g", "h"]  # 4 groups of 2
    recorder.add_rollout(rows, [[ord(r)] for r in rows], [[SENIOR]] * 8, rows)
    recorder.add_rollout(["z", "z"], [[ord("z")]] * 2, [[SENIOR]] * 2, ["z", "z"])  # never scored: left out
    recorder.batches[0].rewards, recorder.batches[0].verdicts = [1, 1, 0, 1, 0, 0, 1, 0], ["correct"] * 8
    samples = recorder.drain()
    assert [(s["group_index"], s["sample_index"], s["completion"]) for s in samples] == [
        (0, 0, "a"), (0, 1, "b"), (2, 0, "e"), (2, 1, "f")]
    assert [s["zero_signal"] for s in samples] == [True, True, True, True]
    assert all(s["advantage"] == 0 for s in samples)
    off = RolloutRecorder(_CharTokenizer(), group_size=2, groups_per_step=0)
    off.add_rollout(["p", "p"], [[1], [2]], [[SENIOR], [SENIOR]], ["a", "b"])
    assert off.batches == [] and off.drain() == []


def test_pick_groups_spreads_over_the_batch():
    assert pick_groups(8, 2) == [0, 4]
    assert pick_groups(4, 3) == [0, 1, 2]
    assert pick_groups(3, 5) == [0, 1, 2]
    assert pick_groups(5, 0) == [] and pick_groups(0, 2) == []


# ---------------------------------------------------------------- the per-run bound


def test_steps_to_drop_keeps_the_bound_the_ends_and_an_even_spread():
    assert steps_to_drop([1, 2, 3], 3) == []
    steps = list(range(1, 11))
    assert [s for s in steps if s not in steps_to_drop(steps, 6)] == [1, 4, 8, 10]
    assert [s for s in steps if s not in steps_to_drop(steps, 2)] == [1, 10]
    assert steps_to_drop(steps, 1) == steps[:-1]
    logged_every_5 = list(range(5, 55, 5))  # the grid counts logged steps, not raw step numbers
    assert [s for s in logged_every_5 if s not in steps_to_drop(logged_every_5, 6, logging_steps=5)] == [5, 20, 40, 50]


def test_thinning_as_a_run_grows_stays_within_the_bound():
    """Steps arrive one at a time (logged every 5 steps); the stored set never exceeds the bound, always holds
    the first and the newest step, keeps at least a third of the budget, and stays evenly spread."""
    stored: list[int] = []
    for step in range(5, 5001, 5):
        stored.append(step)
        drop = set(steps_to_drop(stored, 20, logging_steps=5))
        stored = [s for s in stored if s not in drop]
        assert min(step // 5, 7) <= len(stored) <= 20 and stored[0] == 5 and stored[-1] == step
    # one stride over the whole run (every 64th logged step), then the steps logged since the last thinning
    assert stored == [5, *range(320, 4801, 320), 4995, 5000]


def test_max_steps_kept_from_the_sample_budget():
    assert max_steps_kept(2000, 16) == 125
    assert max_steps_kept(10, 16) == 1


def test_config_bounds_name_the_field():
    TandemConfig(rollout_log_groups=0).validate()
    with pytest.raises(ConfigError, match="rollout_log_groups: must be in 0..16"):
        TandemConfig(rollout_log_groups=17).validate()
    with pytest.raises(ConfigError, match="rollout_log_max_samples: must be in 1..50000"):
        TandemConfig(rollout_log_max_samples=0).validate()


# ---------------------------------------------------------------- storing


def _sample(group: int, index: int, reward: float = 1.0) -> dict:
    return {"group_index": group, "sample_index": index, "prompt": "Q\x00?", "completion": "ab",
            "spans": [{"author": "senior", "text": "ab", "start": 0, "end": 2}], "reward": reward,
            "verdict": "correct", "advantage": 0.0, "zero_signal": True}


def _seed_run(conn):
    conn.execute("INSERT INTO users (id, email, name, password_hash, role) VALUES ('u1', 'r@x.org', 'R', 'x', 'RESEARCHER')")
    conn.execute("INSERT INTO base_models (id, name, path) VALUES ('m1', 'fixture', '/nowhere')")
    conn.execute("INSERT INTO datasets (id, name, source, row_count) VALUES ('d1', 'arith', 'generated', 0)")
    conn.execute("""INSERT INTO training_runs (id, name, algorithm, config, seed, max_steps, owner_id, base_model_id,
                                               dataset_id) VALUES ('run1', 'run1', 'TRL', %s, 0, 4, 'u1', 'm1', 'd1')""",
                 (Jsonb({}),))


def _stored(conn) -> list[tuple]:
    return [tuple(r.values()) for r in conn.execute(
        "SELECT step, group_index, sample_index FROM rollout_samples WHERE run_id = 'run1' ORDER BY 1, 2, 3")]


def test_store_step_thins_to_the_budget_and_a_resumed_step_replaces_later_rows(conn):
    _seed_run(conn)
    for step in range(1, 6):
        store_step(conn, "run1", step, [_sample(0, 0), _sample(0, 1)], max_samples=6)  # 3 steps of 2
    assert sorted({s for s, _, _ in _stored(conn)}) == [1, 4, 5]
    row = conn.execute("SELECT prompt, verdict, spans FROM rollout_samples LIMIT 1").fetchone()
    assert row["prompt"] == "Q\ufffd?" and row["verdict"] == "CORRECT" and row["spans"][0]["author"] == "senior"
    # a resumed attempt logs step 4 again: rows of step 4 and later from the earlier attempt go
    store_step(conn, "run1", 4, [_sample(1, 0, reward=0.0)], max_samples=6)
    assert _stored(conn) == [(1, 0, 0), (1, 0, 1), (4, 1, 0)]


# ---------------------------------------------------------------- a TRAIN job


def test_a_two_step_train_job_stores_rollouts_of_steps_1_and_2(db_url, conn, tmp_path, fixture_model_dir):
    from test_runner import _make_run, _seed_domain, _settings

    from tandem.runner import queue
    from tandem.runner.worker import Worker

    _seed_domain(conn, fixture_model_dir)
    _make_run(conn, p_junior=0.5, max_steps=2, save_steps=2, rollout_log_groups=1)
    queue.enqueue(conn, "TRAIN", {"runId": "run1"}, training_run_id="run1")
    assert Worker(_settings(db_url, tmp_path)).run_once() == "SUCCEEDED"
    rows = conn.execute("SELECT * FROM rollout_samples WHERE run_id = 'run1' ORDER BY step, sample_index").fetchall()
    assert [r["step"] for r in rows] == [1] * 4 + [2] * 4  # 1 group of num_generations=4 per step
    assert {r["group_index"] for r in rows} == {0}
    for r in rows:
        assert "".join(s["text"] for s in r["spans"]) == r["completion"]
        assert {s["author"] for s in r["spans"]} <= {"senior", "junior"}
        assert r["verdict"] in ("CORRECT", "INCORRECT", "UNPARSEABLE") and r["reward"] in (0.0, 1.0)
        assert r["prompt"] and r["advantage"] is not None
    for step in (1, 2):
        group = [r for r in rows if r["step"] == step]
        assert all(r["zero_signal"] == (len({g["reward"] for g in group}) == 1) for r in group)
        assert sum(r["advantage"] for r in group) == pytest.approx(0.0, abs=1e-6)
    assert any(s["author"] == "junior" for r in rows for s in r["spans"])  # p_junior 0.5: the junior wrote some
