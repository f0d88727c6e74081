"""Perfect play for small games by memoised minimax (tic-tac-toe: 5,478 positions)."""
from __future__ import annotations

from functools import lru_cache

from pathzero.envs.boards import Game


class Minimax:
    """Game-theoretic values and optimal moves; `value(state)` is for the player to move."""

    def __init__(self, game: Game) -> None:
        self.game = game
        self.value = lru_cache(maxsize=None)(self._value)

    def _value(self, state) -> int:
        game = self.game
        if game.is_terminal(state):
            return int(game.returns(state)[game.to_play(state)])
        return max(-self.value(game.apply(state, a)) for a in game.legal_actions(state))

    def action_values(self, state) -> dict[int, int]:
        """The value, for the player to move, of each legal action."""
        return {a: -self.value(self.game.apply(state, a)) for a in self.game.legal_actions(state)}

    def best_actions(self, state) -> list[int]:
        values = self.action_values(state)
        best = max(values.values())
        return [a for a, v in values.items() if v == best]
