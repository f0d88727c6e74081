"""Asynchronous advantage actor-critic (Mnih et al. 2016), Hogwild-style.

Several worker processes (spawn context, one torch thread each) act and learn at once on one
`DualNet` in shared memory, with an optimizer whose statistics are shared too. Each worker loops:

    copy the shared weights -> act for t_max steps in its B envs -> n-step returns (or GAE)
    -> policy-gradient + value + entropy loss -> clip the gradient norm
    -> hand the gradients to the shared parameters -> step the shared optimizer.

A global frame counter (emulator frames) drives a linear learning-rate decay to zero at
`total_frames`. `serial=True` runs one worker loop in the calling process, for tests and
debugging. What every actor-learner agent shares (processes, monitoring, checkpoints, resume) is
the runner's (agents/common/runner.py); A3C adds its network, its loss and its worker loop.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from pathzero.agents.common.checkpoint import load_checkpoint
from pathzero.agents.common.optim import OPTIMIZERS
from pathzero.agents.common.returns import LossTerms, actor_critic_loss, gae_advantages, n_step_returns
from pathzero.agents.common.runner import (PRECISIONS, DoneMsg, Recipe, TrainingError, WorkerContext, game_shapes, learn_step,
                                  make_env_batch, parent_gone)
from pathzero.agents.common.runner import train as run_training
from pathzero.agents.rollout import Rollout
from pathzero.envs import GameSpec, UsageError, resolve_game
from pathzero.nets import DualNet, NetConfig
from pathzero.nets.dual import VALUE_INITS

__all__ = ["A3CConfig", "A3CRecipe", "TrainingError", "load_a3c_checkpoint", "rollout_loss", "train"]

CHECKPOINT_FORMAT = "pathzero-a3c"


def default_workers() -> int:
    """One worker per core this process may run on (a container may allow fewer than cpu_count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass(frozen=True)
class A3CConfig:
    """Everything that defines an A3C run; stored as config.json in the run folder."""

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
    """Folder under which the run folder <game>__a3c__<seed>__<time>/ is created."""
    t_max: int = 5
    """Steps of acting between updates (the paper's t_max)."""
    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 1.0
    """GAE lambda; 1.0 gives the paper's n-step returns."""
    entropy_coef: float = 0.01
    """Weight of the entropy bonus (the paper's beta)."""
    value_coef: float = 0.5
    """Weight of the value loss."""
    max_grad_norm: float = 0.5
    """Gradients are clipped to this global norm. The paper clipped at 40 a loss summed over
    t_max steps; pathzero averages the loss over the T x B batch, where 0.5 is the A2C standard."""
    lr: float = 7e-4
    """Initial learning rate, decayed linearly to zero at total_frames."""
    lr_decay: bool = True
    """Anneal the learning rate linearly to zero (the paper's schedule)."""
    optimizer: str = "rmsprop"
    """Shared optimizer: rmsprop (the paper's, decay 0.99; eps outside the square root), rmsprop_tf
    (TensorFlow's RMSProp, eps inside the square root, as baselines' and SB3's A2C) or adam."""
    optim_eps: float = 1e-5
    """Epsilon of the optimizer."""
    precision: str = "fp32"
    """Arithmetic of the network while learning: fp32, or bf16 (autocast: convolutions and matrix
    products in bfloat16, weights, gradients, the optimizer and the loss in float32). bf16 pays on CPUs
    with AMX or AVX512-BF16 (Intel Sapphire Rapids and later; `pathzero bench network` measures it) and
    is slower where bfloat16 is emulated."""
    clip_rewards: bool = True
    """Clip training rewards to [-1, 1] (logged scores stay unclipped)."""
    life_loss: bool = True
    """Treat a lost life as the end of the return for learning (ALE; the episode goes on)."""
    channels: int = 32
    """Channels of the residual blocks (image observations)."""
    blocks: int = 1
    """Residual blocks in the trunk."""
    hidden: int = 256
    """Width of the fully connected layer (and of MLP blocks)."""
    value_init: str = "torch"
    """Initial weights of the value head: torch (PyTorch's default) or orthogonal (gain 1, the A2C/PPO
    Atari recipe; it learned MinAtar Breakout slower here). The policy head always starts orthogonal
    with gain 0.01, the trunk with the ReLU gain."""
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
    backend: str = "local"
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
            (0.0 <= self.gamma <= 1.0, f"--gamma must be in [0, 1], got {self.gamma}"),
            (0.0 <= self.gae_lambda <= 1.0, f"--gae-lambda must be in [0, 1], got {self.gae_lambda}"),
            (self.lr > 0, f"--lr must be > 0, got {self.lr}"),
            (self.max_grad_norm > 0, f"--max-grad-norm must be > 0, got {self.max_grad_norm}"),
            (self.optimizer in OPTIMIZERS, f"--optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}"),
            (self.checkpoint_minutes > 0, f"--checkpoint-minutes must be > 0, got {self.checkpoint_minutes}"),
            (self.replay_episodes >= 0, f"--replay-episodes must be >= 0, got {self.replay_episodes}"),
            (self.eval_every >= 0, f"--eval-every must be >= 0 frames (0: no evaluation), got {self.eval_every}"),
            (self.evaluation_episodes >= 1, f"--evaluation-episodes must be >= 1, got {self.evaluation_episodes}"),
            (self.eval_video_every >= 0, f"--eval-video-every must be >= 0 (0: no video), got {self.eval_video_every}"),
            (self.backend in ("local", "ray"), f"--backend must be local or ray, got {self.backend!r}"),
            (self.value_init in VALUE_INITS, f"--value-init must be one of {', '.join(VALUE_INITS)}, "
                                             f"got {self.value_init!r}"),
            (self.precision in PRECISIONS, f"--precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"),
            (not (self.serial and self.backend == "ray"), "--serial runs in this process; drop it or --backend ray"),
            (self.channels >= 1 and self.hidden >= 1 and self.blocks >= 0,
             "--channels and --hidden must be >= 1 and --blocks >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise UsageError(message)

    @property
    def net(self) -> NetConfig:
        return NetConfig(channels=self.channels, blocks=self.blocks, hidden=self.hidden, value_init=self.value_init)


# ----------------------------------------------------------------------------------------------
# A3C's own parts: the loss, the worker loop, the network and what a checkpoint holds.

def rollout_returns(rollout: Rollout, cfg: A3CConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """(returns [T, B], advantages [T, B]) of a rollout: n-step, or GAE when gae_lambda < 1.

    A step where a time limit cut the episode ends the return there, as a terminal step does, but
    keeps the discounted value of the state it reached (r + gamma * V(s')): the game itself had not
    ended, so its future was not zero."""
    values = rollout.values.detach()  # [T, B]
    rewards = rollout.rewards + cfg.gamma * rollout.truncation_values  # [T, B]
    if cfg.gae_lambda >= 1.0:
        returns = n_step_returns(rewards, rollout.dones, rollout.bootstrap, cfg.gamma)  # [T, B]
        return returns, returns - values
    advantages = gae_advantages(rewards, values, rollout.dones, rollout.bootstrap, cfg.gamma, cfg.gae_lambda)
    return advantages + values, advantages


def rollout_loss(rollout: Rollout, cfg: A3CConfig) -> LossTerms:
    """The A3C loss of a rollout (policy gradient with the advantages, value regression to the
    returns, entropy bonus)."""
    returns, advantages = rollout_returns(rollout, cfg)
    return actor_critic_loss(rollout.logits.flatten(0, 1), rollout.values.flatten(), rollout.actions.flatten(),
                             returns.flatten(), advantages.flatten(), value_coef=cfg.value_coef,
                             entropy_coef=cfg.entropy_coef)


def worker_loop(worker: int, cfg: A3CConfig, ctx: WorkerContext, seed: int) -> None:
    """One actor-learner: act, compute the loss, update the shared network, until the budget is spent."""
    torch.manual_seed(seed)
    spec = resolve_game(cfg.game)
    envs = make_env_batch(cfg, spec, seed)
    local = DualNet.from_description(ctx.shared_model.describe())
    try:
        while not ctx.stop.is_set() and not parent_gone():
            _, frames = learn_step(worker, local, local, envs, spec, cfg, ctx, rollout_loss)
            if frames >= cfg.total_frames:
                break
    finally:
        envs.close()
    ctx.sink.put(DoneMsg(worker))



def build_model(spec: GameSpec, net: NetConfig) -> DualNet:
    return DualNet(*game_shapes(spec), net)


def check_compatible(ckpt: dict, model: DualNet, spec: GameSpec, path: Path) -> None:
    """Refuses a checkpoint of another game or network shape, saying what differs."""
    if ckpt.get("game") != spec.env_id:
        raise UsageError(f"{path} was trained on {ckpt.get('game')}, not {spec.env_id}; resume it with its own "
                         "game or start a new run")
    if model.describe() != {k: ckpt.get(k) for k in ("obs_shape", "n_actions", "net")}:
        raise UsageError(f"{path} holds a network of another shape ({ckpt.get('net')}, obs {ckpt.get('obs_shape')}); "
                         "use the network sizes it was trained with")


def load_a3c_checkpoint(path: str | Path) -> tuple[dict, DualNet]:
    """A checkpoint file or run folder -> (checkpoint dict, DualNet with its weights)."""
    ckpt = load_checkpoint(path, CHECKPOINT_FORMAT)
    try:
        model = DualNet.from_description(ckpt)
        model.load_state_dict(ckpt["model"])
    except (KeyError, TypeError, RuntimeError, ValueError) as exc:
        raise UsageError(f"{path} holds a damaged or foreign network ({type(exc).__name__}); "
                         "use a checkpoint written by pathzero train") from None
    return ckpt, model


class A3CRecipe(Recipe):
    """A3C for the runner: a DualNet, every parameter trained, the plain worker loop."""

    agent = "a3c"
    checkpoint_format = CHECKPOINT_FORMAT
    worker = staticmethod(worker_loop)  # a module-level function, so spawned processes can import it

    def build(self, cfg: A3CConfig, spec: GameSpec, ckpt: dict | None, where: Path | None) -> nn.Module:
        model = build_model(spec, cfg.net)
        if ckpt is not None:
            check_compatible(ckpt, model, spec, where)
            model.load_state_dict(ckpt["model"])
        return model

    def payload(self, model: nn.Module, extra: None) -> dict:
        return {**model.describe(), "model": model.state_dict()}


def train(cfg: A3CConfig, resume: str | Path | None = None) -> Path:
    """Trains A3C as `cfg` says, or continues the run in `resume`; returns the run folder.

    On Ctrl-C the workers stop, a checkpoint is written, and KeyboardInterrupt is raised again;
    a dying worker raises TrainingError after the checkpoint.
    """
    return run_training(cfg, A3CRecipe(), resume)
