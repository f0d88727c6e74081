"""Players and matches: perfect play never loses, OpenSpiel's bot is a real and strong opponent."""
import pytest

from pathzero.agents.players import (OpenSpielMCTSPlayer, PerfectPlayer, RandomPlayer, play_match, replay)
from pathzero.envs import UsageError
from pathzero.envs.boards import ConnectFour, TicTacToe


def test_perfect_player_never_loses_and_beats_random_often():
    game = TicTacToe()
    result = play_match(game, PerfectPlayer(game, seed=1), RandomPlayer(game, seed=2), games=40)
    assert result.losses == 0 and result.wins >= 30 and result.games == 40
    assert {r["player_seat"] for r in result.records} == {0, 1}  # both colours
    perfect_vs_perfect = play_match(game, PerfectPlayer(game, seed=3), PerfectPlayer(game, seed=4), games=10)
    assert perfect_vs_perfect.draws == 10


def test_openspiel_mcts_bot_beats_random_at_connect_four():
    game = ConnectFour()
    result = play_match(game, OpenSpielMCTSPlayer(game, simulations=200, seed=0), RandomPlayer(game), games=6)
    assert result.wins >= 5
    for record in result.records:  # every move it made was legal in our rules
        replay(game, record["moves"])


def test_bad_requests_are_refused():
    with pytest.raises(UsageError, match="only available for tic-tac-toe"):
        PerfectPlayer(ConnectFour())
    with pytest.raises(UsageError, match="must be >= 1"):
        OpenSpielMCTSPlayer(ConnectFour(), simulations=0)
    with pytest.raises(UsageError, match="move 2 of the record"):
        replay(TicTacToe(), [4, 4])


def test_random_openings_are_distinct_and_played_from_both_sides():
    from pathzero.agents.players import RandomPlayer, play_match, random_openings

    game = TicTacToe()
    openings = random_openings(game, 5, plies=2, seed=3)
    assert len(openings) == 5 and len({tuple(o) for o in openings}) == 5 and all(len(o) == 2 for o in openings)
    assert random_openings(game, 5, plies=2, seed=3) == openings  # seeded
    cycled = random_openings(game, 20, plies=1)  # only 9 distinct exist: they repeat in turn
    assert len(cycled) == 20 and len({tuple(o) for o in cycled}) == 9 and cycled[9:18] == cycled[:9]
    first, second = RandomPlayer(game, seed=1), RandomPlayer(game, seed=2)
    match = play_match(game, first, second, 10, openings=openings)
    for g, record in enumerate(match.records):
        assert record["moves"][:2] == openings[g // 2] and record["opening_moves"] == 2
        assert record["player_seat"] == g % 2
