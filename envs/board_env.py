"""Board games as Gymnasium environments: one agent against a fixed opponent.

    import gymnasium as gym, envs.board_env
    env = gym.make("pathzero/TicTacToe-v0", seat="random")      # or pathzero/ConnectFour-v0
    obs, info = env.reset(seed=0)                                 # obs: [2, rows, cols] float32
    obs, reward, terminated, truncated, info = env.step(info["action_mask"].argmax())

The opponent is any object with `select_move(history) -> action` (the interface of
agents/players.py, taken as a parameter because envs/ never imports agents/); by default a random
player driven by the environment's own generator, so `reset(seed=...)` makes episodes repeat.
`board_image` draws a position as an RGB picture (render mode "rgb_array", and videos of records).
"""
from __future__ import annotations

from typing import Any, Protocol

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from pathzero.envs.boards import Game, make_board_game, replay
from pathzero.errors import UsageError

CELL_PIXELS = 40
BOARD_RGB = (30, 80, 200)
STONE_RGB = np.array([[235, 235, 235], [220, 40, 40], [245, 200, 30]], dtype=np.uint8)  # empty, x, o


class Opponent(Protocol):
    def select_move(self, history: list[int]) -> int:
        ...


class RandomOpponent:
    """Plays a uniformly random legal move; `rng` is a seed or a generator to share."""

    def __init__(self, game: Game, rng: np.random.Generator | int | None = None) -> None:
        self.game = game
        self.rng = np.random.default_rng(rng)  # a Generator passes through unchanged

    def select_move(self, history: list[int]) -> int:
        return int(self.rng.choice(self.game.legal_actions(replay(self.game, history))))


def board_image(game: Game, state, cell: int = CELL_PIXELS) -> np.ndarray:
    """The position as uint8 RGB [rows * cell, cols * cell, 3]: a blue board with a disc per
    cell, red for x (the first player), yellow for o, light grey where the cell is empty."""
    planes = game.planes(state)  # from the mover's view; flip so that plane p is player p's stones
    if game.to_play(state) == 1:
        planes = planes[::-1]
    owner = (planes[0] + 2 * planes[1]).astype(np.int64)  # [rows, cols]: 0 empty, 1 x, 2 o
    offset = np.arange(cell) + 0.5 - cell / 2
    disc = offset[:, None] ** 2 + offset[None, :] ** 2 <= (0.4 * cell) ** 2  # [cell, cell]
    colours = STONE_RGB[owner].repeat(cell, axis=0).repeat(cell, axis=1)  # [H, W, 3]
    mask = np.tile(disc, (game.rows, game.cols))  # [H, W]
    image = np.empty_like(colours)
    image[:] = BOARD_RGB
    image[mask] = colours[mask]
    return image


class BoardGameEnv(gym.Env):
    """A board game from one seat, the opponent's replies folded into each step.

    - Observation: the game's planes from the agent's point of view (plane 0 the agent's
      stones, plane 1 the opponent's), float32 Box [2, rows, cols].
    - Action: Discrete(num_actions), OpenSpiel's action ids. `info["action_mask"]` (int8) marks
      the legal ones. An illegal action ends the episode at once with reward -1
      (`info["illegal_action"]` is True); the board is left as it was.
    - Reward: 0 until the game ends, then the game's result for the agent: 1, 0 or -1.
    - `seat`: 0 (the agent moves first), 1, or "random" (drawn at every reset);
      `info["agent_seat"]` says which.
    - `opponent`: anything with `select_move(history) -> action`; default a RandomOpponent using
      this environment's generator. A given opponent keeps its own seeding.
    - Render modes: "ansi" (the game's text board) and "rgb_array" (`board_image`).
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 2}

    def __init__(self, game: str | Game = "tictactoe", opponent: Opponent | None = None,
                 seat: int | str = "random", render_mode: str | None = None) -> None:
        self.game = make_board_game(game) if isinstance(game, str) else game
        if seat not in (0, 1, "random"):
            raise UsageError(f"seat must be 0 (move first), 1 or 'random', got {seat!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise UsageError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.seat = seat
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0.0, 1.0, (2, self.game.rows, self.game.cols), np.float32)
        self.action_space = spaces.Discrete(self.game.num_actions)
        self._given_opponent = opponent
        self.opponent: Opponent | None = opponent
        self.agent_seat = 0
        self._state = None
        self._history: list[int] = []
        self._over = True

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if self._given_opponent is None:  # rebuilt so that it follows a reseeded np_random
            self.opponent = RandomOpponent(self.game, self.np_random)
        self.agent_seat = int(self.np_random.integers(2)) if self.seat == "random" else int(self.seat)
        self._state, self._history, self._over = self.game.initial_state(), [], False
        if self.agent_seat == 1:
            self._play(self.opponent.select_move(list(self._history)))
        return self._obs(), self._info()

    def step(self, action):
        if self._over:
            raise RuntimeError("the episode is over; call reset() before step()")
        action = int(action)
        if action not in self.game.legal_actions(self._state):
            self._over = True
            return self._obs(), -1.0, True, False, self._info(illegal=True)
        self._play(action)
        if not self.game.is_terminal(self._state):
            self._play(self.opponent.select_move(list(self._history)))
        self._over = self.game.is_terminal(self._state)
        reward = float(self.game.returns(self._state)[self.agent_seat]) if self._over else 0.0
        return self._obs(), reward, self._over, False, self._info()

    def render(self):
        if self.render_mode == "ansi":
            return self.game.render(self._state)
        if self.render_mode == "rgb_array":
            return board_image(self.game, self._state)
        return None

    def _play(self, action: int) -> None:
        self._state = self.game.apply(self._state, action)
        self._history.append(int(action))

    def _obs(self) -> np.ndarray:
        planes = self.game.planes(self._state)
        if self.game.to_play(self._state) != self.agent_seat:
            planes = planes[::-1]
        return np.ascontiguousarray(planes, dtype=np.float32)

    def _info(self, illegal: bool = False) -> dict[str, Any]:
        mask = np.zeros(self.game.num_actions, dtype=np.int8)
        if not (self._over or illegal):
            mask[self.game.legal_actions(self._state)] = 1
        return {"action_mask": mask, "agent_seat": self.agent_seat, "illegal_action": illegal}


gym.register(id="pathzero/TicTacToe-v0", entry_point="pathzero.envs.board_env:BoardGameEnv", kwargs={"game": "tictactoe"})
gym.register(id="pathzero/ConnectFour-v0", entry_point="pathzero.envs.board_env:BoardGameEnv",
             kwargs={"game": "connect_four"})
