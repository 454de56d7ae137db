"""Rollout throughput: side-by-side ratios, each measured within one process.

(a) tandem vs solo: `tandem_rollout` (senior + a same-size junior holding a second copy of the same weights,
    p_junior = 0.5, word handoffs) against `solo_rollout` on the same batch and settings. Every token costs
    two forward passes in tandem, so 0.5x is the ceiling; the target is >= 0.45x.
(b) ours vs TRL: `solo_rollout` against HF TRL's own GRPOTrainer generation path (`GRPOTrainer._generate`
    without rollout_func: tokenize, `model.generate`, cut after EOS, decode) on the same model object, prompts,
    batch, max length and sampling (temperature 1, top_p 1, top_k 0). Target >= 1.0x.
(c) handoff rules vs solo: every handoff rule the rollout knows (`handoff_rule`: paper, whole_word, token,
    alternating, chunk, paragraph) at p_junior = 0.5 with the schedule training uses for it, each against the
    same solo rollout, all interleaved in one loop on the same batch: one tokens/s ratio per rule (the same
    0.5x ceiling and >= 0.45x target as (a)). On a rollout without `handoff_rule`, only its one word rule.

Throughput is completion tokens per second, counting each completion up to and including its EOS (both sides
count the same way). Sides are interleaved A, B, A, B within each repeat after one warm-up call each; figures
are medians over repeats, and the ratio is median(A) / median(B). Repeat r samples with seed + r on both sides.

    python bench/rollout_throughput.py [--model base|fixture|PATH] [--prompts 16] [--generations 4]
        [--max-new-tokens 96] [--repeats 5] [--device cpu|cuda] [--threads 1] [--only tandem|trl|rules]
        [--json OUT] [--profile DIR]
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch

TANDEM_TARGET = 0.45
TRL_TARGET = 1.0


# ---------------------------------------------------------------- setup


def resolve_model(name: str, log=print) -> Path:
    """base -> the cached tiny base model (built if missing); fixture -> a seconds-to-build model; else a path."""
    if name == "base":
        from tandem.base_model import build_base

        return build_base(log=lambda *_: None)
    if name == "fixture":
        from tandem.base_model import FIXTURE_RECIPE, pretrain

        out = Path(tempfile.mkdtemp(prefix="tandem-bench-fixture-"))
        atexit.register(shutil.rmtree, out, ignore_errors=True)
        pretrain(FIXTURE_RECIPE, out, log=lambda *_: None)
        return out
    path = Path(name)
    if not (path / "config.json").is_file():
        raise SystemExit(f"--model {name}: not 'base', 'fixture' or a model directory with config.json")
    return path


def make_prompts(n: int, seed: int = 0) -> list[str]:
    """Held-out problems of the default task (digit chains), what the tiny base model was pre-trained for."""
    from tandem.data import format_prompt, task_split

    problems = task_split("digit_chains", "eval", n + 8 * seed)[8 * seed:]
    return [format_prompt(p["problem"]) for p in problems]


def _sync(device: torch.device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn, device):
    _sync(device)
    start = time.perf_counter()
    out = fn()
    _sync(device)
    return out, time.perf_counter() - start


def _summary(runs: list[dict]) -> dict:
    return {
        "tokens_per_s": statistics.median(r["tokens_per_s"] for r in runs),
        "seconds": statistics.median(r["seconds"] for r in runs),
        "tokens": statistics.median(r["tokens"] for r in runs),
        "mean_completion_length": statistics.mean(r["mean_completion_length"] for r in runs),
        "finished_share": statistics.mean(r["finished_share"] for r in runs),
        "runs": runs,
    }


def _paired_ratio(runs_a: list[dict], runs_b: list[dict]) -> float:
    """Median over repeats of A/B within the repeat (a cross-check of the ratio of medians)."""
    return statistics.median(a["tokens_per_s"] / b["tokens_per_s"] for a, b in zip(runs_a, runs_b))


def _run_record(completion_ids: list[list[int]], seconds: float, eos_ids: set[int]) -> dict:
    tokens = sum(len(c) for c in completion_ids)
    return {
        "seconds": seconds,
        "tokens": tokens,
        "tokens_per_s": tokens / seconds if seconds > 0 else 0.0,
        "completions": len(completion_ids),
        "mean_completion_length": tokens / len(completion_ids),
        "finished_share": sum(bool(c) and c[-1] in eos_ids for c in completion_ids) / len(completion_ids),
    }


def interleave_many(sides: dict, repeats: int, log=print, metric: str = "tokens_per_s",
                    unit: str = "tok/s") -> dict[str, list[dict]]:
    """Warm up each side once, then run every side in turn (A, B, C, A, B, C, ...) `repeats` times; each side is
    fn(repeat) -> record. Returns each side's records; logs `metric` per side and repeat."""
    for side in sides.values():
        side(-1)
    runs: dict[str, list[dict]] = {name: [] for name in sides}
    for r in range(repeats):
        for name, side in sides.items():
            runs[name].append(side(r))
        log(f"    repeat {r + 1}/{repeats}: " + "   ".join(
            f"{name} {runs[name][-1][metric]:8.{3 if metric == 'seconds' else 0}f} {unit}" for name in sides))
    return runs


def interleave(side_a, side_b, repeats: int, log=print, names=("A", "B")) -> tuple[list[dict], list[dict]]:
    """Two sides interleaved A, B, A, B, ... (see interleave_many)."""
    runs = interleave_many({names[0]: side_a, names[1]: side_b}, repeats, log)
    return runs[names[0]], runs[names[1]]


# ---------------------------------------------------------------- (a) tandem vs solo


def bench_tandem_vs_solo(model_path, prompts, generations, max_new_tokens, repeats, device, seed=0, log=print) -> dict:
    from tandem.boundaries import token_flags
    from tandem.models import load_model, load_tokenizer
    from tandem.rollout import CoinFlip, GenerationSettings, solo_rollout, tandem_rollout

    tokenizer = load_tokenizer(model_path)
    senior = load_model(model_path, device)
    junior = load_model(model_path, device)  # same-size junior: a second copy of the same weights
    junior.requires_grad_(False)
    flags = token_flags(tokenizer, senior.config.vocab_size).to(device)  # once, as the trainer does
    eos = {tokenizer.eos_token_id}

    def settings(r):
        return GenerationSettings(max_new_tokens=max_new_tokens, temperature=1.0, top_p=1.0, top_k=0, seed=seed + r)

    def tandem(r):
        res, sec = _timed(lambda: tandem_rollout(senior, junior, tokenizer, prompts, generations, settings(r),
                                                 CoinFlip(0.5), "word", flags), device)
        rec = _run_record(res.completion_ids, sec, eos)
        rec["senior_share"] = res.senior_share
        return rec

    def solo(r):
        res, sec = _timed(lambda: solo_rollout(senior, tokenizer, prompts, generations, settings(r), flags=flags),
                          device)
        return _run_record(res.completion_ids, sec, eos)

    runs_t, runs_s = interleave(tandem, solo, repeats, log, ("tandem", "solo"))
    t, s = _summary(runs_t), _summary(runs_s)
    t["senior_share"] = statistics.mean(r["senior_share"] for r in runs_t)
    ratio = t["tokens_per_s"] / s["tokens_per_s"]
    return {"tandem": t, "solo": s, "ratio": ratio, "paired_ratio": _paired_ratio(runs_t, runs_s),
            "target": TANDEM_TARGET, "pass": ratio >= TANDEM_TARGET}


# ---------------------------------------------------------------- (c) handoff rules vs solo


def handoff_rules() -> tuple[str, ...]:
    """The rules this checkout's rollout implements; () when tandem_rollout predates `handoff_rule`."""
    import inspect

    from tandem.rollout import tandem_rollout

    if "handoff_rule" not in inspect.signature(tandem_rollout).parameters:
        return ()
    from tandem.config import HANDOFF_RULES

    return tuple(HANDOFF_RULES)


def bench_rules_vs_solo(model_path, prompts, generations, max_new_tokens, repeats, device, seed=0, log=print,
                        p_junior: float = 0.5) -> dict:
    from tandem.boundaries import token_flags
    from tandem.models import load_model, load_tokenizer
    from tandem.rollout import CoinFlip, GenerationSettings, solo_rollout, tandem_rollout

    tokenizer = load_tokenizer(model_path)
    senior = load_model(model_path, device)
    junior = load_model(model_path, device)
    junior.requires_grad_(False)
    flags = token_flags(tokenizer, senior.config.vocab_size).to(device)
    eos = {tokenizer.eos_token_id}

    def settings(r):
        return GenerationSettings(max_new_tokens=max_new_tokens, temperature=1.0, top_p=1.0, top_k=0, seed=seed + r)

    def side(rule):
        if rule is None:  # a rollout without handoff rules: its one word rule
            def call(r):
                return tandem_rollout(senior, junior, tokenizer, prompts, generations, settings(r), CoinFlip(p_junior),
                                      "word", flags)
        else:
            from tandem.rollout import rule_schedule

            schedule = rule_schedule(rule, p_junior)  # what training uses for this rule

            def call(r):
                return tandem_rollout(senior, junior, tokenizer, prompts, generations, settings(r), schedule,
                                      "word", flags, handoff_rule=rule)

        def run(r):
            res, sec = _timed(lambda: call(r), device)
            rec = _run_record(res.completion_ids, sec, eos)
            rec["senior_share"] = res.senior_share
            rec["switches"] = getattr(res, "switches_per_sequence", float("nan"))  # author changes per completion
            return rec

        return run

    def solo(r):
        res, sec = _timed(lambda: solo_rollout(senior, tokenizer, prompts, generations, settings(r), flags=flags),
                          device)
        return _run_record(res.completion_ids, sec, eos)

    rules = handoff_rules()
    names = list(rules) if rules else ["word"]
    runs = interleave_many({"solo": solo, **{name: side(name if rules else None) for name in names}}, repeats, log)
    solo_summary = _summary(runs["solo"])
    per_rule = {}
    for name in names:
        summary = _summary(runs[name])
        summary["senior_share"] = statistics.mean(r["senior_share"] for r in runs[name])
        summary["switches"] = statistics.mean(r["switches"] for r in runs[name])
        ratio = summary["tokens_per_s"] / solo_summary["tokens_per_s"]
        per_rule[name] = {"side": summary, "ratio": ratio, "paired_ratio": _paired_ratio(runs[name], runs["solo"]),
                          "target": TANDEM_TARGET, "pass": ratio >= TANDEM_TARGET}
    return {"solo": solo_summary, "rules": per_rule, "p_junior": p_junior}


# ---------------------------------------------------------------- (b) ours vs TRL


def build_trl_trainer(model, tokenizer, prompts, generations, max_new_tokens, device, seed, out_dir):
    """A real trl.GRPOTrainer WITHOUT rollout_func, so `_generate` takes TRL's built-in transformers path."""
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    args = GRPOConfig(
        output_dir=str(out_dir),
        per_device_train_batch_size=len(prompts) * generations,
        num_generations=generations,
        max_completion_length=max_new_tokens,
        temperature=1.0,
        top_p=1.0,
        top_k=0,
        max_steps=1,
        seed=seed,
        report_to="none",
        disable_tqdm=True,
        remove_unused_columns=False,
        use_cpu=device.type == "cpu",
        bf16=False,
        save_strategy="no",
        logging_strategy="no",
    )
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=lambda completions, **kw: [0.0] * len(completions),
        args=args,
        train_dataset=Dataset.from_list([{"prompt": p} for p in prompts]),
        processing_class=tokenizer,
    )
    # Trainer.train() turns activation (gradient) checkpointing on, GRPOConfig's default; TRL's generation path
    # then switches it off and on around every generate call. Do the same here so `_generate` sees what it sees
    # in training.
    if getattr(args, "activation_checkpointing", False) or getattr(args, "gradient_checkpointing", False):
        kwargs = getattr(args, "activation_checkpointing_kwargs", None) or args.gradient_checkpointing_kwargs
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=dict(kwargs or {}) or None)
    return trainer


def bench_solo_vs_trl(model_path, prompts, generations, max_new_tokens, repeats, device, seed=0, log=print,
                      profile_dir: Path | None = None) -> dict:
    from tandem.boundaries import token_flags
    from tandem.models import load_model, load_tokenizer
    from tandem.rollout import GenerationSettings, solo_rollout

    tokenizer = load_tokenizer(model_path)
    model = load_model(model_path, device)
    with tempfile.TemporaryDirectory(prefix="tandem-bench-trl-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer = build_trl_trainer(model, tokenizer, prompts, generations, max_new_tokens, device, seed, tmp)
    unwrapped = trainer.accelerator.unwrap_model(trainer.model)
    assert unwrapped is model
    trl_eos = set(trainer.eos_token_ids)
    ours_eos = {tokenizer.eos_token_id}
    if trl_eos != ours_eos:
        log(f"  note: TRL stops on eos ids {sorted(trl_eos)}, our rollout on {sorted(ours_eos)}")
    # What GRPOTrainer's RepeatSampler feeds `_generate`: each prompt num_generations times, consecutively.
    trl_prompts = [p for p in prompts for _ in range(generations)]
    flags = token_flags(tokenizer, model.config.vocab_size).to(device)  # once per run, as TandemRolloutFunc does

    def trl_side(r):
        model.train()  # as during training: `_generate` reads the mode ("train" -> num_generations)
        torch.manual_seed(seed + r)  # HF generate samples from the global generator
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out, sec = _timed(lambda: trainer._generate(trl_prompts), device)
        prompt_ids, completion_ids = out[0], out[1]
        assert len(completion_ids) == len(trl_prompts), (len(completion_ids), len(trl_prompts))
        rec = _run_record(completion_ids, sec, trl_eos)
        rec["_prompt_ids"] = prompt_ids
        return rec

    def ours_side(r):
        # as TandemRolloutFunc: the senior goes to eval mode for the rollout and back to train after
        model.train()
        settings = GenerationSettings(max_new_tokens=max_new_tokens, temperature=1.0, top_p=1.0, top_k=0,
                                      seed=seed + r)

        def call():
            was_training = model.training
            model.eval()
            res = solo_rollout(model, tokenizer, prompts, generations, settings, flags=flags)
            model.train(was_training)
            return res

        res, sec = _timed(call, device)
        assert len(res.completion_ids) == len(trl_prompts)
        rec = _run_record(res.completion_ids, sec, ours_eos)
        rec["_prompt_ids"] = res.prompt_ids
        return rec

    runs_o, runs_t = interleave(ours_side, trl_side, repeats, log, ("ours", "TRL"))
    same_prompt_ids = runs_o[0].pop("_prompt_ids") == runs_t[0].pop("_prompt_ids")
    for rec in runs_o + runs_t:
        rec.pop("_prompt_ids", None)
    if not same_prompt_ids:
        log("  WARNING: the two sides tokenized the prompts differently")
    o, t = _summary(runs_o), _summary(runs_t)
    ratio = o["tokens_per_s"] / t["tokens_per_s"]
    result = {"ours": o, "trl": t, "ratio": ratio, "paired_ratio": _paired_ratio(runs_o, runs_t),
              "target": TRL_TARGET, "pass": ratio >= TRL_TARGET,
              "same_prompt_ids": same_prompt_ids}
    if profile_dir is not None:
        result["profile"] = profile_sides(ours_side, trl_side, Path(profile_dir), log)
    return result


def profile_sides(ours_side, trl_side, out_dir: Path, log=print, top: int = 25) -> dict:
    """cProfile one call of each side; writes .prof files and prints the top functions by own time."""
    import cProfile
    import io
    import pstats

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, fn in (("ours", ours_side), ("trl", trl_side)):
        prof = cProfile.Profile()
        prof.enable()
        fn(0)
        prof.disable()
        path = out_dir / f"solo_vs_trl_{name}.prof"
        prof.dump_stats(str(path))
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
        log(f"\n  ---- cProfile, {name} side (sorted by own time, top {top}) -> {path}")
        log("\n".join("  " + line for line in buf.getvalue().splitlines() if line.strip()))
        paths[name] = str(path)
    return paths


# ---------------------------------------------------------------- report


def _fmt_side(name: str, s: dict) -> str:
    return (f"  {name:<22} {s['tokens_per_s']:10.0f} {s['seconds']:9.3f} {s['tokens']:8.0f} "
            f"{s['mean_completion_length']:9.1f} {s['finished_share']:9.2f}")


def _ratio_line(label: str, part: dict) -> str:
    verdict = "PASS" if part["pass"] else "BELOW TARGET"
    return (f"  (median of per-repeat ratios: {part['paired_ratio']:.2f}x)\n"
            f"{label} tokens/s ratio: {part['ratio']:.2f}x (target >= {part['target']:.2f}x) {verdict}")


def report(results: dict, log=print):
    cfg = results["config"]
    log("")
    log(f"rollout throughput: model {cfg['model']} ({cfg['parameters'] / 1e6:.2f} M params), device {cfg['device']}, "
        f"{cfg['prompts']} prompts x {cfg['generations']} generations, max {cfg['max_new_tokens']} new tokens, "
        f"median of {cfg['repeats']} interleaved repeats, torch threads {cfg['torch_threads']}")
    header = (f"  {'side':<22} {'tokens/s':>10} {'seconds':>9} {'tokens':>8} {'mean len':>9} {'finished':>9}")
    if "tandem_vs_solo" in results:
        part = results["tandem_vs_solo"]
        log("\n(a) tandem (p_junior 0.5, word handoffs, same-size junior) vs solo rollout")
        log(header)
        log(_fmt_side("tandem_rollout", part["tandem"]))
        log(_fmt_side("solo_rollout", part["solo"]))
        log(f"  senior token share in tandem: {part['tandem']['senior_share']:.2f}")
        log(_ratio_line("tandem/solo", part))
    if "solo_vs_trl" in results:
        part = results["solo_vs_trl"]
        log(f"\n(b) our solo rollout vs TRL {cfg['trl_version']} GRPOTrainer._generate (transformers generate)")
        log(header)
        log(_fmt_side("ours (solo_rollout)", part["ours"]))
        log(_fmt_side("TRL (_generate)", part["trl"]))
        log(_ratio_line("ours/TRL", part))
    if "rules_vs_solo" in results:
        part = results["rules_vs_solo"]
        log(f"\n(c) each handoff rule (p_junior {part['p_junior']}, same-size junior) vs solo rollout, one loop")
        log(header + f" {'senior':>7} {'switches':>9} {'ratio':>7} {'paired':>7}")
        log(_fmt_side("solo_rollout", part["solo"]))
        for name, rule in part["rules"].items():
            log(_fmt_side(name, rule["side"]) + f" {rule['side']['senior_share']:7.2f} {rule['side']['switches']:9.1f}"
                f" {rule['ratio']:6.2f}x {rule['paired_ratio']:6.2f}x")
        for name, rule in part["rules"].items():
            verdict = "PASS" if rule["pass"] else "BELOW TARGET"
            log(f"{name}/solo tokens/s ratio: {rule['ratio']:.2f}x (target >= {rule['target']:.2f}x) {verdict}")


def main(argv: list[str] | None = None, log=print) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="base", help="base | fixture | PATH to a model directory")
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--generations", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch.set_num_threads on CPU (default 1; 0 = torch's own default). On a small shared "
                             "box, intra-op threads of a tiny model spin against other jobs and make timings erratic")
    parser.add_argument("--only", choices=["tandem", "trl", "rules"], default=None,
                        help="run one of the three benchmarks")
    parser.add_argument("--json", dest="json_out", default=None, help="write the figures to this JSON file")
    parser.add_argument("--profile", default=None, metavar="DIR",
                        help="also cProfile one call of each side of (b) and write .prof files to DIR")
    args = parser.parse_args(argv)

    return run_quietly(args.device, args.threads, lambda: _run(args, log))


def write_results(results: dict, path: str | None, log) -> None:
    """The figures as JSON (`--json OUT`), when asked for."""
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(results, indent=2))
        log(f"\nwrote {path}")


def run_quietly(device: str, threads: int, fn):
    """Run a benchmark with `threads` torch threads on CPU and the HF progress bars off, then put back what it
    changed globally (main() may run inside another process: the smoke tests)."""
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA device")
    from transformers.utils import logging as hf_logging

    previous = torch.get_num_threads(), hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    if threads and device == "cpu":
        torch.set_num_threads(threads)
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        return fn()
    finally:
        torch.set_num_threads(previous[0])
        hf_logging.set_verbosity(previous[1])
        if previous[2]:
            hf_logging.enable_progress_bar()


def _run(args, log) -> dict:
    device = torch.device(args.device)
    import transformers
    import trl

    model_path = resolve_model(args.model, log)
    prompts = make_prompts(args.prompts, args.seed)
    from tandem.models import load_model

    n_params = sum(p.numel() for p in load_model(model_path).parameters())
    results: dict = {
        "config": {
            "model": args.model, "model_path": str(model_path), "parameters": n_params, "device": args.device,
            "prompts": len(prompts), "generations": args.generations, "max_new_tokens": args.max_new_tokens,
            "repeats": args.repeats, "seed": args.seed, "torch_threads": torch.get_num_threads(),
            "torch_version": torch.__version__, "transformers_version": transformers.__version__,
            "trl_version": trl.__version__,
        }
    }
    common = dict(prompts=prompts, generations=args.generations, max_new_tokens=args.max_new_tokens,
                  repeats=args.repeats, device=device, seed=args.seed, log=log)
    if args.only in (None, "tandem"):
        log("(a) tandem vs solo ...")
        results["tandem_vs_solo"] = bench_tandem_vs_solo(model_path, **common)
    if args.only in (None, "trl"):
        log("(b) ours vs TRL ...")
        results["solo_vs_trl"] = bench_solo_vs_trl(model_path, **common,
                                                   profile_dir=Path(args.profile) if args.profile else None)
    if args.only in (None, "rules"):
        log("(c) handoff rules vs solo ...")
        results["rules_vs_solo"] = bench_rules_vs_solo(model_path, **common)
    report(results, log)
    write_results(results, args.json_out, log)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
