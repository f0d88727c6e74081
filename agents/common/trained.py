"""`Agent`: a trained policy on its game, as `pathzero.load` returns it for the agents that play
Atari, MinAtar and classic-control games (A3C, PathNet, the Gumbel search)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pathzero.errors import UsageError


class Agent:
    """A trained A3C or PathNet policy on its game (PathNet: one task, along its best pathway).

    `act` takes one observation as the game's environment gives it (or a batch of them) and
    returns an action (or an array of actions); `evaluate` plays whole episodes with the
    evaluation protocol (ALE v5: sticky actions 0.25, up to 30 no-ops, full episodes up to 108k
    frames; scores unclipped)."""

    def __init__(self, model, game: str, *, frames: int, greedy: bool = False, task: str | None = None,
                 kind: str = "a3c", seed: int = 0) -> None:
        import torch

        from pathzero.envs import resolve_game

        self.model, self.game, self.frames, self.greedy = model.eval(), game, frames, greedy
        self.task, self.kind = task, kind
        self.spec = resolve_game(game)
        self._generator = torch.Generator().manual_seed(seed)

    def __repr__(self) -> str:
        task = f", task {self.task}" if self.task else ""
        return f"<pathzero {self.kind} agent on {self.spec.env_id}{task}, {self.frames:,} frames>"

    def act(self, observation, greedy: bool | None = None):
        import torch

        from pathzero.agents.common.rollout import sample_actions

        obs = torch.as_tensor(np.asarray(observation))
        single = obs.dim() == len(self.model_obs_shape)
        actions = sample_actions(self.model, obs[None] if single else obs,
                                 self.greedy if greedy is None else greedy, self._generator)
        return int(actions[0]) if single else actions.numpy()

    @property
    def model_obs_shape(self) -> tuple[int, ...]:
        from pathzero.agents.common.runner import game_shapes

        if not hasattr(self, "_obs_shape"):
            self._obs_shape = game_shapes(self.spec)[0]
        return self._obs_shape

    def make_env(self, render: bool = False):
        """An environment of the agent's game with the evaluation protocol."""
        from pathzero.envs import make_env

        return make_env(self.spec, render=render)

    def play(self, episodes: int = 1, *, seed: int = 0, greedy: bool | None = None, max_steps: int | None = None,
             video: str | Path | None = None) -> list:
        """Plays whole episodes; returns their results (score, length); `video`: an .mp4 or .gif path."""
        from pathzero.agents.common.replay import VideoWriter, play, video_fps

        if episodes < 1:
            raise UsageError(f"episodes must be >= 1, got {episodes}")
        writer = VideoWriter(video, video_fps(self.spec)) if video else None
        try:
            return play(self.model, self.spec, episodes=episodes, seed=seed,
                        greedy=self.greedy if greedy is None else greedy, max_steps=max_steps, video=writer)
        finally:
            if writer is not None:
                writer.close()

    def evaluate(self, episodes: int = 10, *, seed: int = 0, greedy: bool | None = None,
                 max_steps: int | None = None) -> list[float]:
        """The unclipped scores of `episodes` whole episodes (env seeds seed, seed + 1, ...)."""
        return [r.ret for r in self.play(episodes, seed=seed, greedy=greedy, max_steps=max_steps)]


def refuse_options(agent: str, **options) -> None:
    """Refuses the load options (given: not None) that an agent's checkpoints have no use for."""
    for name, value in options.items():
        if value is not None:
            raise UsageError(f"{name} does not apply to a {agent} checkpoint (task: PathNet runs; game and "
                             "simulations: self-play checkpoints)")
