"""Tandem Reinforcement Learning: a trained senior and a frozen junior co-write every rollout; GRPO updates the senior."""

__version__ = "0.1.0"
