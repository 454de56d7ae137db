"""An experiment's report: its arms' and the base model's evaluation reports turned into the JSON the experiment
page renders (`experiments.report`, docs/experiments.md "The report").

Pure functions on report dicts (`evaluate.write_report` JSON): no model, no database. Every statistic and verdict
comes from `claims.py` (`paper_claims`, `evaluate_claim`, `versus_base`, `arm_level`), so the experiment page, the
compare page and `tandem compare` read the same numbers off the same reports.

- arms: the experiment's arms, each one report per training seed; the GRPO arm (p_junior 0) is the reference,
  every Tandem-RL arm is read against it. The base model is one more arm with one "seed" (`trained=False`).
- heldOut: each arm's (and the base's) solo_mean_at_k over its seeds and problems, and the arm minus the base
  (paired per problem), with the superiority verdict for "training raised it".
- claims: `paper_claims` per Tandem-RL arm against the GRPO arm (solo ≈, handoff ↑ by the step-alternating
  protocol, drift ↓, displacement and KL reduction against the GRPO-vs-GRPO null, legibility ↑), plus handoff ↑
  along the senior-first-k curve (its mean over k); whatever cannot be computed is "not measured" with the reason.
- handoffCurves: per arm and protocol (senior_first_k, senior_fraction), each point's accuracy over seeds and
  problems with its 95% interval.
Values are as the reports hold them: accuracies and shares as fractions (0.03 = 3 points), KL and cross-entropy in
nats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from .claims import (CLAIMS, DEFAULT_MARGIN, Arm, ClaimSpec, arm_level, check_margin, evaluate_claim, paper_claims,
                     versus_base)

REPORT_VERSION = 1
HELD_OUT_METRIC = "solo_mean_at_k"
BASE = "base"

# The senior-first-k side of handoff robustness: paper_claims reads the step-alternating protocol (its "handoff"
# claim falls back to this metric only when alternation was not measured), so the curve gets its own row.
HANDOFF_CURVE_CLAIM = ClaimSpec(
    "handoff_curve", "Handoff robustness along the senior-first-k curve",
    "{b} > {a} when the senior writes the first k steps and the junior the rest (mean over k)", "superiority",
    (("handoff_mean", None, 1, 1),), "arms", "handoff")

# unit of each claim's estimate, by the metric it was read from
UNITS = {"solo_mean_at_k": "share", "handoff_alternating": "share", "handoff_mean": "share", "drift_kl": "nats",
         "shift_back/displaced": "share", "kl_to_base_trl_own/kl_to_base_grpo": "share",
         "legibility_cross_entropy": "nats", "legibility_logprob": "nats"}
DEFAULT_UNITS = {"solo": "share", "handoff": "share", "handoff_curve": "share", "drift": "nats",
                 "displacement": "share", "displacement_kl": "share", "legibility": "nats"}

# (protocol name in the report, curve name in the evaluation report, per-problem series name for a point x)
CURVES = (("senior_first_k", "handoff_senior_first_k", lambda x: f"handoff_senior_first_k[k={x}]"),
          ("senior_fraction", "handoff_fraction", lambda x: f"handoff_fraction[f={x}]"))


@dataclass(frozen=True)
class ExperimentArm:
    """One arm of an experiment: its runs (one per seed, in seed order) and their final checkpoints' evaluation
    reports (same order)."""

    name: str
    algorithm: str  # "GRPO" | "TANDEM"
    p_junior: float
    seeds: list[int]
    run_ids: list[str]
    evaluation_run_ids: list[str]
    reports: list[dict] = field(default_factory=list)

    def __post_init__(self):
        if self.algorithm not in ("GRPO", "TANDEM"):
            raise ValueError(f"arm {self.name}: algorithm must be GRPO or TANDEM, got {self.algorithm!r}")
        lengths = {len(self.seeds), len(self.run_ids), len(self.evaluation_run_ids), len(self.reports)}
        if len(lengths) != 1:
            raise ValueError(f"arm {self.name}: seeds, run ids, evaluation run ids and reports must pair one to one "
                             f"(got {len(self.seeds)}, {len(self.run_ids)}, {len(self.evaluation_run_ids)}, "
                             f"{len(self.reports)})")

    def claims_arm(self) -> Arm:
        return Arm(self.name, list(self.reports), [f"{self.name} seed {s} (evaluation {e})"
                                                   for s, e in zip(self.seeds, self.evaluation_run_ids)])


def _claim_row(claim: dict, arm: str, versus: str) -> dict:
    estimate = claim.get("estimate")
    unit = UNITS.get(claim.get("metric") or "", DEFAULT_UNITS.get(claim["id"], "share"))
    return {"id": claim["id"], "title": claim["title"], "arm": arm, "versus": versus,
            "estimate": estimate["value"] if estimate else None, "low": estimate["low"] if estimate else None,
            "high": estimate["high"] if estimate else None, "unit": unit, "verdict": claim["verdict"],
            "how": claim["sentence"], "warnings": list(claim.get("warnings") or [])}


def _not_measured(spec: ClaimSpec, arm: str, versus: str, why: str) -> dict:
    return {"id": spec.id, "title": spec.title, "arm": arm, "versus": versus, "estimate": None, "low": None,
            "high": None, "unit": DEFAULT_UNITS.get(spec.id, "share"), "verdict": "not measured", "how": why,
            "warnings": []}


def _held_out(name: str, arm: Arm, base: Arm | None, n_boot: int, seed: int) -> dict | None:
    level = arm_level(arm, HELD_OUT_METRIC, n_boot, seed)
    if level is None:
        return None
    minus_base = None
    if base is not None and arm is not base:
        row = next((r for r in versus_base(base, arm, n_boot, seed) if r["metric"] == HELD_OUT_METRIC), None)
        if row is not None:
            e = row["estimate"]
            minus_base = {"value": e["value"], "low": e["low"], "high": e["high"], "verdict": row["verdict"]}
    return {"arm": name, "metric": HELD_OUT_METRIC, "value": level.value, "low": level.low, "high": level.high,
            "n": level.n, "minusBase": minus_base}


def _curves(name: str, arm: Arm, n_boot: int, seed: int) -> list[dict]:
    out = []
    for protocol, curve_name, series in CURVES:
        curve = (arm.reports[0].get("curves") or {}).get(curve_name) if arm.reports else None
        if not curve or not curve.get("points"):
            continue
        points = []
        for point in curve["points"]:
            x = point["x"]
            level = arm_level(arm, series(x), n_boot, seed)
            if level is None and isinstance(x, (int, float)):  # 1 read back from JSON for a fraction given as 1.0
                level = arm_level(arm, series(float(x)), n_boot, seed)
            if level is None:
                points = []  # a seed without this point: the curve is not comparable across seeds
                break
            points.append({"x": x, "mean": level.value, "low": level.low, "high": level.high})
        if points:
            out.append({"arm": name, "protocol": protocol, "points": points})
    return out


def build_report(arms: list[ExperimentArm], base_report: dict | None, *, displacement: dict[str, list[dict]] | None = None,
                 null: list[dict] | None = None, margin: float = DEFAULT_MARGIN, n_boot: int = 2000, seed: int = 0,
                 computed_at: datetime | None = None) -> dict:
    """The experiment's report (docs/experiments.md "The report").

    `displacement` maps a Tandem-RL arm's name to its displacement reports (GRPO seed s vs that arm's seed s);
    `null` holds GRPO-vs-GRPO displacement reports (two GRPO seeds). Raises ValueError when reports are not on the
    same problems (paired comparisons need one evaluation set), naming them."""
    margin = check_margin(margin)
    names = [a.name for a in arms]
    if len(set(names)) != len(names) or BASE in names:
        raise ValueError(f"arm names must be distinct and not {BASE!r}, got {names}")
    displacement = displacement or {}
    base = Arm(BASE, [base_report], [f"{BASE} (evaluation of the base model)"], trained=False) if base_report else None
    with_reports = [(a, a.claims_arm()) for a in arms if a.reports]

    held_out = [row for a, arm in with_reports if (row := _held_out(a.name, arm, base, n_boot, seed))]
    if base is not None and (row := _held_out(BASE, base, None, n_boot, seed)):
        held_out.append(row)

    grpo = next(((a, arm) for a, arm in with_reports if a.algorithm == "GRPO"), None)
    grpo_any = next((a for a in arms if a.algorithm == "GRPO"), None)
    null_arm = Arm("GRPO vs GRPO (seed null)", null, [f"null #{i + 1}" for i in range(len(null))]) if null else None
    specs = (*CLAIMS, HANDOFF_CURVE_CLAIM)
    claims = []
    for a in (a for a in arms if a.algorithm == "TANDEM"):
        versus = grpo_any.name if grpo_any else "GRPO"
        if grpo is None or not a.reports:
            missing = ("no GRPO arm (p_junior 0) to compare with" if grpo_any is None
                       else f"no evaluation reports for {'the GRPO arm' if grpo is None else a.name}")
            claims += [_not_measured(s, a.name, versus, f"Not measured: {missing}.") for s in specs]
            continue
        trl = a.claims_arm()
        disp_reports = displacement.get(a.name) or []
        disp = Arm(f"GRPO vs {a.name}", disp_reports, [f"displacement #{i + 1}" for i in range(len(disp_reports))]) \
            if disp_reports else None
        for claim in paper_claims(grpo[1], trl, disp, null_arm, margin, n_boot, seed):
            if claim["verdict"] == "not measured" and claim["id"].startswith("displacement") and not (
                    disp_reports and null):
                claim["sentence"] = _displacement_missing(grpo[0], bool(disp_reports))
            claims.append(_claim_row(claim, a.name, grpo[0].name))
        claims.append(_claim_row(evaluate_claim(HANDOFF_CURVE_CLAIM, grpo[1], trl, margin, n_boot, seed),
                                 a.name, grpo[0].name))

    curves = [c for a, arm in with_reports for c in _curves(a.name, arm, n_boot, seed)]
    if base is not None:
        curves += _curves(BASE, base, n_boot, seed)

    return {
        "version": REPORT_VERSION,
        "computedAt": (computed_at or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        "margin": margin,
        "arms": [{"name": a.name, "algorithm": a.algorithm, "pJunior": a.p_junior, "seeds": list(a.seeds),
                  "runIds": list(a.run_ids), "evaluationRunIds": list(a.evaluation_run_ids)} for a in arms],
        "heldOut": held_out,
        "claims": claims,
        "handoffCurves": curves,
    }


def _displacement_missing(grpo: ExperimentArm, have_pairs: bool) -> str:
    if not have_pairs:
        return ("Not measured: no displacement analysis of a GRPO seed against this arm's seed of the same number "
                "(the report job runs one per seed both arms have).")
    return (f"Not measured: the seed null needs two GRPO seeds and {grpo.name} has {len(grpo.seeds)}; "
            "without it a shift-back share cannot be told from regression to the mean.")
