"""Training-step time: tandem (p_junior 0.5, the paper's handoff rule) vs GRPO (p_junior 0), in one process.

Both sides are trainers from `tandem.trainer.build_trainer` on the same model, prompts and seed, differing only
in p_junior. One step is what Trainer.train() does per optimizer step at gradient_accumulation_steps 1:
`trainer.training_step` (TRL's `_prepare_inputs`: our rollout_func, the verifier reward, group advantages; then
`compute_loss` and backward), gradient clipping, `optimizer.step`, `lr_scheduler.step`, `zero_grad`. After each
timed step the weights and optimizer state are put back (untimed), so every repeat starts from the same model;
repeat r rolls out with the seed of global step r on both sides. Sides are interleaved (tandem, GRPO, ...) after
one warm-up step each; figures are medians; ratio = median(tandem) / median(GRPO) step seconds.

The tandem step costs a junior forward pass per token in the rollout and nothing extra in the loss, so the
ratio sits between 1x (loss-dominated) and 2x (rollout-dominated). Target <= 1.5x on CPU (the paper's vLLM
code reports 1.8x on GPU).

    python bench/train_step_time.py [--quick] [--model base|fixture|PATH] [--prompts 8] [--generations 8]
        [--max-new-tokens 96] [--repeats 5] [--device cpu|cuda] [--threads 1] [--set KEY=VALUE ...] [--json OUT]
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rollout_throughput import _timed, interleave_many, resolve_model, run_quietly, write_results  # noqa: E402

STEP_TARGET = 1.5  # tandem/GRPO step time, at most
QUICK = {"model": "fixture", "prompts": 2, "generations": 4, "max_new_tokens": 16, "repeats": 2}


def _config(model_path: Path, out_dir: Path, p_junior: float, args, overrides: dict):
    from tandem.config import TandemConfig

    names = {f.name for f in dataclasses.fields(TandemConfig)}
    values = dict(
        model_name_or_path=str(model_path), output_dir=str(out_dir), p_junior=p_junior, seed=args.seed,
        num_generations=args.generations, per_device_train_batch_size=args.prompts * args.generations,
        gradient_accumulation_steps=1, max_completion_length=args.max_new_tokens, dataset_size=max(args.prompts, 8),
        max_steps=args.repeats + 1, save_steps=100_000, device=args.device,
    )
    if "handoff_rule" in names:
        values["handoff_rule"] = "paper"
    values.update(overrides)
    return TandemConfig.from_dict(values, source="bench config")


def build_side(model_path, out_dir, p_junior, args, overrides):
    """A trainer ready to step by hand: optimizer and scheduler created, checkpointing as train() sets it."""
    from tandem.trainer import build_trainer

    config = _config(model_path, out_dir, p_junior, args, overrides)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer = build_trainer(config, log=lambda *_: None)
    trainer.create_optimizer_and_scheduler(num_training_steps=config.max_steps)
    trainer.current_gradient_accumulation_steps = 1  # Trainer.train() sets this per accumulation window
    targs = trainer.args
    if getattr(targs, "activation_checkpointing", False) or getattr(targs, "gradient_checkpointing", False):
        kwargs = getattr(targs, "activation_checkpointing_kwargs", None) or targs.gradient_checkpointing_kwargs
        with warnings.catch_warnings():  # transformers 5 renamed it activation checkpointing; same switch
            warnings.simplefilter("ignore", FutureWarning)
            trainer.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=dict(kwargs or {}) or None)
    return trainer, config


def make_step(trainer, rows: list[dict], device):
    """fn(repeat) -> record of one full training step on `rows` (see the module docstring)."""
    model = trainer.model
    weights = copy.deepcopy(model.state_dict())
    optimizer_state = copy.deepcopy(trainer.optimizer.state_dict())
    scheduler_state = copy.deepcopy(trainer.lr_scheduler.state_dict())
    stash = trainer.rollout_func.stash

    def one_step():
        loss = trainer.training_step(model, rows, None)
        if trainer.args.max_grad_norm and trainer.args.max_grad_norm > 0:
            trainer.accelerator.clip_grad_norm_(model.parameters(), trainer.args.max_grad_norm)
        trainer.optimizer.step()
        trainer.lr_scheduler.step()
        model.zero_grad(set_to_none=True)
        return loss

    def step(r: int) -> dict:
        trainer.state.global_step = max(r, 0)  # the rollout seed follows the step: the same on both sides
        stash.drain()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loss, seconds = _timed(one_step, device)
        seen = stash.drain()
        with torch.no_grad():  # untimed: back to the starting model for the next repeat
            model.load_state_dict(weights)
        trainer.optimizer.load_state_dict(optimizer_state)
        trainer.lr_scheduler.load_state_dict(scheduler_state)
        tokens = seen.get("tokens", 0)
        return {"seconds": seconds, "rollout_seconds": seen.get("rollout_seconds", 0.0),
                "other_seconds": seconds - seen.get("rollout_seconds", 0.0), "tokens": tokens,
                "seconds_per_1k_tokens": 1000 * seconds / tokens if tokens else float("nan"),
                "senior_share": seen.get("senior_token_share"), "accuracy": seen.get("accuracy"),
                "loss": float(loss)}

    return step


def _summary(runs: list[dict]) -> dict:
    out = {k: statistics.median(r[k] for r in runs)
           for k in ("seconds", "rollout_seconds", "other_seconds", "tokens", "seconds_per_1k_tokens")}
    out["senior_share"] = statistics.mean(r["senior_share"] for r in runs)
    out["runs"] = runs
    return out


def bench_step_time(model_path, args, overrides: dict, log=print) -> dict:
    from tandem.trainer import TandemRolloutFunc

    device = torch.device(args.device)
    with tempfile.TemporaryDirectory(prefix="tandem-bench-step-") as tmp:
        tandem, tandem_config = build_side(model_path, Path(tmp) / "tandem", 0.5, args, overrides)
        grpo, _ = build_side(model_path, Path(tmp) / "grpo", 0.0, args, overrides)
        for trainer in (tandem, grpo):
            assert isinstance(trainer.rollout_func, TandemRolloutFunc)
        # the same prompt rows on both sides, as TRL's sampler hands them over: each prompt G times in a row
        dataset = tandem.train_dataset
        rows = [dict(dataset[i]) for i in range(args.prompts) for _ in range(args.generations)]
        assert rows == [dict(grpo.train_dataset[i]) for i in range(args.prompts) for _ in range(args.generations)]
        runs = interleave_many({"tandem": make_step(tandem, rows, device), "grpo": make_step(grpo, rows, device)},
                               args.repeats, log, metric="seconds", unit="s")
    t, g = _summary(runs["tandem"]), _summary(runs["grpo"])
    ratio = t["seconds"] / g["seconds"]
    paired = statistics.median(a["seconds"] / b["seconds"] for a, b in zip(runs["tandem"], runs["grpo"]))
    per_token = t["seconds_per_1k_tokens"] / g["seconds_per_1k_tokens"]
    rule = getattr(tandem_config, "handoff_rule", "whole_word (this checkout has no handoff_rule)")
    return {"tandem": t, "grpo": g, "ratio": ratio, "paired_ratio": paired, "per_token_ratio": per_token,
            "handoff_rule": rule, "target": STEP_TARGET, "pass": ratio <= STEP_TARGET,
            "config": tandem_config.to_dict()}


def report(results: dict, log=print):
    cfg, part = results["config"], results["step_time"]
    log("")
    log(f"training-step time: model {cfg['model']} ({cfg['parameters'] / 1e6:.2f} M params), device {cfg['device']}, "
        f"{cfg['prompts']} prompts x {cfg['generations']} generations, max {cfg['max_new_tokens']} new tokens, "
        f"median of {cfg['repeats']} interleaved repeats, torch threads {cfg['torch_threads']}, "
        f"beta {part['config']['beta']}, loss {part['config']['loss_type']}")
    log(f"  tandem: p_junior 0.5, handoff_rule {part['handoff_rule']}; GRPO: p_junior 0 (same code path, no junior)")
    log(f"  {'side':<8} {'step s':>9} {'rollout s':>10} {'rest s':>9} {'tokens':>8} {'s/1k tok':>9} {'senior':>7}")
    for name in ("tandem", "grpo"):
        s = part[name]
        log(f"  {name:<8} {s['seconds']:9.3f} {s['rollout_seconds']:10.3f} {s['other_seconds']:9.3f} "
            f"{s['tokens']:8.0f} {s['seconds_per_1k_tokens']:9.3f} {s['senior_share']:7.2f}")
    verdict = "PASS" if part["pass"] else "ABOVE TARGET"
    log(f"  (median of per-repeat ratios: {part['paired_ratio']:.2f}x; per completion token: "
        f"{part['per_token_ratio']:.2f}x)")
    log(f"tandem/GRPO step time ratio: {part['ratio']:.2f}x (target <= {part['target']:.2f}x) {verdict}")


def _parse_set(items: list[str]) -> dict:
    import yaml

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set {item!r}: expected KEY=VALUE")
        out[key] = yaml.safe_load(value)
    return out


def main(argv: list[str] | None = None, log=print) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="CI smoke: " + ", ".join(f"{k.replace('_', '-')} {v}" for k, v in QUICK.items())
                        + " (explicit options still win)")
    parser.add_argument("--model", default=None, help="base (default) | fixture | PATH to a model directory")
    parser.add_argument("--prompts", type=int, default=None, help="prompts per step (default 8)")
    parser.add_argument("--generations", type=int, default=None, help="completions per prompt (default 8)")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="max_completion_length (default 96)")
    parser.add_argument("--repeats", type=int, default=None, help="timed steps per side (default 5)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch.set_num_threads on CPU (default 1; 0 = torch's own default)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="any other TandemConfig field for both sides (e.g. --set beta=0)")
    parser.add_argument("--json", dest="json_out", default=None, help="write the figures to this JSON file")
    args = parser.parse_args(argv)
    defaults = {"model": "base", "prompts": 8, "generations": 8, "max_new_tokens": 96, "repeats": 5}
    for key, value in (QUICK if args.quick else defaults).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    overrides = _parse_set(args.overrides)
    return run_quietly(args.device, args.threads, lambda: _run(args, overrides, log))


def _run(args, overrides: dict, log) -> dict:
    import transformers
    import trl

    from tandem.models import load_model

    model_path = resolve_model(args.model, log)
    n_params = sum(p.numel() for p in load_model(model_path).parameters())
    results: dict = {"config": {
        "model": args.model, "model_path": str(model_path), "parameters": n_params, "device": args.device,
        "prompts": args.prompts, "generations": args.generations, "max_new_tokens": args.max_new_tokens,
        "repeats": args.repeats, "seed": args.seed, "torch_threads": torch.get_num_threads(),
        "overrides": overrides, "torch_version": torch.__version__,
        "transformers_version": transformers.__version__, "trl_version": trl.__version__,
    }}
    log("tandem vs GRPO training step ...")
    results["step_time"] = bench_step_time(model_path, args, overrides, log)
    report(results, log)
    write_results(results, args.json_out, log)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
