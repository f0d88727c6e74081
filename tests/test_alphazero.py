"""AlphaZero self-play core: the loss, the examples a game yields, and that self-play learns."""
import math

import numpy as np
import pytest
import torch

from agents.alphazero import SelfPlayConfig, alphazero_loss, board_net, play_game, self_play
from agents.players import NetworkPlayer, RandomPlayer, play_match
from envs.boards import TicTacToe
from nets import DualOutput


def test_loss_by_hand():
    out = DualOutput(torch.tensor([[0.0, math.log(3.0)]]), torch.tensor([0.5]))  # p = [.25, .75]
    terms = alphazero_loss(out, policy=torch.tensor([[0.5, 0.5]]), outcome=torch.tensor([1.0]))
    assert terms.value.item() == pytest.approx(0.25)
    assert terms.policy.item() == pytest.approx(-(0.5 * math.log(0.25) + 0.5 * math.log(0.75)))
    assert terms.total.item() == pytest.approx(terms.value.item() + terms.policy.item())


def test_a_self_play_game_yields_symmetric_examples_with_signed_outcomes():
    game = TicTacToe()
    torch.manual_seed(0)
    examples = play_game(game, board_net(game), SelfPlayConfig(simulations=8), np.random.default_rng(0))
    assert len(examples) % 8 == 0  # eight symmetries per position
    positions = len(examples) // 8
    assert 5 <= positions <= 9
    for e in examples:
        assert e.planes.shape == (2, 3, 3) and e.policy.sum() == pytest.approx(1.0)
        assert e.policy[(e.planes.sum(0) > 0).reshape(-1)].sum() == 0  # no visits to occupied cells
    first, second = examples[0].outcome, examples[8].outcome  # consecutive moves: opposite players
    assert first == -second


def _match_against_random(game, model, games=100, seed=0):
    result = play_match(game, NetworkPlayer(game, model, simulations=16), RandomPlayer(game, seed=seed), games)
    return result.losses


def test_short_self_play_never_loses_to_random_tictactoe():
    game = TicTacToe()
    torch.manual_seed(0)
    assert _match_against_random(game, board_net(game).eval()) > 10  # the untrained net does lose
    model = self_play(game, iterations=10, seed=0)  # 160 games: a budget in games
    assert _match_against_random(game, model) == 0


def test_selfplay_command_writes_a_run_and_resumes(tmp_path):
    import json
    import subprocess
    import sys

    def pathzero(*args):
        return subprocess.run([sys.executable, "-m", "scripts.cli", "selfplay", *map(str, args)],
                              capture_output=True, text=True, timeout=600)

    tiny = ["--games-per-iteration", 2, "--train-steps", 2, "--simulations", 8, "--eval-games", 2,
            "--logdir", tmp_path, "--no-progress"]
    result = pathzero("--game", "tic_tac_toe", "--iterations", 2, *tiny)
    assert result.returncode == 0, result.stderr
    (run_dir,) = tmp_path.iterdir()
    assert run_dir.name.startswith("tictactoe__alphazero__1__")
    ckpt = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert ckpt["format"] == "pathzero-alphazero" and ckpt["iteration"] == 2 and ckpt["buffer"]["outcome"].numel() > 0
    records = [json.loads(line) for line in (run_dir / "evaluation_games.jsonl").read_text().splitlines()]
    assert len(records) == 2 * 2 * 2  # iterations x opponents (random, perfect) x games
    assert {r["opponent"] for r in records} == {"random", "perfect"}
    resumed = pathzero("--resume", run_dir, "--iterations", 3, "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert torch.load(run_dir / "checkpoint.pt", weights_only=True)["iteration"] == 3
    bad = pathzero("--game", "chess")
    assert bad.returncode == 2 and "unknown board game 'chess'" in bad.stderr and len(bad.stderr.splitlines()) == 1
    bad = pathzero("--simulations", 0)
    assert bad.returncode == 2 and "--simulations must be >= 1" in bad.stderr
