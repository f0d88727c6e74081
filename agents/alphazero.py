"""AlphaZero-style self-play on board games with the same DualNet as the A3C agents.

The loop reads as a story: play games with MCTS guided by the latest network -> store
(planes, search policy, outcome) with the board's symmetries -> train the network on
(z - v)^2 - pi . log p (+ L2 through weight decay) -> repeat.

This module holds the serial core (self-play, replay buffer, training step); worker processes,
the command line, gating and evaluation against OpenSpiel build on it.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from agents.mcts import MCTS, MCTSConfig, NetworkEvaluator
from envs.boards import Game
from nets import DualNet, NetConfig


@dataclass(frozen=True)
class SelfPlayConfig:
    """Sizes of a self-play run; defaults suit tic-tac-toe on a CPU."""

    simulations: int = 32
    """MCTS simulations per move."""
    mcts_batch: int = 8
    """Leaves evaluated together (virtual loss)."""
    games_per_iteration: int = 16
    """Self-play games between two training phases."""
    temperature_moves: int = 2
    """Moves sampled in proportion to visit counts before play turns greedy."""
    dirichlet_alpha: float = 1.0
    """Root noise concentration (about 10 / legal moves)."""
    dirichlet_fraction: float = 0.25
    """Share of noise in the root priors during self-play."""
    buffer_size: int = 20_000
    """Training examples kept (with symmetries)."""
    train_steps: int = 32
    """Minibatch updates per iteration."""
    batch_size: int = 128
    """Training minibatch size."""
    lr: float = 2e-3
    """Adam learning rate."""
    weight_decay: float = 1e-4
    """The L2 term c of AlphaZero's loss."""


class Example(NamedTuple):
    planes: np.ndarray  # [C, rows, cols] from the mover's view
    policy: np.ndarray  # [A] search visit distribution
    outcome: float  # the game's result for the mover: -1, 0 or 1


class LossTerms(NamedTuple):
    total: torch.Tensor
    value: torch.Tensor
    policy: torch.Tensor


def board_net(game: Game, cfg: NetConfig | None = None) -> DualNet:
    """The DualNet for a board game: batch norm and a tanh value head, as in AlphaGo Zero."""
    cfg = cfg or NetConfig(channels=32, blocks=2, hidden=64, norm="batch", value_hidden=32, value_tanh=True)
    return DualNet((2, game.rows, game.cols), game.num_actions, cfg)


def alphazero_loss(out, policy: torch.Tensor, outcome: torch.Tensor) -> LossTerms:
    """(z - v)^2 - pi . log p, averaged over the batch; policy [B, A], outcome [B]."""
    value = F.mse_loss(out.value, outcome)
    cross_entropy = -(policy * F.log_softmax(out.logits, dim=-1)).sum(-1).mean()
    return LossTerms(value + cross_entropy, value, cross_entropy)


def play_game(game: Game, model: DualNet, cfg: SelfPlayConfig, rng: np.random.Generator) -> list[Example]:
    """One self-play game; returns its examples, augmented with the board's symmetries."""
    search = MCTS(game, NetworkEvaluator(game, model),
                  MCTSConfig(simulations=cfg.simulations, batch_size=cfg.mcts_batch,
                             dirichlet_alpha=cfg.dirichlet_alpha, dirichlet_fraction=cfg.dirichlet_fraction),
                  seed=int(rng.integers(2**31)))
    history: list[tuple[np.ndarray, np.ndarray, int]] = []
    state = game.initial_state()
    while not game.is_terminal(state):
        counts = search.search()
        policy = counts / counts.sum()
        if len(state.moves) < cfg.temperature_moves:
            action = int(rng.choice(len(policy), p=policy))
        else:
            action = int(np.argmax(counts))
        history.append((game.planes(state), policy.astype(np.float32), game.to_play(state)))
        search.advance(action)
        state = search.root.state
    returns = game.returns(state)
    examples = []
    for planes, policy, player in history:
        for p, pi in game.symmetries(planes, policy):
            examples.append(Example(p, pi, returns[player]))
    return examples


def train_step(model: DualNet, optimizer: torch.optim.Optimizer, batch: list[Example]) -> LossTerms:
    planes = torch.from_numpy(np.stack([e.planes for e in batch]))
    policy = torch.from_numpy(np.stack([e.policy for e in batch]))
    outcome = torch.tensor([e.outcome for e in batch], dtype=torch.float32)
    model.train()
    loss = alphazero_loss(model(planes), policy, outcome)
    optimizer.zero_grad()
    loss.total.backward()
    optimizer.step()
    return loss


def self_play(game: Game, iterations: int, cfg: SelfPlayConfig = SelfPlayConfig(), seed: int = 0,
              model: DualNet | None = None) -> DualNet:
    """Serial self-play training for `iterations` iterations; returns the trained network."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = model or board_net(game)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    buffer: deque[Example] = deque(maxlen=cfg.buffer_size)
    for _ in range(iterations):
        for _ in range(cfg.games_per_iteration):
            buffer.extend(play_game(game, model, cfg, rng))
        for _ in range(cfg.train_steps):
            idx = rng.integers(len(buffer), size=min(cfg.batch_size, len(buffer)))
            train_step(model, optimizer, [buffer[i] for i in idx])
    return model.eval()
