"""Where a word and a reasoning step begin: the one definition used by rollouts, evaluation and studies.

Words. Byte-level BPE tokenizers attach a word's leading whitespace to its first token (" apples",
"\\nThe"), and some also glue a line break onto punctuation (".\\n"). So a new word begins at token t when
  - t's text starts with whitespace, or
  - the previous token's text ends with whitespace but is not whitespace only (".\\n" closes a word).
A whitespace-only token (" " before a digit in Qwen's tokenizer) therefore starts a word that the next
token continues.

The paper's handoff points (`handoff_rule: paper`, rollout.py) are a different, simpler set, taken from the
reference implementation as is: the vocabulary entries whose byte-level surface starts with the leading-space
marker "Ġ" (`TokenFlags.marks_word`). A token that starts with a line break ("Ċ...") is not in it, nor is one
that follows ".\n"; the gap cap (`max_gap_tokens`) bounds how long such stretches go without a handoff point.

Paragraphs (`handoff_rule: paragraph`) end at a blank line: a token whose text contains "\n\n", or a token
starting with "\n" right after one ending with "\n" (tokenizers without a merged "\n\n" write it as two).

Steps. A reasoning step is one line: a new step begins after every token whose text contains a line break.
On text (for handoff points in evaluation and studies) `split_steps` cuts after every run of line breaks
("\n" only, kept with the step before; "\n\n" is one cut, as tokenizers make it one token).

Handoff. Where a senior's solo trace is handed over, as a rule on its s steps: {"kind": "step", "k": k} keeps
the first min(k, s) steps, {"kind": "fraction", "f": f} keeps m = floor(f * s + 1/2) (f in [0, 1]; an unfinished
last line counts as a step). `handoff_steps_kept` is the one place of that count (studies and the evaluation's
handoff_fraction curve).
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass

import torch


WORD_MARKER = "\u0120"  # "Ġ": how byte-level BPE vocabularies spell a leading space


@dataclass(frozen=True)
class TokenFlags:
    """Per-vocabulary-entry booleans, as tensors indexed by token id."""

    starts_word: torch.Tensor  # text starts with whitespace
    closes_word: torch.Tensor  # text ends with whitespace and is not whitespace only
    ends_line: torch.Tensor  # text contains a line break
    marks_word: torch.Tensor  # vocabulary surface starts with the byte-level space marker "Ġ" (the paper's set)
    blank_line: torch.Tensor  # text contains "\n\n"
    opens_line_break: torch.Tensor  # text starts with "\n"
    closes_line_break: torch.Tensor  # text ends with "\n"

    def to(self, device) -> "TokenFlags":
        return TokenFlags(**{f.name: getattr(self, f.name).to(device) for f in dataclasses.fields(self)})

    def ends_paragraph(self, prev: torch.Tensor, token: torch.Tensor) -> torch.Tensor:
        """Per row, whether `token` (emitted after `prev`) completes a blank line."""
        return self.blank_line[token] | (self.closes_line_break[prev] & self.opens_line_break[token])


def token_texts(tokenizer) -> list[str]:
    """Decoded text of every token id (special tokens decode to their literal, which has no whitespace)."""
    size = max(len(tokenizer), max(tokenizer.get_vocab().values()) + 1)
    return [tokenizer.decode([i], clean_up_tokenization_spaces=False) for i in range(size)]


def token_flags(tokenizer, vocab_size: int | None = None) -> TokenFlags:
    texts = token_texts(tokenizer)
    n = max(vocab_size or 0, len(texts))
    texts = texts + [""] * (n - len(texts))  # model vocab may be padded beyond the tokenizer's
    starts = torch.tensor([bool(t) and t[0].isspace() for t in texts])
    closes = torch.tensor([bool(t) and t[-1].isspace() and not t.isspace() for t in texts])
    lines = torch.tensor(["\n" in t for t in texts])
    marks = torch.zeros(n, dtype=torch.bool)
    marked = [i for surface, i in tokenizer.get_vocab().items() if surface.startswith(WORD_MARKER) and i < n]
    marks[marked] = True
    return TokenFlags(starts, closes, lines, marks, torch.tensor(["\n\n" in t for t in texts]),
                      torch.tensor([t.startswith("\n") for t in texts]), torch.tensor([t.endswith("\n") for t in texts]))


def word_starts(texts: list[str]) -> list[bool]:
    """For a sequence of token texts, whether each token begins a new word (the first token always does)."""
    out = []
    for i, t in enumerate(texts):
        prev = texts[i - 1] if i else None
        out.append(
            i == 0 or (bool(t) and t[0].isspace()) or (bool(prev) and prev[-1].isspace() and not prev.isspace())
        )
    return out


def split_words(text: str) -> list[str]:
    """Words of a text with their leading whitespace attached; "".join(split_words(t)) == t."""
    words, cur = [], ""
    for ch in text:
        if ch.isspace() and cur and not cur.isspace():
            words.append(cur)
            cur = ""
        cur += ch
    if cur:
        words.append(cur)
    return words


def split_steps(text: str) -> list[str]:
    """Reasoning steps (lines) with their line breaks kept; "".join(split_steps(t)) == t."""
    return [s for s in re.split(r"(?<=\n)(?=[^\n])", text) if s]


def check_handoff_rule(rule) -> dict:
    """A handoff rule as {"kind": "step", "k": int} or {"kind": "fraction", "f": float}; raises ValueError naming
    the field that does not fit (a k of 2.0 is the whole number 2: JSON does not tell them apart)."""
    if not isinstance(rule, dict):
        raise ValueError(f'handoff_rule must be an object {{"kind": "step", "k": ...}} or '
                         f'{{"kind": "fraction", "f": ...}}, got {rule!r}')
    kind = rule.get("kind")
    if kind == "step":
        k = rule.get("k")
        whole = isinstance(k, int) or isinstance(k, float) and k.is_integer()
        if isinstance(k, bool) or not whole or k < 0:
            raise ValueError(f"handoff_rule.k must be a whole number >= 0, got {k!r}")
        return {"kind": "step", "k": int(k)}
    if kind == "fraction":
        f = rule.get("f")
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0.0 <= f <= 1.0:
            raise ValueError(f"handoff_rule.f must be a number in [0, 1], got {f!r}")
        return {"kind": "fraction", "f": float(f)}
    raise ValueError(f'handoff_rule.kind must be "step" or "fraction", got {kind!r}')


def handoff_steps_kept(rule: dict, s: int) -> int:
    """How many of a trace's s steps come before the handoff (see the module docstring)."""
    rule = check_handoff_rule(rule)
    if rule["kind"] == "step":
        return min(rule["k"], s)
    return math.floor(rule["f"] * s + 0.5)


def handoff_prefix(text: str, rule: dict) -> tuple[str, int]:
    """The text before the handoff (whole steps by `split_steps`) and its number of steps."""
    steps = split_steps(text)
    m = handoff_steps_kept(rule, len(steps))
    return "".join(steps[:m]), m
