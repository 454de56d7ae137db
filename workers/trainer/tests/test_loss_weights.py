"""junior_token_weight reaches TRL's loss as a weight, not a rounded 0/1 mask."""

from __future__ import annotations

import pytest
import torch

import tandem.trainer as trainer_module
from tandem.config import TandemConfig
from tandem.rollout import JUNIOR, SENIOR
from tandem.trainer import build_trainer, loss_weights


def test_loss_weights_map_authors_and_keep_fractions_float():
    authors = [[SENIOR, SENIOR], [JUNIOR, SENIOR, JUNIOR]]
    assert loss_weights(authors, 0.0) == [[1, 1], [0, 1, 0]]
    assert loss_weights(authors, 1.0) == [[1, 1], [1, 1, 1]]
    half = loss_weights(authors, 0.5)
    assert half == [[1.0, 1.0], [0.5, 1.0, 0.5]]
    # every row float: TRL pads the rows to the first row's dtype, and an int first row would turn 0.5 into 0
    assert all(isinstance(w, float) for row in half for w in row)
    from trl.trainer.utils import pad

    padded = pad([torch.tensor(r) for r in half], padding_value=1, padding_side="right")
    assert padded.dtype.is_floating_point and padded[1].tolist() == [0.5, 1.0, 0.5]


@pytest.mark.parametrize("weight", [0.0, 0.5])
def test_trl_loss_is_the_weighted_token_mean(fixture_model_dir, tmp_path, monkeypatch, weight):
    """Through GRPOTrainer's own batch preparation and loss: with one policy update per batch (ratio 1) and
    beta 0, TRL's dapo loss is -sum_i A_i sum_t w_it / sum_it w_it, with w the per-token weights we returned."""
    monkeypatch.setattr(trainer_module, "team_rewards",
                        lambda texts, answers: ([float(len(t) % 2) for t in texts], ["incorrect"] * len(texts)))
    seen = {}
    real = trainer_module.tandem_rollout

    def spy(*args, **kw):
        seen["result"] = real(*args, **kw)
        return seen["result"]

    monkeypatch.setattr(trainer_module, "tandem_rollout", spy)
    config = TandemConfig(model_name_or_path=str(fixture_model_dir), output_dir=str(tmp_path), max_steps=1,
                          num_generations=4, per_device_train_batch_size=8, max_completion_length=24,
                          dataset_size=8, beta=0.0, loss_type="dapo", p_junior=0.5, handoff_rule="token",
                          junior_token_weight=weight).validate()
    trainer = build_trainer(config, log=lambda *_: None)
    rows = [trainer.train_dataset[i] for i in range(2) for _ in range(config.num_generations)]
    batch = trainer._generate_and_score_completions(rows)

    result = seen["result"]
    width = batch["completion_ids"].shape[1]
    expected = torch.tensor([[1.0 if a == SENIOR else weight for a in authors] + [1.0] * (width - len(authors))
                             for authors in result.authors])
    mask = batch["completion_mask"] * batch["tool_mask"]
    assert torch.equal(mask.float(), (batch["completion_mask"] * expected).float())
    assert any(a == JUNIOR for authors in result.authors for a in authors)

    trainer.model.eval()  # no accumulation window: the dapo normaliser is the batch's weighted token count
    loss = trainer.compute_loss(trainer.model, batch)
    advantages = batch["advantages"]
    assert advantages.abs().sum() > 0
    manual = -(advantages[:, None] * mask).sum() / mask.sum()
    assert torch.allclose(loss.detach(), manual, atol=1e-6)
    rounded = batch["completion_mask"] * expected.round()
    if weight == 0.5:  # a rounded mask would give a different loss: the fraction is what TRL used
        assert not torch.allclose(manual, -(advantages[:, None] * rounded).sum() / rounded.sum(), atol=1e-6)
