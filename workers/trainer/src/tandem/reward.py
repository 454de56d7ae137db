"""The team reward: the verifier's binary verdict on the whole co-generated text, whoever wrote which word."""

from __future__ import annotations

from .verifier import verify_model_output


def team_rewards(texts: list[str], answers: list[str]) -> tuple[list[float], list[str]]:
    """(reward per completion, verdict per completion). Fail-closed: unparseable counts as 0."""
    verdicts = [verify_model_output(text, answer) for text, answer in zip(texts, answers, strict=True)]
    return [v.reward for v in verdicts], [v.verdict for v in verdicts]


def zero_signal_groups(rewards: list[float], group_size: int) -> int:
    """Groups whose rewards are all equal: their advantages are zero, so they contribute no gradient."""
    if group_size < 1 or len(rewards) % group_size:
        raise ValueError(f"{len(rewards)} rewards do not split into groups of {group_size}")
    groups = [rewards[i : i + group_size] for i in range(0, len(rewards), group_size)]
    return sum(1 for g in groups if max(g) == min(g))
