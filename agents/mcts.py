"""Monte Carlo tree search with PUCT (AlphaZero), batched leaf evaluation and virtual loss.

MCTS depends only on the `Game` protocol (envs/boards.py) and on an `Evaluator`:
`evaluate(states) -> [(priors, value)]`, priors over all actions and the value for the player
to move. A random-rollout evaluator and a network evaluator swap freely (like OpenSpiel's
`mcts.Evaluator`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol, Sequence

import numpy as np

from envs.boards import Game


class Evaluator(Protocol):
    def evaluate(self, states: Sequence) -> list[tuple[np.ndarray, float]]:
        """For each state: (priors [num_actions], value in [-1, 1] for the player to move)."""
        ...


class RandomRolloutEvaluator:
    """Uniform priors over legal moves; value = mean outcome of random play-outs."""

    def __init__(self, game: Game, rollouts: int = 1, seed: int = 0) -> None:
        self.game, self.rollouts = game, rollouts
        self.rng = np.random.default_rng(seed)

    def evaluate(self, states: Sequence) -> list[tuple[np.ndarray, float]]:
        out = []
        for state in states:
            legal = self.game.legal_actions(state)
            priors = np.zeros(self.game.num_actions, dtype=np.float32)
            if legal:
                priors[legal] = 1.0 / len(legal)
            mover = self.game.to_play(state)
            total = 0.0
            for _ in range(self.rollouts):
                s = state
                while not self.game.is_terminal(s):
                    actions = self.game.legal_actions(s)
                    s = self.game.apply(s, actions[self.rng.integers(len(actions))])
                total += self.game.returns(s)[mover]
            out.append((priors, total / self.rollouts))
        return out


@dataclass
class Node:
    prior: float
    state: object = None  # filled when the node is reached
    visits: int = 0
    value_sum: float = 0.0  # from the point of view of the player who moved into this node
    virtual: int = 0  # pending visits of the current batch
    children: dict[int, "Node"] = field(default_factory=dict)

    @property
    def expanded(self) -> bool:
        return bool(self.children)

    def q(self) -> float:
        n = self.visits + self.virtual
        # a pending visit counts as a loss, steering the rest of the batch elsewhere
        return (self.value_sum - self.virtual) / n if n else 0.0


@dataclass(frozen=True)
class MCTSConfig:
    simulations: int = 100
    """Simulations (leaf evaluations) per move."""
    batch_size: int = 8
    """Leaves collected, with virtual loss, before one batched evaluation."""
    c_base: float = 19652.0
    """PUCT: c = log((1 + N + c_base) / c_base) + c_init (AlphaZero's pseudocode)."""
    c_init: float = 1.25
    dirichlet_alpha: float = 1.0
    """Root noise concentration (about 10 / typical number of legal moves)."""
    dirichlet_fraction: float = 0.0
    """Share of Dirichlet noise in the root priors (0.25 in self-play, 0 when evaluating)."""

    def __post_init__(self) -> None:
        if self.simulations < 1:
            raise ValueError(f"simulations must be >= 1, got {self.simulations}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")


class MCTS:
    """A search tree over one game, reusable between moves (`advance`)."""

    def __init__(self, game: Game, evaluator: Evaluator, cfg: MCTSConfig, seed: int = 0) -> None:
        self.game, self.evaluator, self.cfg = game, evaluator, cfg
        self.rng = np.random.default_rng(seed)
        self.root = Node(prior=1.0, state=game.initial_state())

    def reset(self, state) -> None:
        self.root = Node(prior=1.0, state=state)

    def advance(self, action: int) -> None:
        """Moves the root to the child reached by `action`, keeping its subtree (tree reuse)."""
        child = self.root.children.get(action)
        state = self.game.apply(self.root.state, action)
        self.root = child if child is not None and child.state is not None else Node(prior=1.0, state=state)
        self.root.state = state

    def _puct(self, parent: Node, child: Node) -> float:
        n = parent.visits + parent.virtual
        c = math.log((1 + n + self.cfg.c_base) / self.cfg.c_base) + self.cfg.c_init
        return child.q() + c * child.prior * math.sqrt(n) / (1 + child.visits + child.virtual)

    def _expand(self, node: Node, priors: np.ndarray) -> None:
        legal = self.game.legal_actions(node.state)
        p = priors[legal].astype(np.float64)
        p = p / p.sum() if p.sum() > 0 else np.full(len(legal), 1.0 / len(legal))
        if node is self.root and self.cfg.dirichlet_fraction > 0:
            noise = self.rng.dirichlet([self.cfg.dirichlet_alpha] * len(legal))
            p = (1 - self.cfg.dirichlet_fraction) * p + self.cfg.dirichlet_fraction * noise
        node.children = {a: Node(prior=float(pa)) for a, pa in zip(legal, p)}

    def _select_leaf(self) -> list[Node]:
        """Descends by PUCT to a leaf, adding a virtual visit along the way; returns the path."""
        node, path = self.root, [self.root]
        node.virtual += 1
        while node.expanded and not self.game.is_terminal(node.state):
            action, child = max(node.children.items(), key=lambda kv: self._puct(node, kv[1]))
            if child.state is None:
                child.state = self.game.apply(node.state, action)
            node = child
            node.virtual += 1
            path.append(node)
        return path

    def _backup(self, path: list[Node], value: float) -> None:
        """`value` is for the player to move at the leaf; each node stores it for the player who
        moved into it, so the sign flips at every level."""
        for node in reversed(path):
            node.virtual -= 1
            node.visits += 1
            value = -value
            node.value_sum += value

    def search(self) -> np.ndarray:
        """Runs `simulations` simulations from the root; returns the root's visit counts
        [num_actions], which sum to the simulations of this call plus those kept by tree reuse."""
        if self.game.is_terminal(self.root.state):
            raise ValueError("the game is over: there is no move to search")
        if not self.root.expanded:  # the root's own evaluation is not one of the simulations
            (priors, _), = self.evaluator.evaluate([self.root.state])
            self._expand(self.root, np.asarray(priors))
        elif self.cfg.dirichlet_fraction > 0:  # a reused root gets fresh noise too
            noise = self.rng.dirichlet([self.cfg.dirichlet_alpha] * len(self.root.children))
            for child, eta in zip(self.root.children.values(), noise):
                child.prior = (1 - self.cfg.dirichlet_fraction) * child.prior + self.cfg.dirichlet_fraction * eta
        done = 0
        while done < self.cfg.simulations:
            paths = [self._select_leaf() for _ in range(min(self.cfg.batch_size, self.cfg.simulations - done))]
            # terminal leaves are scored by the rules; the others go to the evaluator in one batch
            # (a leaf reached twice in a batch is evaluated once)
            pending = {id(p[-1]): p[-1] for p in paths if not self.game.is_terminal(p[-1].state)}
            results = dict(zip(pending, self.evaluator.evaluate([n.state for n in pending.values()])))
            for key, (priors, _) in results.items():
                self._expand(pending[key], np.asarray(priors))
            for path in paths:
                leaf = path[-1]
                if self.game.is_terminal(leaf.state):
                    value = self.game.returns(leaf.state)[self.game.to_play(leaf.state)]
                else:
                    value = float(results[id(leaf)][1])
                self._backup(path, value)
            done += len(paths)
        counts = np.zeros(self.game.num_actions, dtype=np.float32)
        for action, child in self.root.children.items():
            counts[action] = child.visits
        return counts


class NetworkEvaluator:
    """Priors and values from a DualNet (value head with tanh) on the game's planes, batched."""

    def __init__(self, game: Game, model) -> None:
        import torch

        self.game, self.model, self._torch = game, model, torch

    def evaluate(self, states: Sequence) -> list[tuple[np.ndarray, float]]:
        torch = self._torch
        if not states:
            return []
        planes = torch.from_numpy(np.stack([self.game.planes(s) for s in states]))  # [B, C, rows, cols]
        self.model.eval()
        with torch.no_grad():
            out = self.model(planes)
        logits = out.logits.numpy()  # [B, A]
        values = out.value.numpy()  # [B]
        results = []
        for state, row, value in zip(states, logits, values):
            legal = self.game.legal_actions(state)
            priors = np.zeros(self.game.num_actions, dtype=np.float32)
            z = row[legal] - row[legal].max()
            priors[legal] = np.exp(z) / np.exp(z).sum()
            results.append((priors, float(value)))
        return results
