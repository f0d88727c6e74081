"""A gymnasium environment that raises after a few steps: to test how training handles a dying worker."""
import gymnasium as gym
import numpy as np


class CrashAfterSteps(gym.Env):
    observation_space = gym.spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, crash_after: int = 50, render_mode=None):
        self.crash_after = crash_after
        self.steps = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(3, dtype=np.float32), {}

    def step(self, action):
        self.steps += 1
        if self.steps > self.crash_after:
            raise RuntimeError("the emulator crashed on purpose")
        return np.zeros(3, dtype=np.float32), 0.0, self.steps % 10 == 0, False, {}


if "CrashAfterSteps-v0" not in gym.registry:
    gym.register("CrashAfterSteps-v0", entry_point=CrashAfterSteps)
