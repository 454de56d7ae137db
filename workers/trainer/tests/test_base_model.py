"""The tiny base model: HF format, loadable with Auto classes, reproducible from a seed, cached."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from tandem.base_model import FIXTURE_RECIPE, BaseModelRecipe, build_base


def _weights(path):
    return AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True).state_dict()


def test_fixture_build_is_hf_format_reproducible_and_cached(tmp_path):
    a = build_base(tmp_path / "a", FIXTURE_RECIPE, evaluate_problems=0, log=lambda *_: None)
    for name in ("model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json", "build.json"):
        assert (a / name).is_file(), name
    assert json.loads((a / "config.json").read_text())["model_type"] == "qwen3"
    tok = AutoTokenizer.from_pretrained(str(a), local_files_only=True)
    text = "Mia has 12 pens.\n12 + 5 = 17"
    assert tok.decode(tok.encode(text)) == text and tok.eos_token and tok.pad_token

    b = build_base(tmp_path / "b", FIXTURE_RECIPE, evaluate_problems=0, log=lambda *_: None)
    wa, wb = _weights(a), _weights(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)  # same seed, same weights
    c = build_base(tmp_path / "c", replace(FIXTURE_RECIPE, seed=1), evaluate_problems=0, log=lambda *_: None)
    assert any(not torch.equal(wa[k], w) for k, w in _weights(c).items())

    messages = []
    start = time.time()
    assert build_base(tmp_path / "a", FIXTURE_RECIPE, evaluate_problems=0, log=messages.append) == a
    assert time.time() - start < 2 and "reusing" in messages[0]
    # a different recipe in the same folder is rebuilt, not silently reused
    build_base(tmp_path / "a", replace(FIXTURE_RECIPE, train_steps=2), evaluate_problems=0, log=messages.append)
    assert json.loads((a / "build.json").read_text())["recipe"]["train_steps"] == 2


@pytest.mark.slow
@pytest.mark.timeout(1800)  # minutes of CPU pre-training; the build time is printed, not asserted
def test_default_base_model_builds_on_cpu_with_rl_signal(tmp_path):
    start = time.time()
    out = build_base(tmp_path / "base", BaseModelRecipe(), evaluate_problems=200)
    seconds = time.time() - start
    built = json.loads((out / "build.json").read_text())
    print(f"base model: {built['parameters'] / 1e6:.2f} M params, {seconds:.0f} s, solo pass@1 {built['solo_pass_at_1']:.3f}")
    # Build time is reported (pytest -s), not asserted: timings on shared machines are noise, see bench/.
    assert 0.5e6 < built["parameters"] < 20e6
    assert 0.10 <= built["solo_pass_at_1"] <= 0.80  # RL needs groups with mixed rewards
    AutoModelForCausalLM.from_pretrained(str(out), local_files_only=True)
    # the weak junior: the same run's weights at weak_junior_step, with the base's tokenizer
    weak = out / "weak-junior"
    AutoModelForCausalLM.from_pretrained(str(weak), local_files_only=True)
    assert (weak / "tokenizer.json").read_text() == (out / "tokenizer.json").read_text()
