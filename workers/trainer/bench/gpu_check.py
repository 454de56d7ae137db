"""GPU check: tandem and GRPO training steps on a Qwen3-0.6B-shaped model at realistic completion lengths.

Builds a model with Qwen3-0.6B's shape (28 layers, hidden 1024, 16 query / 8 key-value heads of 128, vocab
151,936, tied embeddings) from a config with random weights, and a byte-level tokenizer of the same vocabulary size
made up on the spot (half the tokens start a word), so nothing is downloaded. Random weights almost never sample
EOS, so every completion runs to the full length: the step times are those of `--lengths` tokens per completion.

For each length, one side at a time (so each side's peak memory is its own): a trainer from
`tandem.trainer.build_trainer` (p_junior 0.5 with the paper's handoff rule, or 0 for GRPO; beta 0, the paper's
setting; no trackers), one warm-up step, then `--steps` timed full training steps (bench/train_step_time.py's
`make_step`: rollout, reward, loss, backward, optimizer; the weights put back after each). It prints per length

    tandem/GRPO step time ratio at L tokens: R.RRx
    rollout tokens/s at L tokens: tandem N, GRPO M
    peak memory at L tokens: tandem X GiB, GRPO Y GiB (of Z GiB)

A side that runs out of memory is reported as such and the check goes on. On CPU (CI) it runs the same code
with a tiny config and short lengths; the figures there only say the check works.

    python bench/gpu_check.py --device cuda --lengths 512,2048
    python bench/gpu_check.py [--device cpu|cuda] [--shape qwen3-0.6b|tiny] [--lengths 512,2048] [--prompts 2]
        [--generations 4] [--steps 2] [--dtype bf16|fp32] [--threads 1] [--json OUT]
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rollout_throughput import interleave_many, run_quietly, write_results  # noqa: E402
from train_step_time import _summary, build_side, make_step  # noqa: E402

# Qwen3-0.6B's config.json (Qwen/Qwen3-0.6B), the shape only; and a tiny one for CPU runs in CI.
SHAPES = {
    "qwen3-0.6b": dict(vocab_size=151_936, hidden_size=1024, intermediate_size=3072, num_hidden_layers=28,
                       num_attention_heads=16, num_key_value_heads=8, head_dim=128, max_position_embeddings=40_960,
                       rope_theta=1_000_000.0, rms_norm_eps=1e-6, tie_word_embeddings=True),
    "tiny": dict(vocab_size=1024, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                 num_key_value_heads=1, head_dim=32, max_position_embeddings=4096, rope_theta=1_000_000.0,
                 rms_norm_eps=1e-6, tie_word_embeddings=True),
}
DEFAULTS = {"cuda": {"shape": "qwen3-0.6b", "lengths": "512,2048", "dtype": "bf16"},
            "cpu": {"shape": "tiny", "lengths": "32,64", "dtype": "fp32"}}
GIB = 2**30


# ---------------------------------------------------------------- the model


def _token_word(i: int) -> str:
    """A distinct lower-case letter string for each i (base 26)."""
    out = ""
    while True:
        i, r = divmod(i, 26)
        out = chr(ord("a") + r) + out
        if i == 0:
            return out
        i -= 1


def make_tokenizer(vocab_size: int):
    """A byte-level BPE tokenizer of exactly `vocab_size` tokens: EOS, PAD, the 256 byte symbols, then made-up
    words, every other one word-starting (a leading space), so the tandem handoff points come as often as in
    text. Without merges it encodes text byte by byte; decoding any id gives text."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from tandem.base_model import EOS, PAD

    vocab = {EOS: 0, PAD: 1}
    for symbol in sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocab[symbol] = len(vocab)
    if vocab_size < len(vocab):
        raise ValueError(f"vocab_size: at least {len(vocab)} (special tokens and the byte alphabet), got {vocab_size}")
    n = 26  # from "aa" on: no made-up word is a single byte symbol
    while len(vocab) < vocab_size:
        word = _token_word(n)
        vocab[("\u0120" + word) if len(vocab) % 2 == 0 else word] = len(vocab)  # \u0120: byte-level space
        n += len(vocab) % 2 == 0  # each word twice: word-starting, then continuing
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=PAD,
                                   clean_up_tokenization_spaces=False)


def build_model(shape: str, out_dir: Path, dtype: torch.dtype, device: torch.device, seed: int = 0) -> int:
    """Write a random-weight Qwen3 model of `shape` and its tokenizer to out_dir; returns the parameter count."""
    from transformers import Qwen3Config, Qwen3ForCausalLM

    tokenizer = make_tokenizer(SHAPES[shape]["vocab_size"])
    config = Qwen3Config(**SHAPES[shape], eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                         bos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(seed)
    with torch.device(device):  # initialising 0.6 B parameters is much faster on the GPU
        model = Qwen3ForCausalLM(config).to(dtype)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    n_params = sum(p.numel() for p in model.parameters())
    del model
    _free(device)
    return n_params


# ---------------------------------------------------------------- memory


def _free(device: torch.device):
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _peak_rss_bytes() -> int:
    """The process's peak resident memory (Linux reports KiB). On CPU it never goes down, so it bounds every side."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def with_peak_memory(step, device: torch.device):
    """fn(repeat) -> the step's record plus `peak_bytes`: the most memory allocated on the GPU during the step
    (torch's allocator, resident weights and optimizer state included), or the process's peak RSS on CPU."""
    def run(r: int) -> dict:
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        record = step(r)
        record["peak_bytes"] = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else _peak_rss_bytes()
        record["rollout_tokens_per_s"] = (record["tokens"] / record["rollout_seconds"]
                                          if record["rollout_seconds"] > 0 else float("nan"))
        return record

    return run


def _out_of_memory(error: BaseException) -> bool:
    return isinstance(error, (torch.cuda.OutOfMemoryError, MemoryError)) or "out of memory" in str(error).lower()


# ---------------------------------------------------------------- one length


def run_side(name: str, p_junior: float, model_path: Path, length: int, args, overrides: dict, log) -> dict:
    """Warm-up plus `args.steps` timed steps of one side at one completion length, alone on the device."""
    device = torch.device(args.device)
    side_args = SimpleNamespace(prompts=args.prompts, generations=args.generations, max_new_tokens=length,
                                repeats=args.steps, seed=args.seed, device=args.device)
    trainer = None
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix=f"tandem-gpu-check-{name}-") as tmp:
            trainer, _ = build_side(model_path, Path(tmp), p_junior, side_args, overrides)
            rows = [dict(trainer.train_dataset[i]) for i in range(args.prompts) for _ in range(args.generations)]
            runs = interleave_many({name: with_peak_memory(make_step(trainer, rows, device), device)}, args.steps,
                                   log, metric="seconds", unit="s")[name]
    except (RuntimeError, MemoryError) as error:
        if not _out_of_memory(error):
            raise
        log(f"    {name}: out of memory at {length} tokens after {time.perf_counter() - started:.0f} s")
        return {"oom": True, "error": str(error).splitlines()[0][:300]}
    finally:
        del trainer
        _free(device)
    summary = _summary(runs)
    summary["rollout_tokens_per_s"] = statistics.median(r["rollout_tokens_per_s"] for r in runs)
    summary["peak_bytes"] = max(r["peak_bytes"] for r in runs)
    summary["oom"] = False
    return summary


def check_length(model_path: Path, length: int, args, overrides: dict, log) -> dict:
    log(f"completion length {length}: tandem (p_junior 0.5) ...")
    tandem = run_side("tandem", 0.5, model_path, length, args, overrides, log)
    log(f"completion length {length}: GRPO (p_junior 0) ...")
    grpo = run_side("grpo", 0.0, model_path, length, args, overrides, log)
    ok = not tandem["oom"] and not grpo["oom"]
    return {"length": length, "tandem": tandem, "grpo": grpo,
            "ratio": tandem["seconds"] / grpo["seconds"] if ok else None}


# ---------------------------------------------------------------- report


def report(results: dict, log=print):
    cfg = results["config"]
    log("")
    log(f"gpu check: {cfg['shape']}-shaped Qwen3 ({cfg['parameters'] / 1e6:,.1f} M params, random weights), "
        f"device {cfg['device_name']}, {cfg['dtype']}, {cfg['prompts']} prompts x {cfg['generations']} generations, "
        f"timed steps per side: {cfg['steps']} after 1 warm-up, beta 0, handoff_rule paper")
    for part in results["lengths"]:
        length = part["length"]
        log(f"\n  completion length {length} tokens")
        log(f"  {'side':<8} {'step s':>9} {'rollout s':>10} {'rest s':>9} {'tokens':>8} {'rollout tok/s':>14} "
            f"{'peak GiB':>9} {'senior':>7}")
        for name in ("tandem", "grpo"):
            s = part[name]
            if s["oom"]:
                log(f"  {name:<8} out of memory: {s['error']}")
                continue
            log(f"  {name:<8} {s['seconds']:9.3f} {s['rollout_seconds']:10.3f} {s['other_seconds']:9.3f} "
                f"{s['tokens']:8.0f} {s['rollout_tokens_per_s']:14.0f} {s['peak_bytes'] / GIB:9.2f} {s['senior_share']:7.2f}")
    log("")
    total = f" (of {cfg['device_memory_bytes'] / GIB:.1f} GiB)" if cfg.get("device_memory_bytes") else " (peak RSS)"
    for part in results["lengths"]:
        length, t, g = part["length"], part["tandem"], part["grpo"]
        ratio = f"{part['ratio']:.2f}x" if part["ratio"] is not None else "n/a (a side ran out of memory)"
        log(f"tandem/GRPO step time ratio at {length} tokens: {ratio}")
        log(f"rollout tokens/s at {length} tokens: tandem {_tokens_per_s(t)}, GRPO {_tokens_per_s(g)}")
        log(f"peak memory at {length} tokens: tandem {_peak(t)}, GRPO {_peak(g)}{total}")


def _tokens_per_s(side: dict) -> str:
    return "out of memory" if side["oom"] else f"{side['rollout_tokens_per_s']:.0f}"


def _peak(side: dict) -> str:
    return "out of memory" if side["oom"] else f"{side['peak_bytes'] / GIB:.2f} GiB"


# ---------------------------------------------------------------- main


def _lengths(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SystemExit(f"--lengths {text!r}: expected comma-separated token counts, e.g. 512,2048") from None
    if not values or min(values) < 1:
        raise SystemExit(f"--lengths {text!r}: expected positive token counts, e.g. 512,2048")
    return values


def main(argv: list[str] | None = None, log=print) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--shape", choices=list(SHAPES), default=None,
                        help="model shape (default: qwen3-0.6b on cuda, tiny on cpu)")
    parser.add_argument("--lengths", default=None,
                        help="completion lengths in tokens, comma-separated (default: 512,2048 on cuda, 32,64 on cpu)")
    parser.add_argument("--prompts", type=int, default=2, help="prompts per step (default 2)")
    parser.add_argument("--generations", type=int, default=4, help="completions per prompt (default 4)")
    parser.add_argument("--steps", type=int, default=2, help="timed steps per side and length, after one warm-up")
    parser.add_argument("--dtype", choices=["bf16", "fp32"], default=None, help="default: bf16 on cuda, fp32 on cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads on CPU (default 1; 0 = torch's own)")
    parser.add_argument("--json", dest="json_out", default=None, help="write the figures to this JSON file")
    args = parser.parse_args(argv)
    for key, value in DEFAULTS[args.device].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.length_list = _lengths(args.lengths)
    if args.steps < 1 or args.prompts < 1 or args.generations < 2:
        raise SystemExit("--steps and --prompts must be at least 1, --generations at least 2")
    return run_quietly(args.device, args.threads, lambda: _run(args, log))


def _run(args, log) -> dict:
    import transformers
    import trl

    device = torch.device(args.device)
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    # beta 0 (the paper's setting: no reference model); no tracker files from a benchmark
    overrides = {"bf16": args.dtype == "bf16", "beta": 0.0, "report_to": ["none"]}
    with tempfile.TemporaryDirectory(prefix="tandem-gpu-check-model-") as tmp:
        model_path = Path(tmp)
        log(f"building a random-weight {args.shape} model ...")
        n_params = build_model(args.shape, model_path, dtype, device, args.seed)
        results: dict = {"config": {
            "shape": args.shape, "parameters": n_params, "device": args.device,
            "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "device_memory_bytes": torch.cuda.get_device_properties(device).total_memory if device.type == "cuda"
            else None,
            "dtype": args.dtype, "lengths": args.length_list, "prompts": args.prompts,
            "generations": args.generations, "steps": args.steps, "seed": args.seed,
            "torch_threads": torch.get_num_threads(), "torch_version": torch.__version__,
            "transformers_version": transformers.__version__, "trl_version": trl.__version__,
        }, "lengths": []}
        for length in args.length_list:
            results["lengths"].append(check_length(model_path, length, args, overrides, log))
    report(results, log)
    write_results(results, args.json_out, log)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
