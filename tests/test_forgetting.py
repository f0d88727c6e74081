"""EWC and the weight-plasticity loss: the penalty, its importance weights, that it holds the
source's weights, and the matrix methods built on it."""
import subprocess
import sys

import pytest
import torch

import pathzero
from pathzero.agents.forgetting import make_anchor, penalty
from pathzero.agents.pathnet import PathNetConfig, load_pathnet_checkpoint
from pathzero.agents.transfer import TransferConfig, plan
from pathzero.envs import UsageError

TINY = dict(game="MinAtar/Breakout", serial=True, envs_per_worker=4, hidden=16, width=8, layers=2, modules=3, active=2,
            channels=4, population=2, eval_episodes=2, replay_episodes=0, progress=False, eval_every=0, evolve=False)


def test_the_penalty_is_half_strength_times_fisher_weighted_squared_drift():
    model = torch.nn.Linear(3, 2)
    params = dict(model.named_parameters())
    fisher = {name: torch.rand_like(p) for name, p in params.items()}
    anchor = make_anchor(params, fisher)
    assert penalty(model, anchor, 7.0).item() == 0.0  # at the anchor
    with torch.no_grad():
        model.weight += 0.5
    expected = 0.5 * 7.0 * (fisher["weight"] * 0.25).sum()
    value = penalty(model, anchor, 7.0)
    assert torch.isclose(value, expected)
    value.backward()  # pulls back towards theta*: strength * F * (theta - theta*)
    assert torch.allclose(model.weight.grad, 7.0 * fisher["weight"] * 0.5)
    assert torch.count_nonzero(model.bias.grad) == 0


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("forgetting")
    return pathzero.train(agent="pathnet", total_frames=1500, verbose=False, logdir=str(logdir), **TINY)


def _finetune(source, logdir, **options):
    return pathzero.train(agent="pathnet", total_frames=2000, verbose=False, logdir=str(logdir),
                          transfer_from=str(source.dir), freeze_source=False, fisher_samples=256,
                          **{**TINY, "game": "MinAtar/Asterix", **options})


def _drift(run, fisher):
    """sum F (theta - theta*)^2: how far the weights that mattered to the source moved."""
    _, before = load_pathnet_checkpoint(run.config["transfer_from"])
    _, after = load_pathnet_checkpoint(run.dir)
    b, a = dict(before.named_parameters()), dict(after.named_parameters())
    return sum((fisher[n] * (a[n] - b[n]) ** 2).sum().item() for n in fisher)


def test_ewc_and_wpl_anchor_the_source_weights_and_hold_them(source, tmp_path):
    plain = _finetune(source, tmp_path / "plain")
    for method, strength in (("ewc", {"ewc_lambda": 1e7}), ("wpl", {"wpl_alpha": 1e5})):
        run = _finetune(source, tmp_path / method, penalty=method, **strength)
        anchor = torch.load(run.dir / "checkpoint.pt", weights_only=True)["anchor"]
        fisher = anchor["fisher"]
        assert all((f >= 0).all() for f in fisher.values())
        shared = [n for n in fisher if fisher[n].abs().sum() > 0]
        assert shared and all(n.startswith("grid.") for n in shared)  # the modules both tasks train
        if method == "wpl":
            assert torch.sqrt(sum((f ** 2).sum() for f in fisher.values())) <= 10.0 + 1e-4  # clipped
            assert len(fisher) < sum(1 for n, _ in load_pathnet_checkpoint(run.dir)[1].named_parameters()
                                     if n.startswith("grid."))  # the shared pathway's modules only
        # with a strong anchor the weights that mattered to the source move much less than in plain
        # fine-tuning (seeds 1-3: 0.002-0.2 of plain fine-tuning's Fisher-weighted drift)
        assert _drift(run, fisher) < 0.5 * _drift(plain, fisher), method
        resumed = pathzero.train(resume=run.dir, total_frames=2500, verbose=False)
        again = torch.load(resumed.dir / "checkpoint.pt", weights_only=True)["anchor"]
        assert all(torch.equal(again["theta"][n], anchor["theta"][n]) for n in anchor["theta"])


def test_a_penalty_is_refused_where_it_means_nothing():
    with pytest.raises(UsageError, match="--penalty ewc anchors fine-tuning"):
        PathNetConfig(**TINY, penalty="ewc")
    with pytest.raises(UsageError, match="--penalty must be one of none, ewc, wpl"):
        PathNetConfig(**TINY, penalty="l2")
    with pytest.raises(UsageError, match="must be >= 0"):
        PathNetConfig(**TINY, wpl_alpha=-1.0)
    result = subprocess.run([sys.executable, "-m", "pathzero", "transfer", "--games", "MinAtar/Breakout",
                             "--ewc-lambda", "-5", "--logdir", "/tmp/never"], capture_output=True, text=True)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "--ewc-lambda and --wpl-alpha must be >= 0" in result.stderr


def test_the_matrix_plans_ewc_and_wpl_from_the_fixed_source_runs():
    games = ("MinAtar/Breakout", "MinAtar/Asterix")
    cells = plan(TransferConfig(games=games, seeds=1, methods=("independent", "ewc", "wpl"), diagonal=False,
                                base=PathNetConfig(**TINY)))
    kinds = [(c.kind, c.target, c.source) for c in cells if c.kind != "random"]
    assert ("ewc", "MinAtar/Asterix", "MinAtar/Breakout") in kinds and ("wpl", "MinAtar/Breakout", "MinAtar/Asterix") in kinds
    assert {k for k, _, _ in kinds} == {"fixed", "ewc", "wpl"}  # fine-tuning variants start from fixed runs
