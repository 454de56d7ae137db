#!/usr/bin/env python3
"""Mixed-effects model of a Tandem Lab study's accuracy: the numbers the study dashboard shows.

This one file is both the worker's module (tandem.analysis.analysis, run by the STUDY_ANALYSIS job) and the script
in every analysis bundle, which runs beside the exported CSV:

    python analysis.py responses.csv          # a readable table
    python analysis.py responses.csv --json   # the result as the dashboard stores it

It needs numpy, pandas, scipy and statsmodels, nothing of Tandem Lab.

The model: a logistic regression of each verified response's correctness on its condition, with crossed random
intercepts for participant and problem,

    logit P(correct) = beta[condition] + u[participant] + v[problem],  u ~ N(0, sd_p^2), v ~ N(0, sd_q^2),

fitted by maximum likelihood with the Laplace approximation to the integral over the random intercepts: the same
criterion lme4::glmer(correct ~ condition + (1|participant_id) + (1|problem_id), family = binomial) maximises
(nAGQ = 1), so analysis.R in the bundle gives the same estimates up to optimiser tolerance. Why not statsmodels'
BinomialBayesMixedGLM: its fit_map maximises the joint density of fixed effects, random effects and log-SDs, whose
mode lets a random-effect SD collapse towards 0 (on simulated studies it did not converge and put the participant
SD at 0, which narrows every interval); fit_vb is mean-field and gives neither a covariance between fixed effects
nor intervals that carry the problem-to-problem variation. So the fit is written here with numpy/scipy, and the
fixed effects' covariance is the inverse Hessian of the Laplace deviance (statsmodels' numdiff), as glmer's vcov.

Rows modelled (load_rows): responses with a verdict (`correct` not empty) from participants not excluded.
beta[condition] is the log-odds of a correct answer for a participant and a problem at random effects 0 (the
typical participant on the typical problem), so `accuracy` is that conditional probability, not the population
average (which is closer to 50%). Effects: each condition against the reference (the first condition by name whose
algorithm is GRPO, else the first by name) as an odds ratio with a 95% Wald interval and a two-sided Wald p-value.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np
import pandas as pd
import scipy
import statsmodels
from scipy import linalg, optimize, stats
from statsmodels.tools.numdiff import approx_hess3

COLUMNS = ("participant_id", "problem_id", "condition_name", "algorithm", "correct")
FORMULA = "correct ~ C(condition) + (1|participant) + (1|problem)"
CONFIDENCE = 0.95
Z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
# below these the fit still runs, with a warning that says what is poorly determined
FEW_RESPONSES_PER_CONDITION = 20
FEW_LEVELS = 5
SINGULAR_SD = 1e-4  # a random-effect SD estimated below this is at its boundary (0): a singular fit
MAX_ABS_LOG_ODDS = 30.0  # a cell mean past this has no finite estimate (every answer right, or every one wrong)


class NotEnoughData(ValueError):
    """The rows cannot support the model (no responses, or fewer than two conditions with any)."""


# ---------------------------------------------------------------- rows


def _flag(values: pd.Series, column: str) -> pd.Series:
    """A true/false column as read from CSV ("true"/"false", "1"/"0", empty) or from Postgres (bool, None):
    1.0, 0.0 or NaN. Anything else is an error naming the column and the value."""
    if values.dtype == bool:
        return values.astype(float)
    known = {"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0, "1.0": 1.0, "0.0": 0.0, "t": 1.0, "f": 0.0}

    def one(v):
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            return math.nan
        if isinstance(v, (bool, np.bool_)):
            return float(v)
        text = str(v).strip().lower()
        if text == "":
            return math.nan
        if text not in known:
            raise ValueError(f"column {column!r}: {v!r} is not true or false")
        return known[text]

    return values.map(one).astype(float)


def load_rows(source) -> pd.DataFrame:
    """The modelled rows of an export (a CSV path or file, or a DataFrame with the export's columns): responses with
    a verdict from participants not excluded, as columns participant_id, problem_id, condition_name, algorithm,
    correct (0/1), in a fixed order (so the fit does not depend on the order of the file)."""
    frame = source if isinstance(source, pd.DataFrame) else pd.read_csv(source, dtype=str, keep_default_na=False)
    missing = [c for c in (*COLUMNS, "excluded") if c not in frame.columns]
    if missing:
        raise ValueError(f"the responses have no column {', '.join(map(repr, missing))} "
                         "(expected the study export's responses.csv)")
    correct = _flag(frame["correct"], "correct")
    excluded = _flag(frame["excluded"], "excluded")
    keep = correct.notna() & (excluded != 1.0)
    rows = pd.DataFrame({
        "participant_id": frame.loc[keep, "participant_id"].astype(str),
        "problem_id": frame.loc[keep, "problem_id"].astype(str),
        "condition_name": frame.loc[keep, "condition_name"].astype(str),
        "algorithm": frame.loc[keep, "algorithm"].map(lambda v: "" if v is None or v is pd.NA or
                                                      (isinstance(v, float) and math.isnan(v)) else str(v)),
        "correct": correct[keep].astype(int),
    })
    return rows.sort_values(["condition_name", "participant_id", "problem_id"], kind="stable").reset_index(drop=True)


def reference_condition(rows: pd.DataFrame) -> str:
    """The first condition by name whose algorithm is GRPO, else the first by name (code-point order, as R's
    sort(method = "radix"))."""
    names = sorted(set(rows["condition_name"]))
    grpo = sorted(set(rows.loc[rows["algorithm"] == "GRPO", "condition_name"]))
    return grpo[0] if grpo else names[0]


# ---------------------------------------------------------------- the Laplace fit


class _Crossed:
    """Crossed random intercepts, the factor with most levels first. With b ~ N(0, I) and each factor's effects
    sd_k * b_k, the Hessian of the penalised log-likelihood in b is [[diag, E], [E', F]]: diagonal for the first
    factor (each response has one participant), so Newton steps and log-determinants need only the small
    Schur complement of the other factor's block."""

    def __init__(self, y: np.ndarray, X: np.ndarray, codes: list[np.ndarray]):
        self.y, self.X = y, X
        self.sizes = [int(c.max()) + 1 for c in codes]
        order = sorted(range(len(codes)), key=lambda k: -self.sizes[k])
        self.order = order  # position in the fit -> factor index as given
        self.first = codes[order[0]]
        self.rest = [codes[k] for k in order[1:]]
        self.n1 = self.sizes[order[0]]
        self.offsets = np.cumsum([0] + [self.sizes[k] for k in order[1:]])
        self.n2 = int(self.offsets[-1])

    def _eta(self, beta, sds, b):
        s = sds[self.order]
        eta = self.X @ beta + s[0] * b[:self.n1][self.first]
        b2 = b[self.n1:]
        for k, code in enumerate(self.rest):
            eta = eta + s[k + 1] * b2[self.offsets[k] + code]
        return eta

    def _blocks(self, sds, weights):
        """(diagonal of the first block, E, F) of Lambda' Z' W Z Lambda + I."""
        s = sds[self.order]
        d1 = s[0] ** 2 * np.bincount(self.first, weights, self.n1) + 1.0
        E = np.zeros((self.n1, self.n2))
        F = np.eye(self.n2)
        for k, code_k in enumerate(self.rest):
            ok = self.offsets[k]
            nk = self.offsets[k + 1] - ok
            E[:, ok:ok + nk] = s[0] * s[k + 1] * np.bincount(self.first * nk + code_k, weights,
                                                             self.n1 * nk).reshape(self.n1, nk)
            for m, code_m in enumerate(self.rest):
                om = self.offsets[m]
                nm = self.offsets[m + 1] - om
                F[ok:ok + nk, om:om + nm] += s[k + 1] * s[m + 1] * np.bincount(
                    code_k * nm + code_m, weights, nk * nm).reshape(nk, nm)
        return d1, E, F

    def _solve(self, d1, E, F, g):
        """(H^-1 g, log det H) for H = [[diag(d1), E], [E', F]]."""
        if self.n2 == 0:
            return g / d1, float(np.sum(np.log(d1)))
        schur = F - E.T @ (E / d1[:, None])
        chol = linalg.cho_factor(schur, lower=True)
        g1, g2 = g[:self.n1], g[self.n1:]
        x2 = linalg.cho_solve(chol, g2 - E.T @ (g1 / d1))
        x1 = (g1 - E @ x2) / d1
        logdet = float(np.sum(np.log(d1)) + 2.0 * np.sum(np.log(np.diag(chol[0]))))
        return np.concatenate([x1, x2]), logdet

    def _penalised(self, eta, b):
        return float(np.sum(self.y * eta - np.logaddexp(0.0, eta)) - 0.5 * b @ b)

    def modes(self, beta, sds):
        """The random effects' conditional mode (penalised IRLS: Newton with step halving) and the Laplace
        deviance -2 log L(beta, sds) there."""
        b = np.zeros(self.n1 + self.n2)
        eta = self._eta(beta, sds, b)
        value = self._penalised(eta, b)
        for _ in range(200):
            mu = 1.0 / (1.0 + np.exp(-eta))
            s = sds[self.order]
            resid = self.y - mu
            g = np.concatenate([s[0] * np.bincount(self.first, resid, self.n1),
                                np.concatenate([s[k + 1] * np.bincount(code, resid, self.sizes[self.order[k + 1]])
                                                for k, code in enumerate(self.rest)]) if self.rest else
                                np.zeros(0)]) - b
            step, _ = self._solve(*self._blocks(sds, mu * (1.0 - mu)), g)
            t = 1.0
            while True:
                trial = b + t * step
                trial_eta = self._eta(beta, sds, trial)
                trial_value = self._penalised(trial_eta, trial)
                if trial_value >= value - 1e-12 or t < 1e-10:
                    break
                t /= 2
            b, eta, gained, value = trial, trial_eta, trial_value - value, trial_value
            if np.max(np.abs(t * step)) < 1e-10 or abs(gained) < 1e-14:
                break
        mu = 1.0 / (1.0 + np.exp(-eta))
        _, logdet = self._solve(*self._blocks(sds, mu * (1.0 - mu)), np.zeros(self.n1 + self.n2))
        loglik = float(np.sum(self.y * eta - np.logaddexp(0.0, eta)))
        return b, -2.0 * loglik + float(b @ b) + logdet

    def deviance(self, params):
        p = self.X.shape[1]
        return self.modes(params[:p], np.abs(params[p:]))[1]


def _fit(y, X, codes):
    """(beta, sds, covariance of beta, deviance, warnings) of the Laplace maximum likelihood fit."""
    model = _Crossed(y, X, codes)
    p = X.shape[1]
    # start: each cell's empirical log-odds (half a success added either side), SDs 1 (lme4 starts there too)
    counts = X.T @ np.ones_like(y)
    start_beta = np.log((X.T @ y + 0.5) / (counts - X.T @ y + 0.5))
    start = np.concatenate([start_beta, np.ones(len(codes))])
    bounds = [(-MAX_ABS_LOG_ODDS, MAX_ABS_LOG_ODDS)] * p + [(0.0, 50.0)] * len(codes)
    found = optimize.minimize(model.deviance, start, method="L-BFGS-B", jac="3-point", bounds=bounds,
                              options={"maxiter": 500, "ftol": 1e-14, "gtol": 1e-9})
    warnings = []
    if not found.success:
        warnings.append(f"the optimiser stopped before converging ({found.message})")
    params = found.x
    hessian = approx_hess3(params, model.deviance)
    information = hessian / 2.0  # deviance = -2 log L
    try:
        cov = np.linalg.inv(information)[:p, :p]
        if not np.all(np.isfinite(cov)) or np.any(np.linalg.eigvalsh(information) <= 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        cov = np.linalg.inv(information[:p, :p])
        warnings.append("the random-effect SDs' curvature is not positive definite: the fixed effects' covariance "
                        "treats the SDs as known")
    return params[:p], np.abs(params[p:]), cov, float(found.fun), warnings


# ---------------------------------------------------------------- the result


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _odds(log_odds: float) -> float | None:
    """exp(log_odds), or None past what a float holds (a condition without a finite estimate)."""
    return math.exp(log_odds) if log_odds < 700 else None


def _expit(x: float) -> float:
    return float(1.0 / (1.0 + math.exp(-x))) if x >= 0 else float(math.exp(x) / (1.0 + math.exp(x)))


def fit_mixed_model(rows: pd.DataFrame) -> dict:
    """The model's result (camelCase, as stored in study_analyses.result) from load_rows' rows. Raises
    NotEnoughData when there is nothing to fit."""
    if len(rows) == 0:
        raise NotEnoughData("no verified responses from participants who were not excluded")
    conditions = sorted(set(rows["condition_name"]))
    if len(conditions) < 2:
        raise NotEnoughData(f"verified responses in {len(conditions)} condition ({conditions[0]}); the model "
                            "compares conditions and needs responses in at least 2")
    y = rows["correct"].to_numpy(dtype=float)
    if y.min() == y.max():
        raise NotEnoughData(f"all {len(y)} verified responses are {'correct' if y[0] else 'wrong'}: the model "
                            "has no finite estimate")
    reference = reference_condition(rows)
    condition_code = pd.Categorical(rows["condition_name"], categories=conditions).codes
    X = np.zeros((len(rows), len(conditions)))
    X[np.arange(len(rows)), condition_code] = 1.0  # cell means: 0 + C(condition)
    participants = pd.Categorical(rows["participant_id"], categories=sorted(set(rows["participant_id"])))
    problems = pd.Categorical(rows["problem_id"], categories=sorted(set(rows["problem_id"])))
    beta, sds, cov, deviance, warnings = _fit(y, X, [participants.codes.astype(np.int64),
                                                      problems.codes.astype(np.int64)])

    for name in conditions:
        cell = rows.loc[rows["condition_name"] == name, "correct"]
        if len(cell) < FEW_RESPONSES_PER_CONDITION:
            warnings.append(f"condition {name}: only {len(cell)} verified responses; its interval is wide and "
                            "the normal approximation behind it is rough")
        if cell.min() == cell.max():
            warnings.append(f"condition {name}: every verified response is {'correct' if cell.iloc[0] else 'wrong'}"
                            "; its log-odds has no finite estimate, so its interval and odds ratios mean little")
    for label, count in (("participants", len(participants.categories)), ("problems", len(problems.categories))):
        if count < FEW_LEVELS:
            warnings.append(f"only {count} {label}: the {label[:-1]} SD is poorly determined")
    for label, sd in (("participant", sds[0]), ("problem", sds[1])):
        if sd < SINGULAR_SD:
            warnings.append(f"the {label} SD is estimated at 0 (a singular fit, as lme4 would say): the data show "
                            f"no {label}-to-{label} variation beyond chance")

    ses = np.sqrt(np.maximum(np.diag(cov), 0.0))
    condition_rows = [{"condition": name, "accuracy": _expit(beta[i]), "low": _expit(beta[i] - Z * ses[i]),
                       "high": _expit(beta[i] + Z * ses[i]), "logOdds": float(beta[i]), "se": _finite(ses[i])}
                      for i, name in enumerate(conditions)]
    r = conditions.index(reference)
    effects = []
    for i, name in enumerate(conditions):
        if i == r:
            continue
        log_odds = float(beta[i] - beta[r])
        se = math.sqrt(max(cov[i, i] + cov[r, r] - 2.0 * cov[i, r], 0.0))
        effects.append({"condition": name, "versus": reference, "oddsRatio": _odds(log_odds),
                        "low": _odds(log_odds - Z * se), "high": _odds(log_odds + Z * se),
                        "logOdds": log_odds, "se": _finite(se),
                        "p": _finite(float(2.0 * stats.norm.sf(abs(log_odds) / se))) if se > 0 else None})
    return {
        "method": ("mixed-effects logistic regression with crossed random intercepts for participant and problem, "
                   "fitted by maximum likelihood (Laplace approximation, as lme4::glmer with nAGQ = 1; no priors); "
                   f"{int(CONFIDENCE * 100)}% Wald intervals from the inverse Hessian of the deviance; accuracy is "
                   "the probability of a correct answer at random effects 0 (typical participant, typical problem)"),
        "formula": FORMULA,
        "library": (f"numpy {np.__version__}, scipy {scipy.__version__} (optimiser), statsmodels "
                    f"{statsmodels.__version__} (numerical Hessian); tandem analysis.py"),
        "responses": int(len(rows)),
        "participants": int(len(participants.categories)),
        "problems": int(len(problems.categories)),
        "reference": reference,
        "conditions": condition_rows,
        "effects": effects,
        "randomEffects": {"participantSd": float(sds[0]), "problemSd": float(sds[1])},
        "deviance": deviance,
        "warnings": warnings,
    }


# ---------------------------------------------------------------- the script


def _num(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _report(result: dict) -> str:
    lines = [f"Mixed-effects model: {result['formula']}",
             f"{result['responses']} verified responses, {result['participants']} participants, "
             f"{result['problems']} problems; reference condition: {result['reference']}", "",
             f"{'condition':<24} {'accuracy':>9} {'95% interval':>20} {'log-odds':>9} {'se':>7}"]
    for c in result["conditions"]:
        lines.append(f"{c['condition']:<24} {c['accuracy']:>9.4f} [{c['low']:.4f}, {c['high']:.4f}]".ljust(56)
                     + f" {c['logOdds']:>9.4f} {_num(c['se']):>7}")
    lines += ["", f"{'effect':<32} {'odds ratio':>10} {'95% interval':>20} {'p':>10}"]
    for e in result["effects"]:
        lines.append(f"{e['condition'] + ' vs ' + e['versus']:<32} {_num(e['oddsRatio']):>10} "
                     f"[{_num(e['low'])}, {_num(e['high'])}] {'n/a' if e['p'] is None else format(e['p'], '.3g'):>10}")
    lines += ["", f"random intercept SDs (log-odds): participant {result['randomEffects']['participantSd']:.4f}, "
                  f"problem {result['randomEffects']['problemSd']:.4f}"]
    lines += [f"warning: {w}" for w in result["warnings"]]
    lines += ["", result["method"], result["library"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The study dashboard's mixed-effects model, from the exported CSV.")
    parser.add_argument("csv", help="responses.csv from the study's analysis bundle")
    parser.add_argument("--json", action="store_true", help="print the result as JSON (as the dashboard stores it)")
    args = parser.parse_args(argv)
    try:
        result = fit_mixed_model(load_rows(args.csv))
    except (NotEnoughData, ValueError, OSError) as e:
        print(f"analysis.py: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else _report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
