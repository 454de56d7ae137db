"""Shared fixtures: a seconds-to-build model with real shapes (Qwen3 architecture, locally trained tokenizer),
and a throwaway Postgres database with the committed migrations applied."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest
import torch

from tandem.base_model import FIXTURE_RECIPE, pretrain

torch.set_num_threads(min(2, os.cpu_count() or 1))

ROOT = Path(__file__).resolve().parents[3]
ADMIN_URL = os.environ.get("TANDEM_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session", autouse=True)
def model_roots_include_test_dirs(tmp_path_factory):
    """The tests' models live in pytest's temporary folder: make it a model root (limits.model_roots), beside the
    model cache, for this process and the worker processes it starts."""
    if os.environ.get("TANDEM_MODEL_ROOTS"):
        yield
        return
    from tandem.base_model import default_cache_dir

    os.environ["TANDEM_MODEL_ROOTS"] = os.pathsep.join([str(tmp_path_factory.getbasetemp()), str(default_cache_dir())])
    yield
    del os.environ["TANDEM_MODEL_ROOTS"]


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


def _apply_migrations(url: str):
    files = sorted((ROOT / "prisma" / "migrations").glob("*/migration.sql"))
    assert files, "no committed migrations under prisma/migrations"
    with psycopg.connect(url, autocommit=True) as conn:
        for f in files:
            conn.execute(f.read_text())


@pytest.fixture
def db_url():
    """A fresh database with the committed migrations applied; dropped afterwards."""
    name = f"tandem_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        _apply_migrations(url)
        yield url
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def conn(db_url):
    from tandem.runner import queue

    c = queue.connect(db_url)
    yield c
    c.close()
