"""The experiment script end to end on the fixture model: every unit of work writes its file, a second call
reuses them, and the summary carries the claims, the comparison with the base and the ablation."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "evidence" / "run_experiment.py"


def _script():
    spec = importlib.util.spec_from_file_location("run_experiment", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_run_experiment_on_the_fixture_model_resumes_and_summarises(tmp_path, fixture_model_dir):
    out, results = tmp_path / "runs", tmp_path / "RESULTS.md"
    argv = ["--out", str(out), "--base", str(fixture_model_dir), "--seeds", "0,1", "--arms", "grpo,trl",
            "--ablations", "trl_whole_word", "--steps", "1", "--eval-problems", "4", "--k", "2",
            "--max-new-tokens", "12", "--jobs", "1", "--n-boot", "50", "--results", str(results),
            "--set", "per_device_train_batch_size=8", "--set", "max_completion_length=12", "--set", "save_steps=1"]
    run_experiment = _script()
    assert run_experiment.main(argv) == 0
    names = {p.name for p in out.iterdir()}
    for expected in ("report-base.json", "report-grpo-s0.json", "report-grpo-s1.json", "report-trl-s0.json",
                     "report-trl-s1.json", "report-trl_whole_word-s0.json", "displacement-s0.json",
                     "displacement-s1.json", "null-s0-s1.json", "null-s1-s0.json", "style-base.json", "results.json", "training-curves.png"):
        assert expected in names, expected
    text = results.read_text()
    for heading in ("## Training curves", "## Held-out accuracy against the base", "## The paper's claims",
                    "### trl_whole_word against trl", "## Solution style"):
        assert heading in text, heading
    summary = json.loads((out / "results.json").read_text())
    assert {c["id"] for c in summary["claims"]} >= {"solo", "handoff", "drift", "displacement", "legibility"}
    assert all(c["verdict"] in ("supported", "refuted", "inconclusive", "not measured") for c in summary["claims"])
    assert set(summary["versus_base"]) >= {"grpo", "trl"}
    # every file exists, so a second call trains and evaluates nothing and rewrites the same report
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("report-*.json")}
    assert run_experiment.main(argv) == 0
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("report-*.json")} == before


def test_a_recheck_elsewhere_writes_its_summary_there_not_over_the_committed_one(tmp_path):
    """`--out` somewhere else (a re-check) puts RESULTS.md in that folder; evidence/RESULTS.md is left as committed."""
    committed = SCRIPT.parent / "RESULTS.md"
    before = committed.read_bytes()
    assert _script().main(["--out", str(tmp_path / "recheck"), "--report-only", "--arms", "grpo", "--ablations", ""]) == 0
    assert (tmp_path / "recheck" / "RESULTS.md").is_file()
    assert committed.read_bytes() == before
