"""Games: Atari (ALE), MinAtar and gymnasium environments behind `make_env`, and board games."""
from pathzero.errors import UsageError
from pathzero.envs.games import GameSpec, known_games, make_env, make_vector_env, resolve_game

__all__ = ["GameSpec", "UsageError", "known_games", "make_env", "make_vector_env", "resolve_game"]
