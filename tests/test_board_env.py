"""Board games as Gymnasium environments: the API contract, rewards from the agent's seat, pictures."""
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from pathzero.envs.board_env import BoardGameEnv, board_image
from pathzero.envs.boards import ConnectFour, TicTacToe, replay
from pathzero.errors import UsageError

IDS = {"tictactoe": "pathzero/TicTacToe-v0", "connect_four": "pathzero/ConnectFour-v0"}


class Scripted:
    """An opponent that plays its moves in order, whatever the agent does."""

    def __init__(self, moves):
        self.moves = list(moves)

    def select_move(self, history):
        return self.moves[len(history) // 2]


@pytest.mark.parametrize("seat", [0, 1, "random"])
@pytest.mark.parametrize("game", sorted(IDS))
def test_passes_gymnasiums_env_checker(game, seat):
    for render_mode in (None, "ansi", "rgb_array"):
        check_env(gym.make(IDS[game], seat=seat, render_mode=render_mode).unwrapped)


@pytest.mark.parametrize("game,shape,actions", [("tictactoe", (2, 3, 3), 9), ("connect_four", (2, 6, 7), 7)])
def test_registered_ids_make_the_game(game, shape, actions):
    env = gym.make(IDS[game])
    obs, info = env.reset(seed=0)
    assert env.observation_space.shape == obs.shape == shape and obs.dtype == np.float32
    assert env.action_space.n == actions
    assert info["action_mask"].shape == (actions,) and info["action_mask"].dtype == np.int8


def test_the_agent_wins_from_seat_0_and_loses_from_seat_1():
    env = BoardGameEnv("tictactoe", opponent=Scripted([3, 4, 8]), seat=0)
    obs, info = env.reset()
    assert obs.sum() == 0 and info["action_mask"].tolist() == [1] * 9
    rewards = [env.step(a)[1] for a in (0, 1)]
    obs, reward, terminated, truncated, info = env.step(2)  # completes the top row
    assert rewards == [0.0, 0.0] and (reward, terminated, truncated) == (1.0, True, False)
    assert obs[0].reshape(-1).tolist() == [1, 1, 1, 0, 0, 0, 0, 0, 0]  # plane 0: the agent's stones
    assert obs[1].reshape(-1).tolist() == [0, 0, 0, 1, 1, 0, 0, 0, 0]
    assert info["action_mask"].sum() == 0

    env = BoardGameEnv("tictactoe", opponent=Scripted([0, 1, 2]), seat=1)
    obs, info = env.reset()
    assert obs[1, 0, 0] == 1 and obs[0].sum() == 0 and info["agent_seat"] == 1 and info["action_mask"][0] == 0
    assert env.step(3)[1:3] == (0.0, False)
    assert env.step(4)[1:3] == (-1.0, True)  # the opponent completes the top row


def test_an_illegal_action_ends_the_episode_with_minus_one():
    env = BoardGameEnv("connect_four", opponent=Scripted([0, 0, 0]), seat=0)
    env.reset()
    for _ in range(3):
        env.step(0)  # agent and opponent fill column 0 to the top
    obs, reward, terminated, truncated, info = env.step(0)
    assert (reward, terminated, truncated, info["illegal_action"]) == (-1.0, True, False, True)
    assert obs.sum() == 6  # the board is as it was
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(1)


def test_random_opponent_episodes_repeat_with_a_seed_and_cover_both_seats():
    def episode(seed):
        env = BoardGameEnv("tictactoe")
        obs, info = env.reset(seed=seed)
        trajectory, rewards, done = [obs], [], False
        while not done:
            legal = np.flatnonzero(info["action_mask"])
            occupied = (obs.sum(0).reshape(-1) > 0)
            assert not occupied[legal].any() and occupied.sum() + len(legal) == 9
            obs, reward, done, _, info = env.step(legal[0])
            trajectory.append(obs)
            rewards.append(reward)
        assert all(r == 0 for r in rewards[:-1]) and rewards[-1] in (-1.0, 0.0, 1.0)
        return info["agent_seat"], np.stack(trajectory), rewards[-1]

    first = episode(3)
    again = episode(3)
    assert first[0] == again[0] and np.array_equal(first[1], again[1]) and first[2] == again[2]
    assert {episode(seed)[0] for seed in range(8)} == {0, 1}


def test_render_modes_show_the_position():
    env = BoardGameEnv("tictactoe", opponent=Scripted([4]), seat=0, render_mode="ansi")
    env.reset()
    env.step(0)
    assert env.render() == TicTacToe().render(replay(TicTacToe(), [0, 4])) == "x..\n.o.\n..."
    env = BoardGameEnv("connect_four", opponent=Scripted([3]), seat=0, render_mode="rgb_array")
    env.reset()
    env.step(0)
    image = env.render()
    assert image.shape == (6 * 40, 7 * 40, 3) and image.dtype == np.uint8
    bottom = 5 * 40 + 20
    assert image[bottom, 20].tolist() == [220, 40, 40]  # x (the agent): red, bottom of column 0
    assert image[bottom, 3 * 40 + 20].tolist() == [245, 200, 30]  # o: yellow, bottom of column 3
    assert image[20, 20].tolist() == [235, 235, 235] and image[0, 0].tolist() == [30, 80, 200]


def test_board_image_colours_follow_the_players_not_the_mover():
    game = ConnectFour()
    after_x, after_o = board_image(game, replay(game, [2])), board_image(game, replay(game, [2, 2]))
    assert after_x[5 * 40 + 20, 2 * 40 + 20].tolist() == after_o[5 * 40 + 20, 2 * 40 + 20].tolist() == [220, 40, 40]
    assert after_o[4 * 40 + 20, 2 * 40 + 20].tolist() == [245, 200, 30]


def test_bad_settings_are_refused():
    with pytest.raises(UsageError, match="seat must be 0"):
        BoardGameEnv("tictactoe", seat=2)
    with pytest.raises(UsageError, match="unknown board game"):
        BoardGameEnv("chess")


def test_envs_never_import_agents():
    code = ("import sys, pathzero.envs.board_env; "
            "print(sorted(m for m in sys.modules if m.startswith('pathzero.agents')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
