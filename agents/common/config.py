"""`RunConfig`: the settings the actor-learner runner itself reads (agents/common/runner.py).

An agent's config subclasses it and adds only its own fields (A3C its loss and network, PathNet its
grid and evolution); the runner never reads a field that is not here. A field whose values are a
fixed set names them in `metadata["choices"]`, which the command line turns into argparse choices.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import ClassVar

from pathzero.agents.common.optim import OPTIMIZERS
from pathzero.errors import UsageError

PRECISIONS = ("fp32", "bf16")
BACKENDS = ("local", "ray")
# RunConfig's settings that a resumed run may change (the rest are fixed by its config.json)
RESUMABLE = frozenset({"total_frames", "workers", "progress", "checkpoint_minutes", "replay_episodes", "replay_max_steps",
                       "serial", "target_return", "target_eval_return", "target_eval_hold", "target_eval_from",
                       "eval_every", "evaluation_episodes", "eval_greedy", "eval_video_every",
                       "backend", "ray_address", "vector_env"})


def default_workers() -> int:
    """One worker per core this process may run on (a container may allow fewer than cpu_count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def choices(*values: str) -> dict:
    """Field metadata naming the values a setting accepts."""
    return {"choices": values}


@dataclass(frozen=True)
class RunConfig:
    """A training run as the runner sees it: game, budget, workers, the update step, optimizer and
    schedule, checkpoints, evaluation, replay and backend. Stored (with the agent's fields) as config.json."""

    network_preset: ClassVar[bool] = False
    """Whether the game family's network sizes (agents/common/presets.py NETWORK) apply to this config."""
    RETIRED: ClassVar[frozenset[str]] = frozenset()
    """Fields that config.json files of older versions hold and this config no longer has (dropped on reading)."""

    game: str = "Pong"
    """Game: an ALE name (Pong, space_invaders, ALE/Pong-v5), MinAtar/<Game>, or a gymnasium id; a variant
    adds +SETTING or +TRANSFORM: Breakout+mode=4, MinAtar/Breakout+hflip+sticky=0 (ALE: mode=N,
    difficulty=N, zoom; MinAtar: sticky=P, ramping=0|1; both: hflip, vflip, invert, noise=P)."""
    workers: int = field(default_factory=default_workers)
    """Actor-learner processes (default: one per CPU core)."""
    envs_per_worker: int = 16
    """Environments each worker steps, acting for all of them with one batched forward pass."""
    vector_env: bool = False
    """ALE games only: step each worker's environments in ale-py's C++ vector environment (the same
    v5 protocol) instead of one gymnasium environment each."""
    total_frames: int = 10_000_000
    """Training budget in emulator frames (one ALE agent step = 4 frames)."""
    seed: int = 1
    """Random seed; the serial mode is reproducible given the seed."""
    logdir: str = "runs"
    """Folder under which the run folder <game>__<agent>__<seed>__<time>/ is created."""
    t_max: int = 5
    """Steps of acting between updates (the paper's t_max)."""
    max_grad_norm: float = 0.5
    """Gradients are clipped to this global norm. The paper clipped at 40 a loss summed over
    t_max steps; pathzero averages the loss over the T x B batch, where 0.5 is the A2C standard."""
    lr: float = 7e-4
    """Initial learning rate, decayed linearly to zero at total_frames."""
    lr_decay: bool = True
    """Anneal the learning rate linearly to zero (the paper's schedule)."""
    optimizer: str = field(default="rmsprop", metadata=choices(*OPTIMIZERS))
    """Shared optimizer: rmsprop (the paper's, decay 0.99; eps outside the square root), rmsprop_tf
    (TensorFlow's RMSProp, eps inside the square root, as baselines' and SB3's A2C) or adam."""
    optim_eps: float = 1e-5
    """Epsilon of the optimizer."""
    precision: str = field(default="fp32", metadata=choices(*PRECISIONS))
    """Arithmetic of the network while learning: fp32, or bf16 (autocast: convolutions and matrix
    products in bfloat16, weights, gradients, the optimizer and the loss in float32). bf16 pays on CPUs
    with AMX or AVX512-BF16 and is slower where bfloat16 is emulated (docs/BENCHMARKS.md)."""
    clip_rewards: bool = True
    """Clip training rewards to [-1, 1] (logged scores stay unclipped)."""
    life_loss: bool = True
    """Treat a lost life as the end of the return for learning (ALE; the episode goes on)."""
    checkpoint_minutes: float = 5.0
    """Minutes between checkpoints (one is also written at the end and on Ctrl-C)."""
    replay_episodes: int = 1
    """Episodes of the final agent recorded to replay.mp4 at the end (0: none)."""
    replay_max_steps: int = 4500
    """Cap on agent steps per replay episode (4500 steps = 5 minutes of Atari)."""
    eval_every: int = 0
    """Evaluate the current policy every this many frames on environments of its own, logging
    eval/return and evals.csv (0: never; the ALE and MinAtar presets turn it on)."""
    evaluation_episodes: int = 10
    """Whole episodes per evaluation (unclipped scores, the game's own episode ends)."""
    eval_greedy: bool = False
    """Evaluate with the most likely action instead of actions sampled from the policy."""
    eval_video_every: int = 0
    """Record the first episode of every K-th evaluation as a TensorBoard video, eval/video (0: never)."""
    target_return: float | None = None
    """Stop early once the mean return of the last 20 episodes reaches this (None: never)."""
    target_eval_return: float | None = None
    """Stop early once --target-eval-hold evaluations in a row (--eval-every) reach this mean return
    (None: never)."""
    target_eval_hold: int = 3
    """Evaluations in a row at or above --target-eval-return that end the run."""
    target_eval_from: int = 0
    """Frames before which --target-eval-return does not end the run (a run compared at a budget
    reaches it first)."""
    backend: str = field(default="local", metadata=choices(*BACKENDS))
    """Where the workers run: local (processes sharing the network in memory, the fast path on one
    machine) or ray (Ray actors sending gradients to a parameter-server actor; pip install 'pathzero[ray]')."""
    ray_address: str | None = None
    """With --backend ray: a Ray cluster to join (as printed by ray start --head; None: start Ray here,
    on 127.0.0.1)."""
    serial: bool = False
    """Run one worker loop in this process (no subprocesses; --workers is then ignored): for
    debugging and tests."""
    progress: bool = True
    """Show a progress bar."""

    def __post_init__(self) -> None:
        checks = [
            (self.workers >= 1, f"--workers must be >= 1, got {self.workers}"),
            (self.envs_per_worker >= 1, f"--envs-per-worker must be >= 1, got {self.envs_per_worker}"),
            (self.total_frames > 0, f"--total-frames must be a positive number of frames, got {self.total_frames}"),
            (self.t_max >= 1, f"--t-max must be >= 1, got {self.t_max}"),
            (self.lr > 0, f"--lr must be > 0, got {self.lr}"),
            (self.max_grad_norm > 0, f"--max-grad-norm must be > 0, got {self.max_grad_norm}"),
            (self.checkpoint_minutes > 0, f"--checkpoint-minutes must be > 0, got {self.checkpoint_minutes}"),
            (self.replay_episodes >= 0, f"--replay-episodes must be >= 0, got {self.replay_episodes}"),
            (self.eval_every >= 0, f"--eval-every must be >= 0 frames (0: no evaluation), got {self.eval_every}"),
            (self.evaluation_episodes >= 1, f"--evaluation-episodes must be >= 1, got {self.evaluation_episodes}"),
            (self.eval_video_every >= 0, f"--eval-video-every must be >= 0 (0: no video), got {self.eval_video_every}"),
            (self.target_eval_hold >= 1, f"--target-eval-hold must be >= 1 evaluation, got {self.target_eval_hold}"),
            (self.target_eval_from >= 0, f"--target-eval-from must be >= 0 frames, got {self.target_eval_from}"),
            (self.target_eval_return is None or self.eval_every > 0,
             "--target-eval-return stops on evaluations: give --eval-every FRAMES too"),
            (not (self.serial and self.backend == "ray"), "--serial runs in this process; drop it or --backend ray"),
        ]
        for ok, message in checks:
            if not ok:
                raise UsageError(message)
        check_choices(self)


def check_choices(cfg) -> None:
    """Refuses a value outside a field's `metadata["choices"]`, naming the allowed ones."""
    from dataclasses import fields

    for f in fields(cfg):
        allowed = f.metadata.get("choices")
        if allowed is not None and getattr(cfg, f.name) not in allowed:
            raise UsageError(f"--{f.name.replace('_', '-')} must be one of {', '.join(allowed)}, "
                             f"got {getattr(cfg, f.name)!r}")


@dataclass(frozen=True)
class ActorCriticConfig(RunConfig):
    """A run whose workers learn with the advantage actor-critic loss (agents/common/returns.py
    `rollout_loss`): A3C and the PathNet agents."""

    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 1.0
    """GAE lambda; 1.0 gives the paper's n-step returns."""
    entropy_coef: float = 0.01
    """Weight of the entropy bonus (the paper's beta)."""
    value_coef: float = 0.5
    """Weight of the value loss."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.gamma <= 1.0:
            raise UsageError(f"--gamma must be in [0, 1], got {self.gamma}")
        if not 0.0 <= self.gae_lambda <= 1.0:
            raise UsageError(f"--gae-lambda must be in [0, 1], got {self.gae_lambda}")
