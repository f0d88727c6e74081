"""Acting in a batch of environments: the first part of every actor-learner's loop.

A worker steps B environments and chooses all B actions with one batched forward pass; on a CPU
the network, not the emulator, dominates the cost of acting, so batching is the main lever on
throughput. `collect` acts without gradients and then runs the network once over the whole
rollout, returning a `Rollout` of T steps ready for `returns` and the loss.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np
import torch

from pathzero.envs import GameSpec, make_env, make_vector_env
from pathzero.nets import DualOutput

Forward = Callable[[torch.Tensor], DualOutput]  # observations [B, ...] -> (logits [B, A], value [B])


class Rollout(NamedTuple):
    """T steps of B environments, with the network outputs (and their graph) for the loss."""

    logits: torch.Tensor  # [T, B, A] with grad
    values: torch.Tensor  # [T, B] with grad
    actions: torch.Tensor  # [T, B] int64
    rewards: torch.Tensor  # [T, B] float32, clipped if reward clipping is on
    dones: torch.Tensor  # [T, B] float32, 1 where the transition ended an episode (or a life)
    bootstrap: torch.Tensor  # [B] value of the state after the last step, no grad
    truncation_values: torch.Tensor  # [T, B] V(last state) where a time limit cut the episode, else 0; no grad
    observations: torch.Tensor | None = None  # [T, B, ...] what the network saw (for passes after the first)


@dataclass(frozen=True)
class Episode:
    ret: float  # unclipped game score
    length: int  # agent steps
    env_index: int


def sample_from_logits(logits: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One action per row of logits [B, A] -> [B], drawn from softmax(logits) by the Gumbel-max
    trick: argmax(logits + Gumbel noise). The same distribution as Categorical(logits).sample(),
    in two kernels instead of Categorical's validation and normalisation (a tenth of the time)."""
    noise = torch.empty_like(logits).exponential_(generator=generator).log_()  # -Gumbel noise: log of Exp(1) draws
    return (logits - noise).argmax(-1)


def sample_actions(model: torch.nn.Module, obs: torch.Tensor, greedy: bool = False,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """One batched forward pass -> an action per observation: [B, *obs_shape] -> [B]. Sampling
    draws from `generator` (None: torch's global generator)."""
    with torch.no_grad():
        logits = model(obs).logits
    if greedy:
        return logits.argmax(-1)
    return sample_from_logits(logits, generator)


class EnvBatch:
    """B environments of one game, stepped together, resetting each one as its episode ends."""

    def __init__(self, spec: GameSpec, n: int, seed: int, *, clip_rewards: bool, life_loss: bool) -> None:
        self.envs = [make_env(spec, clip_rewards=clip_rewards) for _ in range(n)]
        self.life_loss = life_loss
        first = [env.reset(seed=seed + i) for i, env in enumerate(self.envs)]
        for i, env in enumerate(self.envs):
            env.action_space.seed(seed + i)
        self.obs = np.stack([o for o, _ in first])  # [B, *obs_shape], the latest observations
        self.lives = [info.get("lives", 0) for _, info in first]

    def __len__(self) -> int:
        return len(self.envs)

    def step(self, actions: np.ndarray, out: np.ndarray | None = None,
             rewards: np.ndarray | None = None, dones: np.ndarray | None = None,
             truncated_obs: dict[int, np.ndarray] | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Episode]]:
        """Steps every env once; returns (next obs [B, ...], rewards [B], dones [B], finished episodes).

        The next observations are written into `out` (default: a new array), rewards and dones into
        `rewards` and `dones` when given, so a rollout's buffers fill without copies; `self.obs`
        becomes the next observations. An episode cut by a time limit (truncated, not terminated) puts
        its last observation in `truncated_obs[env index]`: its value is still to come, unlike a
        terminal state's.
        """
        n = len(self.envs)
        out = np.empty_like(self.obs) if out is None else out
        rewards = np.zeros(n, dtype=np.float32) if rewards is None else rewards
        dones = np.zeros(n, dtype=np.float32) if dones is None else dones
        finished: list[Episode] = []
        for i, (env, action) in enumerate(zip(self.envs, actions.tolist())):
            obs, reward, terminated, truncated, info = env.step(action)
            rewards[i] = reward
            done = 0.0
            lives = info.get("lives", 0)
            if terminated or truncated:
                done = 1.0
                if truncated and not terminated and truncated_obs is not None:
                    truncated_obs[i] = obs
                ep = info["episode"]
                finished.append(Episode(float(ep["r"]), int(ep["l"]), i))
                obs, info = env.reset()
                lives = info.get("lives", 0)
            elif self.life_loss and lives < self.lives[i]:
                done = 1.0  # a lost life ends the return for learning, not the episode
            dones[i] = done
            self.lives[i] = lives
            out[i] = obs
        self.obs = out
        return out, rewards, dones, finished

    def collect(self, forward: Forward, t_max: int) -> tuple[Rollout, list[Episode]]:
        """Acts for t_max steps in every env: observe -> act (no grad) -> store; then one batched
        forward pass with grad over all T+1 observations for the loss.

        `forward` is the network (or a PathNet pathway through it); its weights must not change
        during the call. Acting needs no autograd graph, and one forward and backward over
        [(T+1) * B] observations costs far less than T graphs of B: on a CPU a small network's cost
        is per operation as much as per sample. The last B rows give the bootstrap values.
        """
        n = len(self)
        obs = np.empty((t_max + 1, *self.obs.shape), dtype=self.obs.dtype)  # [T+1, B, ...]
        rewards = np.empty((t_max, n), dtype=np.float32)  # [T, B]
        dones = np.empty((t_max, n), dtype=np.float32)  # [T, B]
        actions = torch.empty((t_max, n), dtype=torch.int64)  # [T, B]
        finished: list[Episode] = []
        cut: list[dict[int, np.ndarray]] = [{} for _ in range(t_max)]  # per step: env -> last obs before a time limit
        obs[0] = self.obs
        truncation_values = torch.zeros((t_max, n))  # [T, B]
        with torch.no_grad():
            for t in range(t_max):
                actions[t] = sample_from_logits(forward(torch.from_numpy(obs[t])).logits)
                finished += self.step(actions[t].numpy(), obs[t + 1], rewards[t], dones[t], cut[t])[3]
            where = [(t, i) for t in range(t_max) for i in cut[t]]
            if where:  # rare (one step in thousands): one extra forward over those states
                last = forward(torch.from_numpy(np.stack([cut[t][i] for t, i in where]))).value
                truncation_values[tuple(zip(*where))] = last
        out = forward(torch.from_numpy(obs).flatten(0, 1))  # [(T+1) * B, ...] -> logits, values
        logits = out.logits.unflatten(0, (t_max + 1, n))  # [T+1, B, A]
        values = out.value.unflatten(0, (t_max + 1, n))  # [T+1, B]
        rollout = Rollout(logits[:t_max], values[:t_max], actions, torch.from_numpy(rewards),
                          torch.from_numpy(dones), values[t_max].detach(), truncation_values,
                          torch.from_numpy(obs[:t_max]))
        return rollout, finished

    def close(self) -> None:
        for env in self.envs:
            env.close()


class VectorEnvBatch(EnvBatch):
    """B ALE games stepped by ale-py's C++ vector environment instead of B gymnasium envs: the same
    protocol (envs.make_vector_env), the same `step` and `collect`; episode scores and life losses are
    kept here, since the vector environment reports only per-step rewards and lives."""

    def __init__(self, spec: GameSpec, n: int, seed: int, *, clip_rewards: bool, life_loss: bool,
                 threads: int = 1) -> None:
        self.env = make_vector_env(spec, n, threads=threads)
        self.n, self.clip_rewards, self.life_loss = n, clip_rewards, life_loss
        self.obs, info = self.env.reset(seed=seed)  # env i gets seed + i
        self.since_reset = np.zeros(n, dtype=np.int64)
        self._pad(self.obs)
        self.lives = info["lives"].copy()
        self.returns, self.lengths = np.zeros(n), np.zeros(n, dtype=np.int64)

    def __len__(self) -> int:
        return self.n

    def step(self, actions: np.ndarray, out: np.ndarray | None = None,
             rewards: np.ndarray | None = None, dones: np.ndarray | None = None,
             truncated_obs: dict[int, np.ndarray] | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Episode]]:
        obs, raw, terminated, truncated, info = self.env.step(np.asarray(actions, dtype=np.int64))
        out = np.empty_like(self.obs) if out is None else out
        rewards = np.zeros(self.n, dtype=np.float32) if rewards is None else rewards
        dones = np.zeros(self.n, dtype=np.float32) if dones is None else dones
        self.returns += raw
        self.lengths += 1
        ended = terminated | truncated
        finished = [Episode(float(self.returns[i]), int(self.lengths[i]), int(i)) for i in np.flatnonzero(ended)]
        self.returns[ended], self.lengths[ended] = 0.0, 0
        if truncated_obs is not None:
            for i in np.flatnonzero(truncated & ~terminated):
                truncated_obs[int(i)] = info["final_obs"][i]
        lives = info["lives"]
        lost = (lives < self.lives) & ~ended if self.life_loss else np.zeros(self.n, dtype=bool)
        dones[:] = ended | lost
        rewards[:] = np.clip(raw, -1.0, 1.0) if self.clip_rewards else raw
        out[:] = obs
        self.since_reset += 1
        self.since_reset[ended] = 0
        self._pad(out)
        self.lives = lives.copy()
        self.obs = out
        return out, rewards, dones, finished

    def _pad(self, out: np.ndarray) -> None:
        """ale-py fills the part of a new game's stack not yet played with zeros; gymnasium's stack
        (and so every pathzero run before) repeats the game's first frame there."""
        for i in np.flatnonzero(self.since_reset < 3):
            pad = 3 - self.since_reset[i]
            out[i, :pad] = out[i, pad]

    def close(self) -> None:
        self.env.close()

