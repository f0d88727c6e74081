"""Per-family defaults: settings that suit a family of games better than the Atari-minded defaults
of the config classes.

A preset is a dict of config-field values for one family of games (`GameSpec.kind`: "ale",
"minatar" or "gym" for classic control, and "board" for the self-play board games, per game).
`apply_preset` puts the user's explicit choices on top, so a flag the user gives always wins, and
keeps only the fields the config class has.

ALE: the config classes' defaults are the Atari ones (the A3C paper's); the preset adds evaluation
every 500k frames (10 episodes, ~2% of a 10M-frame run's time on Pong). MinAtar evaluates every
100k frames. Classic control (CartPole and the like): unclipped rewards (the score is the reward
count), a 64-unit MLP, evaluation every 20k frames. Board games: tic-tac-toe keeps the self-play
defaults; Connect Four gets the Dirichlet concentration of about 10 / legal moves (10/7) and more
simulations per move (64), as AlphaZero scales them.

MinAtar (10x10 boards, rewards of 0 or 1 per event, no lives): no reward clipping, no life loss,
the paper-style gradient clip at 40, a learning rate of 3e-3 and 128 hidden units, and one 32-channel
residual block in the trunk (how it compares with the MinAtar paper's network: docs/BENCHMARKS.md).
"""
from __future__ import annotations

import dataclasses
from typing import Any

from pathzero.envs import GameSpec, resolve_game

# Learning settings of a family, for every agent (A3C and PathNet train with the same update).
LEARNING: dict[str, dict[str, Any]] = {
    "ale": {"eval_every": 500_000, "evaluation_episodes": 10},
    "minatar": {"lr": 3e-3, "clip_rewards": False, "life_loss": False, "max_grad_norm": 40.0,
                "envs_per_worker": 16, "eval_every": 100_000, "evaluation_episodes": 10},
    "gym": {"clip_rewards": False, "life_loss": False, "eval_every": 20_000, "evaluation_episodes": 10},
}

# Network sizes of a family, for the configs that declare `network_preset` (A3C's DualNet): PathNet's
# module grid keeps its own sizes, since its `channels` are each module's.
NETWORK: dict[str, dict[str, Any]] = {
    "minatar": {"channels": 32, "blocks": 1, "hidden": 128},
    "gym": {"hidden": 64},
}

# Self-play settings per board game (AlphaZeroConfig's defaults suit tic-tac-toe).
BOARD: dict[str, dict[str, Any]] = {
    "tictactoe": {},
    "connect_four": {"dirichlet_alpha": 1.4, "simulations": 64},
}


def board_preset(game: str) -> dict[str, Any]:
    """The self-play preset of a board game (by any of its names)."""
    from pathzero.envs.boards import make_board_game

    return dict(BOARD.get(make_board_game(game).name, {}))


def preset(spec: GameSpec, cfg_class: type) -> dict[str, Any]:
    """The defaults for `spec`'s family that `cfg_class` (a config dataclass) has fields for;
    empty for a family without a preset."""
    values = dict(LEARNING.get(spec.kind, {}))
    if getattr(cfg_class, "network_preset", False):
        values.update(NETWORK.get(spec.kind, {}))
    names = {f.name for f in dataclasses.fields(cfg_class)}
    return {k: v for k, v in values.items() if k in names}


def apply_preset(cfg_class: type, game: str | GameSpec, given: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for `cfg_class`: the preset of `game`'s family, then `given` (the user's
    explicit choices) on top. `cfg_class(**apply_preset(cfg_class, game, given))` is the config."""
    spec = game if isinstance(game, GameSpec) else resolve_game(game)
    return {**preset(spec, cfg_class), **given}


def _flag(name: str, value: Any) -> str:
    flag = name.replace("_", "-")
    if isinstance(value, bool):
        return f"--{flag}" if value else f"--no-{flag}"
    return f"--{flag} {value}"


def describe_preset(spec: GameSpec | str, cfg_class: type, given: dict[str, Any],
                    values: dict[str, Any] | None = None) -> str:
    """One line naming the preset and the flags it stands for (those the user did not give).
    `spec` may be a family's name with its `values` given (the board games)."""
    family = spec.kind if isinstance(spec, GameSpec) else spec
    values = preset(spec, cfg_class) if values is None else values
    if not values:
        return f"preset: none for {family} games (the defaults of --help)"
    used = [_flag(k, v) for k, v in values.items() if k not in given]
    return f"preset {family}: " + (" ".join(used) if used else "every value given by flags") + \
        " (flags you give win)"
