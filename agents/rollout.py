"""Acting in a batch of environments: the first part of every actor-learner's loop.

A worker steps B environments and chooses all B actions with one batched forward pass; on a CPU
the network, not the emulator, dominates the cost of acting, so batching is the main lever on
throughput. `collect` returns a `Rollout` of T steps ready for `returns` and the loss.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np
import torch
from torch.distributions import Categorical

from envs import GameSpec, make_env
from nets import DualOutput

Forward = Callable[[torch.Tensor], DualOutput]  # observations [B, ...] -> (logits [B, A], value [B])


class Rollout(NamedTuple):
    """T steps of B environments, with the network outputs kept for the loss (no second forward)."""

    logits: torch.Tensor  # [T, B, A] with grad
    values: torch.Tensor  # [T, B] with grad
    actions: torch.Tensor  # [T, B] int64
    rewards: torch.Tensor  # [T, B] float32, clipped if reward clipping is on
    dones: torch.Tensor  # [T, B] float32, 1 where the transition ended an episode (or a life)
    bootstrap: torch.Tensor  # [B] value of the state after the last step, no grad


@dataclass(frozen=True)
class Episode:
    ret: float  # unclipped game score
    length: int  # agent steps
    env_index: int


def sample_actions(model: torch.nn.Module, obs: torch.Tensor, greedy: bool = False) -> torch.Tensor:
    """One batched forward pass -> an action per observation: [B, *obs_shape] -> [B]."""
    with torch.no_grad():
        logits = model(obs).logits
    if greedy:
        return logits.argmax(-1)
    return Categorical(logits=logits).sample()


class EnvBatch:
    """B environments of one game, stepped together, resetting each one as its episode ends."""

    def __init__(self, spec: GameSpec, n: int, seed: int, *, clip_rewards: bool, life_loss: bool) -> None:
        self.envs = [make_env(spec, clip_rewards=clip_rewards) for _ in range(n)]
        self.life_loss = life_loss
        first = [env.reset(seed=seed + i) for i, env in enumerate(self.envs)]
        for i, env in enumerate(self.envs):
            env.action_space.seed(seed + i)
        self.obs = np.stack([o for o, _ in first])  # [B, *obs_shape], updated in place
        self.lives = [info.get("lives", 0) for _, info in first]

    def __len__(self) -> int:
        return len(self.envs)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Episode]]:
        """Steps every env once; returns (next obs [B, ...], rewards [B], dones [B], finished episodes)."""
        n = len(self.envs)
        rewards = np.zeros(n, dtype=np.float32)
        dones = np.zeros(n, dtype=np.float32)
        finished: list[Episode] = []
        for i, env in enumerate(self.envs):
            obs, reward, terminated, truncated, info = env.step(int(actions[i]))
            rewards[i] = reward
            lives = info.get("lives", 0)
            if terminated or truncated:
                dones[i] = 1.0
                ep = info["episode"]
                finished.append(Episode(float(ep["r"]), int(ep["l"]), i))
                obs, info = env.reset()
                lives = info.get("lives", 0)
            elif self.life_loss and lives < self.lives[i]:
                dones[i] = 1.0  # a lost life ends the return for learning, not the episode
            self.lives[i] = lives
            self.obs[i] = obs
        return self.obs, rewards, dones, finished

    def collect(self, forward: Forward, t_max: int) -> tuple[Rollout, list[Episode]]:
        """Acts for t_max steps in every env: observe -> forward (kept for the loss) -> act -> store.

        `forward` is the network (or a PathNet pathway through it). Acting keeps the autograd
        graph, so the loss needs no second forward pass over the rollout.
        """
        logits, values, actions, rewards, dones, finished = [], [], [], [], [], []
        for _ in range(t_max):
            # a copy: the graph may keep the input for backward, and self.obs changes in place
            out = forward(torch.from_numpy(self.obs.copy()))
            action = Categorical(logits=out.logits.detach()).sample()  # [B]
            _, reward, done, episodes = self.step(action.numpy())
            logits.append(out.logits)
            values.append(out.value)
            actions.append(action)
            rewards.append(torch.from_numpy(reward))
            dones.append(torch.from_numpy(done))
            finished += episodes
        with torch.no_grad():
            bootstrap = forward(torch.from_numpy(self.obs)).value
        rollout = Rollout(torch.stack(logits), torch.stack(values), torch.stack(actions), torch.stack(rewards),
                          torch.stack(dones), bootstrap)
        return rollout, finished

    def close(self) -> None:
        for env in self.envs:
            env.close()
