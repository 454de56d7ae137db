"""Smoke test of bench/rollout_throughput.py: it runs end to end and reports positive figures (no timing checks)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "rollout_throughput.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("rollout_throughput", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rollout_throughput_smoke(fixture_model_dir, tmp_path):
    bench = _load_bench()
    lines: list[str] = []
    out = tmp_path / "bench.json"
    result = bench.main(
        ["--model", str(fixture_model_dir), "--prompts", "2", "--generations", "2", "--max-new-tokens", "8",
         "--repeats", "1", "--json", str(out)],
        log=lambda *a: lines.append(" ".join(map(str, a))),
    )
    a, b = result["tandem_vs_solo"], result["solo_vs_trl"]
    for side in (a["tandem"], a["solo"], b["ours"], b["trl"]):
        assert side["tokens_per_s"] > 0
        assert side["runs"][0]["completions"] == 4  # 2 prompts x 2 generations
    assert a["ratio"] > 0 and b["ratio"] > 0
    assert b["same_prompt_ids"]
    text = "\n".join(lines)
    assert "tandem/solo tokens/s ratio:" in text and "ours/TRL tokens/s ratio:" in text
    assert json.loads(out.read_text())["solo_vs_trl"]["ratio"] == b["ratio"]
