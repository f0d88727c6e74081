"""Two-player, zero-sum board games with the protocol that MCTS (agents/mcts.py) depends on.

Action ids match OpenSpiel's: tic-tac-toe cells 0..8 row-major from the top-left, Connect Four
columns 0..6. States are immutable; `apply` returns a new state, so a search tree can keep them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable

import numpy as np

from pathzero.errors import UsageError


class Game:
    """The contract every board game keeps (the interface MCTS and self-play use).

    - `initial_state()` -> a state; states are immutable and hashable.
    - `to_play(state)` -> 0 or 1, the player to move (player 0 moves first).
    - `legal_actions(state)` -> sorted list of action ids; empty exactly when the game is over.
    - `apply(state, action)` -> the new state; raises UsageError for an illegal action.
    - `is_terminal(state)`; `returns(state)` -> (return of player 0, return of player 1), zero-sum,
      each in {-1, 0, 1}, and (0, 0) while the game is not over.
    - `planes(state)` -> float32 [C, rows, cols] from the mover's point of view: plane 0 the
      mover's stones, plane 1 the opponent's.
    - `symmetries(planes, policy)` -> list of (planes, policy) pairs equivalent under the board's
      symmetries, the identity first.
    - `render(state)` -> text.
    - `wins_at_once(state)` -> whether the player to move has a move that wins the game at once (a
      generic version is given; a game may answer faster).
    """

    name: str = ""
    num_actions: int = 0
    rows: int = 0
    cols: int = 0

    def initial_state(self) -> Hashable:
        raise NotImplementedError

    def to_play(self, state) -> int:
        raise NotImplementedError

    def legal_actions(self, state) -> list[int]:
        raise NotImplementedError

    def apply(self, state, action: int):
        raise NotImplementedError

    def is_terminal(self, state) -> bool:
        raise NotImplementedError

    def returns(self, state) -> tuple[float, float]:
        raise NotImplementedError

    def planes(self, state) -> np.ndarray:
        raise NotImplementedError

    def symmetries(self, planes: np.ndarray, policy: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        raise NotImplementedError

    def render(self, state) -> str:
        raise NotImplementedError

    def wins_at_once(self, state) -> bool:
        mover = self.to_play(state)
        for action in self.legal_actions(state):
            after = self.apply(state, action)
            if self.is_terminal(after) and self.returns(after)[mover] > 0:
                return True
        return False


@dataclass(frozen=True)
class BitState:
    """Both players' stones as bitmasks, and the moves so far."""

    stones: tuple[int, int]  # stones[p]: bitmask of player p's stones
    moves: tuple[int, ...] = field(compare=False)  # actions played, in order (not part of the position:
    # two move orders reaching the same stones are one state, for memoisation and tree search)

    @property
    def mover(self) -> int:
        return len(self.moves) % 2


def _checked(action, legal: list[int], what: str) -> int:
    """The action as an int, or UsageError naming the legal ones."""
    if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)) or int(action) not in legal:
        raise UsageError(f"illegal {what} {action!r}; legal: {legal}")
    return int(action)


def _bit_grid(rows: int, cols: int, bit_of) -> np.ndarray:
    """[rows, cols] uint64: the bitboard bit of each cell, for `_planes_from_bits`."""
    return np.array([[bit_of(r, c) for c in range(cols)] for r in range(rows)], dtype=np.uint64)


def _planes_from_bits(state: BitState, grid: np.ndarray) -> np.ndarray:
    """[2, rows, cols] float32: the mover's stones, then the opponent's (boards of < 64 bits)."""
    stones = np.array([state.stones[state.mover], state.stones[1 - state.mover]], dtype=np.uint64)
    return ((stones[:, None, None] >> grid) & np.uint64(1)).astype(np.float32)


class BitboardGame(Game):
    """What the two bitboard games share: the state, whose turn it is, placing a stone, returns.

    Subclasses give `_winner(state)`, `_bit(state, action)` (the bit a legal action sets),
    `legal_actions` and the board-specific methods.
    """

    move_name = "move"

    def initial_state(self) -> BitState:
        return BitState((0, 0), ())

    def to_play(self, state: BitState) -> int:
        return state.mover

    def _winner(self, state: BitState) -> int | None:
        raise NotImplementedError

    def _bit(self, state: BitState, action: int) -> int:
        raise NotImplementedError

    def _wins(self, stones: int) -> bool:
        """Whether these stones make a winning line."""
        raise NotImplementedError

    def wins_at_once(self, state: BitState) -> bool:
        mine = state.stones[state.mover]
        return any(self._wins(mine | 1 << self._bit(state, a)) for a in self.legal_actions(state))

    def apply(self, state: BitState, action: int) -> BitState:
        action = _checked(action, self.legal_actions(state), self.move_name)
        stones = list(state.stones)
        stones[state.mover] |= 1 << self._bit(state, action)
        return BitState((stones[0], stones[1]), state.moves + (action,))

    def returns(self, state: BitState) -> tuple[float, float]:
        w = self._winner(state)
        if w is None:
            return (0.0, 0.0)
        return (1.0, -1.0) if w == 0 else (-1.0, 1.0)


class TicTacToe(BitboardGame):
    """Tic-tac-toe; cell = row * 3 + col, row 0 at the top (OpenSpiel's `tic_tac_toe`)."""

    name = "tictactoe"
    num_actions = 9
    rows = cols = 3
    LINES = tuple(sum(1 << c for c in line) for line in
                  [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)])
    FULL = (1 << 9) - 1
    move_name = "tic-tac-toe move"

    def _wins(self, stones: int) -> bool:
        return any(stones & line == line for line in self.LINES)

    def _winner(self, state: BitState) -> int | None:
        for p in (0, 1):
            if self._wins(state.stones[p]):
                return p
        return None

    def is_terminal(self, state: BitState) -> bool:
        return self._winner(state) is not None or (state.stones[0] | state.stones[1]) == self.FULL

    def legal_actions(self, state: BitState) -> list[int]:
        if self.is_terminal(state):
            return []
        taken = state.stones[0] | state.stones[1]
        return [a for a in range(9) if not taken & (1 << a)]

    def _bit(self, state: BitState, action: int) -> int:
        return action

    GRID = _bit_grid(3, 3, lambda r, c: 3 * r + c)

    def planes(self, state: BitState) -> np.ndarray:
        return _planes_from_bits(state, self.GRID)

    def symmetries(self, planes, policy):
        board = policy.reshape(3, 3)
        out = []
        for k in range(4):
            for flip in (False, True):
                p, b = np.rot90(planes, k, axes=(1, 2)), np.rot90(board, k)
                if flip:
                    p, b = p[:, :, ::-1], b[:, ::-1]
                out.append((np.ascontiguousarray(p), np.ascontiguousarray(b).reshape(-1)))
        return out

    def render(self, state: BitState) -> str:
        marks = []
        for a in range(9):
            bit = 1 << a
            marks.append("x" if state.stones[0] & bit else "o" if state.stones[1] & bit else ".")
        return "\n".join("".join(marks[3 * r:3 * r + 3]) for r in range(3))


class ConnectFour(BitboardGame):
    """Connect Four, 6 rows x 7 columns; an action is a column 0..6 (OpenSpiel's `connect_four`).

    Bitboard layout: column c owns bits 7c..7c+5 (bottom to top) and a spare bit 7c+6, so the
    four-in-a-row test is a few shifts and ands.
    """

    name = "connect_four"
    num_actions = 7
    rows, cols = 6, 7
    H = 7  # bits per column, with the spare one
    move_name = "Connect Four move"

    @staticmethod
    def _four(b: int) -> bool:
        for shift in (1, 7, 6, 8):  # vertical, horizontal, diagonal /, diagonal \
            m = b & (b >> shift)
            if m & (m >> (2 * shift)):
                return True
        return False

    def _winner(self, state: BitState) -> int | None:
        if not state.moves:
            return None
        last = 1 - state.mover  # only the player who just moved can have won
        return last if self._four(state.stones[last]) else None

    def _wins(self, stones: int) -> bool:
        return self._four(stones)

    def _height(self, state: BitState, col: int) -> int:
        both = state.stones[0] | state.stones[1]
        column = (both >> (self.H * col)) & 0b111111
        return column.bit_length()

    def is_terminal(self, state: BitState) -> bool:
        return self._winner(state) is not None or len(state.moves) == 42

    def legal_actions(self, state: BitState) -> list[int]:
        if self.is_terminal(state):
            return []
        both = state.stones[0] | state.stones[1]
        return [c for c in range(7) if not both >> (self.H * c + 5) & 1]  # the column's top cell is free

    def _bit(self, state: BitState, action: int) -> int:
        return self.H * action + self._height(state, action)

    GRID = _bit_grid(6, 7, lambda r, c: 7 * c + (5 - r))  # row 0 at the top, as the board is drawn

    def planes(self, state: BitState) -> np.ndarray:
        return _planes_from_bits(state, self.GRID)

    def symmetries(self, planes, policy):
        return [(planes, policy), (np.ascontiguousarray(planes[:, :, ::-1]), np.ascontiguousarray(policy[::-1]))]

    def render(self, state: BitState) -> str:
        rows = []
        for r in range(5, -1, -1):
            line = ""
            for c in range(7):
                bit = 1 << (self.H * c + r)
                line += "x" if state.stones[0] & bit else "o" if state.stones[1] & bit else "."
            rows.append(line)
        return "\n".join(rows + ["0123456"])


GAMES = {"tictactoe": TicTacToe, "tic_tac_toe": TicTacToe, "connect_four": ConnectFour,
         "connectfour": ConnectFour, "connect4": ConnectFour}


def make_board_game(name: str) -> Game:
    """A board game by pathzero's or OpenSpiel's name, or UsageError listing the known ones."""
    key = name.strip().lower().replace("-", "_")
    if key not in GAMES:
        raise UsageError(f"unknown board game {name!r}; choose tictactoe (tic_tac_toe) or connect_four")
    return GAMES[key]()


def replay(game: Game, history: list[int]):
    """The state after `history`, or UsageError at the first illegal action."""
    state = game.initial_state()
    for i, action in enumerate(history):
        try:
            state = game.apply(state, action)
        except UsageError as exc:
            raise UsageError(f"move {i + 1} of the record: {exc}") from None
    return state
