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


def test_gpu_check_cpu_smoke(tmp_path):
    """The GPU check's own CPU path (tiny shape, short lengths): both sides step at every length and the three
    figure lines are printed for each."""
    bench = _load_bench("gpu_check")
    lines: list[str] = []
    out = tmp_path / "gpu.json"
    result = bench.main(["--device", "cpu", "--lengths", "8,12", "--steps", "1", "--prompts", "1",
                         "--generations", "2", "--json", str(out)],
                        log=lambda *a: lines.append(" ".join(map(str, a))))
    assert result["config"]["shape"] == "tiny" and result["config"]["dtype"] == "fp32"
    assert [part["length"] for part in result["lengths"]] == [8, 12]
    text = "\n".join(lines)
    for part in result["lengths"]:
        length = part["length"]
        for name in ("tandem", "grpo"):
            side = part[name]
            assert not side["oom"] and len(side["runs"]) == 1
            # random weights rarely write EOS (1 in the vocabulary size per token): the completions run (nearly) to
            # the full length, so the step times are those of the asked-for length
            assert length < side["tokens"] <= 2 * length
            assert _finite_positive(side["rollout_tokens_per_s"]) and side["peak_bytes"] > 0
        assert part["grpo"]["senior_share"] == 1.0 and part["tandem"]["senior_share"] < 1.0
        assert _finite_positive(part["ratio"])
        assert f"tandem/GRPO step time ratio at {length} tokens: {part['ratio']:.2f}x" in text
        assert f"rollout tokens/s at {length} tokens: tandem " in text
        assert f"peak memory at {length} tokens: tandem " in text
    assert json.loads(out.read_text())["lengths"][1]["ratio"] == result["lengths"][1]["ratio"]


def test_gpu_check_tokenizer_matches_the_qwen3_shape():
    """The made-up tokenizer has exactly the model's vocabulary and round-trips text; half its made-up words start a
    word (as often as handoff points come in real text)."""
    bench = _load_bench("gpu_check")
    from tandem.boundaries import token_flags

    vocab = bench.SHAPES["tiny"]["vocab_size"]
    tokenizer = bench.make_tokenizer(vocab)
    assert len(tokenizer) == vocab and tokenizer.eos_token_id == 0
    flags = token_flags(tokenizer, vocab)
    made_up = flags.starts_word[2 + 256:]  # after EOS, PAD and the 256 byte symbols
    assert made_up.float().mean().item() == 0.5
    assert tokenizer.decode(tokenizer("1 + 2 = 3")["input_ids"]) == "1 + 2 = 3"
