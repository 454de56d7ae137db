"""The metric formulas: pass@k, bootstrap intervals over problems, histograms."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tandem.stats import Estimate, bootstrap_mean, bootstrap_ratio, histogram, pass_at_k

# ---------------------------------------------------------------- pass@k


@pytest.mark.parametrize(
    "n, c, k, expected",
    [
        (4, 1, 2, 1 - 3 / 6),  # 1 - C(3,2)/C(4,2)
        (5, 2, 2, 1 - 3 / 10),  # 1 - C(3,2)/C(5,2)
        (10, 3, 1, 0.3),  # pass@1 = c/n
        (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
        (6, 2, 3, 1 - 4 / 20),  # 1 - C(4,3)/C(6,3)
    ],
)
def test_pass_at_k_hand_computed(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-15)


def test_pass_at_k_edge_cases():
    assert pass_at_k(8, 0, 1) == 0.0 and pass_at_k(8, 0, 8) == 0.0  # c = 0: never
    assert pass_at_k(8, 8, 1) == 1.0 and pass_at_k(8, 8, 8) == 1.0  # c = n: always
    assert pass_at_k(8, 1, 8) == 1.0  # k = n: any correct sample is drawn
    assert pass_at_k(5, 3, 3) == 1.0  # n - c < k: every draw holds a correct one
    assert pass_at_k(1, 1, 1) == 1.0 and pass_at_k(1, 0, 1) == 0.0


def test_pass_at_k_exact_for_large_counts():
    # Floating-point products would drift here; the exact form gives 1 - 1/C(200, 100) rounded once.
    assert pass_at_k(200, 100, 100) == 1 - 1 / math.comb(200, 100)


@pytest.mark.parametrize("n, c, k", [(4, 5, 1), (4, -1, 1), (4, 1, 0), (4, 1, 5)])
def test_pass_at_k_rejects_bad_arguments(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


# ---------------------------------------------------------------- bootstrap_mean


def test_bootstrap_mean_contains_mean_and_is_deterministic():
    x = np.random.default_rng(1).random(50)
    e = bootstrap_mean(x, seed=3)
    assert e.value == pytest.approx(x.mean())
    assert e.low < e.value < e.high and e.n == 50
    assert bootstrap_mean(x, seed=3) == e
    assert bootstrap_mean(x, seed=4) != e  # a different seed resamples differently


def test_bootstrap_mean_narrows_with_more_problems():
    rng = np.random.default_rng(0)
    small, large = bootstrap_mean(rng.random(20)), bootstrap_mean(rng.random(2000))
    assert large.high - large.low < (small.high - small.low) / 4  # width ~ 1/sqrt(n): 10x more -> ~ 1/10


def test_bootstrap_mean_width_matches_standard_error():
    x = np.random.default_rng(2).normal(size=400)
    e = bootstrap_mean(x, n_boot=4000)
    se = x.std(ddof=1) / math.sqrt(x.size)
    assert (e.high - e.low) == pytest.approx(2 * 1.96 * se, rel=0.1)


def test_bootstrap_mean_single_and_empty():
    assert bootstrap_mean([0.25]) == Estimate(0.25, 0.25, 0.25, 1)
    with pytest.raises(ValueError):
        bootstrap_mean([])


def test_bootstrap_mean_constant_values_interval_holds_the_value():
    # Resample means of identical floats can differ from the mean in the last bit; the interval is widened.
    e = bootstrap_mean([0.1] * 7)
    assert e.low <= e.value <= e.high and e.high - e.low < 1e-12


# ---------------------------------------------------------------- bootstrap_ratio


def test_bootstrap_ratio_is_a_ratio_of_sums():
    e = bootstrap_ratio([1, 9], [10, 10])
    assert e.value == pytest.approx(0.5)  # (1 + 9) / 20
    e = bootstrap_ratio([1, 1], [1, 9])
    assert e.value == pytest.approx(0.2)  # not the mean of ratios, (1 + 1/9) / 2
    assert e.low <= e.value <= e.high


def test_bootstrap_ratio_respects_clustering():
    # 30 problems with 100 tokens each; within a problem the tokens are all displaced or none are.
    rng = np.random.default_rng(0)
    flags = rng.random(30) < 0.5
    numerators, denominators = flags * 100, np.full(30, 100)
    clustered = bootstrap_ratio(numerators, denominators)
    # Pretending the 3000 tokens are independent gives the same value but a far too narrow interval.
    as_if_independent = bootstrap_mean(np.repeat(flags.astype(float), 100))
    assert clustered.value == pytest.approx(as_if_independent.value)
    assert clustered.high - clustered.low > 4 * (as_if_independent.high - as_if_independent.low)


def test_bootstrap_ratio_zero_denominators():
    e = bootstrap_ratio([0, 0, 3], [0, 0, 4])  # problems without displaced tokens add nothing
    assert e.value == pytest.approx(0.75) and e.low <= e.value <= e.high and e.n == 3
    undefined = bootstrap_ratio([0, 0], [0, 0])
    assert math.isnan(undefined.value)
    d = undefined.to_dict()
    assert d == {"value": None, "low": None, "high": None, "n": 2}
    json.dumps(d, allow_nan=False)
    with pytest.raises(ValueError):
        bootstrap_ratio([1], [1, 2])
    with pytest.raises(ValueError):
        bootstrap_ratio([], [])


def test_estimate_dict_roundtrip_and_monotone_map():
    e = Estimate(-2.0, -3.0, -1.0, 5)
    assert Estimate.from_dict(e.to_dict()) == e
    perplexity = e.map(lambda x: math.exp(-x))  # decreasing: bounds swap
    assert perplexity.low == pytest.approx(math.exp(1)) and perplexity.high == pytest.approx(math.exp(3))
    assert perplexity.value == pytest.approx(math.exp(2)) and perplexity.n == 5


# ---------------------------------------------------------------- histogram


def test_histogram_counts_and_overflow():
    h = histogram([0.0, 0.05, 0.5, 0.99, 1.0, 2.0, -1.0], [0.0, 0.1, 1.0])
    assert h["edges"] == [0.0, 0.1, 1.0]
    assert h["counts"] == [2, 3] and h["below"] == 1 and h["above"] == 1 and h["n"] == 7
    h = histogram([1, 2, 3, 4], 3)
    assert len(h["edges"]) == 4 and sum(h["counts"]) == 4 and h["edges"][0] == 1 and h["edges"][-1] == 4
    assert sum(histogram([5.0, 5.0], 4)["counts"]) == 2  # constant data still gets a bin
    assert histogram([], 2)["n"] == 0
    json.dumps(h, allow_nan=False)
    with pytest.raises(ValueError):
        histogram([1.0], [1.0, 0.0])


# ---------------------------------------------------------------- paired, multi-seed comparisons (claims)

from tandem import claims as cl  # noqa: E402
from tandem.cli import main as cli_main  # noqa: E402
from tandem.stats import PairedEstimate, mulberry32_uniforms, paired_bootstrap  # noqa: E402


def test_mulberry32_matches_the_consoles_generator():
    # The first draws of statistics.ts's mulberry32 (node, seeds 0 and 123456789): the two languages share a stream.
    assert mulberry32_uniforms(0, 3).tolist() == [0.26642920868471265, 0.0003297457005828619, 0.2232720274478197]
    assert mulberry32_uniforms(123456789, 2).tolist() == [0.2577907438389957, 0.9707721115555614]
    u = mulberry32_uniforms(5, 10000)
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.02


def test_paired_bootstrap_constant_shift_per_problem_has_zero_width():
    # Problems differ a lot, every seed of B is A + 0.1 on every problem: pairing cancels the difficulty.
    rng = np.random.default_rng(0)
    base = rng.random(50)
    a = np.stack([base, base, base])
    b = np.stack([base + 0.1] * 3)
    e = paired_bootstrap(a, b, n_boot=500)
    assert e.value == pytest.approx(0.1) and e.high - e.low < 1e-9 and e.high90 - e.low90 < 1e-9
    assert (e.n, e.seeds_a, e.seeds_b) == (50, 3, 3)
    # Unpaired (B's problems shuffled) the same mean difference gets a wide interval.
    shuffled = paired_bootstrap(a, b[:, rng.permutation(50)], n_boot=500)
    assert shuffled.value == pytest.approx(0.1) and shuffled.high - shuffled.low > 0.1


def test_paired_bootstrap_value_is_the_mean_of_seed_mean_differences_and_seeds_widen():
    rng = np.random.default_rng(1)
    difficulty = rng.random(40)
    a = difficulty + rng.normal(0, 0.01, (3, 40))
    # B's seeds differ from each other by a whole-run offset: seed variation the interval must carry.
    b = difficulty + np.array([[-0.1], [0.0], [0.1]]) + rng.normal(0, 0.01, (3, 40))
    e = paired_bootstrap(a, b, n_boot=1000)
    assert e.value == pytest.approx(float(np.mean(b.mean(0) - a.mean(0))))
    one_seed_like = paired_bootstrap(a[:1], b[1:2], n_boot=1000)
    assert e.high - e.low > 4 * (one_seed_like.high - one_seed_like.low)
    assert e.low <= e.low90 <= e.value <= e.high90 <= e.high
    assert paired_bootstrap(a, b, n_boot=1000) == e  # deterministic for a seed


def test_paired_bootstrap_ratio_of_sums_and_bad_input():
    e = paired_bootstrap([[1, 1]], [[3, 1]], [[2, 2]], [[4, 4]], n_boot=50)
    assert e.value == pytest.approx(4 / 8 - 2 / 4)
    with pytest.raises(ValueError, match="b has 3 problems"):
        paired_bootstrap([[1, 2]], [[1, 2, 3]])
    with pytest.raises(ValueError, match="finite"):
        paired_bootstrap([[1, float("nan")]], [[1, 2]])
    with pytest.raises(ValueError, match="n_boot"):
        paired_bootstrap([[1]], [[1]], n_boot=0)


def _est(value, low, high, low90, high90):
    return PairedEstimate(value, low, high, low90, high90, 100, 3, 3)


@pytest.mark.parametrize("est, expected", [
    (_est(0.0, -0.025, 0.025, -0.02, 0.02), "supported"),  # 90% inside ±0.03
    (_est(0.10, 0.05, 0.15, 0.06, 0.14), "refuted"),  # 95% wholly above +0.03
    (_est(-0.10, -0.15, -0.05, -0.14, -0.06), "refuted"),  # wholly below -0.03
    (_est(0.02, -0.01, 0.05, 0.0, 0.04), "inconclusive"),  # straddles the upper margin
    (_est(0.0, -0.2, 0.2, -0.15, 0.15), "inconclusive"),  # wide: cannot tell
])
def test_equivalence_verdicts_by_tost(est, expected):
    assert cl.equivalence_verdict(est, 0.03) == expected


def test_superiority_verdicts():
    up, down, zero = _est(0.1, 0.05, 0.15, 0.06, 0.14), _est(-0.1, -0.15, -0.05, -0.14, -0.06), _est(0, -1, 1, -1, 1)
    assert [cl.superiority_verdict(x, +1) for x in (up, down, zero)] == ["supported", "refuted", "inconclusive"]
    assert [cl.superiority_verdict(x, -1) for x in (up, down, zero)] == ["refuted", "supported", "inconclusive"]


def _report(ids, **series):
    return {"per_problem": {"ids": list(ids), **{k: list(map(float, v)) for k, v in series.items()}}}


def _arm(name, reports, trained=True):
    return cl.Arm(name, reports, [f"{name}{i + 1}.json" for i in range(len(reports))], trained)


def test_overlapping_intervals_of_n_8_are_not_supported_equivalence():
    # Two checkpoints' own intervals overlap ([0.063, 0.625] vs [0.125, 0.438] in the console) -- that used to
    # read "solo kept: supported". With 8 problems the paired 90% interval is far wider than ±3 points.
    ids = [f"q{i}" for i in range(8)]
    grpo = _report(ids, solo_mean_at_k=[0.5, 0.0, 0.5, 0.0, 0.5, 0.0, 0.5, 0.5])
    trl = _report(ids, solo_mean_at_k=[0.25, 0.25, 0.5, 0.25, 0.25, 0.25, 0.25, 0.5])
    solo = cl.paper_claims(_arm("grpo", [grpo]), _arm("trl", [trl]))[0]
    assert solo["id"] == "solo" and solo["verdict"] == "inconclusive"
    assert any("only 8 problems" in w for w in solo["warnings"]) and any("1 seed" in w for w in solo["warnings"])
    assert "two one-sided tests" in solo["sentence"] and "±0.03" in solo["sentence"]


def test_claims_from_seeds_and_not_measured():
    rng = np.random.default_rng(3)
    ids = [f"p{i}" for i in range(60)]
    difficulty = rng.random(60)
    grpo = [_report(ids, solo_mean_at_k=difficulty + rng.normal(0, 0.01, 60), handoff_alternating=difficulty - 0.2,
                    drift_kl=0.3 + rng.normal(0, 0.01, 60)) for _ in range(3)]
    trl = [_report(ids, solo_mean_at_k=difficulty + rng.normal(0, 0.01, 60), handoff_alternating=difficulty - 0.1,
                   drift_kl=0.4 + rng.normal(0, 0.01, 60)) for _ in range(3)]
    claims = {c["id"]: c for c in cl.paper_claims(_arm("grpo", grpo), _arm("trl", trl), margin=0.03)}
    assert [c["id"] for c in cl.paper_claims(None, None)] == [
        "solo", "handoff", "drift", "displacement", "displacement_kl", "legibility"]
    assert claims["solo"]["verdict"] == "supported" and claims["solo"]["margin"] == 0.03
    assert claims["handoff"]["verdict"] == "supported" and claims["handoff"]["estimate"]["value"] == pytest.approx(0.1)
    assert claims["drift"]["verdict"] == "refuted" and claims["drift"]["direction"] == "↓"  # TRL drifts MORE here
    assert claims["legibility"]["verdict"] == "not measured" and "legibility suite" in claims["legibility"]["sentence"]
    assert claims["displacement"]["verdict"] == "not measured"
    assert claims["solo"]["seeds"] == {"grpo": 3, "trl": 3} and claims["solo"]["warnings"] == []
    json.dumps(claims, allow_nan=False)
    # a margin too tight for the data: no longer supported
    tight = cl.paper_claims(_arm("grpo", grpo), _arm("trl", trl), margin=0.0001)[0]
    assert tight["verdict"] != "supported"
    with pytest.raises(ValueError, match="margin"):
        cl.paper_claims(_arm("grpo", grpo), _arm("trl", trl), margin=-1)


def test_mismatched_problem_ids_are_an_error_naming_the_reports():
    a = _report(["p1", "p2", "p3"], solo_mean_at_k=[1, 0, 1])
    b = _report(["p1", "p2", "p4"], solo_mean_at_k=[1, 0, 1])
    with pytest.raises(ValueError, match=r"trl1\.json and grpo1\.json are not on the same problems"):
        cl.paper_claims(_arm("grpo", [a]), _arm("trl", [b]))
    reordered = _report(["p3", "p1", "p2"], solo_mean_at_k=[1, 1, 0])  # same problems, other order: paired by id
    assert cl.paper_claims(_arm("grpo", [a]), _arm("trl", [reordered]))[0]["estimate"]["value"] == 0.0
    with pytest.raises(ValueError, match="no per_problem ids"):
        cl.paper_claims(_arm("grpo", [{"metrics": {}}]), _arm("trl", [b]))


def test_displacement_excess_over_the_null():
    ids = [f"d{i}" for i in range(40)]
    displaced = np.full(40, 10.0)
    # real pairs: 70% of displaced tokens shift back; the GRPO-vs-GRPO null: 55% (regression to the mean)
    real = [_report(ids, displaced=displaced, shift_back=displaced * 0.7, kl_to_base_grpo=np.full(40, 0.2),
                    kl_to_base_trl_own=np.full(40, 0.2 * 0.86)) for _ in range(3)]
    null = [_report(ids, displaced=displaced, shift_back=displaced * 0.55, kl_to_base_grpo=np.full(40, 0.2),
                    kl_to_base_trl_own=np.full(40, 0.2)) for _ in range(3)]
    claims = {c["id"]: c for c in cl.paper_claims(None, None, _arm("displacement", real), _arm("null", null))}
    assert claims["displacement"]["estimate"]["value"] == pytest.approx(0.15)
    assert claims["displacement"]["verdict"] == "supported"
    kl = claims["displacement_kl"]
    assert kl["estimate"]["value"] == pytest.approx(0.14) and kl["verdict"] == "supported" and kl["direction"] == "↑"
    # a "TRL" that shifts back exactly as often as a second GRPO seed: nothing beyond the null
    same = cl.paper_claims(None, None, _arm("displacement", null), _arm("null", null))
    assert {c["id"]: c["verdict"] for c in same}["displacement"] == "inconclusive"


def test_versus_base_has_one_seed_without_a_seed_warning():
    ids = [f"p{i}" for i in range(40)]
    base = _report(ids, solo_mean_at_k=np.linspace(0, 0.5, 40))
    trained = [_report(ids, solo_mean_at_k=np.linspace(0, 0.5, 40) + 0.1) for _ in range(3)]
    rows = cl.versus_base(_arm("base", [base], trained=False), _arm("grpo", trained))
    assert len(rows) == 1 and rows[0]["verdict"] == "supported" and rows[0]["seeds"] == {"base": 1, "grpo": 3}
    assert rows[0]["warnings"] == []


def test_golden_file_for_the_console_is_current():
    from pathlib import Path
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_claims_golden", Path(__file__).with_name("make_claims_golden.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.GOLDEN.read_text(encoding="utf-8") == module.render(), \
        "run tests/make_claims_golden.py: the console's golden claims are stale"


def _write(tmp_path, name, report):
    path = tmp_path / name
    path.write_text(json.dumps(report), encoding="utf-8")
    return str(path)


def test_cli_compare_arms_text_json_and_errors(tmp_path, capsys):
    rng = np.random.default_rng(4)
    ids = [f"p{i}" for i in range(30)]
    difficulty = rng.random(30)
    g = [_write(tmp_path, f"g{s}.json", _report(ids, solo_mean_at_k=difficulty, handoff_alternating=difficulty - 0.2))
         for s in range(3)]
    t = [_write(tmp_path, f"t{s}.json", _report(ids, solo_mean_at_k=difficulty + 0.001, handoff_alternating=difficulty))
         for s in range(3)]
    base = _write(tmp_path, "base.json", _report(ids, solo_mean_at_k=difficulty - 0.1))
    assert cli_main(["compare", "--arm", "grpo=" + ",".join(g), "--arm", "trl=" + ",".join(t), "--base", base,
                     "--margin", "0.02", "--n-boot", "200"]) == 0
    out = capsys.readouterr().out
    assert "Claims for trl against grpo" in out and "margin for ≈: ±0.02" in out
    solo_block = out.split("Solo accuracy is kept")[1].split("\n\n")[0]
    assert "verdict: SUPPORTED" in solo_block and "n 30 problems" in solo_block and "seeds grpo 3, trl 3" in solo_block
    assert "Handoff robustness" in out and "Displacement beyond the seed null" in out and "not measured" in out
    assert "Against the base model" in out and "grpo vs base: solo_mean_at_k" in out

    assert cli_main(["compare", "--arm", "grpo=" + ",".join(g), "--arm", "trl=" + ",".join(t), "--json",
                     "--n-boot", "200"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["verdict"] for c in data["claims"]][:2] == ["supported", "supported"] and data["margin"] == 0.03

    other = _write(tmp_path, "other.json", _report([f"x{i}" for i in range(30)], solo_mean_at_k=difficulty))
    assert cli_main(["compare", "--arm", f"grpo={g[0]}", "--arm", f"trl={other}"]) == 2
    assert "other.json and" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="exactly two --arm"):
        cli_main(["compare", "--arm", f"grpo={g[0]}"])
    assert cli_main(["compare", "--arm", f"grpo={g[0]}", "--arm", f"trl={t[0]}", "--margin", "0"]) == 2
    assert "margin must be" in capsys.readouterr().err
    # the old positional form still prints the side-by-side table
    real = {"checkpoint": "/runs/a/final", "metrics": {"solo_mean_at_k": {"value": 0.5, "low": 0.4, "high": 0.6, "n": 30}}}
    assert cli_main(["compare", _write(tmp_path, "a.json", real), _write(tmp_path, "b.json", real), "--names", "x,y"]) == 0
    assert capsys.readouterr().out.splitlines()[0].split() == ["metric", "x", "y"]
