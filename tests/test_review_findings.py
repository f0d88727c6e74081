"""Review findings of issue 11, each with a test that failed before its fix."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import pathzero
from pathzero.agents.alphazero import board_net
from pathzero.agents.common import runlog
from pathzero.agents.mcts import MCTS, MCTSConfig, NetworkEvaluator
from pathzero.envs.boards import make_board_game


def _next_dirichlet(search: MCTS, alpha: float, n: int) -> np.ndarray:
    """The noise the search's generator will draw next, from a copy of its state."""
    twin = np.random.default_rng()
    twin.bit_generator.state = search.rng.bit_generator.state
    return twin.dirichlet([alpha] * n)


def test_a_reused_root_gets_fresh_noise_on_the_evaluators_priors_not_noise_on_noise():
    game = make_board_game("tictactoe")
    torch.manual_seed(0)
    evaluator = NetworkEvaluator(game, board_net(game))
    search = MCTS(game, evaluator, MCTSConfig(simulations=16, batch_size=4, dirichlet_alpha=0.3,
                                              dirichlet_fraction=0.25), seed=1)
    search.search()
    for step in range(3):  # searched again at the same root, then after moving to a child (tree reuse)
        if step == 2:  # the most visited child has been expanded: its subtree is reused
            search.advance(int(max(search.root.children, key=lambda a: search.root.children[a].visits)))
            assert search.root.expanded
        clean, _ = evaluator.evaluate([search.root.state])[0]
        actions = list(search.root.children)
        noise = _next_dirichlet(search, 0.3, len(actions))
        search.search()
        priors = np.array([search.root.children[a].prior for a in actions])
        assert np.allclose(priors, 0.75 * clean[actions] + 0.25 * noise, atol=1e-6)


def test_the_network_evaluator_gives_the_model_back_in_the_mode_it_found_it():
    game = make_board_game("tictactoe")
    model = board_net(game).train()
    stats = {k: v.clone() for k, v in model.state_dict().items() if "running" in k}
    NetworkEvaluator(game, model).evaluate([game.initial_state()])
    assert model.training  # a training loop calling it goes on training in train mode
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in stats.items())  # evaluated with running stats
    model.eval()
    NetworkEvaluator(game, model).evaluate([game.initial_state()])
    assert not model.training


def test_building_a_batch_norm_network_leaves_its_running_statistics_as_initialised():
    model = board_net(make_board_game("connect_four"))
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms
    for m in norms:
        assert torch.equal(m.running_mean, torch.zeros_like(m.running_mean))
        assert torch.equal(m.running_var, torch.ones_like(m.running_var))
        assert int(m.num_batches_tracked) == 0
    assert model.training  # the shape probe gives the mode back


def test_config_json_is_written_atomically(tmp_path, monkeypatch):
    runlog.write_config(tmp_path, {"lr": 1})

    def crash(*args):
        raise OSError("disk gone")

    monkeypatch.setattr(runlog.os, "replace", crash)
    with pytest.raises(OSError):
        runlog.write_config(tmp_path, {"lr": 2})
    assert json.loads((tmp_path / "config.json").read_text()) == {"lr": 1}  # the old one, whole


def test_evaluation_games_are_trimmed_to_the_checkpoint_on_resume(tmp_path):
    tiny = dict(game="tictactoe", iterations=1, games_per_iteration=2, simulations=4, train_steps=2, batch_size=16,
                eval_games=2, eval_opponents="random", parallel_games=2, channels=8, blocks=1, progress=False,
                logdir=str(tmp_path))
    run = pathzero.train(agent="alphazero", verbose=False, **tiny)
    games = run.dir / "evaluation_games.jsonl"
    first = games.read_text().splitlines()
    assert len(first) == 2 and all(json.loads(line)["iteration"] == 1 for line in first)
    with games.open("a") as f:  # games of iteration 2 written, then killed before its checkpoint
        f.write(json.dumps({"iteration": 2, "moves": [4], "result": 1}) + "\n")
    pathzero.train(agent="alphazero", resume=run.dir, iterations=2)
    records = [json.loads(line) for line in games.read_text().splitlines()]
    assert [r["iteration"] for r in records] == [1, 1, 2, 2]  # iteration 2 once, as played after the resume


def test_help_names_each_default_once():
    out = subprocess.run([sys.executable, "-m", "pathzero", "train", "--help"], capture_output=True, text=True,
                         check=True).stdout
    text = " ".join(out.split())
    workers = text[text.index("--workers WORKERS Actor-learner"):text.index("--envs-per-worker ENVS_PER_WORKER Environments")]
    assert workers.count("(default:") == 1 and "one per CPU core" in workers
