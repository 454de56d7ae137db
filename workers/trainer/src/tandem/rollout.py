"""Tandem rollout: batched, KV-cached co-generation of completions by a senior and a frozen junior.

Both models read the whole shared text (each keeps its own KV cache and is fed every token, whoever wrote it).
A handoff rule (`handoff_rule`, see docs/rollout-protocols.md) says where the text splits into units; an author
schedule (`CoinFlip`, `Alternate`, `SeniorFirst`) says who writes each unit.

Rules whose handoff points follow the emitted token (`paper`, `token`, `alternating`, `chunk`, `paragraph`) fix
the author before each step, so every emitted token is an ordinary sample of its author's own (temperature /
top-p / top-k filtered) distribution given the shared prefix. `paper` is the reference's rule: the author is
drawn at the start and redrawn after every emitted token whose vocabulary surface begins with "Ġ", and after
`max_gap_tokens` tokens without a redraw. `token` redraws at every token, `alternating` and `chunk` are `token`
and `chunk_size`-token units under `Alternate` (S, J, S, ...), `paragraph` redraws after a blank line.

`whole_word` (our own rule) gives every token of a word (or, with granularity "step", of a line) to one author.
Word boundaries are not always known before sampling: after " 12" the next token may continue the word ("3")
or start one (" +"). So the current author samples; if its token starts a new word, the coin is flipped for that
word, and if it names the other model, that model samples the first token of the new word from its own
distribution restricted to word-starting tokens (and end-of-text). When the previous token closed a word
(".\\n"), the boundary is known and the coin is flipped before sampling.

Per token we record the author (0 senior, 1 junior) and the senior's log-prob of the emitted token
(temperature-scaled, as the GRPO loss computes it). A schedule that never names the junior (`CoinFlip(0)`) is
solo generation through this same code path, for every rule, without junior forward passes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from .boundaries import TokenFlags, token_flags
from .config import HANDOFF_RULES

SENIOR, JUNIOR = 0, 1
# Rules that decide the next author from the text emitted so far (before the next token is sampled).
LOCKSTEP_RULES = tuple(r for r in HANDOFF_RULES if r != "whole_word")


@dataclass(frozen=True)
class GenerationSettings:
    max_new_tokens: int = 128
    temperature: float = 1.0  # 0 = greedy
    top_p: float = 1.0
    top_k: int = 0  # 0 = off
    seed: int = 0


# ---------------------------------------------------------------- author schedules
# A schedule maps (index of the unit each row is about to start, random uniforms) -> is_junior per row.


@dataclass(frozen=True)
class CoinFlip:
    """Each unit is written by the junior with probability p_junior (training and tandem evaluation)."""

    p_junior: float

    def __call__(self, unit_index: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
        return uniforms < self.p_junior

    @property
    def uses_junior(self) -> bool:
        return self.p_junior > 0


@dataclass(frozen=True)
class Alternate:
    """Units alternate S, J, S, J, ... (or J, S, ... with junior_first)."""

    junior_first: bool = False

    def __call__(self, unit_index, uniforms):
        return (unit_index % 2 == 0) == self.junior_first

    uses_junior = True


@dataclass(frozen=True)
class SeniorFirst:
    """The senior writes the first k units, the junior the rest."""

    k: int

    def __call__(self, unit_index, uniforms):
        return unit_index >= self.k

    uses_junior = True


def rule_schedule(handoff_rule: str, p_junior: float):
    """The author schedule a handoff rule trains with: `alternating` and `chunk` take turns (S first) and ignore
    the value of p_junior (as in the reference); the other rules flip a coin at every handoff point. p_junior = 0
    is the senior alone under every rule (vanilla GRPO, no junior passes)."""
    if handoff_rule not in HANDOFF_RULES:
        raise ValueError(f"handoff_rule must be one of {', '.join(HANDOFF_RULES)}, got {handoff_rule!r}")
    if p_junior == 0:
        return CoinFlip(0.0)
    return Alternate() if handoff_rule in ("alternating", "chunk") else CoinFlip(p_junior)


# ---------------------------------------------------------------- result


@dataclass
class RolloutResult:
    """One row per completion; prompts repeat num_generations times, consecutively."""

    prompt_ids: list[list[int]]
    completion_ids: list[list[int]]  # ends with eos when the completion finished
    authors: list[list[int]]  # SENIOR / JUNIOR per completion token
    senior_logprobs: list[list[float]]
    junior_logprobs: list[list[float]] | None
    texts: list[str]
    finished: list[bool]
    seconds: float = 0.0
    settings: dict = field(default_factory=dict)

    @property
    def n_tokens(self) -> int:
        return sum(len(c) for c in self.completion_ids)

    @property
    def senior_share(self) -> float:
        total = self.n_tokens
        return sum(a.count(SENIOR) for a in self.authors) / total if total else 0.0

    @property
    def switches_per_sequence(self) -> float:
        """Mean number of author changes inside a completion (a redraw that names the same author is none)."""
        rows = [sum(x != y for x, y in zip(a, a[1:])) for a in self.authors]
        return sum(rows) / len(rows) if rows else 0.0

    def author_spans(self, tokenizer, row: int) -> list[dict]:
        """Consecutive same-author runs of a completion as {author, text, start, end} (character offsets)."""
        return author_spans(tokenizer, self.completion_ids[row], self.authors[row])


def char_offsets(tokenizer, ids: list[int], cuts: list[int]) -> tuple[str, list[int]]:
    """The decoded text of `ids` (special tokens left out) and, for each token index in `cuts` (ascending), the
    character offset in that text where token `cut` begins. Offsets come from decoding whole prefixes, not token
    by token, since a character's bytes may span two tokens; a cut inside a character falls after it. The last
    offset of a cut at len(ids) is len(text), so consecutive offsets tile the text."""
    text = tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
    offsets, last = [], 0
    for cut in cuts:
        n = len(text) if cut >= len(ids) else len(
            tokenizer.decode(ids[:cut], skip_special_tokens=True, clean_up_tokenization_spaces=False))
        last = min(max(last, n), len(text))
        offsets.append(last)
    return text, offsets


def author_spans(tokenizer, ids: list[int], authors: list[int]) -> list[dict]:
    """Consecutive same-author runs of token ids as {author: "senior" | "junior", text, start, end}, where start
    and end are character offsets into the decoded text (special tokens left out); the texts concatenate to it."""
    runs = [i for i in range(len(ids)) if i == 0 or authors[i] != authors[i - 1]]
    text, offsets = char_offsets(tokenizer, ids, runs + [len(ids)])
    spans = []
    for i, start, end in zip(runs, offsets, offsets[1:]):
        if end > start:
            spans.append({"author": "senior" if authors[i] == SENIOR else "junior", "text": text[start:end],
                          "start": start, "end": end})
    return spans


# ---------------------------------------------------------------- sampling


def _filter_logits(logits: torch.Tensor, settings: GenerationSettings) -> torch.Tensor:
    logits = logits / settings.temperature
    if settings.top_k:
        kth = torch.topk(logits, min(settings.top_k, logits.shape[-1]), dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if settings.top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cumulative = sorted_logits.softmax(-1).cumsum(-1)
        drop_sorted = cumulative - sorted_logits.softmax(-1) >= settings.top_p  # keep the token that crosses top_p
        logits = logits.masked_fill(drop_sorted.scatter(-1, order, drop_sorted), float("-inf"))
    return logits


def sample(logits: torch.Tensor, settings: GenerationSettings, generator: torch.Generator) -> torch.Tensor:
    if settings.temperature == 0:
        return logits.argmax(-1)
    probs = _filter_logits(logits.float(), settings).softmax(-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def _logprob_of(logits: torch.Tensor, tokens: torch.Tensor, temperature: float) -> torch.Tensor:
    scale = temperature if temperature > 0 else 1.0
    return torch.log_softmax(logits.float() / scale, -1).gather(-1, tokens[:, None]).squeeze(-1)


# ---------------------------------------------------------------- the loop


def _left_pad(prompt_ids: list[list[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(p) for p in prompt_ids)
    ids = torch.full((len(prompt_ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompt_ids), width), dtype=torch.long)
    for i, p in enumerate(prompt_ids):
        ids[i, width - len(p) :] = torch.tensor(p, dtype=torch.long)
        mask[i, width - len(p) :] = 1
    return ids.to(device), mask.to(device)


class _Stream:
    """One model's incremental forward over the shared text (its own KV cache)."""

    def __init__(self, model, input_ids, attention_mask):
        self.model = model
        self.positions = (attention_mask.cumsum(-1) - 1).clamp(min=0)
        # logits_to_keep=1: only the last position's logits (a 150k vocabulary over a long prompt is GBs)
        out = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=self.positions, use_cache=True,
                    logits_to_keep=1)
        self.cache, self.logits = out.past_key_values, out.logits[:, -1]
        self.next_position = self.positions[:, -1:] + 1

    def feed(self, tokens: torch.Tensor, attention_mask: torch.Tensor):
        out = self.model(input_ids=tokens[:, None], attention_mask=attention_mask, position_ids=self.next_position,
                         past_key_values=self.cache, use_cache=True)
        self.cache, self.logits = out.past_key_values, out.logits[:, -1]
        self.next_position = self.next_position + 1


@torch.inference_mode()
def tandem_rollout(
    senior,
    junior,
    tokenizer,
    prompts: list[str] | list[list[int]],
    num_generations: int,
    settings: GenerationSettings,
    schedule=CoinFlip(0.5),
    granularity: str = "word",
    flags: TokenFlags | None = None,
    generator: torch.Generator | None = None,
    *,
    handoff_rule: str = "whole_word",
    max_gap_tokens: int = 32,
    chunk_size: int = 8,
) -> RolloutResult:
    """Co-generate `num_generations` completions for every prompt (text or token ids).

    `granularity` (word | step) applies to `handoff_rule="whole_word"`, the default here so that callers
    written before the other rules keep their behaviour; training passes the config's rule (default "paper").
    """
    if handoff_rule not in HANDOFF_RULES:
        raise ValueError(f"handoff_rule must be one of {', '.join(HANDOFF_RULES)}, got {handoff_rule!r}")
    if granularity not in ("word", "step"):
        raise ValueError(f"handoff_granularity must be 'word' or 'step', got {granularity!r}")
    if granularity == "step" and handoff_rule != "whole_word":
        raise ValueError(f"handoff_granularity 'step' applies to handoff_rule 'whole_word' only, got {handoff_rule!r}")
    if handoff_rule in ("alternating", "chunk") and isinstance(schedule, CoinFlip) and 0 < schedule.p_junior:
        raise ValueError(f"handoff_rule {handoff_rule!r} takes turns: pass Alternate() (rule_schedule() does), "
                         f"not {schedule!r}")
    for name, value in (("max_gap_tokens", max_gap_tokens), ("chunk_size", chunk_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    lockstep = handoff_rule in LOCKSTEP_RULES
    use_junior = schedule.uses_junior
    if use_junior and junior is None:
        raise ValueError("this schedule hands units to the junior, but no junior model was given")
    start = time.perf_counter()
    device = next(senior.parameters()).device
    flags = (flags or token_flags(tokenizer, senior.config.vocab_size)).to(device)
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    if generator is None:
        generator = torch.Generator(device=device).manual_seed(settings.seed)

    prompt_ids = [tokenizer.encode(p) if isinstance(p, str) else list(p) for p in prompts]
    prompt_ids = [p for p in prompt_ids for _ in range(num_generations)]
    input_ids, attention = _left_pad(prompt_ids, pad, device)
    batch = input_ids.shape[0]

    streams = [_Stream(senior, input_ids, attention)]
    if use_junior:
        streams.append(_Stream(junior, input_ids, attention))
    boundary_flags = flags.closes_word if granularity == "word" else flags.ends_line

    author = torch.zeros(batch, dtype=torch.bool, device=device)  # True = junior
    unit_index = torch.zeros(batch, dtype=torch.long, device=device)
    finished = torch.zeros(batch, dtype=torch.bool, device=device)
    prev = input_ids[:, -1]
    tokens_out, authors_out, senior_lp, junior_lp = [], [], [], []
    redraw = torch.ones_like(finished)  # lockstep rules: draw the author before the next token
    since_redraw = torch.zeros(batch, dtype=torch.long, device=device)

    for t in range(settings.max_new_tokens):
        senior_logits = streams[0].logits
        junior_logits = streams[1].logits if use_junior else senior_logits
        uniforms = torch.rand(batch, generator=generator, device=device)
        if lockstep:
            # The author of this token was settled by the text so far; it samples from its own full distribution.
            author = torch.where(redraw, schedule(unit_index, uniforms), author)
            unit_index = unit_index + redraw.long()
            author_logits = torch.where(author[:, None], junior_logits, senior_logits) if use_junior else senior_logits
            token = sample(author_logits, settings, generator)
            # Whether the author is redrawn for the next token, from the token just emitted.
            since_redraw = since_redraw + 1
            if handoff_rule == "paper":
                redraw = flags.marks_word[token] | (since_redraw >= max_gap_tokens)
            elif handoff_rule == "chunk":
                redraw = since_redraw >= chunk_size
            elif handoff_rule == "paragraph":
                redraw = flags.ends_paragraph(prev, token)
            else:  # token, alternating: every token is a unit
                redraw = torch.ones_like(finished)
            since_redraw = torch.where(redraw, torch.zeros_like(since_redraw), since_redraw)
        else:
            # whole_word: boundary known before sampling (first token, or the previous token closed a unit).
            known = torch.ones_like(finished) if t == 0 else boundary_flags[prev]
            author = torch.where(known, schedule(unit_index, uniforms), author)
            unit_index = unit_index + known.long()
            author_logits = torch.where(author[:, None], junior_logits, senior_logits) if use_junior else senior_logits
            token = sample(author_logits, settings, generator)

            if granularity == "word" and use_junior:
                # Boundary discovered by sampling: the token starts a new word. Flip for that word.
                discovered = ~known & flags.starts_word[token]
                uniforms = torch.rand(batch, generator=generator, device=device)
                new_author = schedule(unit_index, uniforms)
                switch = discovered & (new_author != author)
                if switch.any():
                    word_start = flags.starts_word.clone()
                    word_start[eos] = True
                    other_logits = torch.where(author[:, None], senior_logits, junior_logits)
                    restricted = other_logits.masked_fill(~word_start, float("-inf"))
                    token = torch.where(switch, sample(restricted, settings, generator), token)
                author = torch.where(discovered, new_author, author)
                unit_index = unit_index + discovered.long()

        token = torch.where(finished, torch.full_like(token, pad), token)
        tokens_out.append(token)
        authors_out.append(author.long())
        senior_lp.append(_logprob_of(senior_logits, token, settings.temperature))
        if use_junior:
            junior_lp.append(_logprob_of(junior_logits, token, settings.temperature))
        finished = finished | (token == eos)
        prev = token
        if bool(finished.all()) or t == settings.max_new_tokens - 1:
            break
        attention = torch.cat([attention, torch.ones((batch, 1), dtype=attention.dtype, device=device)], dim=1)
        for stream in streams:
            stream.feed(token, attention)

    tokens = torch.stack(tokens_out, 1).cpu()
    authors = torch.stack(authors_out, 1).cpu()
    s_lp = torch.stack(senior_lp, 1).cpu()
    j_lp = torch.stack(junior_lp, 1).cpu() if use_junior else None
    completion_ids, author_lists, s_lists, j_lists, done = [], [], [], [], []
    for i in range(batch):
        row = tokens[i].tolist()
        n = row.index(eos) + 1 if eos in row else len(row)
        completion_ids.append(row[:n])
        author_lists.append(authors[i, :n].tolist())
        s_lists.append(s_lp[i, :n].tolist())
        if j_lp is not None:
            j_lists.append(j_lp[i, :n].tolist())
        done.append(eos in row)
    texts = tokenizer.batch_decode(completion_ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
    return RolloutResult(
        prompt_ids=prompt_ids, completion_ids=completion_ids, authors=author_lists, senior_logprobs=s_lists,
        junior_logprobs=j_lists if use_junior else None, texts=texts, finished=done,
        seconds=time.perf_counter() - start,
        settings={**settings.__dict__, "schedule": repr(schedule), "handoff_rule": handoff_rule,
                  "granularity": granularity, "num_generations": num_generations,
                  **({"max_gap_tokens": max_gap_tokens} if handoff_rule == "paper" else {}),
                  **({"chunk_size": chunk_size} if handoff_rule == "chunk" else {})},
    )


def solo_rollout(model, tokenizer, prompts, num_generations: int, settings: GenerationSettings, **kw) -> RolloutResult:
    """The model alone: the tandem path with p_junior = 0 (no junior passes)."""
    return tandem_rollout(model, None, tokenizer, prompts, num_generations, settings, CoinFlip(0.0), **kw)
