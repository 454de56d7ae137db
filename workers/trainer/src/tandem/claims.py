"""The paper's claims read off evaluation reports of two arms, each over several training seeds.

Pure functions on report dicts (`evaluate.write_report` JSON): no model, no database. `tandem compare` prints
them; the console ports the same formulas (apps/web/src/server/claims.ts) and is checked against a golden
file this module writes (`golden_cases`, tests/test_stats.py). docs/statistics.md states every formula.

Arms. Arm A is the reference (GRPO, or the base model), arm B the arm the claim is about (Tandem RL). Each arm is
one report per training seed, all on the same problem ids (the evaluation set is fixed; seeds vary training
sampling and data order). Every estimate is B − A from `stats.paired_bootstrap` (problems and seeds resampled,
problems paired across arms).

Verdicts, from the paired interval and never from two intervals overlapping:
- superiority (↑ B above A, ↓ B below A): supported when the 95% interval excludes 0 on the claimed side,
  refuted when it excludes 0 on the other side, else inconclusive.
- equivalence (≈ within ±margin): two one-sided tests at α = 0.05, i.e. supported when the 90% interval lies
  inside (−margin, +margin); refuted when the 95% interval lies wholly outside [−margin, +margin]; else
  inconclusive.
- a claim whose metric is missing from a report, or whose reports are missing, is "not measured".
Warnings: fewer than MIN_PROBLEMS problems, or fewer than MIN_SEEDS seeds in a trained arm (a base model has one
by nature; with one seed the interval covers evaluation noise only, not training-seed variation).

The displacement claims compare displacement reports (GRPO seed vs TRL seed) with null reports (GRPO seed a in
the "grpo" slot, GRPO seed b in the "trl" slot): arm A = null, arm B = real; the estimate is the excess of the
real statistic over the null.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .stats import PairedEstimate, paired_bootstrap

DEFAULT_MARGIN = 0.03  # ±3 points of accuracy for "≈"
MIN_PROBLEMS = 30
MIN_SEEDS = 3
VERDICTS = ("supported", "refuted", "inconclusive", "not measured")


@dataclass(frozen=True)
class Arm:
    """One arm's reports (one per training seed) and a label per report for error messages (e.g. its path)."""

    name: str
    reports: list[dict]
    labels: list[str]
    trained: bool = True  # False for a base model: one "seed" by nature, no seed warning

    def __post_init__(self):
        if len(self.reports) != len(self.labels):
            raise ValueError(f"arm {self.name}: {len(self.reports)} reports but {len(self.labels)} labels")


@dataclass(frozen=True)
class ClaimSpec:
    id: str
    title: str
    statement: str  # with {a} and {b} for the arms' names
    kind: str  # "equivalence" | "superiority"
    # candidate metrics, the first one every report carries decides: (numerator series, denominator series or
    # None, direction of the claim on the estimate shown: +1 above 0, -1 below 0, 0 for equivalence, sign: +1 the
    # estimate is B − A of the arm figure, -1 it is A − B, i.e. B − A of (1 − ratio), a reduction)
    metrics: tuple[tuple[str, str | None, int, int], ...]
    source: str  # "arms" or "displacement"
    suite: str


CLAIMS: tuple[ClaimSpec, ...] = (
    ClaimSpec("solo", "Solo accuracy is kept", "{b} ≈ {a} on solo accuracy (mean@k)", "equivalence",
              (("solo_mean_at_k", None, 0, 1),), "arms", "solo"),
    ClaimSpec("handoff", "Handoff robustness", "{b} > {a} when senior and junior alternate reasoning steps",
              "superiority", (("handoff_alternating", None, 1, 1), ("handoff_mean", None, 1, 1)), "arms", "handoff"),
    ClaimSpec("drift", "Lower drift", "{b} < {a} in mean per-token KL(senior ‖ junior) on its own solo samples",
              "superiority", (("drift_kl", None, -1, 1),), "arms", "drift"),
    ClaimSpec("displacement", "Displacement beyond the seed null",
              "{b}'s shift-back share exceeds that of a second GRPO seed", "superiority",
              (("shift_back", "displaced", 1, 1),), "displacement", "displacement"),
    ClaimSpec("displacement_kl", "KL to base reduced beyond the seed null",
              "{b}'s KL reduction (own samples) exceeds that of a second GRPO seed", "superiority",
              (("kl_to_base_trl_own", "kl_to_base_grpo", 1, -1),), "displacement", "displacement"),
    ClaimSpec("legibility", "Higher legibility",
              "{b}'s solo chains of thought cost the junior less cross-entropy per token than {a}'s", "superiority",
              (("legibility_cross_entropy", None, -1, 1), ("legibility_logprob", None, 1, 1)), "arms", "legibility"),
)


# ---------------------------------------------------------------- pairing reports on problems


def problem_ids(report: dict, label: str) -> list:
    ids = (report.get("per_problem") or {}).get("ids")
    if not isinstance(ids, list) or not ids:
        raise ValueError(f"{label}: no per_problem ids (a report from before paired comparisons; evaluate again)")
    if any(i is None for i in ids) or len(set(map(str, ids))) != len(ids):
        raise ValueError(f"{label}: per_problem ids must be present and distinct to pair problems")
    return [str(i) for i in ids]


def aligned_ids(arms: list[Arm]) -> list[str]:
    """The problem ids every report of every arm shares, in the first report's order; a report on other problems
    is an error naming it and the first report."""
    first_label, ids = None, None
    for arm in arms:
        for report, label in zip(arm.reports, arm.labels):
            these = problem_ids(report, label)
            if ids is None:
                first_label, ids = label, these
            elif set(these) != set(ids):
                missing, extra = len(set(ids) - set(these)), len(set(these) - set(ids))
                raise ValueError(f"{label} and {first_label} are not on the same problems ({missing} of "
                                 f"{first_label}'s problems missing, {extra} others): paired comparisons need "
                                 f"the same evaluation set")
    if ids is None:
        raise ValueError("no reports to compare")
    return ids


def _series(arm: Arm, name: str, ids: list[str]) -> tuple[np.ndarray | None, str | None]:
    """[seed][problem] values of a per-problem series in the order of `ids`, or (None, label lacking it)."""
    rows = []
    for report, label in zip(arm.reports, arm.labels):
        per_problem = report.get("per_problem") or {}
        values = per_problem.get(name)
        if not isinstance(values, list) or len(values) != len(per_problem["ids"]) or any(
            isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) for v in values
        ):
            return None, label
        position = {str(i): j for j, i in enumerate(per_problem["ids"])}
        rows.append([values[position[i]] for i in ids])
    return np.asarray(rows, dtype=np.float64), None


# ---------------------------------------------------------------- verdicts


def superiority_verdict(est: PairedEstimate, direction: int) -> str:
    """direction +1: the claim is B > A; -1: B < A (on B − A's 95% interval)."""
    low, high = (est.low, est.high) if direction > 0 else (-est.high, -est.low)
    return "supported" if low > 0 else "refuted" if high < 0 else "inconclusive"


def equivalence_verdict(est: PairedEstimate, margin: float) -> str:
    """TOST at α = 0.05: 90% interval inside (−margin, margin) → supported; 95% interval wholly outside → refuted."""
    if -margin < est.low90 and est.high90 < margin:
        return "supported"
    if est.low > margin or est.high < -margin:
        return "refuted"
    return "inconclusive"


def check_margin(margin) -> float:
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not math.isfinite(margin) or margin <= 0:
        raise ValueError(f"margin must be a number > 0 (e.g. 0.03 for ±3 points), got {margin!r}")
    return float(margin)


def _warnings(est: PairedEstimate, arm_a: Arm, arm_b: Arm) -> list[str]:
    out = []
    if est.n < MIN_PROBLEMS:
        out.append(f"only {est.n} problems (fewer than {MIN_PROBLEMS}): the interval is rough")
    for arm, seeds in ((arm_a, est.seeds_a), (arm_b, est.seeds_b)):
        if arm.trained and seeds < MIN_SEEDS:
            out.append(f"{arm.name} has {seeds} seed{'s' if seeds != 1 else ''} (fewer than {MIN_SEEDS}): "
                       + ("the interval covers evaluation noise only, not training-seed variation" if seeds == 1
                          else "training-seed variation is poorly estimated"))
    return out


def _fmt(x: float) -> str:
    return f"{x:+.3f}" if abs(x) >= 1e-3 or x == 0 else f"{x:+.2e}"


def _sentence(spec: ClaimSpec, metric: str, est: PairedEstimate, verdict: str, a: Arm, b: Arm, margin: float,
              n_boot: int, denominator: str | None, sign: int) -> str:
    what = (f"{b.name} − {a.name} in {metric}" + (f" / {denominator} (ratio of sums)" if denominator else "")
            + (" as a reduction (negated)" if sign < 0 else ""))
    scheme = (f"over {est.n} paired problems and {est.seeds_a} vs {est.seeds_b} seeds, hierarchical bootstrap "
              f"({n_boot} resamples of seeds within arm and problems jointly)")
    if spec.kind == "equivalence":
        rule = {
            "supported": f"its 90% interval [{_fmt(est.low90)}, {_fmt(est.high90)}] lies inside ±{margin:g}",
            "refuted": f"its 95% interval [{_fmt(est.low)}, {_fmt(est.high)}] lies wholly outside ±{margin:g}",
            "inconclusive": f"its 90% interval [{_fmt(est.low90)}, {_fmt(est.high90)}] is not inside ±{margin:g} "
                            f"and its 95% interval is not wholly outside",
        }[verdict]
        return f"{what} = {_fmt(est.value)} {scheme}; two one-sided tests at α = 0.05: {rule}."
    side = {"supported": "excludes 0 on the claimed side", "refuted": "excludes 0 on the opposite side",
            "inconclusive": "contains 0"}[verdict]
    return f"{what} = {_fmt(est.value)} [{_fmt(est.low)}, {_fmt(est.high)}] (95%) {scheme}; the interval {side}."


def _not_measured(spec: ClaimSpec, a_name: str, b_name: str, why: str) -> dict:
    return {"id": spec.id, "title": spec.title, "statement": spec.statement.format(a=a_name, b=b_name),
            "kind": spec.kind, "metric": None, "direction": None, "estimate": None, "n_problems": 0,
            "seeds": None, "margin": None, "verdict": "not measured", "sentence": why, "warnings": []}


def evaluate_claim(spec: ClaimSpec, a: Arm, b: Arm, margin: float = DEFAULT_MARGIN, n_boot: int = 2000,
                   seed: int = 0) -> dict:
    """One claim for arm B against arm A (both non-empty, on the same problems: see `aligned_ids`)."""
    margin = check_margin(margin)
    ids = aligned_ids([a, b])
    lacking = []
    for numerator, denominator, direction, sign in spec.metrics:
        xa, miss_a = _series(a, numerator, ids)
        xb, miss_b = _series(b, numerator, ids)
        da = db = None
        if denominator is not None and xa is not None and xb is not None:
            da, miss_a = _series(a, denominator, ids)
            db, miss_b = _series(b, denominator, ids)
        if xa is None or xb is None or (denominator is not None and (da is None or db is None)):
            lacking.append(f"{numerator} (missing in {miss_a or miss_b})")
            continue
        est = paired_bootstrap(xa, xb, da, db, n_boot=n_boot, seed=seed)
        if sign < 0:  # shown as a reduction: B − A of (1 − ratio) = −(B − A of ratio)
            est = PairedEstimate(-est.value, -est.high, -est.low, -est.high90, -est.low90, est.n, est.seeds_a,
                                 est.seeds_b)
        if not math.isfinite(est.value):
            lacking.append(f"{numerator} (undefined: nothing in its denominator)")
            continue
        verdict = (equivalence_verdict(est, margin) if spec.kind == "equivalence"
                   else superiority_verdict(est, direction))
        return {
            "id": spec.id, "title": spec.title, "statement": spec.statement.format(a=a.name, b=b.name),
            "kind": spec.kind, "metric": numerator if denominator is None else f"{numerator}/{denominator}",
            "direction": "≈" if spec.kind == "equivalence" else ("↑" if direction > 0 else "↓"),
            "estimate": est.to_dict(), "n_problems": est.n, "seeds": {a.name: est.seeds_a, b.name: est.seeds_b},
            "margin": margin if spec.kind == "equivalence" else None, "verdict": verdict,
            "sentence": _sentence(spec, numerator, est, verdict, a, b, margin, n_boot, denominator, sign),
            "warnings": _warnings(est, a, b),
        }
    return _not_measured(spec, a.name, b.name,
                         f"Not measured: no report pair carries {' or '.join(lacking)}; run the {spec.suite} suite "
                         f"on every checkpoint.")


def paper_claims(a: Arm | None, b: Arm | None, displacement: Arm | None = None, null: Arm | None = None,
                 margin: float = DEFAULT_MARGIN, n_boot: int = 2000, seed: int = 0) -> list[dict]:
    """The paper's claims (solo ≈, handoff ↑, drift ↓, displacement and KL reduction vs the null, legibility ↑) for
    arm B (e.g. TRL) against arm A (e.g. GRPO); displacement reports against null reports. Missing arms give
    "not measured"; reports on different problems raise ValueError naming them."""
    margin = check_margin(margin)
    a_name, b_name = (a.name if a else "A"), (b.name if b else "B")
    out = []
    for spec in CLAIMS:
        if spec.source == "arms":
            if not (a and a.reports and b and b.reports):
                out.append(_not_measured(spec, a_name, b_name, "Not measured: give reports for both arms."))
                continue
            out.append(evaluate_claim(spec, a, b, margin, n_boot, seed))
        else:
            if not (displacement and displacement.reports and null and null.reports):
                out.append(_not_measured(
                    spec, a_name, b_name,
                    "Not measured: needs displacement reports (GRPO seed vs TRL seed) and null reports (GRPO seed a "
                    "vs GRPO seed b in the trl slot) from `tandem eval --suite displacement`."))
                continue
            claim = evaluate_claim(spec, null, displacement, margin, n_boot, seed)
            claim["statement"] = spec.statement.format(a=a_name, b=b_name)
            out.append(claim)
    return out


VERSUS_BASE_METRICS: tuple[tuple[str, int], ...] = (
    ("solo_mean_at_k", 1), ("handoff_alternating", 1), ("handoff_mean", 1), ("drift_kl", -1),
    ("legibility_cross_entropy", -1),
)


def versus_base(base: Arm, arm: Arm, n_boot: int = 2000, seed: int = 0) -> list[dict]:
    """Each trained arm against the base model (one "seed"): did training move the metric in its better direction?
    Rows for the metrics both carry, with the superiority verdict for the better direction."""
    ids = aligned_ids([base, arm])
    rows = []
    for metric, better in VERSUS_BASE_METRICS:
        xa, _ = _series(base, metric, ids)
        xb, _ = _series(arm, metric, ids)
        if xa is None or xb is None:
            continue
        est = paired_bootstrap(xa, xb, n_boot=n_boot, seed=seed)
        verdict = superiority_verdict(est, better)
        side = {"supported": "excludes 0 on the better side", "refuted": "excludes 0 on the worse side",
                "inconclusive": "contains 0"}[verdict]
        rows.append({
            "id": f"{arm.name}_vs_base:{metric}", "title": f"{arm.name} vs {base.name}: {metric}",
            "statement": f"{arm.name} {'>' if better > 0 else '<'} {base.name} in {metric}", "kind": "superiority",
            "metric": metric, "direction": "↑" if better > 0 else "↓", "estimate": est.to_dict(),
            "n_problems": est.n, "seeds": {base.name: est.seeds_a, arm.name: est.seeds_b}, "margin": None,
            "verdict": verdict,
            "sentence": (f"{arm.name} − {base.name} in {metric} = {_fmt(est.value)} [{_fmt(est.low)}, "
                         f"{_fmt(est.high)}] (95%) over {est.n} paired problems, {est.seeds_b} seeds against the "
                         f"base, hierarchical bootstrap ({n_boot} resamples); the interval {side}."),
            "warnings": _warnings(est, base, arm),
        })
    return rows


def arm_level(arm: Arm, metric: str, n_boot: int = 2000, seed: int = 0) -> PairedEstimate | None:
    """One arm's own figure for a per-problem metric: the mean over its seeds and problems, with the interval of
    the same hierarchical bootstrap as the paired comparisons (seeds within the arm and problems resampled), read
    as the arm against a constant 0. None when a report lacks the metric."""
    ids = aligned_ids([arm])
    x, _ = _series(arm, metric, ids)
    if x is None:
        return None
    return paired_bootstrap(np.zeros((1, len(ids))), x, n_boot=n_boot, seed=seed)


# ---------------------------------------------------------------- text


def claims_table(claims: list[dict]) -> str:
    """Plain text: one block per claim (estimate, intervals, n, seeds, verdict, sentence, warnings)."""
    lines = []
    for c in claims:
        head = f"{c['title']} ({c['statement']})"
        lines.append(head)
        e = c["estimate"]
        if e is None:
            lines.append(f"  verdict: {c['verdict']}")
        else:
            seeds = ", ".join(f"{k} {v}" for k, v in c["seeds"].items())
            margin = f"  margin ±{c['margin']:g}" if c.get("margin") is not None else ""
            lines.append(f"  {c['metric']} {c['direction']}  estimate {_fmt(e['value'])}  95% [{_fmt(e['low'])}, "
                         f"{_fmt(e['high'])}]  90% [{_fmt(e['low90'])}, {_fmt(e['high90'])}]  n {c['n_problems']} "
                         f"problems  seeds {seeds}{margin}")
            lines.append(f"  verdict: {c['verdict'].upper()}")
        lines.append(f"  {c['sentence']}")
        lines += [f"  warning: {w}" for w in c["warnings"]]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------- golden cases for the console's port


def _synthetic_report(ids: list[str], series: dict[str, list[float]]) -> dict:
    return {"per_problem": {"ids": ids, **series}}


def golden_cases() -> dict:
    """Inputs and this module's outputs on fixed synthetic data: the console's TypeScript port must reproduce
    them (apps/web/test/fixtures/claims-golden.json; regenerate with tests/make_claims_golden.py)."""
    rng = np.random.default_rng(7)
    cases = []

    def arm_reports(n_seeds: int, ids: list[str], make) -> list[dict]:
        return [_synthetic_report(ids, make(s)) for s in range(n_seeds)]

    # 1: 40 problems, 3 seeds per arm, TRL a little better at handoff, equal solo, lower drift.
    ids = [f"p{i}" for i in range(40)]
    difficulty = rng.random(40)
    k = 8

    def acc(p, shift):
        return list(np.clip(np.round((p + shift) * k) / k, 0, 1))

    def grpo(s):
        noise = rng.normal(0, 0.05, 40)
        return {"solo_mean_at_k": acc(difficulty + noise, 0), "handoff_alternating": acc(difficulty + noise, -0.2),
                "drift_kl": list(0.3 + 0.1 * difficulty + rng.normal(0, 0.01, 40)),
                "legibility_cross_entropy": list(1.2 + rng.normal(0, 0.05, 40))}

    def trl(s):
        noise = rng.normal(0, 0.05, 40)
        return {"solo_mean_at_k": acc(difficulty + noise, 0.005), "handoff_alternating": acc(difficulty + noise, -0.1),
                "drift_kl": list(0.25 + 0.1 * difficulty + rng.normal(0, 0.01, 40)),
                "legibility_cross_entropy": list(1.19 + rng.normal(0, 0.05, 40))}

    cases.append({"name": "three seeds per arm", "margin": 0.03,
                  "a": {"name": "grpo", "reports": arm_reports(3, ids, grpo)},
                  "b": {"name": "trl", "reports": arm_reports(3, ids, trl)}})
    # 2: the overlap case: n = 8, one seed each; intervals of the two arms overlap, yet ≈ must not be supported.
    ids8 = [f"q{i}" for i in range(8)]
    cases.append({"name": "n = 8, overlapping intervals", "margin": 0.03,
                  "a": {"name": "grpo", "reports": [_synthetic_report(ids8, {"solo_mean_at_k": [
                      0.5, 0.0, 0.5, 0.0, 0.5, 0.0, 0.5, 0.5]})]},
                  "b": {"name": "trl", "reports": [_synthetic_report(ids8, {"solo_mean_at_k": [
                      0.25, 0.25, 0.5, 0.25, 0.25, 0.25, 0.25, 0.5]})]}})
    # 3: displacement against its null, with ratio series.
    ids30 = [f"d{i}" for i in range(30)]

    def disp(shift_share, reduction):
        def make(s):
            displaced = rng.integers(0, 20, 30).astype(float)
            back = np.floor(displaced * np.clip(shift_share + rng.normal(0, 0.1, 30), 0, 1))
            grpo_kl = 0.2 + rng.random(30) * 0.1
            return {"displaced": list(displaced), "shift_back": list(back), "kl_to_base_grpo": list(grpo_kl),
                    "kl_to_base_trl_own": list(grpo_kl * (1 - reduction) + rng.normal(0, 0.01, 30))}
        return make

    cases.append({"name": "displacement vs null", "margin": 0.03,
                  "displacement": {"name": "grpo vs trl", "reports": arm_reports(3, ids30, disp(0.7, 0.14))},
                  "null": {"name": "grpo vs grpo", "reports": arm_reports(2, ids30, disp(0.55, 0.0))}})
    for case in cases:
        for key in ("a", "b", "displacement", "null"):
            if key in case:
                for r in case[key]["reports"]:
                    r["per_problem"] = {name: ([float(x) for x in v] if name != "ids" else v)
                                        for name, v in r["per_problem"].items()}

        def arm(key):
            if key not in case:
                return None
            spec = case[key]
            return Arm(spec["name"], spec["reports"], [f"{spec['name']} #{i + 1}" for i in range(len(spec["reports"]))])

        case["n_boot"], case["seed"] = 500, 3
        case["claims"] = paper_claims(arm("a"), arm("b"), arm("displacement"), arm("null"), case["margin"],
                                      case["n_boot"], case["seed"])
    return {"generated_by": "workers/trainer/tests/make_claims_golden.py (tandem.claims.golden_cases)",
            "cases": cases}
