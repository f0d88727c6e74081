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


def _beside_the_subpackages() -> None:
    """In a source checkout this folder sits beside agents/, envs/, nets/ and scripts/, which setup.py maps
    into pathzero. Python run in the checkout finds this folder first (the working directory leads
    sys.path), also where pathzero is installed (not editable) elsewhere; then the subpackages are looked up
    beside it, so `python -m pathzero` and `python -m pytest` work in a checkout with any kind of install."""
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    in_checkout = all(os.path.isfile(os.path.join(root, *parts)) for parts in (("setup.py",), ("agents", "__init__.py")))
    if in_checkout and root not in __path__:
        __path__.append(root)


_beside_the_subpackages()

__all__ = ["train", "load", "transfer", "continual", "report", "export", "Run", "Agent", "BoardAgent", "__version__"]


def __getattr__(name: str):
    if name in ("train", "load", "transfer", "continual", "report", "export", "Run", "Agent", "BoardAgent"):
        from pathzero.agents import api

        return getattr(api, name)
    raise AttributeError(f"module 'pathzero' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
