"""Smoke tests of the benchmarks in bench/: each runs end to end on the fixture model at tiny sizes and prints
finite, positive ratios (their values are not checked: timings belong to the benchmarks, not to tests)."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[1] / "bench"


def _load_bench(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _finite_positive(x) -> bool:
    return isinstance(x, float) and math.isfinite(x) and x > 0


def test_rollout_throughput_smoke(fixture_model_dir, tmp_path):
    bench = _load_bench("rollout_throughput")
    lines: list[str] = []
    out = tmp_path / "bench.json"
    result = bench.main(
        ["--model", str(fixture_model_dir), "--prompts", "2", "--generations", "2", "--max-new-tokens", "8",
         "--repeats", "1", "--json", str(out)],
        log=lambda *a: lines.append(" ".join(map(str, a))),
    )
    a, b, c = result["tandem_vs_solo"], result["solo_vs_trl"], result["rules_vs_solo"]
    for side in (a["tandem"], a["solo"], b["ours"], b["trl"], c["solo"], *(r["side"] for r in c["rules"].values())):
        assert side["tokens_per_s"] > 0
        assert side["runs"][0]["completions"] == 4  # 2 prompts x 2 generations
    assert _finite_positive(a["ratio"]) and _finite_positive(b["ratio"])
    assert b["same_prompt_ids"]
    text = "\n".join(lines)
    assert "tandem/solo tokens/s ratio:" in text and "ours/TRL tokens/s ratio:" in text
    rules = bench.handoff_rules() or ("word",)
    assert list(c["rules"]) == list(rules)
    for name, rule in c["rules"].items():
        assert _finite_positive(rule["ratio"]), (name, rule["ratio"])
        assert f"{name}/solo tokens/s ratio:" in text
    assert json.loads(out.read_text())["solo_vs_trl"]["ratio"] == b["ratio"]


def test_train_step_time_smoke(fixture_model_dir, tmp_path):
    bench = _load_bench("train_step_time")
    lines: list[str] = []
    out = tmp_path / "step.json"
    result = bench.main(["--quick", "--model", str(fixture_model_dir), "--repeats", "1", "--json", str(out)],
                        log=lambda *a: lines.append(" ".join(map(str, a))))
    part = result["step_time"]
    for name in ("tandem", "grpo"):
        side = part[name]
        assert side["seconds"] > 0 and side["tokens"] > 0 and len(side["runs"]) == 1
        assert 0 < side["rollout_seconds"] < side["seconds"]  # the rollout is one part of the timed step
    assert part["grpo"]["senior_share"] == 1.0 and part["tandem"]["senior_share"] < 1.0
    for key in ("ratio", "paired_ratio", "per_token_ratio"):
        assert _finite_positive(part[key]), (key, part[key])
    text = "\n".join(lines)
    assert "tandem/GRPO step time ratio:" in text
    assert json.loads(out.read_text())["step_time"]["ratio"] == part["ratio"]
