"""Environments that end after 3 steps, by a time limit (truncated) or by themselves (terminated): to
test that learning tells the two apart. The observation's first entry is the step count / 10."""
import gymnasium as gym
import numpy as np


class Counter(gym.Env):
    observation_space = gym.spaces.Box(0.0, 10.0, shape=(3,), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, end_after: int | None = None, render_mode=None):
        self.end_after, self.steps = end_after, 0

    def _obs(self):
        return np.array([self.steps / 10, 0.0, 0.0], dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.steps = 0
        return self._obs(), {}

    def step(self, action):
        self.steps += 1
        return self._obs(), 1.0, self.end_after is not None and self.steps >= self.end_after, False, {}


if "TimedCounter-v0" not in gym.registry:
    gym.register("TimedCounter-v0", entry_point=Counter, max_episode_steps=3)  # truncated after 3 steps
    gym.register("EndingCounter-v0", entry_point=Counter, kwargs={"end_after": 3})  # terminated after 3 steps
