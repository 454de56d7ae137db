"""Shared fixtures: a seconds-to-build model with real shapes (Qwen3 architecture, locally trained tokenizer)."""

from __future__ import annotations

import os

import pytest
import torch

from tandem.base_model import FIXTURE_RECIPE, pretrain

torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(scope="session")
def fixture_model_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("fixture-model")
    pretrain(FIXTURE_RECIPE, out, log=lambda *_: None)
    return out


@pytest.fixture(scope="session")
def fixture_pair(fixture_model_dir):
    """(senior, junior, tokenizer): two independent copies of the fixture model's weights."""
    from tandem.models import load_model, load_tokenizer

    return load_model(fixture_model_dir), load_model(fixture_model_dir), load_tokenizer(fixture_model_dir)
