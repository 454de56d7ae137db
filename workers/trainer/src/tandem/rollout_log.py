"""Rollouts of every logged step, kept for the run page: a few whole groups per step (prompt, each completion cut
into author spans, team reward, verdict, GRPO advantage, whether the group gave no gradient).

The trainer records what its rollout function generated and what the reward function scored (`RolloutRecorder`);
at each logged step it hands the chosen groups to `train(on_rollouts=...)`, and the job runner stores them with
`store_step` in `rollout_samples`. Storage per run is bounded by `rollout_log_max_samples`: past it, every other
stored step is dropped (`steps_to_drop`), so what is kept stays spread evenly over the whole run — the first
step and the newest always among it — rather than only the oldest or only the newest steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .rollout import author_spans

# TRL adds this to the std before dividing (grpo_trainer.py), so a zero-std group gets advantage 0, not NaN.
ADVANTAGE_EPSILON = 1e-4


# ---------------------------------------------------------------- pure functions


def group_advantages(rewards: list[float], group_size: int, scale_rewards: str = "group") -> list[float]:
    """Each completion's advantage exactly as TRL's GRPOTrainer computes it for one generation batch: reward minus
    its group's mean, divided by (std + 1e-4) where std is the group's ("group") or the whole batch's ("batch")
    Bessel-corrected standard deviation; "none" only centres (Dr. GRPO)."""
    if group_size < 2 or len(rewards) % group_size:
        raise ValueError(f"{len(rewards)} rewards do not split into groups of {group_size} (need at least 2 per group)")
    if scale_rewards not in ("group", "batch", "none"):
        raise ValueError(f"scale_rewards must be 'group', 'batch' or 'none', got {scale_rewards!r}")

    def std(values: list[float]) -> float:
        if len(values) < 2:
            return 0.0
        mean = sum(values) / len(values)
        return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))

    batch_std = std(rewards)
    out = []
    for start in range(0, len(rewards), group_size):
        group = rewards[start : start + group_size]
        mean = sum(group) / group_size
        scale = {"group": std(group), "batch": batch_std}.get(scale_rewards)
        out += [(r - mean) / (scale + ADVANTAGE_EPSILON) if scale is not None else r - mean for r in group]
    return out


def pick_groups(n_groups: int, keep: int) -> list[int]:
    """Which of a step's `n_groups` groups to keep: `keep` of them spread evenly over the batch (the first always),
    so a step's sample is not always its first prompts. Deterministic: a resumed run keeps the same ones."""
    keep = max(0, min(keep, n_groups))
    return sorted({(i * n_groups) // keep for i in range(keep)}) if keep else []


def steps_to_drop(stored_steps: list[int], max_steps_kept: int, logging_steps: int = 1) -> list[int]:
    """The stored steps to delete so at most `max_steps_kept` remain: the first and the newest step stay, and of
    the rest the logged steps on a grid of every `stride`-th logged step, the stride being the smallest power of two
    whose grid over the run so far fits. The grid depends only on the first and newest step, so the stride only
    grows as a run goes on: kept sets are nested (a dropped step is never wanted back) and evenly spread."""
    steps = sorted(set(stored_steps))
    if len(steps) <= max_steps_kept:
        return []
    if max_steps_kept <= 1:
        return steps[:-1]
    first, last = steps[0], steps[-1]
    stride = 1
    while last // (stride * logging_steps) - first // (stride * logging_steps) + 2 > max_steps_kept:
        stride *= 2
    kept = {s for s in steps if s % (stride * logging_steps) == 0} | {first, last}
    return [s for s in steps if s not in kept]


def max_steps_kept(max_samples: int, samples_per_step: int) -> int:
    """How many logged steps fit in a run's sample budget (at least the newest one)."""
    return max(1, max_samples // max(1, samples_per_step))


# ---------------------------------------------------------------- recording during training


@dataclass
class _Batch:
    prompts: list[str]
    completion_ids: list[list[int]]
    authors: list[list[int]]
    texts: list[str]
    rewards: list[float] | None = None
    verdicts: list[str] | None = None


@dataclass
class RolloutRecorder:
    """Collects the generation batches of one logging window (the rollout function's output, then the reward
    function's scores for the same rows in the same order) and turns the chosen groups into stored samples."""

    tokenizer: object
    group_size: int
    groups_per_step: int
    scale_rewards: str = "group"
    batches: list[_Batch] = field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return self.groups_per_step > 0

    def add_rollout(self, prompts: list[str], completion_ids: list[list[int]], authors: list[list[int]],
                    texts: list[str]):
        if self.enabled:
            self.batches.append(_Batch(list(prompts), completion_ids, authors, list(texts)))

    def add_scores(self, rewards: list[float], verdicts: list[str]):
        """Scores for the newest batch; a batch that is never scored (or scored twice) is left out, not misaligned."""
        if not self.enabled or not self.batches:
            return
        batch = self.batches[-1]
        if batch.rewards is None and len(rewards) == len(batch.texts):
            batch.rewards, batch.verdicts = list(rewards), list(verdicts)

    def drain(self) -> list[dict]:
        """The samples of the chosen groups of this window, then forget the window. Group indices count groups over
        the whole window (several generation batches when gradients are accumulated or steps logged in strides)."""
        groups = []  # (batch, first row, advantages of the batch)
        for batch in self.batches:
            if batch.rewards is None:
                continue
            advantages = group_advantages(batch.rewards, self.group_size, self.scale_rewards)
            groups += [(batch, start, advantages) for start in range(0, len(batch.texts), self.group_size)]
        self.batches = []
        samples = []
        for group_index in pick_groups(len(groups), self.groups_per_step):
            batch, start, advantages = groups[group_index]
            rows = range(start, start + self.group_size)
            zero_signal = len({batch.rewards[i] for i in rows}) == 1
            for sample_index, i in enumerate(rows):
                samples.append({
                    "group_index": group_index, "sample_index": sample_index, "prompt": batch.prompts[i],
                    "completion": batch.texts[i],
                    "spans": author_spans(self.tokenizer, batch.completion_ids[i], batch.authors[i]),
                    "reward": float(batch.rewards[i]), "verdict": batch.verdicts[i],
                    "advantage": float(advantages[i]), "zero_signal": zero_signal,
                })
        return samples


# ---------------------------------------------------------------- storing (the job runner)


def _pg_text(value):
    """Postgres text and jsonb cannot hold NUL: U+FFFD takes its place, one character for one, so span offsets
    stay valid."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {k: _pg_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_pg_text(v) for v in value]
    return value


def store_step(conn, run_id: str, step: int, samples: list[dict], max_samples: int, logging_steps: int = 1) -> list[int]:
    """Store one logged step's samples and thin the run's stored steps to its budget; returns the steps dropped.

    Rows at this step or later are replaced first: within one attempt steps only grow, so any such row is left
    from an earlier attempt that got past the checkpoint this one resumed from."""
    from psycopg.types.json import Jsonb

    from .runner.queue import new_id

    with conn.transaction():
        conn.execute("DELETE FROM rollout_samples WHERE run_id = %s AND step >= %s", (run_id, step))
        if not samples:
            return []
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO rollout_samples (id, run_id, step, group_index, sample_index, prompt, completion, spans,
                                                reward, verdict, advantage, zero_signal)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                [(new_id("o"), run_id, step, s["group_index"], s["sample_index"], _pg_text(s["prompt"]),
                  _pg_text(s["completion"]), Jsonb(_pg_text(s["spans"])), s["reward"],
                  s["verdict"].upper() if s.get("verdict") else None, s["advantage"], s["zero_signal"])
                 for s in samples],
            )
        stored = [r["step"] for r in conn.execute(
            "SELECT DISTINCT step FROM rollout_samples WHERE run_id = %s ORDER BY step", (run_id,))]
        drop = steps_to_drop(stored, max_steps_kept(max_samples, len(samples)), logging_steps)
        if drop:
            conn.execute("DELETE FROM rollout_samples WHERE run_id = %s AND step = ANY(%s)", (run_id, drop))
    return drop
