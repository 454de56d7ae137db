"""ONNX export of a checkpoint for live sessions (workers/live runs it with onnxruntime-node).

The exported graph is one decoding step with an explicit KV cache, so the same file serves the prompt (many
tokens, empty cache) and every following token (one token, the cache so far):

  inputs   input_ids [batch, seq] int64, attention_mask [batch, past + seq] int64 (1 = real token, left padding),
           position_ids [batch, seq] int64, past.<layer>.key / past.<layer>.value [batch, kv_heads, past, head_dim]
  outputs  logits [batch, seq, vocab], present.<layer>.key / present.<layer>.value [batch, kv_heads, past + seq,
           head_dim]

Batch, sequence and cache lengths are dynamic. Beside model.onnx the export folder holds the tokenizer files
(tokenizer.json, tokenizer_config.json), config.json, generation_config.json and onnx_manifest.json (the names
and shapes above, the special token ids, the opset). `parity` checks an export against PyTorch: the largest
absolute logit difference on a padded batch of prompts, and greedy continuations token for token.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import torch

OPSET = 18
MANIFEST = "onnx_manifest.json"
MODEL_FILE = "model.onnx"
COPIED_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json",
                "generation_config.json")


def cache_shape(config) -> tuple[int, int, int]:
    """(layers, kv heads, head dim) of a decoder config."""
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    return config.num_hidden_layers, config.num_key_value_heads, head_dim


def io_names(layers: int) -> tuple[list[str], list[str]]:
    cache = [f"{{}}.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]
    return (["input_ids", "attention_mask", "position_ids"] + [c.format("past") for c in cache],
            ["logits"] + [c.format("present") for c in cache])


class KVStep(torch.nn.Module):
    """One decoding step of a HF causal LM with its cache as plain tensors (what ONNX can carry)."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.layers = model.config.num_hidden_layers

    def forward(self, input_ids, attention_mask, position_ids, *past):
        from transformers import DynamicCache

        cache = DynamicCache(ddp_cache_data=[(past[2 * i], past[2 * i + 1]) for i in range(self.layers)],
                             config=self.model.config)
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                         past_key_values=cache, use_cache=True)
        presents = []
        for layer in out.past_key_values.layers:
            presents += [layer.keys, layer.values]
        return (out.logits, *presents)


def export_onnx(model_dir: Path, out_dir: Path) -> dict:
    """Writes model.onnx, the tokenizer and config files and the manifest into out_dir; returns the manifest."""
    from .data import PROMPT_TEMPLATE
    from .models import load_model

    model_dir, out_dir = Path(model_dir), Path(out_dir)
    model = load_model(model_dir)
    layers, kv_heads, head_dim = cache_shape(model.config)
    inputs, outputs = io_names(layers)
    # traced on a prompt with a non-empty cache; the graph keeps batch, seq and cache lengths symbolic
    batch, seq, past = 2, 5, 3
    example = (
        torch.randint(0, model.config.vocab_size, (batch, seq)),
        torch.ones(batch, past + seq, dtype=torch.long),
        torch.arange(past, past + seq).unsqueeze(0).expand(batch, seq).contiguous(),
        *[torch.randn(batch, kv_heads, past, head_dim) for _ in range(2 * layers)],
    )
    axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "total"},
            "position_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}}
    axes.update({name: {0: "batch", 2: "past"} for name in inputs[3:]})
    axes.update({name: {0: "batch", 2: "total"} for name in outputs[1:]})
    out_dir.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        # the TorchScript exporter: on these models it gives a graph that matches PyTorch to ~1e-6
        torch.onnx.export(KVStep(model), example, str(out_dir / MODEL_FILE), input_names=inputs,
                          output_names=outputs, dynamic_axes=axes, opset_version=OPSET, dynamo=False)
    for name in COPIED_FILES:
        if (model_dir / name).is_file():
            shutil.copy2(model_dir / name, out_dir / name)
    generation = model.generation_config
    manifest = {
        "format": "tandem-onnx-kv/1",
        "opset": OPSET,
        "model_file": MODEL_FILE,
        "inputs": inputs,
        "outputs": outputs,
        "num_layers": layers,
        "num_kv_heads": kv_heads,
        "head_dim": head_dim,
        "vocab_size": model.config.vocab_size,
        "eos_token_id": generation.eos_token_id if generation.eos_token_id is not None else model.config.eos_token_id,
        "pad_token_id": generation.pad_token_id,
        # how a problem becomes the model's prompt (Python str.format with {problem}), as in training
        "prompt_template": PROMPT_TEMPLATE,
        "source": str(model_dir),
        "sha256": hashlib.sha256((out_dir / MODEL_FILE).read_bytes()).hexdigest(),
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _session(onnx_dir: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(onnx_dir / MODEL_FILE), options, providers=["CPUExecutionProvider"])


def onnx_greedy(session, manifest: dict, input_ids: np.ndarray, attention_mask: np.ndarray, max_new_tokens: int):
    """Greedy decoding with the export's KV cache (left-padded batch); returns (new tokens [batch, n], first
    step's logits)."""
    layers, heads, head_dim = manifest["num_layers"], manifest["num_kv_heads"], manifest["head_dim"]
    batch = input_ids.shape[0]
    past = [np.zeros((batch, heads, 0, head_dim), np.float32) for _ in range(2 * layers)]
    mask = attention_mask.astype(np.int64)
    positions = np.clip(mask.cumsum(-1) - 1, 0, None)
    current, tokens, first_logits = input_ids.astype(np.int64), [], None
    for _ in range(max_new_tokens):
        feeds = {"input_ids": current, "attention_mask": mask, "position_ids": positions,
                 **dict(zip(manifest["inputs"][3:], past))}
        logits, *past = session.run(None, feeds)
        first_logits = logits if first_logits is None else first_logits
        nxt = logits[:, -1].argmax(-1)
        tokens.append(nxt)
        current = nxt[:, None].astype(np.int64)
        mask = np.concatenate([mask, np.ones((batch, 1), np.int64)], axis=1)
        positions = positions[:, -1:] + 1
    return np.stack(tokens, axis=1), first_logits


def parity(model_dir: Path, onnx_dir: Path, prompts: list[str], max_new_tokens: int = 16) -> dict:
    """ONNX Runtime against PyTorch on the same left-padded prompts: the largest absolute difference of the
    prompt logits (real tokens only) and whether greedy continuations agree token for token."""
    from .models import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(model_dir)
    manifest = json.loads((Path(onnx_dir) / MANIFEST).read_text())
    tokenizer.padding_side = "left"
    batch = tokenizer(prompts, return_tensors="pt", padding=True)
    ids, mask = batch["input_ids"], batch["attention_mask"]
    with torch.no_grad():
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        reference_logits = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits.numpy()
        reference = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=False,
                                   pad_token_id=tokenizer.pad_token_id, eos_token_id=None)[:, ids.shape[1]:].numpy()
    tokens, logits = onnx_greedy(_session(Path(onnx_dir)), manifest, ids.numpy(), mask.numpy(), max_new_tokens)
    real = mask.numpy().astype(bool)
    return {
        "max_abs_logit_diff": float(np.abs(logits - reference_logits)[real].max()),
        "greedy_equal": bool((tokens == reference).all()),
        "greedy_tokens_compared": int(tokens.size),
        "first_mismatch": None if (tokens == reference).all() else [int(i) for i in np.argwhere(tokens != reference)[0]],
    }
