"""Monte Carlo tree search with PUCT (AlphaZero), batched leaf evaluation and virtual loss.

MCTS depends only on the `Game` protocol (envs/boards.py) and on an `Evaluator`:
`evaluate(states) -> [(priors, value)]`, priors over all actions and the value for the player
to move. A random-rollout evaluator and a network evaluator swap freely (like OpenSpiel's
`mcts.Evaluator`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generator, Protocol, Sequence

import numpy as np

from pathzero.envs.boards import Game


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


class Node:
    """A tree node: the move's prior, statistics, and the state once the node is reached."""

    __slots__ = ("prior", "clean_prior", "state", "terminal", "visits", "value_sum", "virtual", "children", "winning",
                 "proven")

    def __init__(self, prior: float, state=None, terminal: bool = False) -> None:
        self.prior = prior
        self.clean_prior = prior  # the evaluator's prior; `prior` adds the root's noise to it
        self.state = state  # filled when the node is reached, with `terminal` beside it
        self.terminal = terminal
        self.visits = 0
        self.value_sum = 0.0  # from the point of view of the player who moved into this node
        self.virtual = 0  # pending visits of the current batch
        self.children: dict[int, Node] = {}
        self.winning: Node | None = None  # with decisive moves: a child proven to win for this node's mover
        self.proven: float | None = None  # with decisive moves: the game's value, once proven, for the player
        # who moved into this node (1 win, 0 draw, -1 loss)

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
    decisive_moves: bool = True
    """Decisive and anti-decisive moves (Teytaud & Teytaud 2010) with proven values (an MCTS-solver,
    Winands et al. 2008): when a node is expanded, each child is played out by the rules one more move, so
    a move that wins at once and a move that lets the opponent win at once are known before any visit. A
    node with a winning move is a proven win for its mover, a node whose moves all lose is a proven loss,
    and proofs climb the tree; the search never spends a visit on a proven-losing move while another is
    left, and the root's counts keep only proven wins (if any) and drop proven losses. So a search sees
    every immediate win, every threat it must block, and a fork (two threats) one move before the
    opponent can make it, whatever the network's priors say; without it an unvisited move counts as a
    draw (0) and a 2% prior may never be searched."""

    def __post_init__(self) -> None:
        if self.simulations < 1:
            raise ValueError(f"simulations must be >= 1, got {self.simulations}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")


# A search as a generator: it yields the states it needs evaluated and is sent their
# evaluations back, so that one evaluator call can serve many searches (`run_searches`).
Search = Generator[list, list, np.ndarray]


class MCTS:
    """A search tree over one game, reusable between moves (`advance`)."""

    def __init__(self, game: Game, evaluator: Evaluator, cfg: MCTSConfig, seed: int = 0) -> None:
        self.game, self.evaluator, self.cfg = game, evaluator, cfg
        self.rng = np.random.default_rng(seed)
        self.reset(game.initial_state())

    def _node(self, prior: float, state) -> Node:
        return Node(prior, state, self.game.is_terminal(state))

    def reset(self, state) -> None:
        self.root = self._node(1.0, state)

    def advance(self, action: int) -> None:
        """Moves the root to the child reached by `action`, keeping its subtree (tree reuse)."""
        child = self.root.children.get(action)
        state = self.game.apply(self.root.state, action)
        self.root = child if child is not None and child.state is not None else self._node(1.0, state)
        self.root.state = state

    def _expand(self, node: Node, priors: np.ndarray) -> None:
        legal = self.game.legal_actions(node.state)
        p = priors[legal].astype(np.float64)
        p = p / p.sum() if p.sum() > 0 else np.full(len(legal), 1.0 / len(legal))
        if not self.cfg.decisive_moves:
            node.children = {a: Node(float(pa)) for a, pa in zip(legal, p.tolist())}
            return
        mover = self.game.to_play(node.state)
        node.children = {a: self._node(float(pa), self.game.apply(node.state, a)) for a, pa in zip(legal, p.tolist())}
        for child in node.children.values():
            if child.terminal:
                child.proven = float(self.game.returns(child.state)[mover])
            elif self.game.wins_at_once(child.state):  # the opponent answers with a win
                child.proven = -1.0
        self._prove(node)

    @staticmethod
    def _prove(node: Node) -> bool:
        """Proves `node` from its children's proofs, if it can (minimax over proven values); returns
        whether the node is proven."""
        if node.proven is not None:
            return True
        best, complete = -math.inf, True
        for child in node.children.values():
            if child.proven is None:
                complete = False
            elif child.proven > best:
                best = child.proven
                if best > 0:
                    node.winning = child
                    break
        if best > 0 or (complete and node.children):
            node.proven = -best
        return node.proven is not None

    def _noise_root(self) -> None:
        """Mixes fresh Dirichlet noise into the root's priors, always from the evaluator's own
        priors: a root reused from an earlier search (or searched again) gets new noise, never
        noise on top of noise."""
        f = self.cfg.dirichlet_fraction
        noise = self.rng.dirichlet([self.cfg.dirichlet_alpha] * len(self.root.children))
        for child, eta in zip(self.root.children.values(), noise):
            child.prior = (1 - f) * child.clean_prior + f * float(eta)

    def _select_leaf(self) -> list[Node]:
        """Descends by PUCT to a leaf, adding a virtual visit along the way; returns the path.

        PUCT(child) = Q + c(N) * P * sqrt(N) / (1 + n), N counting the parent's visits and n the
        child's, pending (virtual) ones included; the first of equal scores wins."""
        c_base, c_init = self.cfg.c_base, self.cfg.c_init
        node, path = self.root, [self.root]
        node.virtual += 1
        # a proven node below the root is a leaf: its value is known, there is nothing to search
        while node.children and not node.terminal and (node.proven is None or node is self.root):
            if node.winning is not None:  # a decisive move: nothing else is worth searching here
                node = node.winning
                node.virtual += 1
                path.append(node)
                continue
            n = node.visits + node.virtual
            scale = (math.log((1 + n + c_base) / c_base) + c_init) * math.sqrt(n)
            best_score, best_action, best = -math.inf, -1, node
            for skip_lost in (True, False):  # proven-losing moves only when every move loses
                for action, child in node.children.items():  # inlined Node.q: this loop is the hot spot
                    if skip_lost and child.proven is not None and child.proven < 0:
                        continue
                    m = child.visits + child.virtual
                    score = ((child.value_sum - child.virtual) / m if m else 0.0) + scale * child.prior / (1 + m)
                    if score > best_score:
                        best_score, best_action, best = score, action, child
                if best_action >= 0:
                    break
            if best.state is None:
                best.state = self.game.apply(node.state, best_action)
                best.terminal = self.game.is_terminal(best.state)
            node = best
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
        [num_actions], which sum to the simulations of this call plus those kept by tree reuse (with
        decisive moves, less the visits of moves proven lost or, when a win is proven, of every other move)."""
        counts, = run_searches([self.searching()], self.evaluator)
        return counts

    def searching(self) -> Search:
        """`search` as a generator: yields lists of states to evaluate, takes their
        [(priors, value)] by `send`, and returns the visit counts (StopIteration.value)."""
        if self.root.terminal:
            raise ValueError("the game is over: there is no move to search")
        if not self.root.expanded:  # the root's own evaluation is not one of the simulations
            (priors, _), = yield [self.root.state]
            self._expand(self.root, np.asarray(priors))
        if self.cfg.dirichlet_fraction > 0:
            self._noise_root()
        done = 0
        while done < self.cfg.simulations:
            paths = [self._select_leaf() for _ in range(min(self.cfg.batch_size, self.cfg.simulations - done))]
            # terminal and proven leaves are scored by the rules; the others go to the evaluator in one
            # batch (a leaf reached twice in a batch is evaluated once)
            pending = {id(p[-1]): p[-1] for p in paths if not p[-1].terminal and p[-1].proven is None}
            evaluations = (yield [n.state for n in pending.values()]) if pending else []
            results = dict(zip(pending, evaluations))
            for key, (priors, _) in results.items():
                self._expand(pending[key], np.asarray(priors))
            for path in paths:
                leaf = path[-1]
                if leaf.terminal:
                    value = self.game.returns(leaf.state)[self.game.to_play(leaf.state)]
                elif leaf.proven is not None:  # known by the rules, for the player who moved into it
                    value = -leaf.proven
                else:
                    value = float(results[id(leaf)][1])
                self._backup(path, value)
                if self.cfg.decisive_moves:  # a new proof may climb the path
                    for node in reversed(path[:-1]):
                        if not self._prove(node):
                            break
            done += len(paths)
        return self._root_counts()

    def _root_counts(self) -> np.ndarray:
        """The root's visit counts [num_actions]; with proofs, only the proven wins if there are any,
        else every move but the proven losses (all of them when every move loses)."""
        children = self.root.children
        proven = {a: c.proven for a, c in children.items() if c.proven is not None}
        keep = [a for a, v in proven.items() if v > 0]
        if not keep:
            keep = [a for a in children if proven.get(a, 0.0) >= 0] or list(children)
        counts = np.zeros(self.game.num_actions, dtype=np.float32)
        for action in keep:
            counts[action] = max(children[action].visits, 1) if proven.get(action, 0.0) > 0 else children[action].visits
        if counts.sum() == 0:  # every move kept is unvisited: fall back to all visits
            for action, child in children.items():
                counts[action] = child.visits
        return counts


def run_searches(searches: Sequence[Search], evaluator: Evaluator) -> list[np.ndarray]:
    """Runs several searches (`MCTS.searching()`, e.g. of concurrent self-play games) in
    lockstep: each round, the leaves all of them are waiting for go to the evaluator in one call.
    Returns each search's visit counts, in order."""
    results: list = [None] * len(searches)
    waiting: dict[int, list] = {}
    for i, search in enumerate(searches):
        try:
            waiting[i] = next(search)
        except StopIteration as stop:
            results[i] = stop.value
    while waiting:
        evaluations = evaluator.evaluate([s for states in waiting.values() for s in states])
        start, answered = 0, {}
        for i, states in waiting.items():
            try:
                answered[i] = searches[i].send(evaluations[start:start + len(states)])
            except StopIteration as stop:
                results[i] = stop.value
            start += len(states)
        waiting = answered
    return results


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
        training = self.model.training
        self.model.eval()  # batch norm with its running statistics; the caller's mode comes back after
        try:
            with torch.inference_mode():
                out = self.model(planes)
        finally:
            self.model.train(training)
        logits = out.logits.numpy().astype(np.float64)  # [B, A]
        values = out.value.numpy().tolist()  # [B]
        legal = np.zeros(logits.shape, dtype=bool)  # [B, A]
        for row, state in enumerate(states):
            legal[row, self.game.legal_actions(state)] = True
        z = np.where(legal, logits, -np.inf)
        priors = np.exp(z - z.max(axis=1, keepdims=True))  # softmax over the legal moves only
        priors = (priors / priors.sum(axis=1, keepdims=True)).astype(np.float32)
        return list(zip(priors, values))
