"""The learning is real: GRPO through our rollout_func learns, as fast as through TRL's own generation, and the
loss TRL computes on a tandem batch is the masked token-level GRPO loss we claim (checked against one written
out by hand).

Toy task for the learning tests: reward 1 when a completion's first token is one fixed token that the fixture
model almost never starts with (~1%), else 0. It needs no arithmetic skill, so the only way up is the policy
gradient, and a working pipeline reaches ~1.0 within tens of steps on the fixture model.
"""

from __future__ import annotations

import re
import statistics
from importlib.metadata import version
from pathlib import Path

import pytest
import torch

import tandem.trainer as trainer_module
from tandem.config import TandemConfig
from tandem.models import load_model, load_tokenizer
from tandem.rollout import SENIOR

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

# ---------------------------------------------------------------- helpers

LEARN_STEPS, LEARN_LR, LEARN_SEEDS = 40, 3e-2, (0, 1, 2)
FINAL_WINDOW = 10  # steps at the end whose mean reward counts as "reached"


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One intra-op thread: a tiny model's ops are too small to split, and on a loaded 2-core box two spinning
    threads made these runs ~10x slower (65 s instead of 6 s per 40-step run). Results are the same."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _config(model_dir, out, **kw) -> TandemConfig:
    base = dict(model_name_or_path=str(model_dir), output_dir=str(out), num_generations=8,
                per_device_train_batch_size=32, save_steps=100_000, max_completion_length=2, dataset_size=200,
                learning_rate=LEARN_LR, max_steps=LEARN_STEPS, beta=0.0, p_junior=0.0, temperature=1.0,
                dataset="arithmetic")  # the fixture model was pre-trained on the word problems
    return TandemConfig(**{**base, **kw}).validate()


def _use_reward(monkeypatch, reward):
    """build_trainer's reward function replaced by `reward(completion_ids) -> list[float]`, the rest untouched."""

    def make(config, stash, recorder=None):
        def toy_reward(prompts, completions, completion_ids, **kwargs):
            return reward(completion_ids)

        return toy_reward

    monkeypatch.setattr(trainer_module, "make_reward_func", make)


def _without_tandem_callback(trainer):
    """Our metrics callback reads what TandemRolloutFunc stashed; on TRL's own path nothing is stashed."""
    for cb in list(trainer.callback_handler.callbacks):
        if type(cb).__name__ == "TandemCallback":
            trainer.callback_handler.remove_callback(cb)


@pytest.fixture(scope="module")
def target_token(fixture_model_dir) -> int:
    """A token the fixture model puts ~1% of its first-token mass on: rare at the start, learnable."""
    tokenizer, model = load_tokenizer(fixture_model_dir), load_model(fixture_model_dir)
    token = tokenizer.convert_tokens_to_ids("4")
    from tandem.data import arithmetic_splits, format_prompt

    problems = arithmetic_splits(n_train=20, n_eval=1, seed=0).train
    with torch.no_grad():
        p = statistics.mean(
            model(input_ids=torch.tensor([tokenizer.encode(format_prompt(x["problem"]))])).logits[0, -1]
            .softmax(-1)[token].item() for x in problems)
    assert 0.001 < p < 0.1, f"the toy task needs a rare but reachable first token; p({token}) = {p:.4f}"
    return token


@pytest.fixture(scope="module")
def curves(fixture_model_dir, target_token, tmp_path_factory):
    """Reward per step for (path, seed), trained on demand and kept for the module. path: ours | trl."""
    cache: dict = {}

    def get(path: str, seed: int) -> list[float]:
        if (path, seed) not in cache:
            with pytest.MonkeyPatch.context() as mp:
                _use_reward(mp, lambda ids: [1.0 if c and c[0] == target_token else 0.0 for c in ids])
                out = tmp_path_factory.mktemp(f"learn-{path}-{seed}")
                trainer = trainer_module.build_trainer(_config(fixture_model_dir, out, seed=seed), log=lambda *_: None)
                calls = []
                if path == "trl":
                    trainer.rollout_func = None  # TRL's own transformers generation path, all else the same
                    _without_tandem_callback(trainer)
                else:
                    inner = trainer.rollout_func
                    trainer.rollout_func = lambda prompts, t: (calls.append(len(prompts)), inner(prompts, t))[1]
                trainer.train()
                assert (len(calls) == LEARN_STEPS) if path == "ours" else not calls
                rewards = [h["reward"] for h in trainer.state.log_history if "reward" in h]
                assert len(rewards) == LEARN_STEPS
                cache[(path, seed)] = rewards
        return cache[(path, seed)]

    return get


def _final(curve: list[float]) -> float:
    return statistics.mean(curve[-FINAL_WINDOW:])


# ---------------------------------------------------------------- (a), (b) learning


def test_grpo_through_our_rollout_func_learns_a_toy_reward(curves):
    for seed in LEARN_SEEDS:
        curve = curves("ours", seed)
        assert statistics.mean(curve[:3]) < 0.2, f"seed {seed}: the task was not hard at the start: {curve[:3]}"
        assert _final(curve) > 0.9, f"seed {seed}: did not learn: {[round(r, 2) for r in curve]}"


def test_our_rollout_func_learns_like_trl_own_generation(curves):
    ours = [curves("ours", s) for s in LEARN_SEEDS]
    trl = [curves("trl", s) for s in LEARN_SEEDS]
    for seed, curve in zip(LEARN_SEEDS, trl):
        assert _final(curve) > 0.9, f"TRL path, seed {seed}: did not learn: {[round(r, 2) for r in curve]}"
    final_gap = abs(statistics.mean(map(_final, ours)) - statistics.mean(map(_final, trl)))
    assert final_gap < 0.05, final_gap
    # Speed of learning: mean reward over all steps (area under the curve), seed-averaged. Seed-to-seed spread of
    # one run's area is ~0.1 here, so 0.2 between 3-seed means flags a real difference, not noise.
    area_gap = abs(statistics.mean(map(statistics.mean, ours)) - statistics.mean(map(statistics.mean, trl)))
    assert area_gap < 0.2, (area_gap, [round(statistics.mean(c), 2) for c in ours],
                            [round(statistics.mean(c), 2) for c in trl])


# ---------------------------------------------------------------- (c), (d) the loss on one fixed tandem batch

G, N_PROMPTS = 4, 3
# group 0 mixed, group 1 all equal (zero advantage, no gradient), group 2 mixed
PRESET_REWARDS = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0]
TEMPERATURE = 0.7


@pytest.fixture
def tandem_trainer(fixture_model_dir, tmp_path, monkeypatch):
    """build(beta) -> (trainer, recorded): a TRL trainer from build_trainer at p_junior 0.5 with the preset
    rewards; `recorded` collects each RolloutResult and each rollout_func output as they happen."""
    recorded = {"results": [], "outputs": []}
    real_rollout = trainer_module.tandem_rollout

    def recording_rollout(*args, **kwargs):
        result = real_rollout(*args, **kwargs)
        recorded["results"].append(result)
        return result

    monkeypatch.setattr(trainer_module, "tandem_rollout", recording_rollout)
    _use_reward(monkeypatch, lambda ids: list(PRESET_REWARDS))

    def build(beta: float, junior_weight: float = 0.0):
        weight = {"junior_token_weight": junior_weight} if junior_weight else {}
        config = _config(fixture_model_dir, tmp_path / f"beta-{beta}", p_junior=0.5, beta=beta, loss_type="dapo",
                         num_generations=G, per_device_train_batch_size=G * N_PROMPTS, max_completion_length=12,
                         temperature=TEMPERATURE, learning_rate=1e-3, epsilon=0.2, max_steps=1, **weight)
        trainer = trainer_module.build_trainer(config, log=lambda *_: None)
        # Move the policy away from the reference (the starting weights) so the KL term has a gradient.
        gen = torch.Generator().manual_seed(7)
        with torch.no_grad():
            for p in trainer.model.parameters():
                p.add_(torch.randn(p.shape, generator=gen) * 0.05)
        inner = trainer.rollout_func

        def recording_func(prompts, t):
            out = inner(prompts, t)
            recorded["outputs"].append(out)
            return out

        trainer.rollout_func = recording_func
        # Trainer.train() sets this per accumulation window; one window of one micro-batch here.
        trainer.current_gradient_accumulation_steps = 1
        trainer.model.train()
        return trainer, recorded

    return build


def _rows(trainer) -> list[dict]:
    """What TRL's sampler hands a generation step: each prompt row G times in a row."""
    return [dict(trainer.train_dataset[i]) for i in range(N_PROMPTS) for _ in range(G)]


def _trl_loss_and_grads(trainer, batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    trainer.model.zero_grad(set_to_none=True)
    loss = trainer.compute_loss(trainer.model, batch)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in trainer.model.named_parameters() if p.grad is not None}
    trainer.model.zero_grad(set_to_none=True)
    return loss.detach(), grads


def _pad(rows: list[list[int]], value: int, left: bool) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([[value] * (width - len(r)) + r if left else r + [value] * (width - len(r)) for r in rows])


def _hand_loss_and_grads(model_dir, policy_state, result, rewards, beta, junior_weight=0.0, kl_times_ratio=True):
    """The masked token-level GRPO loss written out with torch, on a fresh copy of the policy's weights:
    advantage A_i = (r_i - mean_group) / (std_group + 1e-4) (std with Bessel's correction, as TRL's);
    ratio rho = exp(logp - logp_old) with logp_old = logp detached (one policy update per batch: rho = 1);
    per-token loss -min(rho A, clip(rho, 1 - eps, 1 + eps) A) + beta * k3 * rho, with the k3 estimator
    k3 = exp(ref - logp) - (ref - logp) - 1. The factor rho is TRL's default `use_bias_correction_kl`: 1 in
    value, but its gradient turns k3's into the unbiased reverse-KL gradient (kl_times_ratio=False drops it);
    DAPO normalisation: the weighted sum over the batch's tokens / the sum of their weights; weight = 1 for a
    completion token (up to and including EOS) the senior wrote, junior_weight for the junior's (0: masked)."""
    tokenizer = load_tokenizer(model_dir)
    pad_id = tokenizer.pad_token_id
    policy = load_model(model_dir)
    policy.load_state_dict(policy_state)
    policy.train()
    reference = load_model(model_dir)  # the starting weights: TRL's reference, our default junior

    prompts = _pad(result.prompt_ids, pad_id, left=True)
    completions = _pad(result.completion_ids, pad_id, left=False)
    prompt_mask = _pad([[1] * len(p) for p in result.prompt_ids], 0, left=True)
    completion_mask = _pad([[1] * len(c) for c in result.completion_ids], 0, left=False)
    senior = _pad([[1 if a == SENIOR else 0 for a in authors] for authors in result.authors], 0, left=False)
    mask = completion_mask * (senior + junior_weight * (1 - senior)).float()
    ids = torch.cat([prompts, completions], 1)
    attention = torch.cat([prompt_mask, completion_mask], 1)
    width = completions.shape[1]

    def token_logps(model):
        logits = model(input_ids=ids, attention_mask=attention).logits[:, -width - 1:-1].float() / TEMPERATURE
        return torch.log_softmax(logits, -1).gather(-1, completions[:, :, None]).squeeze(-1)

    r = torch.tensor(rewards).view(-1, G)
    advantages = ((r - r.mean(1, keepdim=True)) / (r.std(1, keepdim=True) + 1e-4)).view(-1, 1)
    logp = token_logps(policy)
    ratio = torch.exp(logp - logp.detach())
    eps = 0.2
    per_token = -torch.min(ratio * advantages, ratio.clamp(1 - eps, 1 + eps) * advantages)
    if beta:
        with torch.no_grad():
            ref = token_logps(reference)
        k3 = torch.exp(ref - logp) - (ref - logp) - 1
        per_token = per_token + beta * (k3 * ratio if kl_times_ratio else k3)
    loss = (per_token * mask).sum() / mask.sum()
    loss.backward()
    return loss.detach(), {n: p.grad for n, p in policy.named_parameters() if p.grad is not None}, mask


@pytest.mark.parametrize("beta, junior_weight", [(0.0, 0.0), (0.1, 0.0), (0.0, 0.5)])
def test_trl_gradient_equals_hand_written_masked_grpo_loss(tandem_trainer, fixture_model_dir, beta, junior_weight):
    if junior_weight and "junior_token_weight" not in TandemConfig.__dataclass_fields__:
        pytest.skip("this checkout has no junior_token_weight")
    trainer, recorded = tandem_trainer(beta, junior_weight)
    batch = trainer._generate_and_score_completions(_rows(trainer))
    (result,) = recorded["results"]
    assert batch["advantages"][G:2 * G].abs().max() == 0  # the all-equal group carries no signal
    loss, grads = _trl_loss_and_grads(trainer, batch)

    state = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
    hand_loss, hand_grads, mask = _hand_loss_and_grads(fixture_model_dir, state, result, PRESET_REWARDS, beta,
                                                       junior_weight)
    junior_tokens = sum(a.count(1 - SENIOR) for a in result.authors)
    assert 0 < junior_tokens < sum(len(c) for c in result.completion_ids), "the batch must hold both authors' tokens"
    assert torch.allclose((batch["tool_mask"] * batch["completion_mask"]).float(), mask), "env_mask != token weights"

    assert torch.allclose(loss, hand_loss, atol=1e-6, rtol=1e-5), (loss.item(), hand_loss.item())
    assert set(grads) == set(hand_grads)
    scale = max(g.abs().max().item() for g in hand_grads.values())
    assert scale > 1e-4, "the fixed batch must produce a gradient"
    for name, g in grads.items():
        assert torch.allclose(g, hand_grads[name], atol=1e-5 * max(scale, 1.0), rtol=1e-5), (
            name, (g - hand_grads[name]).abs().max().item())

    # The comparison can fail: counting the junior's tokens at full weight changes the gradient measurably ...
    tolerance = 1e-5 * max(scale, 1.0)
    everything = type(result)(**{**result.__dict__, "authors": [[SENIOR] * len(a) for a in result.authors]})
    _, unmasked_grads, _ = _hand_loss_and_grads(fixture_model_dir, state, everything, PRESET_REWARDS, beta,
                                                junior_weight)
    assert _max_diff(grads, unmasked_grads) > 100 * tolerance
    if beta:
        # ... and so does the plain k3 gradient, without the ratio factor (TRL's use_bias_correction_kl=False)
        _, plain_grads, _ = _hand_loss_and_grads(fixture_model_dir, state, result, PRESET_REWARDS, beta,
                                                 junior_weight, kl_times_ratio=False)
        assert _max_diff(grads, plain_grads) > 100 * tolerance


def _max_diff(a: dict, b: dict) -> float:
    return max((a[n] - b[n]).abs().max().item() for n in a)


def test_logprobs_returned_by_rollout_func_do_not_change_loss_or_gradient(tandem_trainer):
    """TRL uses a rollout_func's `logprobs` only for vLLM's importance-sampling correction. Tandem's are the
    senior's log-probs on text it only partly wrote, so TRL must not use them; this fails the day it does."""
    trainer, recorded = tandem_trainer(0.1)
    rows = _rows(trainer)
    trainer._generate_and_score_completions(rows)  # the real rollout, recorded
    (output,) = recorded["outputs"]
    gen = torch.Generator().manual_seed(3)
    garbage = {**output, "logprobs": [(torch.randn(len(lp), generator=gen) * 5).tolist() for lp in output["logprobs"]]}

    def replay(out):
        trainer.rollout_func = lambda prompts, t: {k: [list(v) for v in vs] for k, vs in out.items()}
        batch = trainer._generate_and_score_completions(rows)
        return batch, *_trl_loss_and_grads(trainer, batch)

    real_batch, real_loss, real_grads = replay(output)
    junk_batch, junk_loss, junk_grads = replay(garbage)
    # the garbage did reach TRL's batch ...
    assert not torch.allclose(junk_batch["sampling_per_token_logps"], real_batch["sampling_per_token_logps"])
    # ... and changed nothing that trains the model
    assert torch.equal(real_loss, junk_loss), (real_loss.item(), junk_loss.item())
    assert real_grads.keys() == junk_grads.keys() and real_grads
    for name in real_grads:
        assert torch.equal(real_grads[name], junk_grads[name]), name


# ---------------------------------------------------------------- (e) how prompts arrive; pins


def test_rollout_func_receives_runs_of_num_generations_identical_prompts(fixture_model_dir, tmp_path, monkeypatch):
    _use_reward(monkeypatch, lambda ids: [float(len(c) % 2) for c in ids])
    config = _config(fixture_model_dir, tmp_path / "rows", num_generations=4, per_device_train_batch_size=8,
                     gradient_accumulation_steps=2, max_steps=2, max_completion_length=4)
    trainer = trainer_module.build_trainer(config, log=lambda *_: None)
    seen: list[list[str]] = []
    inner = trainer.rollout_func
    trainer.rollout_func = lambda prompts, t: (seen.append(list(prompts)), inner(prompts, t))[1]
    trainer.train()
    assert len(seen) == config.max_steps  # one generation per optimizer step: the whole accumulation window
    for prompts in seen:
        assert len(prompts) == config.per_device_train_batch_size * config.gradient_accumulation_steps
        groups = [prompts[i:i + config.num_generations] for i in range(0, len(prompts), config.num_generations)]
        assert all(len(set(g)) == 1 for g in groups), groups
        assert len({g[0] for g in groups}) == len(groups), "each group is a different prompt"


def test_transformers_and_trl_are_pinned_exactly():
    """TandemRolloutFunc leans on TRL internals (rollout_func, env_mask, the sampler's order): an unpinned
    upgrade could change them silently. The installed versions must be the pinned ones."""
    text = PYPROJECT.read_text()
    for package in ("transformers", "trl"):
        match = re.search(rf'"{package}==([0-9][^"]*)"', text)
        assert match, f"{package} is not pinned with == in {PYPROJECT}"
        assert version(package) == match.group(1), (package, version(package), match.group(1))
