"""Tandem rollout: authorship rules, determinism, and solo as the p_junior = 0 case of the same path."""

from __future__ import annotations

import copy
from dataclasses import replace

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


# ---------------------------------------------------------------- handoff rules

from tandem.boundaries import token_flags  # noqa: E402
from tandem.rollout import LOCKSTEP_RULES, rule_schedule  # noqa: E402

MANY = 16  # completions per prompt in the statistical tests: 64 rows of up to 48 tokens


def _marked_ids(tokenizer) -> set[int]:
    """The paper's boundary set, straight from the vocabulary (independent of boundaries.py)."""
    return {i for surface, i in tokenizer.get_vocab().items() if surface.startswith("\u0120")}


def _paper_units(ids: list[int], marked: set[int], max_gap: int) -> list[int]:
    """Lengths of the runs between redraws under the paper rule, simulated from the emitted tokens."""
    units, run = [], 0
    for i in ids:
        run += 1
        if i in marked or run >= max_gap:
            units.append(run)
            run = 0
    return units + ([run] if run else [])


def _runs(authors: list[int]) -> list[tuple[int, int]]:
    """(author, length) of consecutive same-author runs."""
    out: list[list[int]] = []
    for a in authors:
        if out and out[-1][0] == a:
            out[-1][1] += 1
        else:
            out.append([a, 1])
    return [(a, n) for a, n in out]


class Raises(torch.nn.Module):
    """A junior that must never be run."""

    def forward(self, *args, **kwargs):
        raise AssertionError("the junior was called")


@pytest.mark.parametrize("max_gap", [3, 32])
def test_paper_rule_redraws_after_every_marked_token_and_at_the_gap(distinct_pair, prompts, max_gap):
    # Alternate turns every redraw into a switch, so the author runs are exactly the redraw units.
    senior, junior, tok = distinct_pair
    result = tandem_rollout(senior, junior, tok, prompts, 4, SETTINGS, Alternate(), handoff_rule="paper",
                            max_gap_tokens=max_gap)
    marked = _marked_ids(tok)
    redraws = 0
    for ids, authors in zip(result.completion_ids, result.authors):
        units = _paper_units(ids, marked, max_gap)
        assert [n for _, n in _runs(authors)] == units
        assert max(units) <= max_gap  # the gap cap
        assert authors[0] == SENIOR
        redraws += len(units) - 1
    assert redraws > 50
    if max_gap == 3:  # the cap did fire: some unit ended without a marked token
        assert any(n == 3 and ids[sum(_paper_units(ids, marked, 3)[:k + 1]) - 1] not in marked
                   for ids in result.completion_ids for k, n in enumerate(_paper_units(ids, marked, 3)))


@pytest.mark.parametrize("rule", ["paper", "token"])
def test_coin_rules_give_the_coin_share_and_switch_rate(fixture_pair, prompts, rule):
    """Self-paired (two copies of the same weights, as in the paper), so who writes does not change the text and
    the senior's token share has mean 1 - p. Given the unit lengths L_u, the share is a weighted mean of
    independent coins: sd = sqrt(p(1-p) sum L_u^2) / sum L_u; we allow 4 sd. Each redraw switches the author with
    probability 2p(1-p): the switch count is binomial over the redraws, also within 4 sd."""
    senior, junior, tok = fixture_pair
    p = 0.3
    result = tandem_rollout(senior, junior, tok, prompts, MANY, SETTINGS, CoinFlip(p), handoff_rule=rule)
    marked = _marked_ids(tok)
    lengths, redraws, switches = [], 0, 0
    for ids, authors in zip(result.completion_ids, result.authors):
        units = _paper_units(ids, marked, 32) if rule == "paper" else [1] * len(ids)
        lengths += units
        redraws += len(units) - 1
        switches += sum(a != b for a, b in zip(authors, authors[1:]))
    total = sum(lengths)
    sd_share = (p * (1 - p) * sum(n * n for n in lengths)) ** 0.5 / total
    assert abs(result.senior_share - (1 - p)) < 4 * sd_share
    q = 2 * p * (1 - p)
    assert abs(switches - redraws * q) < 4 * (redraws * q * (1 - q)) ** 0.5
    assert result.switches_per_sequence == pytest.approx(switches / len(result.authors))
    print(f"\n{rule}: senior share {result.senior_share:.3f} (expected {1 - p:.2f} +- {4 * sd_share:.3f}), "
          f"{total} tokens, {redraws} redraws, switches {switches} (expected {redraws * q:.1f}), "
          f"switches/sequence {result.switches_per_sequence:.2f}")


def test_paper_rule_coin_per_unit_with_a_different_junior(distinct_pair, prompts):
    """With a junior that writes differently the token share need not be 1 - p (the authors' units differ in
    length), but each unit's author is still a coin: the junior's share of units is binomial(n, p)."""
    senior, junior, tok = distinct_pair
    p = 0.5
    result = tandem_rollout(senior, junior, tok, prompts, MANY, SETTINGS, CoinFlip(p), handoff_rule="paper")
    marked = _marked_ids(tok)
    unit_authors = []
    for ids, authors in zip(result.completion_ids, result.authors):
        start = 0
        for n in _paper_units(ids, marked, 32):
            assert len(set(authors[start:start + n])) == 1  # one author per unit
            unit_authors.append(authors[start])
            start += n
    n = len(unit_authors)
    assert abs(unit_authors.count(JUNIOR) / n - p) < 4 * (p * (1 - p) / n) ** 0.5
    print(f"\npaper, distinct junior: {n} units, junior share of units {unit_authors.count(JUNIOR) / n:.3f}, "
          f"senior token share {result.senior_share:.3f}, switches/sequence {result.switches_per_sequence:.2f}")


def test_alternating_and_chunk_produce_exact_patterns(distinct_pair, prompts):
    senior, junior, tok = distinct_pair
    alt = tandem_rollout(senior, junior, tok, prompts, 2, SETTINGS, rule_schedule("alternating", 0.5),
                         handoff_rule="alternating")
    for authors in alt.authors:
        assert authors == [(SENIOR, JUNIOR)[i % 2] for i in range(len(authors))]
    chunk = tandem_rollout(senior, junior, tok, prompts, 2, SETTINGS, rule_schedule("chunk", 0.5),
                           handoff_rule="chunk", chunk_size=3)
    for authors in chunk.authors:
        assert authors == [(SENIOR, JUNIOR)[(i // 3) % 2] for i in range(len(authors))]
    assert max(len(a) for a in chunk.authors) > 6
    with pytest.raises(ValueError, match="takes turns"):
        tandem_rollout(senior, junior, tok, prompts, 1, SETTINGS, CoinFlip(0.5), handoff_rule="chunk")


def test_paragraph_rule_redraws_only_after_a_blank_line(distinct_pair, prompts):
    senior, junior, tok = distinct_pair
    flags = token_flags(tok, senior.config.vocab_size)
    newline = tok.convert_tokens_to_ids("\u010a")  # "\n" alone: the fixture vocabulary has no "\n\n" token
    # a blank line written as two tokens, or as one, or a single line break
    prev, token = torch.tensor([newline, newline, 5]), torch.tensor([newline, 5, newline])
    assert flags.ends_paragraph(prev, token).tolist() == [True, False, False]
    # every line break counts as a paragraph end here, so the (line-by-line) arithmetic text has paragraphs
    lines = replace(flags, blank_line=flags.ends_line)
    result = tandem_rollout(senior, junior, tok, prompts, 2, SETTINGS, Alternate(), flags=lines,
                            handoff_rule="paragraph")
    texts = token_texts(tok)
    for ids, authors in zip(result.completion_ids, result.authors):
        paragraph = 0
        for i, a in zip(ids, authors):
            assert a == (SENIOR, JUNIOR)[paragraph % 2]
            paragraph += "\n" in texts[i]
    # on the real flags a completion without a blank line keeps its first author throughout
    solo_like = tandem_rollout(senior, junior, tok, prompts, 2, GenerationSettings(24, 1.0, seed=7), CoinFlip(0.5),
                               handoff_rule="paragraph")
    assert all(len(set(a)) == 1 for a in solo_like.authors)
    assert {a[0] for a in solo_like.authors} == {SENIOR, JUNIOR}


@pytest.mark.parametrize("rule", LOCKSTEP_RULES)
def test_lockstep_rules_reproduce_from_the_seed(distinct_pair, prompts, rule):
    senior, junior, tok = distinct_pair
    schedule = rule_schedule(rule, 0.5)

    def run(seed):
        g = torch.Generator().manual_seed(seed)
        return tandem_rollout(senior, junior, tok, prompts, 2, GenerationSettings(24, 1.0), schedule, generator=g,
                              handoff_rule=rule)

    a, b, c = run(11), run(11), run(12)
    assert a.completion_ids == b.completion_ids and a.authors == b.authors
    assert a.senior_logprobs == b.senior_logprobs
    assert a.completion_ids != c.completion_ids
    if rule in ("paper", "token"):
        assert a.authors != c.authors


@pytest.mark.parametrize("rule", LOCKSTEP_RULES + ("whole_word",))
def test_p_junior_zero_is_solo_under_every_rule_without_junior_passes(fixture_pair, prompts, rule):
    senior, _, tok = fixture_pair
    solo = solo_rollout(senior, tok, prompts, 2, SETTINGS)
    for junior in (None, Raises()):
        result = tandem_rollout(senior, junior, tok, prompts, 2, SETTINGS, rule_schedule(rule, 0.0),
                                handoff_rule=rule)
        assert result.completion_ids == solo.completion_ids
        assert result.senior_logprobs == solo.senior_logprobs
        assert result.junior_logprobs is None and result.senior_share == 1.0


def test_bad_rule_arguments_are_errors(fixture_pair, prompts):
    senior, junior, tok = fixture_pair
    with pytest.raises(ValueError, match="handoff_rule must be one of"):
        tandem_rollout(senior, junior, tok, prompts, 1, SETTINGS, CoinFlip(0.5), handoff_rule="sentence")
    with pytest.raises(ValueError, match="max_gap_tokens"):
        tandem_rollout(senior, junior, tok, prompts, 1, SETTINGS, CoinFlip(0.5), handoff_rule="paper",
                       max_gap_tokens=0)
    with pytest.raises(ValueError, match="step"):
        tandem_rollout(senior, junior, tok, prompts, 1, SETTINGS, CoinFlip(0.5), "step", handoff_rule="paper")
    with pytest.raises(ValueError, match="handoff_rule"):
        rule_schedule("words", 0.5)


# ---------------------------------------------------------------- what reaches TRL


def _fake_trainer(senior):
    from types import SimpleNamespace

    return SimpleNamespace(model=senior, state=SimpleNamespace(global_step=3),
                           accelerator=SimpleNamespace(unwrap_model=lambda m: m, process_index=0))


@pytest.mark.parametrize("rule", LOCKSTEP_RULES + ("whole_word",))
def test_every_rule_reaches_the_loss_mask(distinct_pair, prompts, rule, monkeypatch):
    import tandem.trainer as trainer_module
    from tandem.config import TandemConfig
    from tandem.trainer import TandemRolloutFunc, _StepStash

    senior, junior, tok = distinct_pair
    seen = []
    real = trainer_module.tandem_rollout
    monkeypatch.setattr(trainer_module, "tandem_rollout", lambda *a, **k: seen.append(real(*a, **k)) or seen[-1])
    repeated = [p for p in prompts for _ in range(2)]
    for weight in (0.0, 0.5) if rule != "paper" else (0.0, 0.5, 1.0):
        config = TandemConfig(p_junior=0.5, handoff_rule=rule, junior_token_weight=weight, chunk_size=2,
                              max_completion_length=16).validate()
        stash = _StepStash()
        out = TandemRolloutFunc(junior, tok, config, stash)(repeated, _fake_trainer(senior))
        result = seen[-1]
        assert result.settings["handoff_rule"] == rule
        assert out["completion_ids"] == result.completion_ids
        assert out["env_mask"] == [[1 if a == SENIOR else weight for a in authors] for authors in result.authors]
        assert any(JUNIOR in authors for authors in result.authors)
        logged = stash.drain()
        assert logged["senior_token_share"] == result.senior_share
        assert logged["author_switches"] == result.switches_per_sequence
    # p_junior 0 under this rule: no junior at all, every token in the loss
    config = TandemConfig(p_junior=0.0, handoff_rule=rule, max_completion_length=16).validate()
    out = TandemRolloutFunc(None, tok, config, _StepStash())(repeated, _fake_trainer(senior))
    assert all(set(m) == {1} for m in out["env_mask"])
