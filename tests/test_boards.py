"""Board-game rules: known positions, zero-sum returns, illegal moves, symmetries."""
import numpy as np
import pytest

from pathzero.envs import UsageError
from pathzero.envs.boards import ConnectFour, Game, TicTacToe, make_board_game


def play(game, actions):
    state = game.initial_state()
    for a in actions:
        state = game.apply(state, a)
    return state


@pytest.mark.parametrize("moves,winner", [
    ([0, 3, 1, 4, 2], 0),  # top row
    ([0, 1, 3, 2, 6], 0),  # left column
    ([1, 0, 2, 4, 5, 8], 1),  # diagonal for o
    ([2, 0, 4, 1, 6], 0),  # anti-diagonal
])
def test_tictactoe_wins(moves, winner):
    game = TicTacToe()
    state = play(game, moves)
    assert game.is_terminal(state) and game.legal_actions(state) == []
    assert game.returns(state)[winner] == 1.0 and sum(game.returns(state)) == 0.0


def test_tictactoe_draw_and_illegal_moves():
    game = TicTacToe()
    state = play(game, [0, 1, 2, 4, 3, 5, 7, 6, 8])
    assert game.is_terminal(state) and game.returns(state) == (0.0, 0.0)
    with pytest.raises(UsageError, match="illegal tic-tac-toe move 0"):
        game.apply(play(game, [0]), 0)
    with pytest.raises(UsageError, match="illegal"):
        game.apply(game.initial_state(), 9)


@pytest.mark.parametrize("moves,winner", [
    ([0, 1, 0, 1, 0, 1, 0], 0),  # vertical
    ([0, 0, 1, 1, 2, 2, 3], 0),  # horizontal along the bottom
    ([0, 1, 1, 2, 3, 2, 2, 3, 3, 6, 3], 0),  # diagonal /
    ([6, 5, 5, 4, 3, 4, 4, 3, 3, 0, 3], 0),  # diagonal \
    ([6, 0, 6, 0, 6, 0, 5, 0], 1),  # vertical for the second player
])
def test_connect_four_wins(moves, winner):
    game = ConnectFour()
    state = play(game, moves)
    assert game.is_terminal(state)
    assert game.returns(state)[winner] == 1.0 and game.returns(state)[1 - winner] == -1.0
    assert not game.is_terminal(play(game, moves[:-1]))


def test_connect_four_full_column_and_draw():
    game = ConnectFour()
    state = play(game, [3] * 6)
    assert 3 not in game.legal_actions(state)
    with pytest.raises(UsageError, match="illegal Connect Four move 3"):
        game.apply(state, 3)
    # a game that fills the board without four in a row (found by random play, checked by hand)
    drawn = play(game, [3, 3, 5, 2, 1, 2, 0, 0, 5, 0, 1, 4, 6, 0, 2, 4, 3, 5, 5, 2, 4, 2, 2, 3, 0, 1, 4, 4,
                        1, 0, 4, 6, 6, 5, 6, 6, 3, 3, 5, 6, 1, 1])
    assert game.is_terminal(drawn) and game.returns(drawn) == (0.0, 0.0) and game.legal_actions(drawn) == []
    assert game.render(drawn).splitlines()[0] == "ooxoxxo"


def test_random_games_are_zero_sum_and_planes_are_from_the_movers_view():
    rng = np.random.default_rng(0)
    for game in (TicTacToe(), ConnectFour()):
        for _ in range(50):
            state = game.initial_state()
            while not game.is_terminal(state):
                planes = game.planes(state)
                assert planes.shape == (2, game.rows, game.cols)
                assert planes[0].sum() == (len(state.moves) // 2)  # the mover's own stones
                # cell by cell against the text board (a second, naive reading of the bitboards)
                board = np.array([list(line) for line in game.render(state).splitlines()[:game.rows]])
                mine, theirs = ("x", "o") if game.to_play(state) == 0 else ("o", "x")
                assert np.array_equal(planes[0], board == mine) and np.array_equal(planes[1], board == theirs)
                state = game.apply(state, rng.choice(game.legal_actions(state)))
            assert sum(game.returns(state)) == 0.0


def test_symmetries_map_policy_with_planes():
    game = TicTacToe()
    state = play(game, [0])
    policy = np.arange(9, dtype=np.float32)
    pairs = game.symmetries(game.planes(state), policy)
    assert len(pairs) == 8
    for planes, pol in pairs:  # the stone and the policy entry of its cell move together
        (r, c), = np.argwhere(planes[1] == 1)
        assert pol[3 * r + c] == 0.0
    c4 = ConnectFour()
    (p0, q0), (p1, q1) = c4.symmetries(c4.planes(play(c4, [0])), np.arange(7.0))
    assert p1[1, 5, 6] == 1 and q1[6] == 0.0


def test_protocol_methods_raise_not_implemented_and_names_resolve():
    with pytest.raises(NotImplementedError):
        Game().initial_state()
    assert isinstance(make_board_game("tic_tac_toe"), TicTacToe)
    assert isinstance(make_board_game("connect_four"), ConnectFour)
    with pytest.raises(UsageError, match="unknown board game 'chess'"):
        make_board_game("chess")


@pytest.mark.parametrize("ours,theirs", [(TicTacToe, "tic_tac_toe"), (ConnectFour, "connect_four")])
def test_random_games_agree_with_openspiel(ours, theirs):
    import pyspiel
    game, spiel = ours(), pyspiel.load_game(theirs)
    rng = np.random.default_rng(7)
    for _ in range(100):
        state, other = game.initial_state(), spiel.new_initial_state()
        while not other.is_terminal():
            assert game.legal_actions(state) == list(other.legal_actions())
            assert game.to_play(state) == other.current_player()
            action = int(rng.choice(game.legal_actions(state)))
            state = game.apply(state, action)
            other.apply_action(action)
        assert game.is_terminal(state) and game.legal_actions(state) == []
        assert game.returns(state) == tuple(other.returns())
