"""pathzero: A3C, PathNet and AlphaZero-style agents for Atari, MinAtar and board games.

    import pathzero
    run = pathzero.train(game="MinAtar/Breakout", agent="a3c", total_frames=500_000)
    agent = pathzero.load(run.dir)
    scores = agent.evaluate(episodes=10)

The subpackages are pathzero.agents, pathzero.envs, pathzero.nets and pathzero.scripts. Importing
pathzero itself is cheap: the API below imports what it needs when it is called.
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["train", "load", "transfer", "continual", "Run", "Agent", "BoardAgent", "__version__"]


def __getattr__(name: str):
    if name in ("train", "load", "transfer", "continual", "Run", "Agent", "BoardAgent"):
        from pathzero.agents import api

        return getattr(api, name)
    raise AttributeError(f"module 'pathzero' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
