"""Live-generation latency of the PyTorch worker's own code path, the reference for workers/live's benchmark.

For each session count N, N prompts are generated together as one batch by `tandem.rollout.solo_rollout` (what
the job runner uses), with the same sampling settings as the live side:

  TTFT        time to the first sampled token: a `solo_rollout` call with max_new_tokens = 1 (tokenizing,
              left-padding, the prompt forward, sampling, decoding the text)
  tok/s/sess  decode speed per session: (tokens - 1) / (time of a max_new_tokens = tokens call - TTFT)

End-of-text never stops a row early: the rollout is handed a tokenizer view whose eos_token_id is an id the model
cannot produce, so every row generates exactly --tokens tokens (an EOS the model samples is fed on like any other
token; workers/live's bench does the same with its engine's `ignoreEos`). One warm-up call per N, then the median
of --repeats timed calls.

    .venv/bin/python bench/torch_generate.py --model DIR --sessions 1,4,16 --tokens 64 [--temperature 1]
        [--top-p 1] [--top-k 0] [--seed 0] [--threads 1] [--repeats 3] [--problems FILE.json] [--json]

--model is a Hugging Face model directory (the checkpoint an ONNX export was made from). --problems is a JSON
list of problem strings (default: `generate_problems(max N, seed 0)`); prompts are `format_prompt(problem)`.
--sessions takes one count or a comma-separated list. --json prints one JSON object instead of a table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch


class _NoEos:
    """The tokenizer with end-of-text disabled, so every completion runs to the token budget."""

    def __init__(self, tokenizer, never_sampled_id: int):
        self._tokenizer = tokenizer
        self.eos_token_id = never_sampled_id

    def __getattr__(self, name):
        return getattr(self._tokenizer, name)

    def __len__(self):
        return len(self._tokenizer)


def measure(model, tokenizer, flags, prompts: list[str], tokens: int, settings: dict, repeats: int) -> dict:
    from tandem.rollout import GenerationSettings, solo_rollout

    def call(max_new_tokens: int, seed: int) -> float:
        config = GenerationSettings(max_new_tokens=max_new_tokens, seed=seed, **settings)
        start = time.perf_counter()
        result = solo_rollout(model, tokenizer, prompts, 1, config, flags=flags)
        elapsed = time.perf_counter() - start
        assert all(len(c) == max_new_tokens for c in result.completion_ids), "a row stopped early"
        return elapsed

    call(1, 0), call(tokens, 0)  # warm-up
    first, full = [], []
    for r in range(repeats):
        first.append(call(1, r))
        full.append(call(tokens, r))
    ttft = statistics.median(first)
    total = statistics.median(full)
    return {
        "sessions": len(prompts),
        "tokens": tokens,
        "ttft_ms": round(ttft * 1000, 2),
        "total_ms": round(total * 1000, 2),
        "tokens_per_s_per_session": round((tokens - 1) / max(total - ttft, 1e-9), 1),
        "runs_ttft_ms": [round(x * 1000, 2) for x in first],
        "runs_total_ms": [round(x * 1000, 2) for x in full],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="Hugging Face model directory")
    parser.add_argument("--sessions", default="1", help="concurrent sessions: one count or a list like 1,4,16")
    parser.add_argument("--tokens", type=int, default=64, help="tokens generated per session")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--top-k", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (0 = torch's default)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--problems", help="JSON file with a list of problem strings")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    from transformers.utils import logging as hf_logging

    from tandem.boundaries import token_flags
    from tandem.data import format_prompt, generate_problems
    from tandem.models import load_model_and_tokenizer

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    counts = [int(n) for n in args.sessions.split(",")]
    if min(counts) < 1 or args.tokens < 2:
        parser.error("--sessions must be >= 1 and --tokens >= 2")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.problems:
        problems = json.loads(Path(args.problems).read_text())
    else:
        problems = [p["problem"] for p in generate_problems(max(counts), seed=0)]
    if len(problems) < max(counts):
        parser.error(f"--problems holds {len(problems)} problems, fewer than {max(counts)} sessions")

    model, tokenizer = load_model_and_tokenizer(args.model)
    flags = token_flags(tokenizer, model.config.vocab_size)
    no_eos = _NoEos(tokenizer, model.config.vocab_size)  # an id outside the vocabulary is never sampled
    settings = {"temperature": args.temperature, "top_p": args.top_p, "top_k": args.top_k}
    results = [
        measure(model, no_eos, flags, [format_prompt(p) for p in problems[:n]], args.tokens,
                settings, args.repeats)
        for n in counts
    ]
    report = {
        "model": str(args.model),
        "path": "tandem.rollout.solo_rollout (PyTorch, batched, KV cache)",
        "torch_threads": torch.get_num_threads(),
        "settings": {**settings, "tokens": args.tokens, "repeats": args.repeats, "eos": "ignored"},
        "results": results,
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{'sessions':>8} {'TTFT ms':>9} {'tok/s/session':>14}")
        for r in results:
            print(f"{r['sessions']:>8} {r['ttft_ms']:>9.1f} {r['tokens_per_s_per_session']:>14.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
