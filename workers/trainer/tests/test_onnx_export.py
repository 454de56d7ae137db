"""ONNX export with a KV cache: ONNX Runtime against PyTorch on the fixture model (logits and greedy tokens, with
batch and lengths other than the traced ones), and the EXPORT_ONNX job recording the export as a checkpoint."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tandem.onnx_export import MANIFEST, MODEL_FILE, _session, export_onnx, onnx_greedy, parity
from tandem.runner import queue
from tandem.runner.worker import Worker, WorkerSettings


@pytest.fixture(scope="module")
def exported(fixture_model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("onnx")
    return out, export_onnx(fixture_model_dir, out)


def test_export_writes_the_graph_tokenizer_and_manifest(exported, fixture_model_dir):
    out, manifest = exported
    assert (out / MODEL_FILE).stat().st_size > 0
    assert (out / "tokenizer.json").read_bytes() == (fixture_model_dir / "tokenizer.json").read_bytes()
    assert json.loads((out / MANIFEST).read_text()) == manifest
    assert manifest["inputs"][:3] == ["input_ids", "attention_mask", "position_ids"]
    assert len(manifest["inputs"]) == 3 + 2 * manifest["num_layers"] == len(manifest["outputs"]) + 2
    assert manifest["outputs"][1:3] == ["present.0.key", "present.0.value"]
    # the live service builds prompts exactly as training did
    from tandem.data import format_prompt
    assert manifest["prompt_template"].format(problem="What is 2 + 2?") == format_prompt("What is 2 + 2?")


def test_onnx_runtime_matches_pytorch_logits_and_greedy_tokens(exported, fixture_model_dir):
    out, _ = exported
    # three prompts of different lengths (left padding): batch and lengths differ from the traced example
    result = parity(fixture_model_dir, out, ["What is 3 + 4?", "Add 12 and 30, then take away 5, then double it.", "7"],
                    max_new_tokens=20)
    print(f"max |logit diff| {result['max_abs_logit_diff']:.2e}")
    assert result["max_abs_logit_diff"] < 1e-4
    assert result["greedy_equal"] and result["greedy_tokens_compared"] == 60


def test_the_cache_carries_the_prompt(exported):
    """Decoding with the cache equals re-reading the whole text each step (a cache that were ignored would not)."""
    out, manifest = exported
    session = _session(out)
    ids = np.array([[5, 9, 17, 3, 8]], np.int64)
    cached, _ = onnx_greedy(session, manifest, ids, np.ones_like(ids), 6)
    text = ids
    for _ in range(6):
        tokens, _ = onnx_greedy(session, manifest, text, np.ones_like(text), 1)
        text = np.concatenate([text, tokens], axis=1)
    assert (cached == text[:, ids.shape[1]:]).all()


def test_export_onnx_job_records_an_onnx_checkpoint_once(db_url, conn, fixture_model_dir, tmp_path):
    conn.execute("INSERT INTO base_models (id, name, path) VALUES ('m1', 'fixture', %s)", (str(fixture_model_dir),))
    conn.execute("""INSERT INTO checkpoints (id, base_model_id, step, path, format, sha256, size_bytes)
                    VALUES ('c0', 'm1', 0, %s, 'hf-safetensors', 'x', 1)""", (str(fixture_model_dir),))
    worker = Worker(WorkerSettings(db_url, tmp_path / "runs", heartbeat_s=0.3, stale_after_s=5, poll_s=0.5))
    try:
        for _ in range(2):  # exporting again refreshes the same row
            job_id = queue.enqueue(conn, "EXPORT_ONNX", {"checkpointId": "c0"})
            assert worker.run_once() == "SUCCEEDED", queue.get(conn, job_id)["error"]
        rows = conn.execute("SELECT * FROM checkpoints WHERE format = 'onnx'").fetchall()
        assert len(rows) == 1 and rows[0]["base_model_id"] == "m1" and rows[0]["step"] == 0
        assert (tmp_path / "runs" / "onnx" / "c0" / MODEL_FILE).is_file()
        result = queue.get(conn, job_id)["result"]
        assert result["checkpointId"] == rows[0]["id"] and result["parity"]["greedy_equal"]

        job_id = queue.enqueue(conn, "EXPORT_ONNX", {"checkpointId": rows[0]["id"]})  # an export of an export
        assert worker.run_once() == "FAILED"
        assert "only hf-safetensors checkpoints export" in queue.get(conn, job_id)["error"]
    finally:
        worker.conn.close()


def test_cli_export_prints_the_parity_check(fixture_model_dir, tmp_path, capsys):
    from tandem.cli import main

    assert main(["export-onnx", "--checkpoint", str(fixture_model_dir), "--out", str(tmp_path / "out")]) == 0
    check = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert check["greedy_equal"] is True and check["max_abs_logit_diff"] < 1e-3
    assert (tmp_path / "out" / MANIFEST).is_file()
