"""Evaluation suites on the fixture model (senior) and a perturbed copy of it (junior / a trained checkpoint)."""

from __future__ import annotations

import copy
import json
import math

import pytest
import torch

from tandem import evaluate as ev
from tandem.data import arithmetic_splits, format_prompt
from tandem.evaluate import (
    SUITES, EvalSettings, batched_rollout, compare_table, displacement, evaluate_checkpoint, evaluate_models,
    load_report, step_prefix_tokens, token_stats, word_spans, word_surprisal, write_report,
)
from tandem.models import load_model, load_tokenizer
from tandem.rollout import JUNIOR, SENIOR, GenerationSettings, SeniorFirst, solo_rollout, tandem_rollout
from tandem.verifier import Verdict

PROBLEMS = arithmetic_splits(n_train=10, n_eval=6, seed=5).eval
SMALL = EvalSettings(k=2, max_new_tokens=12, n_problems=3, handoff_points=(0, 1, 99), handoff_fractions=(0.0, 0.5),
                     batch_size=2, n_boot=300, n_examples=2)


def fake_verify(text: str, expected: str) -> Verdict:
    """The fixture model never writes a \\boxed{} answer; this judge gives non-trivial accuracies instead."""
    return Verdict("fake", "0", None, "correct" if len(text) % 2 == 0 else "incorrect", "")


@pytest.fixture(scope="module")
def perturbed_dir(fixture_model_dir, tmp_path_factory):
    """The fixture model with seeded noise on every weight: a different model with the same tokenizer."""
    out = tmp_path_factory.mktemp("perturbed")
    model = load_model(fixture_model_dir)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    model.save_pretrained(out)
    load_tokenizer(fixture_model_dir).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def perturbed(perturbed_dir):
    return load_model(perturbed_dir)


@pytest.fixture(scope="module")
def report(fixture_model_dir, perturbed_dir):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("tandem.verifier.verify_model_output", fake_verify)
        return evaluate_checkpoint(fixture_model_dir, perturbed_dir, PROBLEMS, SUITES, SMALL, log=lambda *_: None)


def _samples(model, tokenizer, n=3, k=2, max_new_tokens=12, seed=0):
    prompts = [format_prompt(p["problem"]) for p in PROBLEMS[:n]]
    return solo_rollout(model, tokenizer, prompts, k, GenerationSettings(max_new_tokens=max_new_tokens, seed=seed))


# ---------------------------------------------------------------- teacher-forced log-probs and KL


def test_kl_to_itself_is_zero_and_kl_is_nonnegative(fixture_pair, perturbed):
    senior, same, tokenizer = fixture_pair
    s = _samples(senior, tokenizer)
    stats = token_stats([senior, same, perturbed], s.prompt_ids, s.completion_ids, [(0, 1), (0, 2), (2, 0)])
    assert [len(r) for r in stats.kl[(0, 1)]] == [len(c) for c in s.completion_ids]
    assert all(x == 0.0 for row in stats.kl[(0, 1)] for x in row)
    for pair in [(0, 2), (2, 0)]:
        values = [x for row in stats.kl[pair] for x in row]
        assert min(values) >= 0 and max(values) > 1e-3


@pytest.mark.parametrize("plain_head", [True, False])
def test_kl_and_logprobs_match_brute_force(fixture_pair, perturbed, monkeypatch, plain_head):
    senior, _, tokenizer = fixture_pair
    if not plain_head:  # the whole-logits path for models that post-process their logits
        monkeypatch.setattr(ev, "_plain_head", lambda model: False)
    # Rows of different prompt and completion lengths, so padding, sorting and chunking all come into play.
    prompts = [tokenizer.encode(format_prompt(p["problem"])) for p in PROBLEMS[:3]]
    completions = [tokenizer.encode(" 3 + 4 = 7\n"), tokenizer.encode("The answer"), [tokenizer.eos_token_id]]
    stats = token_stats([senior, perturbed], prompts, completions, [(0, 1)], batch_size=2, chunk_tokens=3)
    for r, (prompt, completion) in enumerate(zip(prompts, completions)):
        ids = torch.tensor([prompt + completion])
        with torch.no_grad():
            p = torch.log_softmax(senior(ids).logits[0].double(), -1)[len(prompt) - 1 : -1]
            q = torch.log_softmax(perturbed(ids).logits[0].double(), -1)[len(prompt) - 1 : -1]
        kl = (p.exp() * (p - q)).sum(-1)
        target = torch.tensor(completion)
        assert stats.kl[(0, 1)][r] == pytest.approx(kl.tolist(), abs=1e-5)
        assert stats.logprobs[0][r] == pytest.approx(p.gather(-1, target[:, None]).squeeze(-1).tolist(), abs=1e-5)
        assert stats.logprobs[1][r] == pytest.approx(q.gather(-1, target[:, None]).squeeze(-1).tolist(), abs=1e-5)


def test_teacher_forced_logprobs_match_the_rollout(fixture_pair):
    # The rollout records the senior's log-prob of each token it sampled (KV-cached, left-padded): teacher forcing
    # over prompt + completion must see the same distributions, or every position is off by one.
    senior, _, tokenizer = fixture_pair
    s = _samples(senior, tokenizer, max_new_tokens=20)
    stats = token_stats([senior], s.prompt_ids, s.completion_ids, batch_size=4, chunk_tokens=7)
    for recorded, forced in zip(s.senior_logprobs, stats.logprobs[0]):
        assert forced == pytest.approx(recorded, abs=1e-4)


# ---------------------------------------------------------------- handoff schedules and helpers


def test_senior_first_zero_means_the_junior_writes_every_token(fixture_pair, perturbed):
    senior, _, tokenizer = fixture_pair
    prompts = [format_prompt(p["problem"]) for p in PROBLEMS[:3]]
    settings = GenerationSettings(max_new_tokens=16, seed=3)
    tandem = tandem_rollout(senior, perturbed, tokenizer, prompts, 2, settings, SeniorFirst(0), "step")
    junior_alone = solo_rollout(perturbed, tokenizer, prompts, 2, settings)
    assert all(a == JUNIOR for row in tandem.authors for a in row)
    assert tandem.completion_ids == junior_alone.completion_ids  # same random stream, same choices


def test_senior_first_beyond_the_last_step_is_the_senior_alone(fixture_pair, perturbed):
    senior, _, tokenizer = fixture_pair
    prompts = [format_prompt(p["problem"]) for p in PROBLEMS[:3]]
    settings = GenerationSettings(max_new_tokens=16, seed=3)  # at most 16 steps < 99
    tandem = tandem_rollout(senior, perturbed, tokenizer, prompts, 2, settings, SeniorFirst(99), "step")
    senior_alone = solo_rollout(senior, tokenizer, prompts, 2, settings)
    assert all(a == SENIOR for row in tandem.authors for a in row)
    assert tandem.completion_ids == senior_alone.completion_ids


def test_step_prefix_tokens():
    tokens = ["a", " b", ".\n", "c", "\n", "d"]  # steps: "a b.\n", "c\n", "d" (unfinished)
    assert step_prefix_tokens(tokens, 0.0) == 0
    assert step_prefix_tokens(tokens, 0.1) == 0  # floor(0.3 + 0.5) = 0
    assert step_prefix_tokens(tokens, 0.25) == 3  # floor(0.75 + 0.5) = 1 step
    assert step_prefix_tokens(tokens, 0.5) == 5  # floor(1.5 + 0.5) = 2 steps: through the second "\n"
    assert step_prefix_tokens(tokens, 1.0) == 6
    assert step_prefix_tokens(["x", "y"], 0.75) == 2  # one unfinished step
    assert step_prefix_tokens([], 0.5) == 0


def test_word_spans():
    tokens = ["Mia", " has", " ", "1", "2", ".\n", "Then"]  # a whitespace-only token starts the word " 12.\n"
    assert word_spans(tokens) == [(0, 1), (1, 2), (2, 6), (6, 7)]
    assert word_spans([]) == []


def test_word_surprisal_gives_character_ranges_of_the_text_and_sums_token_surprisal(fixture_pair):
    _, _, tokenizer = fixture_pair
    text = "Mia has 12 apples.\nThen she buys 3 more."
    ids = tokenizer.encode(text) + [tokenizer.eos_token_id]  # eos is left out of the words
    logprobs = [-0.5 - 0.1 * i for i in range(len(ids))]
    words = word_surprisal(tokenizer, ids, logprobs)
    token_texts = [tokenizer.decode([t]) for t in ids[:-1]]
    assert len(words) == len(word_spans(token_texts))
    assert [text[w["start"]:w["end"]] for w in words][:3] == ["Mia", " has", " 12"]
    assert "".join(text[w["start"]:w["end"]] for w in words) == text and words[-1]["end"] == len(text)
    assert sum(w["nats"] for w in words) == pytest.approx(-sum(logprobs[:-1]))


# ---------------------------------------------------------------- the report


def test_report_has_every_suite_with_valid_intervals(report, tmp_path):
    text = json.dumps(report, allow_nan=False)  # JSON-serialisable, no NaN
    assert report["suites"] == list(SUITES) and report["n_problems"] == 3
    expected = {
        "solo_mean_at_k", "solo_pass_at_k", "tandem_accuracy", "tandem_senior_share", "handoff_alternating",
        "handoff_mean", "drift_kl", "legibility_logprob", "legibility_perplexity",
    }
    assert expected <= set(report["metrics"])
    estimates = list(report["metrics"].values()) + [p for c in report["curves"].values() for p in c["points"]]
    for e in estimates:
        assert e["low"] <= e["value"] <= e["high"] and e["n"] == 3
    assert [p["x"] for p in report["curves"]["handoff_senior_first_k"]["points"]] == [0, 1, 99]
    assert [p["x"] for p in report["curves"]["handoff_fraction"]["points"]] == [0.0, 0.5]
    assert report["metrics"]["drift_kl"]["value"] > 0
    lp = report["metrics"]["legibility_logprob"]
    assert report["metrics"]["legibility_perplexity"]["value"] == pytest.approx(math.exp(-lp["value"]))
    assert report["metrics"]["legibility_perplexity"]["high"] == pytest.approx(math.exp(-lp["low"]))
    assert sum(report["histograms"]["drift_kl"]["counts"]) + report["histograms"]["drift_kl"]["above"] > 0
    assert set(report["versions"]) >= {"verifier", "torch", "transformers"}
    assert report["settings"]["k"] == 2 and report["settings"]["handoff_points"] == [0, 1, 99]
    assert EvalSettings.from_dict(report["settings"]) == SMALL

    solo_examples = [x for x in report["examples"] if x["suite"] == "solo"]
    assert len(solo_examples) == 2
    for x in solo_examples:
        words = x["word_surprisal"]  # the word series covers the text (special tokens left out)
        assert words[0]["start"] == 0 and words[-1]["end"] == len(x["text"])
        assert all(a["end"] == b["start"] for a, b in zip(words, words[1:])) and min(w["nats"] for w in words) > 0
        assert x["verdict"] in ("correct", "incorrect") and "extracted" in x
        assert [s["author"] for s in x["author_spans"]] == ["senior"] and x["schedule"] == "solo"
    for x in report["examples"]:  # author spans tile the text, whoever wrote it
        assert "".join(s["text"] for s in x["author_spans"]) == x["text"]
        assert all(x["text"][s["start"]:s["end"]] == s["text"] for s in x["author_spans"])
    by_schedule = {}
    for x in report["examples"]:
        by_schedule.setdefault(x["schedule"], []).append({s["author"] for s in x["author_spans"]})
    assert set(by_schedule) == {"solo", "coin_flip", "alternate", "senior_first_k=0", "senior_first_k=1",
                                "senior_first_k=99", "senior_fraction=0.0", "senior_fraction=0.5"}
    assert all(len(v) == 2 for v in by_schedule.values())  # n_examples problems each
    assert by_schedule["senior_first_k=0"] == by_schedule["senior_fraction=0.0"] == [{"junior"}, {"junior"}]
    assert by_schedule["senior_first_k=99"] == [{"senior"}, {"senior"}]
    assert {"senior", "junior"} in by_schedule["coin_flip"] + by_schedule["senior_fraction=0.5"]

    path = write_report(report, tmp_path / "sub" / "report.json")
    assert load_report(path) == json.loads(text)


def test_handoff_curve_ends_at_solo_accuracy(report):
    # SeniorFirst(99) never hands over within 12 tokens, and every suite draws from the same random stream:
    # the curve's last point is the solo accuracy, problem by problem.
    point = report["curves"]["handoff_senior_first_k"]["points"][-1]
    assert point["value"] == report["metrics"]["solo_mean_at_k"]["value"]
    assert report["per_problem"]["handoff_senior_first_k[k=99]"] == report["per_problem"]["solo_mean_at_k"]
    curve = report["per_problem"]
    mean = [sum(v) / 3 for v in zip(*(curve[f"handoff_senior_first_k[k={k}]"] for k in (0, 1, 99)))]
    assert curve["handoff_mean"] == pytest.approx(mean)
    assert 0 < report["metrics"]["solo_mean_at_k"]["value"] < 1  # the fake judge makes the check non-trivial


def test_handoff_fraction_zero_is_the_junior_alone(report):
    # No senior prefix: the junior continues from the bare prompt, with the same random stream as SeniorFirst(0).
    per_problem = report["per_problem"]
    assert per_problem["handoff_fraction[f=0.0]"] == per_problem["handoff_senior_first_k[k=0]"]
    assert per_problem["handoff_fraction[f=0.0]"] != per_problem["solo_mean_at_k"]  # the junior differs


def test_legibility_of_an_identical_junior_is_the_seniors_own_perplexity(fixture_pair):
    senior, same, tokenizer = fixture_pair
    settings = EvalSettings(k=2, max_new_tokens=12, n_problems=3, batch_size=2, n_boot=200)
    out = evaluate_models(senior, same, tokenizer, PROBLEMS, ("drift", "legibility"), settings, log=lambda *_: None)
    # The same samples again (same seeds), with the log-probs the senior recorded while sampling them.
    samples = batched_rollout(
        lambda prompts, g: solo_rollout(senior, tokenizer, prompts, 2, settings.generation(), generator=g),
        [format_prompt(p["problem"]) for p in PROBLEMS[:3]], 2, settings, "cpu",
    )
    per_problem = []
    for i in range(3):
        rows = samples.senior_logprobs[2 * i : 2 * i + 2]
        per_problem.append(sum(map(sum, rows)) / sum(map(len, rows)))
    mean_logprob = sum(per_problem) / 3
    assert out["metrics"]["legibility_perplexity"]["value"] == pytest.approx(math.exp(-mean_logprob), rel=1e-4)
    assert out["metrics"]["drift_kl"]["value"] == 0.0
    # the paper's legibility: per sample the mean cross-entropy over its text tokens (eos left out), then per problem
    # the mean over samples, then over problems
    eos = tokenizer.eos_token_id
    per_sample = []
    for ids, lps in zip(samples.completion_ids, samples.senior_logprobs):
        ce = [-lp for t, lp in zip(ids, lps) if t != eos]
        per_sample.append(sum(ce) / len(ce))
    expected = sum((per_sample[2 * i] + per_sample[2 * i + 1]) / 2 for i in range(3)) / 3
    assert out["metrics"]["legibility_cross_entropy"]["value"] == pytest.approx(expected, rel=1e-4)


def test_reports_are_deterministic(fixture_pair, perturbed):
    senior, _, tokenizer = fixture_pair
    settings = EvalSettings(k=2, max_new_tokens=10, n_problems=2, handoff_points=(1,), handoff_fractions=(0.5,),
                            n_boot=200)
    runs = [evaluate_models(senior, perturbed, tokenizer, PROBLEMS, ("tandem", "handoff", "drift"), settings,
                            log=lambda *_: None) for _ in range(2)]
    assert runs[0] == runs[1]


def test_compare_table(report):
    other = copy.deepcopy(report)
    other["checkpoint"] = "/runs/grpo/final"
    other["metrics"]["solo_mean_at_k"] = {"value": 0.512, "low": 0.471, "high": 0.553, "n": 200}
    del other["metrics"]["drift_kl"]
    table = compare_table([report, other])
    lines = table.splitlines()
    assert lines[0].split()[1:] == [report["checkpoint"].rstrip("/").split("/")[-1], "final"]
    row = next(line for line in lines if line.startswith("solo_mean_at_k "))
    d = report["metrics"]["solo_mean_at_k"]
    assert f"{d['value']:.3f} [{d['low']:.3f}, {d['high']:.3f}]" in row and "0.512 [0.471, 0.553]" in row
    assert next(line for line in lines if line.startswith("drift_kl ")).rstrip().endswith("—")
    for name in ["handoff_senior_first_k[k=0]", "handoff_senior_first_k[k=99]", "handoff_fraction[f=0.5]"]:
        assert any(line.startswith(name + " ") for line in lines)
    assert compare_table([report, other], names=["tandem", "grpo"]).splitlines()[0].split() == ["metric", "tandem", "grpo"]


# ---------------------------------------------------------------- displacement


def test_displacement(fixture_model_dir, perturbed_dir):
    settings = EvalSettings(k=2, max_new_tokens=12, n_problems=3, displacement_threshold=0.05, n_boot=200)
    quiet = dict(log=lambda *_: None)
    # A "Tandem" checkpoint identical to the GRPO one: nothing shifts back, no KL reduction.
    same = displacement(fixture_model_dir, perturbed_dir, perturbed_dir, PROBLEMS, settings, **quiet)
    m = same["metrics"]
    assert m["displaced_share"]["value"] > 0
    assert m["displacement_shift_back"]["value"] == 0.0 and m["kl_reduction"]["value"] == 0.0
    assert m["kl_to_base_trl"] == m["kl_to_base_grpo"] and m["kl_to_base_grpo"]["value"] > 0
    # own samples of an identical checkpoint are the same samples (same random stream): the same KL
    assert m["kl_to_base_trl_own"] == m["kl_to_base_grpo"] and m["kl_reduction_own"]["value"] == 0.0
    assert same["per_problem"]["kl_to_base_trl_own"] == same["per_problem"]["kl_to_base_grpo"]
    json.dumps(same, allow_nan=False)
    # One that stayed at the base: every displaced token shifts back, KL to base drops by 100%.
    back = displacement(fixture_model_dir, perturbed_dir, fixture_model_dir, PROBLEMS, settings, **quiet)
    assert back["metrics"]["displacement_shift_back"]["value"] == 1.0
    assert back["metrics"]["kl_reduction"]["value"] == 1.0 and back["metrics"]["kl_to_base_trl"]["value"] == 0.0
    assert back["metrics"]["kl_to_base_trl_own"]["value"] == 0.0 and back["metrics"]["kl_reduction_own"]["value"] == 1.0
    assert "displacement_shift_back" in compare_table([same, back], ["same", "back"])


# ---------------------------------------------------------------- argument checks


def test_bad_arguments(fixture_pair):
    senior, _, tokenizer = fixture_pair
    with pytest.raises(ValueError, match="unknown suite"):
        evaluate_models(senior, senior, tokenizer, PROBLEMS, ("solo", "vibes"), SMALL)
    with pytest.raises(ValueError, match="need a junior"):
        evaluate_models(senior, None, tokenizer, PROBLEMS, ("tandem",), SMALL)
    with pytest.raises(ValueError, match="k must be"):
        EvalSettings(k=0).validate()
    with pytest.raises(ValueError, match="unknown evaluation setting"):
        EvalSettings.from_dict({"k": 2, "kk": 3})
    with pytest.raises(ValueError, match="handoff_fractions"):
        EvalSettings(handoff_fractions=(1.5,)).validate()
    solo_only = evaluate_models(senior, None, tokenizer, PROBLEMS, ("solo",), SMALL, log=lambda *_: None)
    assert set(solo_only["metrics"]) == {"solo_mean_at_k", "solo_pass_at_k"}


# ---------------------------------------------------------------- sampling presets and the handoff protocol


def test_paper_preset_and_sampling_fields():
    paper = EvalSettings.preset("paper")
    assert (paper.temperature, paper.top_p, paper.top_k) == (0.7, 0.8, 20)
    g = paper.generation()
    assert (g.temperature, g.top_p, g.top_k) == (0.7, 0.8, 20)
    assert EvalSettings.preset("paper", k=8, top_k=5).top_k == 5 and EvalSettings.preset("paper", k=8).k == 8
    default = EvalSettings()
    assert (default.temperature, default.top_p, default.top_k, default.step_separator) == (1.0, 1.0, 0, "\n")
    assert EvalSettings.from_dict(paper.to_dict()) == paper
    with pytest.raises(ValueError, match="unknown evaluation preset 'vibes'"):
        EvalSettings.preset("vibes")
    for bad, field in [({"top_p": 0.0}, "top_p"), ({"top_k": -1}, "top_k"), ({"step_separator": ""}, "step_separator")]:
        with pytest.raises(ValueError, match=field):
            EvalSettings(**bad).validate()


def test_every_rollout_samples_with_the_settings_top_p_and_top_k(fixture_pair, perturbed, monkeypatch):
    senior, _, tokenizer = fixture_pair
    seen = []

    def spy(fn):
        def wrapped(*args, **kw):
            seen.append(next(a for a in args if isinstance(a, GenerationSettings)))
            return fn(*args, **kw)
        return wrapped

    monkeypatch.setattr(ev, "tandem_rollout", spy(ev.tandem_rollout))
    monkeypatch.setattr(ev, "solo_rollout", spy(ev.solo_rollout))
    settings = EvalSettings.preset("paper", k=1, max_new_tokens=6, n_problems=2, handoff_points=(1,),
                                   handoff_fractions=(0.5,), n_boot=50)
    evaluate_models(senior, perturbed, tokenizer, PROBLEMS, ("solo", "tandem", "handoff"), settings, log=lambda *_: None)
    assert len(seen) >= 5  # solo, coin flip, alternate, senior-first, junior continuation
    assert all((g.temperature, g.top_p, g.top_k) == (0.7, 0.8, 20) for g in seen)


def test_separator_occurrences():
    assert ev.separator_occurrences(["a", ".\n\n", "b", "\n", "\n", "c"], "\n\n") == (2, 1)  # one split
    assert ev.separator_occurrences(["a\n", "b\n"], "\n") == (2, 2)
    assert ev.separator_occurrences(["abc"], "\n\n") == (0, 0)


def test_line_separator_flags_are_the_boundaries_flags(fixture_pair):
    _, _, tokenizer = fixture_pair
    from tandem.boundaries import token_flags

    flags = token_flags(tokenizer)
    assert ev.separator_flags(tokenizer, flags, "\n") is flags
    para = ev.separator_flags(tokenizer, flags, "\n\n")
    texts = tokenizer.batch_decode([[i] for i in range(para.ends_line.numel())], clean_up_tokenization_spaces=False)
    assert para.ends_line.tolist() == ["\n\n" in t for t in texts]
    assert bool((para.ends_line & ~flags.ends_line).any()) is False  # a paragraph break is also a line break


def test_a_separator_that_never_occurs_warns_and_leaves_the_senior_alone(fixture_pair, perturbed):
    senior, _, tokenizer = fixture_pair
    settings = EvalSettings(k=2, max_new_tokens=12, n_problems=3, handoff_points=(0,), handoff_fractions=(),
                            batch_size=2, n_boot=100, step_separator="@@never@@")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("tandem.verifier.verify_model_output", fake_verify)
        out = evaluate_models(senior, perturbed, tokenizer, PROBLEMS, ("solo", "handoff"), settings, log=lambda *_: None)
    assert out["handoff_protocol"]["separator_occurrences"] == 0 and out["handoff_protocol"]["solo_samples"] == 6
    assert len(out["warnings"]) == 1 and "'@@never@@' occurs 0 times in the senior's 6 solo samples" in out["warnings"][0]
    # no step ever ends: alternating steps is the senior alone, sample by sample (same random stream)
    assert out["per_problem"]["handoff_alternating"] == out["per_problem"]["solo_mean_at_k"]
    json.dumps(out, allow_nan=False)


def test_cli_eval_preset_and_sampling_flags(fixture_model_dir, tmp_path, monkeypatch):
    from tandem.cli import main

    seen = {}

    def fake_evaluate(checkpoint, junior, problems, suites, settings, device="cpu"):
        seen["settings"] = settings
        return {"settings": settings.to_dict()}

    monkeypatch.setattr(ev, "evaluate_checkpoint", fake_evaluate)
    common = ["eval", "--checkpoint", str(fixture_model_dir), "--junior", str(fixture_model_dir), "--n-problems", "2",
              "--suite", "solo", "--out", str(tmp_path / "r.json")]
    assert main(common + ["--preset", "paper", "--top-k", "5", "--step-separator", "\\n\\n"]) == 0
    s = seen["settings"]
    assert (s.temperature, s.top_p, s.top_k, s.step_separator) == (0.7, 0.8, 5, "\n\n")  # the flag beats the preset
    assert main(common) == 0
    assert (seen["settings"].temperature, seen["settings"].top_p, seen["settings"].top_k) == (1.0, 1.0, 0)
    with pytest.raises(SystemExit, match="unknown evaluation preset 'vibes'"):
        main(common + ["--preset", "vibes"])
    with pytest.raises(SystemExit, match="top_p must be in"):
        main(common + ["--top-p", "1.5"])
