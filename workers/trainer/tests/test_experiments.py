"""The experiment report (tandem.experiments.build_report) on hand-made per-problem results with known answers,
and the experiment's orchestration through the worker against a real Postgres (priority, evaluations as soon as a
final checkpoint exists, the report job, failure)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import numpy as np
import pytest

from tandem.experiments import ExperimentArm, build_report

N = 40
IDS = [f"p{i}" for i in range(N)]
EIGHTHS = np.arange(N) % 9 / 8  # per-problem accuracies a k = 8 evaluation can produce


def _report(solo, alternating, drift, legibility, first_k: dict[int, list[float]] | None = None) -> dict:
    per_problem = {"ids": list(IDS), "solo_mean_at_k": list(map(float, solo)),
                   "handoff_alternating": list(map(float, alternating)), "drift_kl": list(map(float, drift)),
                   "legibility_cross_entropy": list(map(float, legibility))}
    curves = {}
    if first_k:
        for k, values in first_k.items():
            per_problem[f"handoff_senior_first_k[k={k}]"] = list(map(float, values))
        per_problem["handoff_mean"] = [float(np.mean(v)) for v in zip(*first_k.values())]
        curves["handoff_senior_first_k"] = {"x_name": "k", "points": [{"x": k} for k in first_k]}
    return {"per_problem": per_problem, "curves": curves}


# Known answers, TRL − GRPO per problem on every seed:
#   solo: 0 on every problem             -> "≈" supported (the 90% interval is [0, 0], inside ±0.03)
#   handoff_alternating: +0.25           -> "↑" supported
#   drift_kl: +0.2 nats (TRL drifts MORE) -> "↓" refuted
#   legibility: +0.5 / −0.5 alternating  -> mean 0, the interval straddles 0: inconclusive
SWING = np.where(np.arange(N) % 2 == 0, 0.5, -0.5)


def _grpo(seed: int) -> dict:
    shift = 0.01 * seed
    return _report(EIGHTHS, EIGHTHS * 0.5, 0.3 + shift + EIGHTHS * 0.1, 1.2 + shift + EIGHTHS * 0.1,
                   {0: EIGHTHS * 0.25, 2: EIGHTHS * 0.75})


def _trl(seed: int) -> dict:
    shift = 0.01 * seed
    return _report(EIGHTHS, EIGHTHS * 0.5 + 0.25, 0.5 + shift + EIGHTHS * 0.1, 1.2 + shift + EIGHTHS * 0.1 + SWING,
                   {0: EIGHTHS * 0.25, 2: EIGHTHS * 0.75})


BASE = _report(EIGHTHS * 0.5, EIGHTHS * 0.25, np.full(N, 0.0), np.full(N, 1.0))


def _arms(grpo_seeds=(0, 1, 2), trl_seeds=(0, 1, 2)) -> list[ExperimentArm]:
    return [
        ExperimentArm("grpo", "GRPO", 0.0, list(grpo_seeds), [f"rg{s}" for s in grpo_seeds],
                      [f"eg{s}" for s in grpo_seeds], [_grpo(s) for s in grpo_seeds]),
        ExperimentArm("trl-0.5", "TANDEM", 0.5, list(trl_seeds), [f"rt{s}" for s in trl_seeds],
                      [f"et{s}" for s in trl_seeds], [_trl(s) for s in trl_seeds]),
    ]


def test_report_has_the_page_shape_and_the_known_verdicts():
    at = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)
    report = build_report(_arms(), BASE, n_boot=400, seed=1, computed_at=at)
    assert set(report) == {"version", "computedAt", "margin", "arms", "heldOut", "claims", "handoffCurves"}
    assert report["version"] == 1 and report["computedAt"] == "2026-12-06T12:00:00+00:00" and report["margin"] == 0.03
    assert report["arms"] == [
        {"name": "grpo", "algorithm": "GRPO", "pJunior": 0.0, "seeds": [0, 1, 2], "runIds": ["rg0", "rg1", "rg2"],
         "evaluationRunIds": ["eg0", "eg1", "eg2"]},
        {"name": "trl-0.5", "algorithm": "TANDEM", "pJunior": 0.5, "seeds": [0, 1, 2], "runIds": ["rt0", "rt1", "rt2"],
         "evaluationRunIds": ["et0", "et1", "et2"]},
    ]

    claims = {c["id"]: c for c in report["claims"]}
    assert all(c["arm"] == "trl-0.5" and c["versus"] == "grpo" for c in report["claims"])
    assert set(claims) == {"solo", "handoff", "drift", "displacement", "displacement_kl", "legibility", "handoff_curve"}
    for c in report["claims"]:
        assert set(c) == {"id", "title", "arm", "versus", "estimate", "low", "high", "unit", "verdict", "how",
                          "warnings"}
        assert c["how"] and isinstance(c["warnings"], list)
    assert claims["solo"]["verdict"] == "supported" and claims["solo"]["estimate"] == pytest.approx(0.0)
    assert claims["handoff"]["verdict"] == "supported" and claims["handoff"]["estimate"] == pytest.approx(0.25)
    assert claims["handoff"]["low"] > 0 and claims["handoff"]["unit"] == "share"
    assert claims["drift"]["verdict"] == "refuted" and claims["drift"]["estimate"] == pytest.approx(0.2)
    assert claims["drift"]["unit"] == "nats" and claims["drift"]["low"] > 0
    assert claims["legibility"]["verdict"] == "inconclusive"
    assert claims["legibility"]["low"] < 0 < claims["legibility"]["high"]
    assert claims["handoff_curve"]["verdict"] == "inconclusive" and claims["handoff_curve"]["estimate"] == pytest.approx(0)
    for key in ("displacement", "displacement_kl"):  # no displacement analysis given
        assert claims[key]["verdict"] == "not measured" and claims[key]["estimate"] is None
        assert "no displacement analysis" in claims[key]["how"]

    held = {r["arm"]: r for r in report["heldOut"]}
    assert set(held) == {"grpo", "trl-0.5", "base"}
    assert held["grpo"]["value"] == pytest.approx(EIGHTHS.mean()) and held["grpo"]["n"] == N
    assert held["grpo"]["low"] <= held["grpo"]["value"] <= held["grpo"]["high"]
    assert held["base"]["value"] == pytest.approx(EIGHTHS.mean() / 2) and held["base"]["minusBase"] is None
    minus = held["trl-0.5"]["minusBase"]
    assert minus["value"] == pytest.approx(EIGHTHS.mean() / 2) and minus["verdict"] == "supported" and minus["low"] > 0

    curves = {(c["arm"], c["protocol"]): c["points"] for c in report["handoffCurves"]}
    assert set(curves) == {("grpo", "senior_first_k"), ("trl-0.5", "senior_first_k")}  # the base report has no curve
    assert [p["x"] for p in curves["grpo", "senior_first_k"]] == [0, 2]
    assert curves["grpo", "senior_first_k"][1]["mean"] == pytest.approx(EIGHTHS.mean() * 0.75)
    assert all(p["low"] <= p["mean"] <= p["high"] for p in curves["grpo", "senior_first_k"])


def test_displacement_against_its_grpo_null():
    rng = np.random.default_rng(0)

    def disp(share: float) -> dict:
        displaced = rng.integers(10, 20, N).astype(float)
        grpo_kl = 0.2 + rng.random(N) * 0.1
        return {"per_problem": {"ids": list(IDS), "displaced": list(displaced),
                                "shift_back": list(np.floor(displaced * share)), "kl_to_base_grpo": list(grpo_kl),
                                "kl_to_base_trl_own": list(grpo_kl * (1 - share + 0.5))}}

    report = build_report(_arms(), BASE, displacement={"trl-0.5": [disp(0.9) for _ in range(3)]},
                          null=[disp(0.5), disp(0.5)], n_boot=300)
    claims = {c["id"]: c for c in report["claims"]}
    assert claims["displacement"]["verdict"] == "supported" and claims["displacement"]["estimate"] > 0.3
    assert claims["displacement_kl"]["verdict"] == "supported"
    # one GRPO seed: no null, so displacement cannot be read
    one = build_report(_arms(grpo_seeds=(0,)), BASE, displacement={"trl-0.5": [disp(0.9)]}, n_boot=100)
    how = {c["id"]: c for c in one["claims"]}["displacement"]["how"]
    assert "seed null needs two GRPO seeds" in how and "has 1" in how


def test_missing_grpo_arm_or_base_is_not_measured_and_says_why():
    trl_only = build_report(_arms()[1:], None, n_boot=100)
    assert trl_only["claims"] and all(c["verdict"] == "not measured" for c in trl_only["claims"])
    assert all("no GRPO arm" in c["how"] for c in trl_only["claims"])
    assert [r["arm"] for r in trl_only["heldOut"]] == ["trl-0.5"] and trl_only["heldOut"][0]["minusBase"] is None


def test_bad_arms_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="pair one to one"):
        ExperimentArm("grpo", "GRPO", 0.0, [0, 1], ["r0"], ["e0"], [_grpo(0)])
    with pytest.raises(ValueError, match="algorithm must be GRPO or TANDEM"):
        ExperimentArm("grpo", "PPO", 0.0, [0], ["r0"], ["e0"], [_grpo(0)])
    shifted = _trl(0)
    shifted["per_problem"]["ids"] = [f"q{i}" for i in range(N)]
    arms = _arms(trl_seeds=(0,))
    arms[1] = ExperimentArm("trl-0.5", "TANDEM", 0.5, [0], ["rt0"], ["et0"], [shifted])
    with pytest.raises(ValueError, match="not on the same problems"):
        build_report(arms, BASE, n_boot=50)


# ---------------------------------------------------------------- orchestration through the worker (real Postgres)

from psycopg.types.json import Jsonb  # noqa: E402

from tandem.runner import experiments as orchestration  # noqa: E402
from tandem.runner import queue  # noqa: E402
from tandem.runner.worker import Worker  # noqa: E402
from test_runner import _seed_domain, _settings  # noqa: E402

EVALUATION = {"suites": ["solo", "handoff", "drift", "legibility"],
              "settings": {"k": 2, "max_new_tokens": 12, "n_problems": 4, "handoff_points": [0, 1],
                           "handoff_fractions": [0.5], "n_examples": 1, "n_boot": 100, "seed": 0}}
ARMS = [{"name": "grpo", "algorithm": "GRPO", "overrides": {"p_junior": 0.0}},
        {"name": "trl", "algorithm": "TANDEM", "overrides": {"p_junior": 0.5}}]


def _launch_experiment(conn, seeds=(0, 1), priority: int = 5, max_steps: int = 2) -> dict:
    """What the web app's launch writes in one transaction: the experiment, a run and TRAIN job per arm × seed,
    and the base model's evaluation with its EVALUATE job."""
    budget = {"num_generations": 4, "per_device_train_batch_size": 8, "max_steps": max_steps, "save_steps": 2,
              "max_completion_length": 12}
    conn.execute(
        """INSERT INTO experiments (id, name, owner_id, base_model_id, dataset_id, eval_dataset_id, config, arms,
                                    seeds, evaluation, priority)
           VALUES ('x1', 'paper', 'u1', 'm1', 'd1', 'd1', %s, %s, %s, %s, %s)""",
        (Jsonb(budget), Jsonb(ARMS), list(seeds), Jsonb(EVALUATION), priority),
    )
    runs = {}
    for arm in ARMS:
        for seed in seeds:
            run_id = f"{arm['name']}-{seed}"
            config = {**budget, **arm["overrides"]}
            conn.execute(
                """INSERT INTO training_runs (id, name, algorithm, config, seed, max_steps, owner_id, base_model_id,
                                              dataset_id, experiment_id, arm_name)
                   VALUES (%s, %s, %s, %s, %s, %s, 'u1', 'm1', 'd1', 'x1', %s)""",
                (run_id, run_id, "GRPO" if arm["algorithm"] == "GRPO" else "TRL", Jsonb(config), seed, max_steps,
                 arm["name"]),
            )
            runs[run_id] = queue.enqueue(conn, "TRAIN", {"runId": run_id}, training_run_id=run_id,
                                         experiment_id="x1", priority=priority)
    conn.execute("""INSERT INTO checkpoints (id, base_model_id, step, path, format, sha256, size_bytes)
                    SELECT 'c0', 'm1', 0, path, 'hf-safetensors', 'x', 1 FROM base_models WHERE id = 'm1'""")
    conn.execute("""INSERT INTO evaluation_runs (id, checkpoint_id, suites, settings, experiment_id)
                    VALUES ('e-base', 'c0', %s, %s, 'x1')""",
                 (EVALUATION["suites"], Jsonb({"datasetId": "d1", **EVALUATION["settings"]})))
    queue.enqueue(conn, "EVALUATE", {"evaluationRunId": "e-base"}, evaluation_run_id="e-base", experiment_id="x1",
                  priority=priority)
    return runs


def _experiment(conn) -> dict:
    return conn.execute("SELECT * FROM experiments WHERE id = 'x1'").fetchone()


def test_higher_priority_is_claimed_first_and_fifo_within_a_priority(conn):
    def enqueue(**kw):
        # created_at has millisecond precision: FIFO is between jobs enqueued in different milliseconds
        time.sleep(0.005)
        return queue.enqueue(conn, "VERIFY_RESPONSES", {"responseIds": []}, **kw)

    low = [enqueue() for _ in range(2)]
    high = [enqueue(priority=7) for _ in range(2)]
    middle = enqueue(priority=3)
    claimed = [queue.claim(conn, "w").id for _ in range(5)]
    assert claimed == [*high, middle, *low]
    assert queue.claim(conn, "w") is None


def test_a_two_by_two_experiment_runs_to_its_report(db_url, conn, tmp_path, fixture_model_dir):
    _seed_domain(conn, fixture_model_dir, n_problems=8)
    _launch_experiment(conn)
    other = queue.enqueue(conn, "VERIFY_RESPONSES", {"responseIds": []})  # older, but priority 0: runs last
    worker = Worker(_settings(db_url, tmp_path))
    statuses = []
    while (status := worker.run_once()) is not None:
        statuses.append(status)
        assert len(statuses) < 20
    assert statuses == ["SUCCEEDED"] * 11  # 4 TRAIN, 4 + 1 EVALUATE, 1 EXPERIMENT_REPORT, the other job
    assert queue.get(conn, other)["finished_at"] == max(
        r["finished_at"] for r in conn.execute("SELECT finished_at FROM jobs").fetchall())
    evaluations = conn.execute(
        """SELECT e.*, c.run_id FROM evaluation_runs e JOIN checkpoints c ON c.id = e.checkpoint_id
           WHERE e.experiment_id = 'x1'""").fetchall()
    assert len(evaluations) == 5 and all(e["status"] == "SUCCEEDED" for e in evaluations)
    assert sorted(e["run_id"] or "base" for e in evaluations) == ["base", "grpo-0", "grpo-1", "trl-0", "trl-1"]
    for e in evaluations:  # every senior evaluated the same way, on the held-out dataset
        assert list(e["suites"]) == EVALUATION["suites"]
        assert e["settings"] == {"datasetId": "d1", **EVALUATION["settings"]}
    jobs = conn.execute("SELECT kind, priority FROM jobs WHERE experiment_id = 'x1'").fetchall()
    assert sorted(j["kind"] for j in jobs) == ["EVALUATE"] * 5 + ["EXPERIMENT_REPORT"] + ["TRAIN"] * 4
    assert all(j["priority"] == 5 for j in jobs)

    experiment = _experiment(conn)
    assert experiment["status"] == "SUCCEEDED" and experiment["finished_at"] and experiment["reported_at"]
    report = experiment["report"]
    assert set(report) == {"version", "computedAt", "margin", "arms", "heldOut", "claims", "handoffCurves"}
    assert [(a["name"], a["algorithm"], a["pJunior"], a["seeds"], a["runIds"]) for a in report["arms"]] == [
        ("grpo", "GRPO", 0.0, [0, 1], ["grpo-0", "grpo-1"]), ("trl", "TANDEM", 0.5, [0, 1], ["trl-0", "trl-1"])]
    assert sorted(r["arm"] for r in report["heldOut"]) == ["base", "grpo", "trl"]
    claims = {c["id"]: c for c in report["claims"]}
    assert set(claims) == {"solo", "handoff", "drift", "displacement", "displacement_kl", "legibility", "handoff_curve"}
    for c in report["claims"]:
        assert c["arm"] == "trl" and c["versus"] == "grpo"
        if c["id"].startswith("displacement") and c["verdict"] == "not measured":
            # two GRPO seeds give the null and the analyses ran, but two steps without reward signal move no token
            # past the displacement threshold: the share is undefined, and the claim says so
            assert "undefined: nothing in its denominator" in c["how"], c
            continue
        assert c["verdict"] in ("supported", "refuted", "inconclusive"), c
        assert c["low"] <= c["estimate"] <= c["high"]
    assert {(c["arm"], c["protocol"]) for c in report["handoffCurves"]} >= {("grpo", "senior_first_k"),
                                                                            ("trl", "senior_first_k")}
    # settling again changes nothing and never enqueues a second report job
    assert orchestration.settle(conn, "x1") == "SUCCEEDED"
    assert conn.execute("SELECT count(*) AS n FROM jobs WHERE kind = 'EXPERIMENT_REPORT'").fetchone()["n"] == 1


def test_a_failed_run_fails_the_experiment_with_the_reason(db_url, conn, tmp_path, fixture_model_dir):
    _seed_domain(conn, fixture_model_dir, n_problems=8)
    _launch_experiment(conn, seeds=(0,))
    conn.execute("""UPDATE training_runs SET config = config || '{"learning_rate": -1}' WHERE id = 'trl-0'""")
    worker = Worker(_settings(db_url, tmp_path, kinds=("TRAIN",)))
    statuses = [worker.run_once() for _ in range(2)]
    assert sorted(statuses) == ["FAILED", "SUCCEEDED"]
    experiment = _experiment(conn)
    assert experiment["status"] == "FAILED" and experiment["finished_at"]
    run = conn.execute("SELECT status, error FROM training_runs WHERE id = 'trl-0'").fetchone()
    assert run["status"] == "FAILED" and "learning_rate" in run["error"]
    log = conn.execute("SELECT line FROM job_logs WHERE line LIKE 'experiment x1 failed:%'").fetchall()
    assert len(log) == 1 and "run trl-0 (trl, seed 0) failed" in log[0]["line"] and "learning_rate" in log[0]["line"]
    # the finished GRPO run's final checkpoint was still queued for evaluation; no report job
    assert conn.execute("SELECT count(*) AS n FROM evaluation_runs WHERE experiment_id = 'x1'").fetchone()["n"] == 2
    assert conn.execute("SELECT count(*) AS n FROM jobs WHERE kind = 'EXPERIMENT_REPORT'").fetchone()["n"] == 0


def test_an_experiment_is_cancelled_once_its_runs_are(db_url, conn, tmp_path, fixture_model_dir):
    _seed_domain(conn, fixture_model_dir, n_problems=8)
    jobs = _launch_experiment(conn, seeds=(0,))
    for job_id in jobs.values():  # the web's cancel: queued jobs are cancelled at once, their runs too
        assert queue.request_cancel(conn, job_id) == "CANCELLED"
    conn.execute("UPDATE training_runs SET status = 'CANCELLED' WHERE experiment_id = 'x1'")
    worker = Worker(_settings(db_url, tmp_path))
    assert worker.run_once() == "SUCCEEDED"  # the base's evaluation was left to finish
    assert _experiment(conn)["status"] == "CANCELLED"
    assert conn.execute("SELECT count(*) AS n FROM jobs WHERE kind = 'EXPERIMENT_REPORT'").fetchone()["n"] == 0
