"""MCTS: it takes immediate wins, blocks immediate losses, and spends exactly its budget."""
import numpy as np
import pytest

from pathzero.agents.mcts import MCTS, MCTSConfig, RandomRolloutEvaluator
from pathzero.envs.boards import ConnectFour, TicTacToe


def position(game, moves):
    state = game.initial_state()
    for a in moves:
        state = game.apply(state, a)
    return state


def best_move(game, state, simulations=400, batch_size=1, seed=0):
    search = MCTS(game, RandomRolloutEvaluator(game, rollouts=2, seed=seed),
                  MCTSConfig(simulations=simulations, batch_size=batch_size), seed=seed)
    search.reset(state)
    return int(np.argmax(search.search()))


@pytest.mark.parametrize("batch_size", [1, 8])
def test_connect_four_takes_the_immediate_win(batch_size):
    game = ConnectFour()
    state = position(game, [0, 6, 1, 6, 2, 5])  # x has 0,1,2 on the bottom row; 3 wins
    assert best_move(game, state, batch_size=batch_size) == 3


@pytest.mark.parametrize("batch_size", [1, 8])
def test_connect_four_blocks_the_immediate_loss(batch_size):
    game = ConnectFour()
    state = position(game, [6, 0, 5, 1, 6, 2])  # o threatens column 3 on the bottom row
    assert best_move(game, state, batch_size=batch_size) == 3


def test_tictactoe_takes_the_win():
    game = TicTacToe()
    state = position(game, [0, 3, 1, 4])  # x to move: 2 completes the top row
    assert best_move(game, state, simulations=200) == 2


@pytest.mark.parametrize("simulations,batch_size", [(50, 8), (64, 8), (33, 5), (10, 16)])
def test_batched_search_spends_exactly_its_budget(simulations, batch_size):
    game = ConnectFour()
    search = MCTS(game, RandomRolloutEvaluator(game), MCTSConfig(simulations=simulations, batch_size=batch_size))
    counts = search.search()
    assert counts.sum() == simulations
    assert all(child.virtual == 0 for child in search.root.children.values())  # no virtual loss left behind


def test_tree_reuse_keeps_the_subtree():
    game = TicTacToe()
    # plain PUCT: with decisive moves the root's counts leave out the moves proven lost
    search = MCTS(game, RandomRolloutEvaluator(game), MCTSConfig(simulations=100, decisive_moves=False))
    counts = search.search()
    action = int(np.argmax(counts))
    search.advance(action)
    kept = search.root.visits
    assert kept == counts[action] and kept > 0
    assert search.search().sum() == 100 + kept - 1  # the kept visits count, minus the one that expanded it


def test_minimax_knows_tictactoe():
    from pathzero.agents.perfect import Minimax
    game = TicTacToe()
    perfect = Minimax(game)
    assert perfect.value(game.initial_state()) == 0  # tic-tac-toe is a draw
    assert perfect.value(position(game, [0, 3, 1, 4])) == 1  # x to move wins
    assert perfect.best_actions(position(game, [0, 3, 1, 4])) == [2]
    assert perfect.value(position(game, [4, 1])) == 1  # o answered the centre on an edge: x wins
    assert perfect.value(position(game, [4, 0])) == 0  # a corner answer holds the draw
    assert perfect.value.cache_info().currsize <= 5478


def test_network_evaluator_gives_legal_priors_and_bounded_values():
    import torch
    from pathzero.agents.mcts import NetworkEvaluator
    from pathzero.nets import DualNet, NetConfig
    game = ConnectFour()
    torch.manual_seed(0)
    net = DualNet((2, 6, 7), 7, NetConfig(channels=8, blocks=1, hidden=16, value_tanh=True))
    state = position(game, [3] * 6)
    (priors, value), (priors0, _) = NetworkEvaluator(game, net).evaluate([state, game.initial_state()])
    assert priors[3] == 0 and priors.sum() == pytest.approx(1.0) and -1 <= value <= 1
    assert priors0.sum() == pytest.approx(1.0) and (priors0 > 0).all()
    search = MCTS(game, NetworkEvaluator(game, net), MCTSConfig(simulations=24, batch_size=8))
    assert search.search().sum() == 24


class MisleadingEvaluator:
    """A network that knows nothing (value 0 everywhere) and gives `starved` moves a 1% prior."""

    def __init__(self, game, starved):
        self.game, self.starved = game, set(starved)

    def evaluate(self, states):
        out = []
        for s in states:
            priors = np.ones(self.game.num_actions)
            priors[list(self.starved)] = 0.01 * (len(priors) - len(self.starved)) / len(self.starved) / 0.99
            out.append(((priors / priors.sum()).astype(np.float32), 0.0))
        return out


@pytest.mark.parametrize("decisive", [True, False])
def test_decisive_moves_find_the_win_and_the_block_that_the_priors_starve(decisive):
    """With 32 simulations, values of 0 and a 1% prior, plain PUCT never searches the one move that
    matters (an unvisited move counts as a draw, like every other); decisive moves always find it."""
    game = TicTacToe()
    cases = [([4, 2, 5, 3, 8, 0, 1], 6),  # o to move: 6 completes 0-3-6
             ([4, 0, 8, 1], 2)]  # x to move, no win of its own: o threatens 2 (0-1-2), the only block
    for moves, must in cases:
        search = MCTS(game, MisleadingEvaluator(game, [must]), MCTSConfig(simulations=32, decisive_moves=decisive))
        search.reset(position(game, moves))
        chosen = int(np.argmax(search.search()))
        assert (chosen == must) is decisive, (moves, chosen)


class PatternEvaluator:
    """Deterministic priors and values made up from the moves so far; counts its calls."""

    def __init__(self, game):
        self.game, self.calls, self.states = game, 0, 0

    def evaluate(self, states):
        self.calls, self.states = self.calls + 1, self.states + len(states)
        out = []
        for s in states:
            key = sum((i + 3) * a for i, a in enumerate(s.moves))
            logits = np.array([(key * (a + 1)) % 5 for a in range(self.game.num_actions)], dtype=np.float64)
            priors = np.exp(logits) / np.exp(logits).sum()
            out.append((priors.astype(np.float32), (key % 7 - 3) / 3))
        return out


def test_searches_run_side_by_side_match_their_lone_runs_and_share_evaluator_calls():
    from pathzero.agents.mcts import run_searches

    game = ConnectFour()
    cfg = MCTSConfig(simulations=40, batch_size=4)
    starts = [[], [3], [3, 3, 2]]
    alone, calls = [], []
    for moves in starts:
        evaluator = PatternEvaluator(game)
        search = MCTS(game, evaluator, cfg)
        search.reset(position(game, moves))
        alone.append(search.search())
        calls.append(evaluator.calls)
    evaluator = PatternEvaluator(game)
    searches = [MCTS(game, evaluator, cfg) for _ in starts]
    for search, moves in zip(searches, starts):
        search.reset(position(game, moves))
    together = run_searches([s.searching() for s in searches], evaluator)
    for got, want in zip(together, alone):
        assert np.array_equal(got, want) and 0 < got.sum() <= cfg.simulations  # less the moves proven lost
    assert evaluator.calls == max(calls)  # one call per round serves every search still running
    assert evaluator.states > evaluator.calls * cfg.batch_size  # so the calls carry several searches' leaves


def _fork_positions(game):
    """Tic-tac-toe positions (2 to 4 moves in, a draw with best play, no immediate win for the mover)
    where every losing move loses to a fork: the opponent has no immediate win after it, but makes two
    threats with the next move. Returns [(moves, safe moves)]."""
    from pathzero.agents.perfect import Minimax
    perfect = Minimax(game)

    def wins_at_once(state):
        mover = game.to_play(state)
        return any(game.is_terminal(game.apply(state, a)) and game.returns(game.apply(state, a))[mover] > 0
                   for a in game.legal_actions(state))

    found, frontier = [], [[]]
    while frontier:
        moves = frontier.pop()
        state = position(game, moves)
        if game.is_terminal(state):
            continue
        if len(moves) >= 2 and perfect.value(state) == 0 and not wins_at_once(state):
            after = {a: game.apply(state, a) for a in game.legal_actions(state)}
            losing = [a for a, s in after.items() if perfect.value(s) > 0]
            if losing and not any(wins_at_once(after[a]) for a in losing):
                found.append((moves, [a for a in after if a not in losing]))
        if len(moves) < 4:
            frontier += [moves + [a] for a in game.legal_actions(state)]
    return found


def test_proven_values_avoid_the_move_that_allows_a_fork():
    """The network knows nothing (values 0) and gives the safe moves a 1% prior, so a search spends its
    32 simulations on moves that let the opponent fork. Proofs see the fork (the opponent's move after
    which every answer lets it win at once) after two visits and drop the move; plain PUCT never does."""
    game = TicTacToe()
    positions = _fork_positions(game)
    assert len(positions) > 300
    safe_choices = {}
    for decisive in (True, False):
        safe_choices[decisive] = 0
        for moves, safe in positions:
            search = MCTS(game, MisleadingEvaluator(game, safe), MCTSConfig(simulations=32, decisive_moves=decisive))
            search.reset(position(game, moves))
            safe_choices[decisive] += int(np.argmax(search.search())) in safe
    assert safe_choices[False] == 0
    assert safe_choices[True] >= 0.6 * len(positions), safe_choices  # 244 of 344 when written


def test_a_proven_win_takes_every_count_and_proven_losses_none():
    """x to move in [4, 0, 8, 1]: o threatens 2; every other move is proven lost (o wins at once)."""
    game = TicTacToe()
    search = MCTS(game, MisleadingEvaluator(game, [2]), MCTSConfig(simulations=32))
    search.reset(position(game, [4, 0, 8, 1]))
    counts = search.search()
    assert counts[2] > 0 and counts.sum() == counts[2]
    assert all(child.proven == -1.0 for a, child in search.root.children.items() if a != 2)
    search = MCTS(game, MisleadingEvaluator(game, [6]), MCTSConfig(simulations=32))
    search.reset(position(game, [4, 2, 5, 3, 8, 0, 1]))  # o to move: 6 wins at once
    counts = search.search()
    assert search.root.proven == -1.0 and counts.sum() == counts[6] > 0  # the root's mover-in (x) lost


@pytest.mark.parametrize("game", [TicTacToe(), ConnectFour()])
def test_a_games_fast_wins_at_once_agrees_with_the_rules(game):
    """The bitboard games' own `wins_at_once` against the protocol's generic one (every move played out),
    over the positions of random games."""
    from pathzero.envs.boards import Game

    rng = np.random.default_rng(0)
    checked = wins = 0
    for _ in range(60):
        state = game.initial_state()
        while not game.is_terminal(state):
            fast, generic = game.wins_at_once(state), Game.wins_at_once(game, state)
            assert fast == generic, game.render(state)
            checked, wins = checked + 1, wins + fast
            actions = game.legal_actions(state)
            state = game.apply(state, actions[rng.integers(len(actions))])
    assert checked > 300 and 0 < wins < checked
