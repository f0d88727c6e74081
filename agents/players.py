"""Players for board games, all behind one small interface, and matches between them.

A player answers `select_move(history) -> action`, where `history` is the list of
OpenSpiel-compatible actions played so far. Opponents: random, perfect play (minimax, for
tic-tac-toe), OpenSpiel's C++ MCTS bot with random rollouts, and a pathzero network with MCTS.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from pathzero.agents.mcts import MCTS, MCTSConfig, NetworkEvaluator
from pathzero.agents.perfect import Minimax
from pathzero.envs.boards import Game, replay  # replay re-exported: players and records share it
from pathzero.errors import UsageError

OPENSPIEL_NAMES = {"tictactoe": "tic_tac_toe", "connect_four": "connect_four"}


class Player(Protocol):
    def select_move(self, history: list[int]) -> int:
        ...


@dataclass
class RandomPlayer:
    game: Game
    seed: int = 0
    rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def select_move(self, history: list[int]) -> int:
        return int(self.rng.choice(self.game.legal_actions(replay(self.game, history))))


@dataclass
class PerfectPlayer:
    """Minimax with memoisation; among equally good moves it picks at random."""

    game: Game
    seed: int = 0
    rng: np.random.Generator = field(init=False)
    solver: Minimax = field(init=False)

    def __post_init__(self) -> None:
        if self.game.name != "tictactoe":
            raise UsageError(f"perfect play is only available for tic-tac-toe, not {self.game.name}")
        self.rng = np.random.default_rng(self.seed)
        self.solver = Minimax(self.game)

    def select_move(self, history: list[int]) -> int:
        return int(self.rng.choice(self.solver.best_actions(replay(self.game, history))))


class OpenSpielMCTSPlayer:
    """OpenSpiel's C++ MCTS bot with random-rollout evaluation: a real external opponent."""

    def __init__(self, game: Game, simulations: int = 1000, seed: int = 0, uct_c: float = 2.0) -> None:
        import pyspiel

        if simulations < 1:
            raise UsageError(f"--opponent-simulations must be >= 1, got {simulations}")
        self.spiel_game = pyspiel.load_game(OPENSPIEL_NAMES[game.name])
        evaluator = pyspiel.RandomRolloutEvaluator(1, seed)
        self.bot = pyspiel.MCTSBot(self.spiel_game, evaluator, uct_c, simulations, 1000, True, seed, False)

    def select_move(self, history: list[int]) -> int:
        state = self.spiel_game.new_initial_state()
        for action in history:
            state.apply_action(action)
        return int(self.bot.step(state))


def search_batch(simulations: int) -> int:
    """Leaves per batched evaluation for a search of `simulations`: at most 8, and few enough that
    the search takes >= 16 rounds, since virtual loss steers a batch's leaves away from the best
    line (with 16 simulations in batches of 8 the search is nearly breadth-first)."""
    return min(8, max(1, simulations // 16))


class NetworkPlayer:
    """A DualNet guiding pathzero's MCTS; plays the most visited move. `batch_size` None:
    `search_batch(simulations)`."""

    def __init__(self, game: Game, model, simulations: int = 64, batch_size: int | None = None,
                 decisive_moves: bool = True) -> None:
        if simulations < 1:
            raise UsageError(f"simulations must be >= 1, got {simulations}")
        self.game = game
        self.search = MCTS(game, NetworkEvaluator(game, model.eval()),
                           MCTSConfig(simulations=simulations, batch_size=batch_size or search_batch(simulations),
                                      decisive_moves=decisive_moves))

    def select_move(self, history: list[int]) -> int:
        self.search.reset(replay(self.game, history))
        return int(np.argmax(self.search.search()))


OPPONENTS = ("random", "perfect", "openspiel-mcts")


def make_opponent(name: str, game: Game, *, seed: int = 0, simulations: int = 1000) -> Player:
    """A reference opponent by name (one of OPPONENTS); `simulations` is for openspiel-mcts only."""
    if name == "random":
        return RandomPlayer(game, seed=seed)
    if name == "perfect":
        return PerfectPlayer(game, seed=seed)
    if name == "openspiel-mcts":
        try:
            return OpenSpielMCTSPlayer(game, simulations=simulations, seed=seed)
        except ImportError:
            raise UsageError("the openspiel-mcts opponent needs OpenSpiel: pip install open_spiel") from None
    raise UsageError(f"unknown opponent {name!r}; choose one of {', '.join(OPPONENTS)}")


@dataclass(frozen=True)
class MatchResult:
    wins: int
    draws: int
    losses: int
    records: list  # one dict per game: moves, which colour the first player had, result

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def score(self) -> float:
        """(wins + draws / 2) / games: a draw counts as half a win."""
        return (self.wins + 0.5 * self.draws) / self.games


def elo_difference(wins: int, draws: int, losses: int) -> float:
    """The Elo rating difference (player minus opponent) that the logistic Elo model expects to
    give this score: with s = (wins + draws / 2) / games,

        elo = 400 * log10(s / (1 - s)),

    the inverse of the expected score 1 / (1 + 10 ** (-elo / 400)). A score of 0% or 100% has no
    finite answer, so s is first clipped to [1 / (2 games), 1 - 1 / (2 games)], as if half a game
    had gone the other way: the estimate is then a bound that grows with the number of games
    (+-511 Elo for 10 games, +-919 for 100)."""
    games = wins + draws + losses
    if games < 1 or min(wins, draws, losses) < 0:
        raise ValueError(f"need a non-negative count of at least one game, got {wins}/{draws}/{losses}")
    half = 0.5 / games
    s = min(max((wins + 0.5 * draws) / games, half), 1 - half)
    return 400.0 * math.log10(s / (1 - s))


def random_openings(game: Game, count: int, plies: int, seed: int = 0) -> list[list[int]]:
    """`count` openings of `plies` uniformly random moves each (none ending the game), distinct
    while there are enough: the starting positions of a match between deterministic players."""
    rng = np.random.default_rng(seed)
    openings: list[list[int]] = []
    for _ in range(50 * count):
        if len(openings) == count:
            break
        moves: list[int] = []
        state = game.initial_state()
        while len(moves) < plies and not game.is_terminal(state):
            action = int(rng.choice(game.legal_actions(state)))
            state, moves = game.apply(state, action), moves + [action]
        if not game.is_terminal(state) and moves not in openings:
            openings.append(moves)
    distinct = openings[:] or [[]]
    while len(openings) < count:  # fewer distinct openings than asked for: cycle through them
        openings.append(distinct[len(openings) % len(distinct)])
    return openings


def play_match(game: Game, player: Player, opponent: Player, games: int,
               openings: list[list[int]] | None = None) -> MatchResult:
    """`games` games, `player` taking the first move in the even ones: both colours equally. With
    `openings`, games 2k and 2k+1 start after the moves of openings[k] (cycling through them), so
    that each opening is played from both sides; the records' moves include the opening."""
    wins = draws = losses = 0
    records = []
    for g in range(games):
        seat = g % 2  # 0: player moves first
        opening = openings[(g // 2) % len(openings)] if openings else None
        history: list[int] = list(opening or [])
        state = replay(game, history)
        while not game.is_terminal(state):
            mover = player if game.to_play(state) == seat else opponent
            action = mover.select_move(list(history))
            state = game.apply(state, action)
            history.append(action)
        result = game.returns(state)[seat]
        wins, draws, losses = wins + (result > 0), draws + (result == 0), losses + (result < 0)
        records.append({"game": game.name, "moves": history, "player_seat": seat, "result": result,
                        **({"opening_moves": len(opening)} if opening is not None else {})})
    return MatchResult(wins, draws, losses, records)
