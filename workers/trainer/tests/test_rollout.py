"""Tandem rollout: authorship rules, determinism, and solo as the p_junior = 0 case of the same path."""

from __future__ import annotations

import copy

import pytest
import torch

from tandem.boundaries import split_steps, token_texts, word_starts
from tandem.data import arithmetic_splits, format_prompt
from tandem.rollout import (
    JUNIOR, SENIOR, Alternate, CoinFlip, GenerationSettings, SeniorFirst, author_spans, solo_rollout, tandem_rollout,
)

SETTINGS = GenerationSettings(max_new_tokens=48, temperature=1.0, seed=7)


@pytest.fixture(scope="module")
def prompts():
    return [format_prompt(p["problem"]) for p in arithmetic_splits(n_train=1, n_eval=4, seed=3).eval]


@pytest.fixture(scope="module")
def distinct_pair(fixture_pair):
    """A junior whose distribution differs from the senior's, so authorship matters."""
    senior, junior, tokenizer = fixture_pair
    junior = copy.deepcopy(junior)
    with torch.no_grad():
        for p in junior.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(1)) * 0.3)
    return senior, junior, tokenizer


def _words_by_author(result, tokenizer):
    texts = token_texts(tokenizer)
    for ids, authors in zip(result.completion_ids, result.authors):
        starts = word_starts([texts[i] for i in ids])
        word_authors: list[set] = []
        for start, author in zip(starts, authors):
            if start:
                word_authors.append(set())
            word_authors[-1].add(author)
        yield word_authors


def test_p_junior_one_gives_only_junior_tokens(distinct_pair, prompts):
    senior, junior, tok = distinct_pair
    result = tandem_rollout(senior, junior, tok, prompts, 3, SETTINGS, CoinFlip(1.0))
    assert result.n_tokens > 0
    assert all(a == JUNIOR for authors in result.authors for a in authors)
    assert result.senior_share == 0.0


def test_p_junior_zero_is_solo_and_matches_solo_rollout(distinct_pair, prompts):
    senior, junior, tok = distinct_pair
    tandem = tandem_rollout(senior, junior, tok, prompts, 2, SETTINGS, CoinFlip(0.0))
    solo = solo_rollout(senior, tok, prompts, 2, SETTINGS)
    assert all(a == SENIOR for authors in tandem.authors for a in authors)
    assert tandem.completion_ids == solo.completion_ids
    assert tandem.junior_logprobs is None  # no junior passes at p_junior = 0


def test_no_word_is_split_between_authors(distinct_pair, prompts):
    senior, junior, tok = distinct_pair
    result = tandem_rollout(senior, junior, tok, prompts, 4, SETTINGS, CoinFlip(0.5))
    words = [w for completion in _words_by_author(result, tok) for w in completion]
    assert len(words) > 20
    assert all(len(authors) == 1 for authors in words)
    # both authors actually wrote words, in roughly the coin's proportion
    junior_words = sum(authors == {JUNIOR} for authors in words)
    assert 0.2 < junior_words / len(words) < 0.8


def test_identical_seeds_give_identical_rollouts(distinct_pair, prompts):
    senior, junior, tok = distinct_pair
    a = tandem_rollout(senior, junior, tok, prompts, 3, SETTINGS, CoinFlip(0.5))
    b = tandem_rollout(senior, junior, tok, prompts, 3, SETTINGS, CoinFlip(0.5))
    c = tandem_rollout(senior, junior, tok, prompts, 3, GenerationSettings(48, 1.0, seed=8), CoinFlip(0.5))
    assert a.completion_ids == b.completion_ids and a.authors == b.authors
    assert a.senior_logprobs == b.senior_logprobs
    assert a.completion_ids != c.completion_ids


def test_senior_logprobs_match_a_teacher_forced_forward(distinct_pair, prompts):
    senior, junior, tok = distinct_pair
    result = tandem_rollout(senior, junior, tok, prompts[:1], 1, SETTINGS, CoinFlip(0.5))
    ids = torch.tensor([result.prompt_ids[0] + result.completion_ids[0]])
    with torch.no_grad():
        logits = senior(ids).logits[0, len(result.prompt_ids[0]) - 1 : -1]
    expected = torch.log_softmax(logits, -1).gather(-1, torch.tensor(result.completion_ids[0])[:, None]).squeeze(-1)
    assert torch.allclose(torch.tensor(result.senior_logprobs[0]), expected, atol=1e-4)


def test_step_granularity_gives_whole_lines_to_one_author(distinct_pair, prompts):
    senior, junior, tok = distinct_pair
    result = tandem_rollout(senior, junior, tok, prompts, 2, SETTINGS, Alternate(), granularity="step")
    texts = token_texts(tok)
    for ids, authors in zip(result.completion_ids, result.authors):
        line, line_authors = 0, [set()]
        for i, a in zip(ids, authors):
            line_authors[line].add(a)
            if "\n" in texts[i]:
                line += 1
                line_authors.append(set())
        filled = [s for s in line_authors if s]
        assert all(len(s) == 1 for s in filled)
        assert [next(iter(s)) for s in filled] == [(SENIOR, JUNIOR)[i % 2] for i in range(len(filled))]


def test_senior_first_k_hands_over_after_k_steps(distinct_pair, prompts):
    senior, junior, tok = distinct_pair
    result = tandem_rollout(senior, junior, tok, prompts, 2, SETTINGS, SeniorFirst(1), granularity="step")
    texts = token_texts(tok)
    for ids, authors in zip(result.completion_ids, result.authors):
        first_break = next((n for n, i in enumerate(ids) if "\n" in texts[i]), len(ids) - 1)
        assert set(authors[: first_break + 1]) == {SENIOR}
        assert set(authors[first_break + 1 :]) <= {JUNIOR}


def test_author_spans_cover_the_text(distinct_pair, prompts):
    senior, junior, tok = distinct_pair
    result = tandem_rollout(senior, junior, tok, prompts[:1], 2, SETTINGS, CoinFlip(0.5))
    spans = result.author_spans(tok, 0)
    assert spans[0]["start"] == 0 and all(s["author"] in ("senior", "junior") for s in spans)
    assert all(a["end"] == b["start"] for a, b in zip(spans, spans[1:]))
    assert "".join(s["text"] for s in spans) == result.texts[0]


def test_author_spans_tile_the_text_when_authors_switch_inside_a_character(fixture_pair):
    _, _, tok = fixture_pair
    ids = tok.encode("a é€ b") + [tok.eos_token_id]
    assert len(ids) > len("a é€ b") - 1  # byte-level: the accented characters take several tokens
    text = tok.decode(ids, skip_special_tokens=True)
    spans = author_spans(tok, ids, [n % 2 for n in range(len(ids))])  # a new author at every token
    assert "".join(s["text"] for s in spans) == text == "a é€ b"
    assert all(text[s["start"]:s["end"]] == s["text"] for s in spans)


def test_schedule_needing_a_junior_without_one_is_an_error(fixture_pair, prompts):
    senior, _, tok = fixture_pair
    with pytest.raises(ValueError, match="no junior"):
        tandem_rollout(senior, None, tok, prompts, 1, SETTINGS, CoinFlip(0.5))
    with pytest.raises(ValueError, match="handoff_granularity"):
        tandem_rollout(senior, senior, tok, prompts, 1, SETTINGS, CoinFlip(0.5), granularity="sentence")


def test_split_steps_and_words_round_trip():
    text = "Mia starts with 3 pens.\n3 + 4 = 7\nThe answer is \\boxed{7}."
    assert "".join(split_steps(text)) == text and len(split_steps(text)) == 3
    from tandem.boundaries import split_words

    assert "".join(split_words(text)) == text
    assert split_words("a b\nc") == ["a", " b", "\nc"]


def test_split_steps_cuts_only_after_line_feed_runs():
    assert split_steps("a\nb\n\nc\rd\u2028e\n") == ["a\n", "b\n\n", "c\rd\u2028e\n"]
    assert split_steps("") == [] and split_steps("no break") == ["no break"]
