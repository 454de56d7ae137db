"""Evaluation of a checkpoint (the senior) against a junior: every figure a number with a 95% interval.

Every metric below is computed per problem first and then aggregated over problems with a percentile
bootstrap that resamples problems (`stats.py`): value [low, high], n = number of problems. Answers are
judged by `verifier.verify_model_output` (exactly one \\boxed{} answer; unparseable counts as wrong). Word and
step boundaries are those of `boundaries.py`: a word starts at a token whose text starts with whitespace or
after a token that closes a word; a step is a line (a new step starts after every line break). Prompts are
`data.format_prompt(problem)`. Log-probabilities and KL are in nats, at temperature 1 over the full
vocabulary, whatever temperature the samples were drawn at.

Suites (`SUITES`) and their metrics; k = `EvalSettings.k` samples per problem, c_i = correct ones of problem i:

solo        the senior alone (`solo_rollout`), k samples per problem.
  solo_mean_at_k      mean_i c_i / k (= the unbiased pass@1).
  solo_pass_at_k      mean_i pass_at_k(k, c_i, k), i.e. the share of problems with at least one correct sample.
tandem      senior and junior co-write under the training rollout's rule (`handoff_rule`, default "paper": the
            author is redrawn, junior with probability p_junior, after every word-starting token and at least every
            max_gap_tokens; see docs/rollout-protocols.md), k samples per problem.
  tandem_accuracy     mean_i c_i / k.
  tandem_senior_share senior-written tokens / all tokens, a ratio of sums over problems (`bootstrap_ratio`).
handoff     authorship by reasoning step (granularity "step"), k samples per problem. A step ends after a token
            whose text contains `step_separator` ("\n", one line, for our arithmetic data; "\n\n" in the paper).
  handoff_alternating the paper's protocol: senior and junior alternate one reasoning step each, senior first
                      (`Alternate()`), in ONE shared budget of max_new_tokens over the whole text, both reading
                      the whole shared text; the chain ends at the budget or when either model ends it (eos).
                      mean_i c_i / k. Differences from the paper's loop: the handoff is at token level (a step
                      ends after the token that contains the separator, and a separator split across two tokens
                      is not a handoff point; "handoff_protocol" in the report counts both), where the paper
                      stops each turn at the separator string and re-encodes the text for the other model.
                      If the separator never occurs in the senior's solo samples, the report's "warnings" say so
                      with the count: the senior would then write everything and the figure is solo accuracy.
  curve handoff_senior_first_k, one point per k in `handoff_points` (steps by `step_separator` too): the senior
                      writes the first k steps, the
                      junior the rest (`SeniorFirst(k)`); mean_i c_i / k. k = 0 is the junior alone; where k
                      is at least a solo sample's number of steps, that sample is reproduced exactly (same
                      random stream, see "Random numbers" below), so a large k gives solo_mean_at_k.
  handoff_mean        the mean of the handoff_senior_first_k points (per problem, then bootstrapped).
  curve handoff_fraction, one point per f in `handoff_fractions`: take each solo sample of the senior, keep its
                      first m = floor(f * s + 1/2) steps (s = its number of steps, `split_steps`; the cut is
                      after the senior token that completes step m, and an unfinished last line counts as a
                      step; always lines, the rule studies share, whatever step_separator), and let the junior continue from prompt + those tokens for up to max_new_tokens
                      tokens. The verdict is on prefix + continuation; mean_i c_i / k.
drift       teacher-forced over the senior's solo samples.
  drift_kl            mean per-token KL(senior || junior): for each completion token t (eos included),
                      KL = sum_v p_senior(v | x_<t) (log p_senior(v | x_<t) - log p_junior(v | x_<t)). Averaged
                      over the tokens of each problem's k samples, then over problems.
  histogram drift_kl  of the per-token KL values.
legibility  the junior reading the senior's solo samples, teacher-forced.
  legibility_cross_entropy  the paper's legibility: the junior's teacher-forced mean cross-entropy per token over
                      the senior's solo chain of thought, -mean_t log p_junior(x_t | x_<t) over each sample's text
                      tokens (eos left out), averaged over the problem's k samples, then over problems (each
                      sample weighs the same, as the paper's per-CoT mean). Lower = more legible to the junior.
  legibility_logprob  mean junior log-prob per senior-written token (per problem pooled over its samples' tokens,
                      eos included, then over problems): a token-weighted variant, kept for older reports.
                      Higher = more predictable to the junior.
  legibility_perplexity  exp(-legibility_logprob) (interval mapped through the same function).
  histogram legibility_token_surprisal  of per-token junior surprisal -log p_junior (nats).
  word_surprisal      of the solo examples (below): per word {start, end, nats}, words by `boundaries.word_starts`
                      on the tokens' texts (special tokens such as eos left out), start/end = character offsets
                      into the example's text, nats = minus the sum of the junior's log-probs of its tokens
                      (`word_surprisal()`, also used for traces generated by the job runner).

Examples ("examples"): for the first `n_examples` problems, the first sample of every schedule run: solo
("solo" and/or "legibility" suites), the tandem coin flip ("coin_flip"), and the handoff schedules ("alternate",
"senior_first_k=K", "senior_fraction=F"). Each has suite, schedule, p_junior, granularity, problem_id, problem,
answer, text, verdict, extracted, verifier, verifier_version, verdict_details and author_spans
[{author: "senior" | "junior", text, start, end}] (character offsets; the texts concatenate to the text).

Displacement (`displacement()`, a separate pair analysis of a GRPO and a Tandem-RL checkpoint trained from
the same base): on the GRPO checkpoint's solo samples (k per problem), per completion token,
KL_grpo = KL(grpo || base) and KL_trl = KL(trl || base) at the same positions (full vocabulary, temperature 1).
The shift-back statistic needs the same positions (a token-by-token comparison), so it reads TRL at GRPO's
samples; KL to base as a drift measure is read on each senior's OWN samples (`kl_to_base_trl_own`).
The null: the same analysis with a second GRPO seed in the "trl" slot (`--checkpoint grpo_b --grpo-checkpoint
grpo_a`); picking one run's extreme positions alone makes > 50% "shift back" by regression to the mean, so TRL's
figures are read as an excess over this null (`claims.py`).
  displaced_share         displaced tokens / all tokens, where displaced means KL_grpo > displacement_threshold
                          (default 0.5 nats, about the KL between a 95/5 and a 50/50 choice between two tokens:
                          a decision the base model left open that training has made nearly certain, or the
                          reverse; an unchanged next-token distribution has KL 0).
  displacement_shift_back among displaced tokens, the share with KL_trl < KL_grpo (ratio of sums over problems,
                          problems resampled as units since tokens cluster within problems).
  kl_to_base_grpo         mean per-token KL_grpo on GRPO's own samples (per problem, then over problems).
  kl_to_base_trl          mean per-token KL_trl at GRPO's sample positions (not TRL's own samples).
  kl_reduction            1 - kl_to_base_trl / kl_to_base_grpo, both at GRPO's positions (a ratio over problems).
  kl_to_base_trl_own      mean per-token KL(trl || base) on the TRL checkpoint's OWN solo samples (same seeds).
  kl_reduction_own        1 - kl_to_base_trl_own / kl_to_base_grpo: each senior on its own samples (the drift
                          comparison; the paper's "14% lower KL").

Sampling. `EvalSettings.temperature`, `top_p` and `top_k` apply to every rollout of every suite; the named
preset `paper` (`EvalSettings.preset("paper")`, `tandem eval --preset paper`) is the paper's evaluation sampling,
temperature 0.7, top-p 0.8, top-k 20. The defaults (temperature 1, no top-p / top-k) stay for other callers.

Report (`evaluate_checkpoint`, `displacement`; JSON via `write_report`): "metrics" {name: {value, low, high, n}},
"curves" {name: {x_name, points: [{x, value, low, high, n}]}}, "histograms" {name: {edges, counts, n, below,
above}}, "examples", "per_problem" (ids and each bootstrapped per-problem series, for paired comparisons
between reports on the same problems; `claims.py` pairs them), "warnings" (list of sentences), "handoff_protocol"
(separator, its occurrences in the senior's solo samples, how many of those lie inside one token), "settings",
"versions" (verifier, torch, transformers), "created_at".
An undefined estimate (e.g. a ratio with nothing in its denominator) is written as null.
`compare_table(reports)` prints them side by side.

Random numbers. Rollouts are made in batches of `batch_size` problems; batch b of every suite samples from a
generator seeded with (seed, b). All suites thus share their random stream (common random numbers): suite
differences are less blurred by sampling noise, and schedules that make the same choices make the same text.
Reports are deterministic for a fixed seed, settings and problem list (on a given device and library version).
"""

from __future__ import annotations

import bisect
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timezone
from pathlib import Path

import torch

from .boundaries import TokenFlags, handoff_steps_kept, split_steps, token_flags, word_starts
from .data import format_prompt
from .models import check_same_tokenizer, load_model, load_tokenizer
from .rollout import (
    HANDOFF_RULES, JUNIOR, SENIOR, Alternate, CoinFlip, GenerationSettings, RolloutResult, SeniorFirst, author_spans, char_offsets,
    rule_schedule, solo_rollout, tandem_rollout,
)
from .stats import Estimate, bootstrap_mean, bootstrap_ratio, histogram, pass_at_k

SUITES = ("solo", "tandem", "handoff", "drift", "legibility")
NEEDS_JUNIOR = ("tandem", "handoff", "drift", "legibility")

# Fixed histogram edges, so that histograms of different checkpoints line up.
KL_EDGES = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
SURPRISAL_EDGES = (0.0, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0)


# Named sampling presets for `EvalSettings.preset` / `tandem eval --preset`.
PRESETS: dict[str, dict] = {
    "paper": {"temperature": 0.7, "top_p": 0.8, "top_k": 20},  # the paper's evaluation sampling
}


@dataclass
class EvalSettings:
    k: int = 4  # samples per problem, every suite
    p_junior: float = 0.5  # tandem suite: chance the junior writes each word
    temperature: float = 1.0  # sampling temperature of every rollout (KL and log-probs are always at 1)
    top_p: float = 1.0  # nucleus sampling of every rollout; 1 = off
    top_k: int = 0  # top-k sampling of every rollout; 0 = off
    step_separator: str = "\n"  # ends a reasoning step in the handoff suite ("\n\n" in the paper)
    handoff_rule: str = "paper"  # tandem suite: the training rollout's rule (config.HANDOFF_RULES)
    max_gap_tokens: int = 32  # tandem suite, rule paper: a redraw at least this often
    chunk_size: int = 8  # tandem suite, rule chunk
    max_new_tokens: int = 96
    seed: int = 0
    n_problems: int | None = None  # first n problems; None = all
    handoff_points: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)  # k of SeniorFirst(k)
    handoff_fractions: tuple[float, ...] = (0.25, 0.5, 0.75)
    displacement_threshold: float = 0.5  # nats of KL(grpo || base) above which a token counts as displaced
    batch_size: int = 16  # problems per batch (x k rows), in rollouts and teacher-forced scoring
    chunk_tokens: int = 256  # token positions per full-vocabulary log-softmax (memory: chunk x vocab x 4 B per model)
    n_examples: int = 3
    n_boot: int = 2000
    bf16: bool | None = None  # None: bf16 on CUDA, float32 on CPU

    def validate(self) -> "EvalSettings":
        """Checks types and ranges; raises one ValueError listing every bad field by name."""
        problems = []

        def whole(name: str, minimum: int | None, optional: bool = False):
            value = getattr(self, name)
            if optional and value is None:
                return
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append(f"{name} must be a whole number{' or null' if optional else ''}, got {value!r}")
            elif minimum is not None and value < minimum:
                problems.append(f"{name} must be >= {minimum}{' or null' if optional else ''}, got {value}")

        def number(name: str) -> bool:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                problems.append(f"{name} must be a number, got {value!r}")
                return False
            return True

        if self.handoff_rule not in HANDOFF_RULES:
            problems.append(f"handoff_rule must be one of {', '.join(HANDOFF_RULES)}, got {self.handoff_rule!r}")
        for name in ("k", "max_new_tokens", "batch_size", "chunk_tokens", "n_boot", "max_gap_tokens", "chunk_size"):
            whole(name, 1)
        whole("top_k", 0)
        if number("top_p") and not 0.0 < self.top_p <= 1.0:
            problems.append(f"top_p must be in (0, 1], got {self.top_p}")
        if not isinstance(self.step_separator, str) or not self.step_separator:
            problems.append(f"step_separator must be a non-empty string, got {self.step_separator!r}")
        whole("seed", None)
        whole("n_examples", 0)
        whole("n_problems", 1, optional=True)
        if number("p_junior") and not 0.0 <= self.p_junior <= 1.0:
            problems.append(f"p_junior must be in [0, 1], got {self.p_junior}")
        if number("temperature") and self.temperature < 0:
            problems.append(f"temperature must be >= 0, got {self.temperature}")
        if number("displacement_threshold") and self.displacement_threshold <= 0:
            problems.append(f"displacement_threshold must be > 0, got {self.displacement_threshold}")
        points, fractions = self.handoff_points, self.handoff_fractions
        if not isinstance(points, tuple) or any(isinstance(k, bool) or not isinstance(k, int) or k < 0 for k in points):
            problems.append(f"handoff_points must be a list of whole numbers >= 0, got {points!r}")
        if not isinstance(fractions, tuple) or any(
            isinstance(f, bool) or not isinstance(f, (int, float)) or not 0.0 <= f <= 1.0 for f in fractions
        ):
            problems.append(f"handoff_fractions must be a list of numbers in [0, 1], got {fractions!r}")
        if self.bf16 is not None and not isinstance(self.bf16, bool):
            problems.append(f"bf16 must be true, false or null, got {self.bf16!r}")
        if problems:
            raise ValueError("bad evaluation settings: " + "; ".join(problems))
        return self

    def generation(self) -> GenerationSettings:
        """The sampling of every rollout (all suites and the displacement analysis)."""
        return GenerationSettings(max_new_tokens=self.max_new_tokens, temperature=self.temperature,
                                  top_p=self.top_p, top_k=self.top_k, seed=self.seed)

    @classmethod
    def preset(cls, name: str, **overrides) -> "EvalSettings":
        """Settings of a named preset (`PRESETS`); `overrides` set other fields or replace the preset's."""
        if name not in PRESETS:
            raise ValueError(f"unknown evaluation preset {name!r}; choose from {sorted(PRESETS)}")
        return cls(**{**PRESETS[name], **overrides}).validate()

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "EvalSettings":
        """The inverse of to_dict (e.g. a report's "settings"); unknown keys are an error, not ignored."""
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown evaluation setting(s) {sorted(unknown)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}).validate()


# ---------------------------------------------------------------- teacher-forced log-probs


def _plain_head(model) -> bool:
    """Whether logits = lm_head(final hidden state), so we can apply the head to a few positions at a time."""
    cfg = model.config
    scaled = any(getattr(cfg, a, None) not in (None, 1, 1.0) for a in ("final_logit_softcapping", "logit_scale", "logits_scaling"))
    return not scaled and model.get_output_embeddings() is not None and model.base_model is not model


@torch.inference_mode()
def iter_completion_logprobs(
    models: Sequence, prompt_ids: list[list[int]], completion_ids: list[list[int]], batch_size: int = 8,
    chunk_tokens: int = 256,
):
    """Teacher-forced, full-vocabulary log-softmax (temperature 1) of each model at every completion token.

    Yields (flat, targets, logprobs) per chunk of at most `chunk_tokens` positions: `flat` indexes the token in
    the concatenation of all completions, `targets` are the completion token ids there, and `logprobs[m]` is
    model m's [n, vocab] float32 log-distribution that predicted them (from the hidden state one position
    earlier). Sequences are right-padded (so default positions are right) and sorted by length to limit padding;
    only final hidden states are kept per batch and the vocabulary projection is applied a chunk at a time, so a
    150k vocabulary costs chunk_tokens x 150k x 4 bytes per model, not sequence length x batch x 150k.
    If the models' vocabularies differ in size (padded embeddings), the common prefix is used.
    """
    device = next(models[0].parameters()).device
    lengths = [len(c) for c in completion_ids]
    offsets = [0]
    for n in lengths:
        offsets.append(offsets[-1] + n)
    order = sorted(range(len(completion_ids)), key=lambda r: -(len(prompt_ids[r]) + lengths[r]))
    pad = 0
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        seqs = [list(prompt_ids[r]) + list(completion_ids[r]) for r in rows]
        width = max(len(s) for s in seqs)
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        b_idx, t_idx, flat = [], [], []
        for b, (r, s) in enumerate(zip(rows, seqs)):
            ids[b, : len(s)] = torch.tensor(s, dtype=torch.long)
            mask[b, : len(s)] = 1
            p = len(prompt_ids[r])
            if p == 0:
                raise ValueError(f"row {r}: empty prompt (the first completion token needs a preceding state)")
            b_idx += [b] * lengths[r]
            t_idx += range(p - 1, p - 1 + lengths[r])  # the state at position j predicts token j + 1
            flat += range(offsets[r], offsets[r + 1])
        if not flat:
            continue
        ids, mask = ids.to(device), mask.to(device)
        b_idx, t_idx = torch.tensor(b_idx, device=device), torch.tensor(t_idx, device=device)
        states, heads = [], []
        for model in models:
            if _plain_head(model):
                states.append(model.base_model(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state)
                heads.append(model.get_output_embeddings())
            else:  # a model that post-processes its logits: take them whole (more memory)
                states.append(model(input_ids=ids, attention_mask=mask, use_cache=False).logits)
                heads.append(None)
        targets_all = ids[b_idx, t_idx + 1]
        flat_all = torch.tensor(flat)
        for c in range(0, len(flat), chunk_tokens):
            sl = slice(c, c + chunk_tokens)
            logits = []
            for h, head in zip(states, heads):
                x = h[b_idx[sl], t_idx[sl]]
                logits.append((head(x) if head is not None else x).float())
            vocab = min(x.shape[-1] for x in logits)
            yield flat_all[sl], targets_all[sl].cpu(), [torch.log_softmax(x[:, :vocab], -1) for x in logits]


@dataclass
class TokenStats:
    """Per completion token: each model's log-prob of the token, and KL between pairs of models."""

    logprobs: list[list[list[float]]]  # [model][row][token]
    kl: dict[tuple[int, int], list[list[float]]] = field(default_factory=dict)  # (a, b) -> [row][token] KL(a || b)


@torch.inference_mode()
def token_stats(
    models: Sequence, prompt_ids: list[list[int]], completion_ids: list[list[int]],
    kl_pairs: Sequence[tuple[int, int]] = (), batch_size: int = 8, chunk_tokens: int = 256,
) -> TokenStats:
    """Teacher-forced log-prob of every completion token under each model, and exact KL(models[a] || models[b])
    over the full vocabulary at every completion position, for each (a, b) in kl_pairs. Nats, temperature 1."""
    lengths = [len(c) for c in completion_ids]
    total = sum(lengths)
    lp = [torch.zeros(total, dtype=torch.float64) for _ in models]
    kl = {pair: torch.zeros(total, dtype=torch.float64) for pair in kl_pairs}
    for flat, targets, logprobs in iter_completion_logprobs(models, prompt_ids, completion_ids, batch_size, chunk_tokens):
        for m, x in enumerate(logprobs):
            lp[m][flat] = x.gather(-1, targets.to(x.device)[:, None]).squeeze(-1).double().cpu()
        for a, b in kl_pairs:
            p, q = logprobs[a], logprobs[b]
            # Rounding can make a near-zero KL slightly negative; KL is >= 0 by definition.
            kl[(a, b)][flat] = (p.exp() * (p - q)).sum(-1).clamp_min(0).double().cpu()

    def split(x: torch.Tensor) -> list[list[float]]:
        return [part.tolist() for part in torch.split(x, lengths)]

    return TokenStats([split(x) for x in lp], {pair: split(x) for pair, x in kl.items()})


# ---------------------------------------------------------------- rollouts in batches, shared random stream


def _generator(seed: int, batch_index: int, device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed((seed * 1_000_003 + batch_index) % 2**63)


def _concat(parts: list[RolloutResult]) -> RolloutResult:
    junior = None if any(p.junior_logprobs is None for p in parts) else [x for p in parts for x in p.junior_logprobs]
    return RolloutResult(
        prompt_ids=[x for p in parts for x in p.prompt_ids],
        completion_ids=[x for p in parts for x in p.completion_ids],
        authors=[x for p in parts for x in p.authors],
        senior_logprobs=[x for p in parts for x in p.senior_logprobs],
        junior_logprobs=junior,
        texts=[x for p in parts for x in p.texts],
        finished=[x for p in parts for x in p.finished],
        seconds=sum(p.seconds for p in parts),
        settings=parts[0].settings if parts else {},
    )


def batched_rollout(call: Callable, prompts: list, rows_per_prompt: int, settings: EvalSettings, device) -> RolloutResult:
    """`call(prompts, generator)` over batches of `settings.batch_size` problems (batch b seeded with (seed, b)).

    `prompts` holds one entry per problem (rows_per_prompt = k generations each) or one per sample row
    (rows_per_prompt = 1, k consecutive rows per problem); either way batch b covers the same problems.
    """
    per_batch = settings.batch_size * (settings.k if rows_per_prompt == 1 else 1)
    parts = []
    for b, start in enumerate(range(0, len(prompts), per_batch)):
        parts.append(call(prompts[start : start + per_batch], _generator(settings.seed, b, device)))
    return _concat(parts)


def continue_prefixes(model, tokenizer, prefixed_ids: list[list[int]], settings: EvalSettings,
                      flags: TokenFlags | None = None) -> RolloutResult:
    """`model` alone continuing each row of token ids (a prompt and a senior's prefix), k consecutive rows per
    problem, for up to max_new_tokens tokens, in batches like every rollout (batch b seeded with (seed, b)). The
    handoff-fraction curve's junior, and the junior on a study's items (runner/study_junior.py)."""
    flags = flags if flags is not None else token_flags(tokenizer, model.config.vocab_size)
    return batched_rollout(
        lambda prompts, g: solo_rollout(model, tokenizer, prompts, 1, settings.generation(), flags=flags, generator=g),
        prefixed_ids, 1, settings, next(model.parameters()).device,
    )


# ---------------------------------------------------------------- per-problem helpers


def _per_problem(values: list, k: int) -> list[list]:
    return [values[i : i + k] for i in range(0, len(values), k)]


def _pooled_means(per_row: list[list[float]], k: int) -> list[float]:
    """Mean over all tokens of each problem's k rows."""
    return [sum(sum(r) for r in rows) / max(1, sum(len(r) for r in rows)) for rows in _per_problem(per_row, k)]


def step_prefix_tokens(token_texts: list[str], fraction: float) -> int:
    """How many of a completion's tokens make up its first m = floor(fraction * s + 1/2) steps (s = its number
    of steps by `split_steps`, on the concatenated token texts; m by `handoff_steps_kept`, as in studies): the
    cut is after the token that completes step m, or after the last token if step m is the unfinished last line."""
    text = "".join(token_texts)
    steps = split_steps(text)
    m = handoff_steps_kept({"kind": "fraction", "f": fraction}, len(steps))
    if m == 0:
        return 0
    need = len("".join(steps[:m]))
    done = 0
    for j, t in enumerate(token_texts):
        done += len(t)
        if done >= need:
            return j + 1
    return len(token_texts)


def separator_flags(tokenizer, flags: TokenFlags, separator: str) -> TokenFlags:
    """`flags` (from `boundaries.token_flags`) with the step boundary (`ends_line`) replaced by "the token's text
    contains `separator`": for "\n" that is `ends_line` itself; for "\n\n" a step ends after a token holding the
    whole paragraph break."""
    if separator == "\n":
        return flags
    texts = tokenizer.batch_decode([[i] for i in range(flags.ends_line.numel())], clean_up_tokenization_spaces=False)
    return replace(flags, ends_line=torch.tensor([separator in t for t in texts]))


def separator_occurrences(token_texts: list[str], separator: str) -> tuple[int, int]:
    """(occurrences of `separator` in the concatenated token texts, how many of them lie inside a single token).
    Only the latter are handoff points of the token-level step schedules."""
    text = "".join(token_texts)
    ends, pos = [], 0
    for t in token_texts:
        pos += len(t)
        ends.append(pos)
    total = inside = 0
    start = text.find(separator)
    while start >= 0:
        total += 1
        end = start + len(separator)
        j = bisect.bisect_left(ends, end)  # the token where the occurrence ends
        if ends[j] - len(token_texts[j]) <= start:
            inside += 1
        start = text.find(separator, end)
    return total, inside


def word_spans(token_texts: list[str]) -> list[tuple[int, int]]:
    """[start, end) token ranges of the words of a token sequence, by `boundaries.word_starts`."""
    starts = [i for i, first in enumerate(word_starts(token_texts)) if first]
    return list(zip(starts, starts[1:] + [len(token_texts)]))


def word_surprisal(tokenizer, completion_ids: list[int], logprobs: list[float]) -> list[dict]:
    """Per word of a completion: {start, end, nats}, the character range of the word in the decoded completion
    (special tokens such as eos left out, as in the stored text; `rollout.char_offsets`) and minus the sum of
    `logprobs` (one per completion token, e.g. the junior's teacher-forced log-probs) over the word's tokens.
    Words by `word_spans`; a word that covers no whole character (its tokens end inside one) is joined to the
    next, so the ranges tile the text and the nats add up to the completion's."""
    special = set(tokenizer.all_special_ids)
    keep = [j for j, t in enumerate(completion_ids) if t not in special]
    ids, lps = [completion_ids[j] for j in keep], [logprobs[j] for j in keep]
    spans = word_spans(tokenizer.batch_decode([[t] for t in ids], clean_up_tokenization_spaces=False))
    _, offsets = char_offsets(tokenizer, ids, [a for a, _ in spans] + [len(ids)])
    words, carried = [], 0.0
    for (a, b), start, end in zip(spans, offsets, offsets[1:]):
        carried += -sum(lps[a:b])
        if end > start:
            words.append({"start": start, "end": end, "nats": carried})
            carried = 0.0
    if words:
        words[-1]["nats"] += carried
    return words


# ---------------------------------------------------------------- the suites


class _Evaluation:
    """Runs the requested suites on one senior/junior pair; solo samples are generated once and shared."""

    def __init__(self, senior, junior, tokenizer, problems: list[dict], settings: EvalSettings, log):
        self.senior, self.junior, self.tokenizer, self.problems = senior, junior, tokenizer, problems
        self.settings, self.log = settings, log
        self.device = next(senior.parameters()).device
        self.flags = token_flags(tokenizer, senior.config.vocab_size)
        self.step_flags = separator_flags(tokenizer, self.flags, settings.step_separator)
        self.warnings: list[str] = []
        self.handoff_protocol: dict | None = None
        self.prompts = [format_prompt(p["problem"]) for p in problems]
        self.answers = [p["answer"] for p in problems]
        self.metrics: dict[str, Estimate] = {}
        self.curves: dict[str, dict] = {}
        self.histograms: dict[str, dict] = {}
        self.examples: list[dict] = []
        self.per_problem: dict[str, list[float]] = {"ids": [p.get("id") for p in problems]}
        self._solo: RolloutResult | None = None
        self._solo_verdicts = None
        self._solo_stats: TokenStats | None = None

    # -- shared pieces

    def _estimate(self, name: str, per_problem: list[float]) -> Estimate:
        self.per_problem[name] = per_problem
        return bootstrap_mean(per_problem, self.settings.n_boot, self.settings.seed)

    def _ratio(self, num: list[float], den: list[float]) -> Estimate:
        return bootstrap_ratio(num, den, self.settings.n_boot, self.settings.seed)

    def _verify(self, texts: list[str]):
        from .verifier import verify_model_output

        k = self.settings.k
        return [verify_model_output(text, self.answers[i // k]) for i, text in enumerate(texts)]

    def _accuracy(self, name: str, texts: list[str]) -> tuple[Estimate, list]:
        verdicts = self._verify(texts)
        correct = [sum(v.reward for v in group) for group in _per_problem(verdicts, self.settings.k)]
        return self._estimate(name, [c / self.settings.k for c in correct]), verdicts

    def _rollout(self, schedule, granularity: str, **rule) -> RolloutResult:
        """Every problem's k co-written samples; `rule`: tandem_rollout's handoff_rule and its parameters."""
        s = self.settings
        flags = self.step_flags if granularity == "step" else self.flags
        return batched_rollout(
            lambda prompts, g: tandem_rollout(self.senior, self.junior, self.tokenizer, prompts, s.k, s.generation(),
                                              schedule, granularity, flags, g, **rule),
            self.prompts, s.k, s, self.device,
        )

    def solo(self) -> tuple[RolloutResult, list]:
        if self._solo is None:
            start = time.perf_counter()
            s = self.settings
            self._solo = batched_rollout(
                lambda prompts, g: solo_rollout(self.senior, self.tokenizer, prompts, s.k, s.generation(),
                                                flags=self.flags, generator=g),
                self.prompts, s.k, s, self.device,
            )
            self._solo_verdicts = self._verify(self._solo.texts)
            self.log(f"  solo samples: {len(self._solo.texts)} in {time.perf_counter() - start:.1f}s")
        return self._solo, self._solo_verdicts

    def solo_stats(self) -> TokenStats:
        """Senior and junior log-probs and KL(senior || junior) on the senior's solo samples (drift, legibility)."""
        if self._solo_stats is None:
            solo, _ = self.solo()
            s = self.settings
            self._solo_stats = token_stats([self.senior, self.junior], solo.prompt_ids, solo.completion_ids,
                                           [(0, 1)], s.batch_size * s.k, s.chunk_tokens)
        return self._solo_stats

    def token_texts(self, ids: list[int]) -> list[str]:
        return self.tokenizer.batch_decode([[t] for t in ids], clean_up_tokenization_spaces=False)

    # -- suites

    def run_solo(self):
        solo, verdicts = self.solo()
        k = self.settings.k
        correct = [int(sum(v.reward for v in group)) for group in _per_problem(verdicts, k)]
        self.metrics["solo_mean_at_k"] = self._estimate("solo_mean_at_k", [c / k for c in correct])
        self.metrics["solo_pass_at_k"] = self._estimate("solo_pass_at_k", [pass_at_k(k, c, k) for c in correct])

    def run_tandem(self):
        s = self.settings
        result = self._rollout(rule_schedule(s.handoff_rule, s.p_junior), "word", handoff_rule=s.handoff_rule,
                               max_gap_tokens=s.max_gap_tokens, chunk_size=s.chunk_size)
        self.metrics["tandem_accuracy"], verdicts = self._accuracy("tandem_accuracy", result.texts)
        senior_tokens = [sum(a.count(SENIOR) for a in rows) for rows in _per_problem(result.authors, s.k)]
        tokens = [sum(len(a) for a in rows) for rows in _per_problem(result.authors, s.k)]
        self.metrics["tandem_senior_share"] = self._ratio(senior_tokens, tokens)
        self._add_examples("tandem", "coin_flip", result, verdicts, s.p_junior, "word")

    def check_separator(self):
        """Count the step separator in the senior's solo samples; warn when it never ends a step there."""
        s = self.settings
        solo, _ = self.solo()
        eos = self.tokenizer.eos_token_id
        total = inside = 0
        for ids in solo.completion_ids:
            t, i = separator_occurrences(self.token_texts([x for x in ids if x != eos]), s.step_separator)
            total, inside = total + t, inside + i
        self.handoff_protocol = {"schedule": "alternate, senior first, one shared token budget",
                                 "step_separator": s.step_separator, "max_new_tokens": s.max_new_tokens,
                                 "solo_samples": len(solo.completion_ids), "separator_occurrences": total,
                                 "separator_inside_one_token": inside}
        if inside == 0:
            self.warnings.append(
                f"step_separator {s.step_separator!r} occurs {total} times in the senior's {len(solo.completion_ids)} "
                f"solo samples, {inside} of them inside one token: no reasoning step ends, so in the handoff suite "
                f"the first author writes everything (handoff_alternating is then the senior alone)")
        elif inside < total:
            self.warnings.append(
                f"step_separator {s.step_separator!r}: {total - inside} of its {total} occurrences in the senior's solo "
                f"samples are split across two tokens and are not handoff points")

    def run_handoff(self):
        s = self.settings
        self.check_separator()
        result = self._rollout(Alternate(), "step")
        self.metrics["handoff_alternating"], verdicts = self._accuracy("handoff_alternating", result.texts)
        self._add_examples("handoff", "alternate", result, verdicts, None, "step")

        points = []
        for k_steps in s.handoff_points:
            result = self._rollout(SeniorFirst(k_steps), "step")
            estimate, verdicts = self._accuracy(f"handoff_senior_first_k[k={k_steps}]", result.texts)
            points.append(estimate)
            self._add_examples("handoff", f"senior_first_k={k_steps}", result, verdicts, None, "step")
        self.curves["handoff_senior_first_k"] = _curve("k", s.handoff_points, points)
        if points:
            names = [f"handoff_senior_first_k[k={k_steps}]" for k_steps in s.handoff_points]
            per_problem = [sum(vals) / len(vals) for vals in zip(*(self.per_problem[n] for n in names))]
            self.metrics["handoff_mean"] = self._estimate("handoff_mean", per_problem)

        solo, _ = self.solo()
        eos = self.tokenizer.eos_token_id
        texts_by_row = [self.token_texts([t for t in ids if t != eos]) for ids in solo.completion_ids]
        points = []
        for f in s.handoff_fractions:
            prefixes = [ids[: step_prefix_tokens(texts, f)] for ids, texts in zip(solo.completion_ids, texts_by_row)]
            cont = continue_prefixes(self.junior, self.tokenizer,
                                     [p + pre for p, pre in zip(solo.prompt_ids, prefixes)], s, self.flags)
            texts = [self.tokenizer.decode(pre + c, skip_special_tokens=True, clean_up_tokenization_spaces=False)
                     for pre, c in zip(prefixes, cont.completion_ids)]
            estimate, verdicts = self._accuracy(f"handoff_fraction[f={f}]", texts)
            points.append(estimate)
            for i in range(min(s.n_examples, len(self.problems))):
                row = i * s.k
                ids = prefixes[row] + cont.completion_ids[row]
                authors = [SENIOR] * len(prefixes[row]) + [JUNIOR] * len(cont.completion_ids[row])
                self.examples.append(self._example("handoff", f"senior_fraction={f}", i, texts[row], verdicts[row],
                                                   author_spans(self.tokenizer, ids, authors), None, "step"))
        self.curves["handoff_fraction"] = _curve("f", s.handoff_fractions, points)

    def run_drift(self):
        kl = self.solo_stats().kl[(0, 1)]
        self.metrics["drift_kl"] = self._estimate("drift_kl", _pooled_means(kl, self.settings.k))
        self.histograms["drift_kl"] = histogram([x for row in kl for x in row], KL_EDGES)

    def run_legibility(self):
        stats = self.solo_stats()
        junior_lp = stats.logprobs[1]
        est = self._estimate("legibility_logprob", _pooled_means(junior_lp, self.settings.k))
        self.metrics["legibility_logprob"] = est
        self.metrics["legibility_perplexity"] = est.map(lambda x: math.exp(-x))
        solo, _ = self.solo()
        eos, k = self.tokenizer.eos_token_id, self.settings.k
        per_sample = []
        for ids, lps in zip(solo.completion_ids, junior_lp):
            text = [-lp for t, lp in zip(ids, lps) if t != eos]  # the chain of thought's tokens, eos left out
            per_sample.append(sum(text) / len(text) if text else float("nan"))
        per_problem = []
        for rows in _per_problem(per_sample, k):
            finite = [x for x in rows if math.isfinite(x)]
            per_problem.append(sum(finite) / len(finite) if finite else 0.0)
        self.metrics["legibility_cross_entropy"] = self._estimate("legibility_cross_entropy", per_problem)
        self.histograms["legibility_token_surprisal"] = histogram([-x for row in junior_lp for x in row], SURPRISAL_EDGES)

    def solo_examples(self, with_surprisal: bool) -> list[dict]:
        solo, verdicts = self.solo()
        examples = []
        for i in range(min(self.settings.n_examples, len(self.problems))):
            row = i * self.settings.k
            example = self._example("solo", "solo", i, solo.texts[row], verdicts[row],
                                    solo.author_spans(self.tokenizer, row), 0.0, None)
            if with_surprisal:
                example["word_surprisal"] = word_surprisal(self.tokenizer, solo.completion_ids[row],
                                                           self.solo_stats().logprobs[1][row])
            examples.append(example)
        return examples

    def _add_examples(self, suite: str, schedule: str, result: RolloutResult, verdicts: list, p_junior, granularity):
        """The first sample of each of the first n_examples problems, with who wrote what."""
        for i in range(min(self.settings.n_examples, len(self.problems))):
            row = i * self.settings.k
            self.examples.append(self._example(suite, schedule, i, result.texts[row], verdicts[row],
                                               result.author_spans(self.tokenizer, row), p_junior, granularity))

    def _example(self, suite: str, schedule: str, i: int, text: str, verdict, spans: list[dict],
                 p_junior: float | None, granularity: str | None) -> dict:
        p = self.problems[i]
        return {"suite": suite, "schedule": schedule, "p_junior": p_junior, "granularity": granularity,
                "problem_id": p.get("id"), "problem": p["problem"], "answer": p["answer"], "text": text,
                "verdict": verdict.verdict, "extracted": verdict.extracted, "verifier": verdict.verifier,
                "verifier_version": verdict.version, "verdict_details": verdict.details, "author_spans": spans}


def _curve(x_name: str, xs: Sequence, points: list[Estimate]) -> dict:
    return {"x_name": x_name, "points": [{"x": x, **e.to_dict()} for x, e in zip(xs, points)]}


def _check_suites(suites: Sequence[str]) -> list[str]:
    unknown = [s for s in suites if s not in SUITES]
    if unknown:
        raise ValueError(f"unknown suite(s) {unknown}; choose from {SUITES}")
    return [s for s in SUITES if s in suites]  # canonical order


def evaluate_models(senior, junior, tokenizer, problems: list[dict], suites: Sequence[str] = SUITES,
                    settings: EvalSettings | None = None, log=print) -> dict:
    """The suites on loaded models: {"metrics", "curves", "histograms", "examples", "per_problem", "n_problems"}."""
    settings = (settings or EvalSettings()).validate()
    suites = _check_suites(suites)
    problems = list(problems)[: settings.n_problems]
    if not problems:
        raise ValueError("no problems to evaluate")
    if junior is None and any(s in NEEDS_JUNIOR for s in suites):
        raise ValueError(f"suites {[s for s in suites if s in NEEDS_JUNIOR]} need a junior model")
    run = _Evaluation(senior, junior, tokenizer, problems, settings, log)
    for suite in suites:
        start = time.perf_counter()
        getattr(run, f"run_{suite}")()
        log(f"{suite}: {time.perf_counter() - start:.1f}s")
    examples = run.examples  # tandem and handoff samples
    if any(s in suites for s in ("solo", "legibility")):
        examples = run.solo_examples(with_surprisal="legibility" in suites) + examples
    return {
        "n_problems": len(problems),
        "metrics": {name: e.to_dict() for name, e in run.metrics.items()},
        "curves": run.curves,
        "histograms": run.histograms,
        "examples": examples,
        "per_problem": run.per_problem,
        "warnings": run.warnings,
        "handoff_protocol": run.handoff_protocol,
    }


# ---------------------------------------------------------------- checkpoints and reports


def _dtype(settings: EvalSettings, device) -> torch.dtype:
    bf16 = settings.bf16 if settings.bf16 is not None else torch.device(device).type == "cuda"
    return torch.bfloat16 if bf16 else torch.float32


def _versions() -> dict:
    import transformers

    from . import __version__
    from .verifier import VERIFIER_VERSION

    return {"verifier": VERIFIER_VERSION, "torch": torch.__version__, "transformers": transformers.__version__,
            "tandem": __version__}


def _tokenizer_for(checkpoint_dir: Path, fallback: Path | None):
    """A checkpoint normally carries its tokenizer; if not, the junior's (the same by the compatibility rule)."""
    try:
        return load_tokenizer(checkpoint_dir)
    except (OSError, ValueError):
        if fallback is None:
            raise
        return load_tokenizer(fallback)


def evaluate_checkpoint(
    checkpoint_dir: str | Path, junior_dir: str | Path | None, problems: list[dict], suites: Sequence[str] = SUITES,
    settings: EvalSettings | None = None, device: str = "cpu", log=print,
) -> dict:
    """Evaluate a checkpoint (the senior) with a junior on `problems`: a JSON-serialisable report."""
    settings = (settings or EvalSettings()).validate()
    suites = _check_suites(suites)
    checkpoint_dir = Path(checkpoint_dir)
    junior_dir = Path(junior_dir) if junior_dir is not None else None
    tokenizer = _tokenizer_for(checkpoint_dir, junior_dir)
    dtype = _dtype(settings, device)
    senior = load_model(checkpoint_dir, device, dtype)
    junior = None
    if junior_dir is not None and any(s in NEEDS_JUNIOR for s in suites):
        check_same_tokenizer(tokenizer, load_tokenizer(junior_dir), str(checkpoint_dir), str(junior_dir))
        junior = load_model(junior_dir, device, dtype)
    log(f"evaluating {checkpoint_dir} (junior {junior_dir}) on suites {suites}")
    body = evaluate_models(senior, junior, tokenizer, problems, suites, settings, log)
    return {
        "checkpoint": str(checkpoint_dir),
        "junior": str(junior_dir) if junior_dir is not None else None,
        "suites": suites,
        "settings": settings.to_dict(),
        **body,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
    }


@torch.inference_mode()
def displacement_models(base, grpo, trl, tokenizer, problems: list[dict], settings: EvalSettings | None = None,
                        log=print) -> dict:
    """The displacement analysis on loaded models (see the module docstring)."""
    s = (settings or EvalSettings()).validate()
    problems = list(problems)[: s.n_problems]
    if not problems:
        raise ValueError("no problems to evaluate")
    device = next(grpo.parameters()).device
    flags = token_flags(tokenizer, grpo.config.vocab_size)
    start = time.perf_counter()
    samples = batched_rollout(
        lambda prompts, g: solo_rollout(grpo, tokenizer, prompts, s.k, s.generation(), flags=flags, generator=g),
        [format_prompt(p["problem"]) for p in problems], s.k, s, device,
    )
    stats = token_stats([grpo, trl, base], samples.prompt_ids, samples.completion_ids, [(0, 2), (1, 2)],
                        s.batch_size * s.k, s.chunk_tokens)
    kl_grpo, kl_trl = stats.kl[(0, 2)], stats.kl[(1, 2)]
    # TRL on its own samples (same random stream): its drift from the base where it actually goes.
    trl_flags = token_flags(tokenizer, trl.config.vocab_size)
    own = batched_rollout(
        lambda prompts, g: solo_rollout(trl, tokenizer, prompts, s.k, s.generation(), flags=trl_flags, generator=g),
        [format_prompt(p["problem"]) for p in problems], s.k, s, device,
    )
    kl_trl_own = token_stats([trl, base], own.prompt_ids, own.completion_ids, [(0, 1)], s.batch_size * s.k,
                             s.chunk_tokens).kl[(0, 1)]
    tokens, displaced, back = [], [], []
    for g_rows, t_rows in zip(_per_problem(kl_grpo, s.k), _per_problem(kl_trl, s.k)):
        pairs = [(g, t) for gr, tr in zip(g_rows, t_rows) for g, t in zip(gr, tr)]
        tokens.append(len(pairs))
        displaced.append(sum(g > s.displacement_threshold for g, _ in pairs))
        back.append(sum(g > s.displacement_threshold and t < g for g, t in pairs))
    mean_grpo, mean_trl = _pooled_means(kl_grpo, s.k), _pooled_means(kl_trl, s.k)
    mean_trl_own = _pooled_means(kl_trl_own, s.k)
    boot = dict(n_boot=s.n_boot, seed=s.seed)
    metrics = {
        "displaced_share": bootstrap_ratio(displaced, tokens, **boot),
        "displacement_shift_back": bootstrap_ratio(back, displaced, **boot),
        "kl_to_base_grpo": bootstrap_mean(mean_grpo, **boot),
        "kl_to_base_trl": bootstrap_mean(mean_trl, **boot),
        "kl_reduction": bootstrap_ratio(mean_trl, mean_grpo, **boot).map(lambda r: 1 - r),
        "kl_to_base_trl_own": bootstrap_mean(mean_trl_own, **boot),
        "kl_reduction_own": bootstrap_ratio(mean_trl_own, mean_grpo, **boot).map(lambda r: 1 - r),
    }
    log(f"displacement: {len(samples.texts)} samples, {sum(tokens)} tokens, {sum(displaced)} displaced, "
        f"{time.perf_counter() - start:.1f}s")
    return {
        "n_problems": len(problems),
        "metrics": {name: e.to_dict() for name, e in metrics.items()},
        "curves": {},
        "histograms": {"kl_to_base_grpo": histogram([x for r in kl_grpo for x in r], KL_EDGES),
                       "kl_to_base_trl": histogram([x for r in kl_trl for x in r], KL_EDGES),
                       "kl_to_base_trl_own": histogram([x for r in kl_trl_own for x in r], KL_EDGES)},
        "examples": [],
        "per_problem": {"ids": [p.get("id") for p in problems], "tokens": tokens, "displaced": displaced,
                        "shift_back": back, "kl_to_base_grpo": mean_grpo, "kl_to_base_trl": mean_trl,
                        "kl_to_base_trl_own": mean_trl_own},
    }


def displacement(base_dir: str | Path, grpo_dir: str | Path, trl_dir: str | Path, problems: list[dict],
                 settings: EvalSettings | None = None, device: str = "cpu", log=print) -> dict:
    """Where GRPO moved the base model's next-token distributions, and whether Tandem RL moved them less."""
    settings = (settings or EvalSettings()).validate()
    base_dir, grpo_dir, trl_dir = Path(base_dir), Path(grpo_dir), Path(trl_dir)
    tokenizer = _tokenizer_for(grpo_dir, base_dir)
    for other in (base_dir, trl_dir):
        check_same_tokenizer(tokenizer, _tokenizer_for(other, base_dir), str(grpo_dir), str(other))
    dtype = _dtype(settings, device)
    base, grpo, trl = (load_model(d, device, dtype) for d in (base_dir, grpo_dir, trl_dir))
    log(f"displacement of {grpo_dir} and {trl_dir} from {base_dir}")
    body = displacement_models(base, grpo, trl, tokenizer, problems, settings, log)
    return {
        "checkpoint": str(grpo_dir),
        "junior": None,
        "base": str(base_dir),
        "trl": str(trl_dir),
        "suites": ["displacement"],
        "settings": settings.to_dict(),
        **body,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
    }


def write_report(report: dict, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # allow_nan=False: a NaN that slipped past Estimate.to_dict would make the file invalid JSON elsewhere.
    path.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return path


def load_report(path: str | Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


# ---------------------------------------------------------------- side-by-side table


def _fmt(x: float) -> str:
    return f"{x:.2e}" if x != 0 and abs(x) < 1e-3 else f"{x:.3f}"


def _cell(e: dict | None) -> str:
    if e is None:
        return "—"
    if e.get("value") is None:
        return "undefined"
    return f"{_fmt(e['value'])} [{_fmt(e['low'])}, {_fmt(e['high'])}]"


def _rows(report: dict) -> dict[str, dict]:
    rows = dict(report.get("metrics", {}))
    for name, curve in report.get("curves", {}).items():
        for point in curve["points"]:
            rows[f"{name}[{curve['x_name']}={point['x']}]"] = point
    return rows


def _column_names(reports: list[dict]) -> list[str]:
    paths = [Path(r.get("checkpoint") or "?") for r in reports]
    names = [p.name or str(p) for p in paths]
    if len(set(names)) < len(names):  # e.g. two runs' ".../final": add the parent directory
        names = ["/".join(p.parts[-2:]) for p in paths]
    if len(set(names)) < len(names):
        names = [f"{n} #{i + 1}" for i, n in enumerate(names)]
    return names


def compare_table(reports: list[dict], names: list[str] | None = None) -> str:
    """Plain-text table: a row per metric and per curve point, a column per report; `—` where a report lacks it."""
    if names is not None and len(names) != len(reports):
        raise ValueError(f"{len(names)} names for {len(reports)} reports")
    names = list(names) if names is not None else _column_names(reports)
    per_report = [_rows(r) for r in reports]
    order: list[str] = []
    for rows in per_report:
        order += [name for name in rows if name not in order]
    table = [["metric", *names]] + [[name, *(_cell(rows.get(name)) for rows in per_report)] for name in order]
    widths = [max(len(row[c]) for row in table) for c in range(len(table[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
