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
