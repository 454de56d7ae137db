"""Training: HF TRL's GRPOTrainer with the tandem rollout plugged in as its `rollout_func`.

The rollout structure is the only change from GRPO: the senior and the frozen junior co-write each completion,
the verifier rewards the whole text, and junior-written tokens enter the loss with weight `junior_token_weight`
(0 in the paper: kept out, like tool output in agent RL) through `env_mask`, which TRL multiplies into the
completion mask as it is (a float mask stays float), so its token-mean losses become weighted token means. TRL supplies the loss variants,
the reference-KL, accelerate/DeepSpeed scaling, checkpoints and exact resume.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from .boundaries import token_flags
from .config import TandemConfig
from .data import TASKS, format_prompt, load_dataset, task_split
from .models import check_same_tokenizer, load_model, load_tokenizer
from .reward import team_rewards, zero_signal_groups
from .rollout import SENIOR, GenerationSettings, rule_schedule, tandem_rollout
from .rollout_log import RolloutRecorder

METRICS_FILE = "metrics.jsonl"
TENSORBOARD_DIR = "tensorboard"  # the run's TensorBoard event files, beside its checkpoints

# TRL's logged names -> ours (one row per optimizer step in metrics.jsonl).
TRL_METRICS = {
    "reward": "reward",
    "kl": "kl",
    "entropy": "entropy",
    "clip_ratio/region_mean": "clip_fraction",
    "loss": "loss",
    "grad_norm": "grad_norm",
    "learning_rate": "learning_rate",
    "completions/mean_length": "senior_completion_length",
}


def resolve_device(config: TandemConfig) -> torch.device:
    if config.device == "cuda" or (config.device == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError("device 'cuda' requested but torch sees no CUDA device")
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device("cpu")


def resolve_model_path(name_or_path: str) -> Path:
    if name_or_path == "base":
        from .base_model import build_base

        return build_base()
    path = Path(name_or_path)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"model_name_or_path: {path} is not a local model directory (no config.json)")
    return path


def load_problems(config: TandemConfig) -> list[dict]:
    """The training problems: a generated task's fixed training split (the same for every seed: seeds vary
    sampling and data order only), or a local dataset file."""
    if config.dataset in TASKS:
        return task_split(config.dataset, "train", config.dataset_size)
    return load_dataset(config.dataset)


@dataclass
class _StepStash:
    """What the rollout and the reward saw since the last log line (TRL's own metrics come via on_log)."""

    values: dict = field(default_factory=lambda: defaultdict(list))

    def add(self, **kw):
        for k, v in kw.items():
            self.values[k].append(v)

    def drain(self) -> dict:
        out = {}
        for k, v in self.values.items():
            out[k] = sum(v) if k in ("zero_signal_groups", "groups", "tokens", "rollout_seconds") else sum(v) / len(v)
        self.values = defaultdict(list)
        return out


def loss_weights(authors: list[list[int]], junior_weight: float) -> list[list[int]] | list[list[float]]:
    """Per completion token, its weight in the loss: 1 for the senior's, `junior_weight` for the junior's.
    A 0/1 mask stays int (exactly what TRL's GRPO path multiplies in); a fractional weight makes every row
    float, since TRL stacks the rows with the first row's dtype and an int first row would truncate 0.5 to 0."""
    if junior_weight in (0.0, 1.0):
        junior = int(junior_weight)
        return [[1 if a == SENIOR else junior for a in row] for row in authors]
    return [[1.0 if a == SENIOR else float(junior_weight) for a in row] for row in authors]


class TandemRolloutFunc:
    """GRPOTrainer's rollout_func: one co-generated completion per prompt entry it receives.

    TRL's sampler repeats each prompt num_generations times consecutively, so a group is G adjacent rows.
    The sampling generator is seeded from (seed, global step, call within step): a resumed run draws the
    same rollouts the uninterrupted run would have.
    """

    def __init__(self, junior, tokenizer, config: TandemConfig, stash: _StepStash, recorder: RolloutRecorder | None = None):
        self.junior, self.tokenizer, self.config, self.stash = junior, tokenizer, config, stash
        self.recorder = recorder
        self.flags = None
        self._calls: tuple[int, int] = (-1, 0)

    def __call__(self, prompts: list[str], trainer) -> dict:
        config = self.config
        senior = trainer.accelerator.unwrap_model(trainer.model)
        step = trainer.state.global_step
        call = self._calls[1] + 1 if self._calls[0] == step else 0
        self._calls = (step, call)
        device = next(senior.parameters()).device
        if self.flags is None:
            self.flags = token_flags(self.tokenizer, senior.config.vocab_size).to(device)
        rank = trainer.accelerator.process_index
        generator = torch.Generator(device=device).manual_seed(
            (config.seed * 1_000_003 + step * 1009 + call * 31 + rank) % (2**63)
        )
        settings = GenerationSettings(config.max_completion_length, config.temperature, config.top_p, config.top_k)
        was_training = senior.training
        senior.eval()
        result = tandem_rollout(
            senior, self.junior, self.tokenizer, prompts, 1, settings,
            rule_schedule(config.handoff_rule, config.p_junior), config.handoff_granularity, self.flags, generator,
            handoff_rule=config.handoff_rule, max_gap_tokens=config.max_gap_tokens, chunk_size=config.chunk_size,
        )
        senior.train(was_training)
        env_mask = loss_weights(result.authors, config.junior_weight)
        if self.recorder is not None:  # None: nobody keeps rollouts (tests, TRL's own generation path)
            self.recorder.add_rollout(prompts, result.completion_ids, result.authors, result.texts)
        self.stash.add(
            senior_token_share=result.senior_share,
            author_switches=result.switches_per_sequence,
            tokens=result.n_tokens,
            rollout_seconds=result.seconds,
            completion_length=result.n_tokens / len(result.completion_ids),
        )
        return {
            "prompt_ids": result.prompt_ids,
            "completion_ids": result.completion_ids,
            "logprobs": result.senior_logprobs,
            "env_mask": env_mask,
        }


def make_reward_func(config: TandemConfig, stash: _StepStash, recorder: RolloutRecorder | None = None):
    def team_reward(prompts, completions, answer, **kwargs) -> list[float]:
        rewards, verdicts = team_rewards(list(completions), list(answer))
        if recorder is not None:
            recorder.add_scores(rewards, verdicts)
        stash.add(
            accuracy=sum(v == "correct" for v in verdicts) / len(verdicts),
            unparseable=sum(v == "unparseable" for v in verdicts) / len(verdicts),
            zero_signal_groups=zero_signal_groups(rewards, config.num_generations),
            groups=len(rewards) // config.num_generations,
        )
        return rewards

    return team_reward


def read_metrics(output_dir: str | Path) -> list[dict]:
    path = Path(output_dir) / METRICS_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _truncate_metrics(output_dir: Path, last_step: int):
    """On resume, drop rows logged after the checkpoint we resume from: they will be logged again."""
    rows = [r for r in read_metrics(output_dir) if r["step"] <= last_step]
    (output_dir / METRICS_FILE).write_text("".join(json.dumps(r) + "\n" for r in rows))


def last_checkpoint(output_dir: Path) -> Path | None:
    """The newest complete checkpoint. The Trainer writes trainer_state.json last, so a process killed while
    saving leaves a checkpoint-N without it: skip that one and resume from the one before."""
    if not output_dir.is_dir():
        return None
    complete = [p for p in output_dir.glob("checkpoint-*")
                if p.name.split("-")[-1].isdigit() and (p / "trainer_state.json").is_file()]
    return max(complete, key=lambda p: int(p.name.split("-")[-1]), default=None)


def _make_callback(output_dir: Path, stash: _StepStash, start_time: float, log, on_step, should_stop, on_checkpoint,
                   recorder: RolloutRecorder, on_rollouts):
    from transformers import TrainerCallback

    class TandemCallback(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs or "loss" not in logs or not state.is_world_process_zero:
                return
            ours = stash.drain()
            row = {"step": state.global_step}
            row.update({ours_name: logs[trl_name] for trl_name, ours_name in TRL_METRICS.items() if trl_name in logs})
            row["accuracy"] = ours.get("accuracy")
            row["zero_signal_groups"] = ours.get("zero_signal_groups")
            row["groups"] = ours.get("groups")
            row["senior_token_share"] = ours.get("senior_token_share")
            row["author_switches"] = ours.get("author_switches")
            row["completion_length"] = ours.get("completion_length")
            row["tokens_per_second"] = ours["tokens"] / ours["rollout_seconds"] if ours.get("rollout_seconds") else None
            row["elapsed_s"] = round(time.time() - start_time, 2)
            with (output_dir / METRICS_FILE).open("a") as f:
                f.write(json.dumps(row) + "\n")
            logs.update(tracker_scalars(row, logs))  # the trackers' callbacks run after this one and log these too
            log(
                f"step {row['step']:4d}/{state.max_steps}  reward {row.get('reward', 0):.3f}  "
                f"kl {row.get('kl', 0) or 0:.4f}  senior share {row['senior_token_share']:.2f}  "
                f"zero-signal {row['zero_signal_groups']}/{row['groups']}  {row['tokens_per_second']:.0f} tok/s"
            )
            if on_step:
                on_step(row, state.max_steps)
            samples = recorder.drain()
            if on_rollouts and samples:
                on_rollouts(state.global_step, samples)
            self._maybe_stop(control)

        def on_step_end(self, args, state, control, **kwargs):
            self._maybe_stop(control)

        def on_save(self, args, state, control, **kwargs):
            if on_checkpoint and state.is_world_process_zero:
                on_checkpoint(state.global_step, output_dir / f"checkpoint-{state.global_step}")

        def _maybe_stop(self, control):
            if should_stop and should_stop():
                control.should_training_stop = True
                control.should_save = True  # a cancelled run can be resumed from where it stopped

    return TandemCallback()


def build_trainer(config: TandemConfig, log=print, on_step=None, should_stop=None, on_checkpoint=None, on_rollouts=None):
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    warnings.filterwarnings("ignore", message=".*gradient_checkpointing.*", category=FutureWarning)
    device = resolve_device(config)
    use_bf16 = config.bf16 if config.bf16 is not None else device.type == "cuda"
    dtype = torch.bfloat16 if use_bf16 else torch.float32
    senior_path = resolve_model_path(config.model_name_or_path)
    junior_path = resolve_model_path(config.junior_name_or_path) if config.junior_name_or_path else senior_path
    tokenizer = load_tokenizer(senior_path)
    check_same_tokenizer(tokenizer, load_tokenizer(junior_path), str(senior_path), str(junior_path))

    problems = load_problems(config)
    dataset = Dataset.from_list(
        [{"prompt": format_prompt(p["problem"]), "answer": p["answer"], "problem_id": p["id"]} for p in problems]
    )
    senior = load_model(senior_path, device, dtype)
    junior = load_model(junior_path, device, dtype) if config.p_junior > 0 else None
    if junior is not None:
        junior.requires_grad_(False)

    output_dir = Path(config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    args = GRPOConfig(
        output_dir=str(output_dir),
        per_device_train_batch_size=config.per_device_train_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        num_generations=config.num_generations,
        max_steps=config.max_steps,
        learning_rate=config.learning_rate,
        lr_scheduler_type="constant",
        beta=config.beta,
        epsilon=config.epsilon,
        epsilon_high=config.epsilon_high if config.epsilon_high is not None else config.epsilon,
        loss_type=config.loss_type,
        scale_rewards=config.scale_rewards,
        num_iterations=config.num_iterations,
        max_completion_length=config.max_completion_length,
        temperature=config.temperature,
        top_p=config.top_p,
        top_k=config.top_k,
        seed=config.seed,
        save_strategy="steps",
        save_steps=config.save_steps,
        logging_steps=config.logging_steps,
        report_to=_enable_trackers(config.report_to, output_dir),
        trackio_space_id=None,  # trackio logs to its local store only: no Space, no sync to the Hub
        trackio_static_space_id=False,
        disable_tqdm=True,
        remove_unused_columns=False,
        use_cpu=device.type == "cpu",
        bf16=use_bf16,
    )
    stash = _StepStash()
    # Rollouts are kept only when someone takes them, and only by rank 0, the one process that logs.
    keep_groups = config.rollout_log_groups if on_rollouts and int(os.environ.get("RANK", "0")) == 0 else 0
    recorder = RolloutRecorder(tokenizer, config.num_generations, keep_groups, config.scale_rewards)
    trainer = GRPOTrainer(
        model=senior,
        reward_funcs=make_reward_func(config, stash, recorder=recorder),
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        rollout_func=TandemRolloutFunc(junior, tokenizer, config, stash, recorder),
    )
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # our callback prints one readable line per step instead
    _add_before_trackers(trainer, _make_callback(output_dir, stash, time.time(), log, on_step, should_stop,
                                                 on_checkpoint, recorder, on_rollouts))
    return trainer


def tracker_scalars(row: dict, logs: dict) -> dict:
    """Our metrics.jsonl values the trackers should log too, under the run_metrics names: every number in the row
    that TRL did not log under the same name already (its own names, e.g. clip_ratio/region_mean, stay as well)."""
    return {k: v for k, v in row.items()
            if k != "step" and k not in logs and isinstance(v, (int, float)) and not isinstance(v, bool)}


def _enable_trackers(report_to: list[str], output_dir: Path) -> list[str]:
    """Transformers' report_to for the config's trackers. Nothing may reach the network: wandb is forced offline
    (its run files go beside the checkpoints; `wandb sync` uploads them later if wanted) and trackio gets no Space."""
    if "wandb" in report_to:
        os.environ["WANDB_MODE"] = "offline"
        os.environ["WANDB_DIR"] = str(output_dir)  # per run: one worker process trains many
    return [] if report_to == ["none"] else list(report_to)


def _add_before_trackers(trainer, callback):
    """Add our callback ahead of the trackers' (TensorBoard, wandb, trackio), so that its on_log has put our metric
    names into `logs` when they log it; point TensorBoard's event files at <output_dir>/tensorboard (Transformers'
    default is a time-stamped folder under runs/, and its only other switch is a process-wide variable)."""
    from transformers.integrations import TensorBoardCallback, get_reporting_integration_callbacks

    trackers = tuple(get_reporting_integration_callbacks(trainer.args.report_to))
    callbacks = trainer.callback_handler.callbacks
    for cb in callbacks:
        if isinstance(cb, TensorBoardCallback):
            cb.logging_dir = str(Path(trainer.args.output_dir) / TENSORBOARD_DIR)
    first = next((i for i, cb in enumerate(callbacks) if isinstance(cb, trackers)), len(callbacks))
    callbacks.insert(first, callback)


@dataclass
class TrainResult:
    output_dir: Path
    final_step: int
    resumed_from: int | None
    completed: bool  # False when stopped early (cancelled)


def train(
    config: TandemConfig,
    log: Callable[[str], None] = print,
    on_step: Callable[[dict, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_checkpoint: Callable[[int, Path], None] | None = None,
    on_rollouts: Callable[[int, list[dict]], None] | None = None,
) -> TrainResult:
    """Train (or resume) a run in config.output_dir; metrics.jsonl gets one row per logged step, and
    `on_rollouts(step, samples)` the chosen rollout groups of each logged step (rollout_log.RolloutRecorder)."""
    config.validate()
    output_dir = Path(config.output_dir)
    main_process = int(os.environ.get("RANK", "0")) == 0  # under accelerate/torchrun, rank 0 owns the files
    resume = last_checkpoint(output_dir)
    resumed_from = None
    if resume is not None:
        resumed_from = int(resume.name.split("-")[-1])
        if main_process:
            _truncate_metrics(output_dir, resumed_from)
        log(f"resuming from {resume} (step {resumed_from})")
    elif main_process and (output_dir / METRICS_FILE).exists():
        (output_dir / METRICS_FILE).unlink()  # a fresh start: no rows from an earlier attempt without checkpoint
    trainer = build_trainer(config, log, on_step, should_stop, on_checkpoint, on_rollouts)
    if main_process:
        run_info = {"algorithm": config.algorithm, "config": config.to_dict()}
        (output_dir / "run.json").write_text(json.dumps(run_info, indent=2))
    trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    final_step = trainer.state.global_step
    completed = final_step >= config.max_steps
    final_dir = output_dir / "final"
    trainer.save_model(str(final_dir))
    if completed and main_process:
        (final_dir / "checkpoint.json").write_text(
            json.dumps({"step": final_step, "algorithm": config.algorithm, "config": config.to_dict()}, indent=2)
        )
    return TrainResult(output_dir, final_step, resumed_from, completed)
