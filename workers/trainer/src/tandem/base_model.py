"""The tiny default base model: a locally trained byte-level BPE tokenizer and a Qwen3-architecture causal LM,
pre-trained on CPU on a generated task (`data.TASKS`; the default is digit chains, written half in the legible
style and half in the compressed one) and saved in Hugging Face format.

A weaker junior comes with it: the same pre-training run's weights at `weak_junior_step` (same tokenizer, fewer
steps), saved in `<base>/weak-junior`. The paper pairs "a trained, stronger senior" with "a frozen, weaker
junior"; the self-paired junior (the base itself) is the default, the weak one is the alternative to study.

Reproducible from a seed (fixed step count, seeded data and init, deterministic CPU kernels) and cached: a
directory whose `build.json` records the same recipe is reused instead of rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .data import TASKS, format_prompt, task_split

EOS, PAD = "<|endoftext|>", "<|pad|>"
RECIPE_VERSION = 2  # bump when the build code changes what it produces


@dataclass(frozen=True)
class BaseModelRecipe:
    """Defaults: the digit-chain base (measured on 200 validation chains: greedy 0.62, 0.51 at the paper's evaluation
    sampling, 0.21 at temperature 1; its weak junior 0.16 at the paper's sampling). The pre-training solutions slip
    on 20% of their steps (`slip_rate`), so the base writes a slip about as often: an error shared by every problem
    and every step, the kind RL with a verifier can remove, rather than facts it would have to learn one by one."""

    seed: int = 0
    vocab_size: int = 1024
    hidden_size: int = 128
    intermediate_size: int = 384
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    max_position_embeddings: int = 512
    task: str = "digit_chains"  # a key of data.TASKS
    style: str = "mixed"  # digit chains: legible, compressed, or mixed half and half
    n_train_problems: int = 20000
    min_difficulty: int = 2  # operations per problem
    max_difficulty: int = 5
    slip_rate: float = 0.2  # digit chains: share of pre-training solution steps that slip (data.chain_solution)
    train_steps: int = 700
    batch_size: int = 64
    learning_rate: float = 2e-3
    warmup_steps: int = 30
    weak_junior_step: int = 200  # also save the weights after this many steps as <base>/weak-junior; 0 = none
    version: int = RECIPE_VERSION

    def splits(self, n_train: int, n_eval: int):
        """The task's pre-training problems (seeded by the recipe) and held-out ones."""
        if self.task not in TASKS:
            raise ValueError(f"recipe task must be one of {sorted(TASKS)}, got {self.task!r}")
        if self.task == "digit_chains":
            return TASKS[self.task](n_train=n_train, n_eval=n_eval, seed=self.seed, min_steps=self.min_difficulty,
                                    max_steps=self.max_difficulty, style=self.style, slip_rate=self.slip_rate)
        return TASKS[self.task](n_train=n_train, n_eval=n_eval, seed=self.seed, max_steps=self.max_difficulty)

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]


# Seconds to build; for unit tests only (its accuracy is near zero, its shapes are real).
FIXTURE_RECIPE = BaseModelRecipe(
    task="arithmetic", min_difficulty=1, max_difficulty=3, slip_rate=0.0, weak_junior_step=0, vocab_size=384, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
    num_key_value_heads=1, n_train_problems=600, train_steps=30, batch_size=16,
)


WEAK_JUNIOR_DIR = "weak-junior"


def default_cache_dir() -> Path:
    return Path(os.environ.get("TANDEM_CACHE", Path.home() / ".cache" / "tandem"))


def train_tokenizer(texts: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=[EOS, PAD], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=PAD, clean_up_tokenization_spaces=False)


def make_model(recipe: BaseModelRecipe, tokenizer):
    from transformers import Qwen3Config, Qwen3ForCausalLM

    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=recipe.hidden_size,
        intermediate_size=recipe.intermediate_size,
        num_hidden_layers=recipe.num_hidden_layers,
        num_attention_heads=recipe.num_attention_heads,
        num_key_value_heads=recipe.num_key_value_heads,
        head_dim=recipe.hidden_size // recipe.num_attention_heads,
        max_position_embeddings=recipe.max_position_embeddings,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.eos_token_id,
    )
    return Qwen3ForCausalLM(config)


def _encode_examples(problems: list[dict], tokenizer) -> list[tuple[list[int], int]]:
    """(token ids of prompt + solution + eos, prompt length): the loss covers the solution only."""
    out = []
    for p in problems:
        prompt = tokenizer.encode(format_prompt(p["problem"]))
        answer = tokenizer.encode(p["solution"]) + [tokenizer.eos_token_id]
        out.append((prompt + answer, len(prompt)))
    return out


def _batch(examples, pad_id: int):
    width = max(len(ids) for ids, _ in examples)
    input_ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), -100, dtype=torch.long)
    attention = torch.zeros((len(examples), width), dtype=torch.long)
    for i, (ids, n_prompt) in enumerate(examples):
        input_ids[i, : len(ids)] = torch.tensor(ids)
        labels[i, n_prompt : len(ids)] = torch.tensor(ids[n_prompt:])
        attention[i, : len(ids)] = 1
    return input_ids, labels, attention


def pretrain(recipe: BaseModelRecipe, out_dir: Path, log=print) -> dict:
    # One thread: the same weights on every machine (float sums in another order can tip a run this small into a
    # different model), and no slower for a model this size on a shared 2-core box.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _pretrain(recipe, out_dir, log)
    finally:
        torch.set_num_threads(threads)


def _pretrain(recipe: BaseModelRecipe, out_dir: Path, log=print) -> dict:
    torch.manual_seed(recipe.seed)
    rng = random.Random(recipe.seed)
    splits = recipe.splits(recipe.n_train_problems, 1)
    texts = [format_prompt(p["problem"]) + p["solution"] for p in splits.train]
    tokenizer = train_tokenizer(texts, recipe.vocab_size)
    model = make_model(recipe, tokenizer)
    examples = _encode_examples(splits.train, tokenizer)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"tiny base model: {n_params / 1e6:.2f} M parameters, vocab {len(tokenizer)}, {recipe.train_steps} steps")

    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate, weight_decay=0.01, betas=(0.9, 0.95))

    def lr_at(step: int) -> float:
        if step < recipe.warmup_steps:
            return (step + 1) / recipe.warmup_steps
        progress = (step - recipe.warmup_steps) / max(1, recipe.train_steps - recipe.warmup_steps)
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)
    model.train()
    start, order = time.time(), []
    for step in range(recipe.train_steps):
        if len(order) < recipe.batch_size:
            order += rng.sample(range(len(examples)), len(examples))
        batch = [examples[order.pop()] for _ in range(recipe.batch_size)]
        input_ids, labels, attention = _batch(batch, tokenizer.pad_token_id)
        loss = model(input_ids=input_ids, attention_mask=attention, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        if recipe.weak_junior_step and step + 1 == recipe.weak_junior_step:
            model.save_pretrained(out_dir / WEAK_JUNIOR_DIR)
            tokenizer.save_pretrained(out_dir / WEAK_JUNIOR_DIR)
            log(f"  saved the weak junior (step {step + 1}) to {out_dir / WEAK_JUNIOR_DIR}")
        if step % 50 == 0 or step == recipe.train_steps - 1:
            log(f"  step {step + 1:4d}/{recipe.train_steps}  loss {loss.item():.3f}  {time.time() - start:5.0f}s")
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return {"parameters": n_params, "train_seconds": round(time.time() - start, 1), "final_loss": round(loss.item(), 4)}


def build_base(
    out_dir: str | Path | None = None, recipe: BaseModelRecipe = BaseModelRecipe(), force: bool = False,
    evaluate_problems: int = 200, log=print,
) -> Path:
    """Build (or reuse) the base model; returns its directory. Records the recipe and solo pass@1 in build.json."""
    out_dir = Path(out_dir) if out_dir else default_cache_dir() / f"base-{recipe.key()}"
    marker = out_dir / "build.json"
    if not force and marker.is_file():
        built = json.loads(marker.read_text())
        if built.get("recipe") == asdict(recipe):
            log(f"reusing base model at {out_dir} (solo pass@1 {built.get('solo_pass_at_1')})")
            return out_dir
    info = pretrain(recipe, out_dir, log=log)
    if evaluate_problems:
        info["solo_pass_at_1"] = solo_pass_rate(out_dir, evaluate_problems, recipe)
        log(f"solo pass@1 on {evaluate_problems} eval problems: {info['solo_pass_at_1']:.3f}")
    marker.write_text(json.dumps({"recipe": asdict(recipe), **info}, indent=2))
    return out_dir


def solo_pass_rate(model_dir: Path, n: int, recipe: BaseModelRecipe = BaseModelRecipe(), temperature: float = 1.0) -> float:
    """Share of held-out problems solved by one sampled solo completion (the signal RL starts from)."""
    from .evaluate import EvalSettings, evaluate_models
    from .models import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(model_dir)
    problems = task_split(recipe.task, "validation", n)
    settings = EvalSettings(k=1, temperature=temperature, max_new_tokens=96, seed=recipe.seed)
    result = evaluate_models(model, None, tokenizer, problems, ["solo"], settings, log=lambda *_: None)
    return result["metrics"]["solo_mean_at_k"]["value"]
