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

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import torch
from torch import nn

from pathzero.agents.common.checkpoint import load_checkpoint
from pathzero.agents.common.config import RESUMABLE, ActorCriticConfig, choices
from pathzero.agents.common.registry import AgentEntry, register
from pathzero.agents.common.returns import clipped_loss, rollout_loss, rollout_returns
from pathzero.agents.common.runner import (DoneMsg, Recipe, TrainingError, WorkerContext, game_shapes, learn_step,
                                           make_env_batch, parent_gone, report_step, with_precision)
from pathzero.agents.common.runner import train as run_training
from pathzero.agents.common.trained import Agent, refuse_options
from pathzero.envs import GameSpec, UsageError, resolve_game
from pathzero.nets import DualNet, NetConfig
from pathzero.nets.dual import VALUE_INITS

__all__ = ["A3CConfig", "A3CRecipe", "TrainingError", "load_a3c_checkpoint", "rollout_loss", "train"]

CHECKPOINT_FORMAT = "pathzero-a3c"


@dataclass(frozen=True)
class A3CConfig(ActorCriticConfig):
    """Everything that defines an A3C run (the runner's settings, the loss, the network); stored as
config.json in the run folder."""

    network_preset: ClassVar[bool] = True

    channels: int = 32
    """Channels of the residual blocks (image observations)."""
    blocks: int = 1
    """Residual blocks in the trunk."""
    hidden: int = 256
    """Width of the fully connected layer (and of MLP blocks)."""
    value_init: str = field(default="torch", metadata=choices(*VALUE_INITS))
    """Initial weights of the value head: torch (PyTorch's default) or orthogonal (gain 1, the A2C/PPO
    Atari recipe). The policy head always starts orthogonal with gain 0.01, the trunk with the ReLU gain."""
    update_epochs: int = 1
    """Passes over each rollout. 1: A3C's one policy-gradient update. More: each worker reuses its rollout
    with PPO's clipped surrogate (an asynchronous PPO-style update): every pass, in --minibatches parts, is
    one update of the shared network with its freshest weights."""
    minibatches: int = 1
    """Parts of a rollout per pass when --update-epochs > 1 (each one update)."""
    clip_range: float = 0.1
    """PPO's clip on the probability ratio, for --update-epochs > 1."""
    normalize_advantages: bool = False
    """Scale each rollout's advantages to mean 0 and standard deviation 1 (PPO's recipe)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (self.channels >= 1 and self.hidden >= 1 and self.blocks >= 0):
            raise UsageError("--channels and --hidden must be >= 1 and --blocks >= 0")
        if self.update_epochs < 1 or self.minibatches < 1 or not 0 < self.clip_range < 1:
            raise UsageError(f"--update-epochs and --minibatches must be >= 1 and --clip-range in (0, 1); got "
                             f"{self.update_epochs}, {self.minibatches}, {self.clip_range}")
        if self.minibatches > self.t_max * self.envs_per_worker:
            raise UsageError(f"--minibatches {self.minibatches} is more than a rollout's "
                             f"{self.t_max * self.envs_per_worker} samples (--t-max x --envs-per-worker)")

    @property
    def net(self) -> NetConfig:
        return NetConfig(channels=self.channels, blocks=self.blocks, hidden=self.hidden, value_init=self.value_init)


# ----------------------------------------------------------------------------------------------
# A3C's own parts: the loss, the worker loop, the network and what a checkpoint holds.

def worker_loop(worker: int, cfg: A3CConfig, ctx: WorkerContext, seed: int) -> None:
    """One actor-learner: act, compute the loss, update the shared network, until the budget is spent."""
    torch.manual_seed(seed)
    spec = resolve_game(cfg.game)
    envs = make_env_batch(cfg, spec, seed)
    local = DualNet.from_description(ctx.shared_model.describe())
    step = learn_step if cfg.update_epochs == 1 and not cfg.normalize_advantages else clipped_learn_step
    try:
        while not ctx.stop.is_set() and not parent_gone():
            _, frames = step(worker, local, local, envs, spec, cfg, ctx, rollout_loss)
            if frames >= cfg.total_frames:
                break
    finally:
        envs.close()
    ctx.sink.put(DoneMsg(worker))


def clipped_learn_step(worker: int, local: nn.Module, forward, envs, spec: GameSpec, cfg: A3CConfig,
                       ctx: WorkerContext, loss_fn=None) -> tuple[list, int]:
    """Acts once, then updates the shared network `update_epochs` x `minibatches` times from the rollout
    with the clipped surrogate, pulling the shared weights before each update (Hogwild, as A3C's step).
    The first update of the first pass, with the rollout's own weights, is A3C's update; the rollout's
    frames are counted once."""
    ctx.pull(local)
    fwd = with_precision(forward, cfg.precision, local)
    rollout, episodes = envs.collect(fwd, cfg.t_max)
    returns, advantages = rollout_returns(rollout, cfg)  # [T, B] each
    old = torch.log_softmax(rollout.logits.detach().float(), -1).gather(-1, rollout.actions.unsqueeze(-1)).squeeze(-1)
    flat = [x.flatten(0, 1) for x in (rollout.observations, rollout.actions, old, returns, advantages)]
    obs, actions, old, returns, advantages = flat  # [N, ...], [N] x 4
    if cfg.normalize_advantages:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    n, frames_done = actions.shape[0], rollout.actions.numel() * spec.frames_per_step
    first = True
    for _ in range(cfg.update_epochs):
        order = torch.arange(n) if first and cfg.minibatches == 1 else torch.randperm(n)
        for part in order.chunk(cfg.minibatches):
            if first and cfg.minibatches == 1:  # the rollout's own forward pass: its graph is still there
                logits, values = rollout.logits.flatten(0, 1), rollout.values.flatten()
            else:
                ctx.pull(local)
                out = fwd(obs[part])
                logits, values = out.logits, out.value
            loss = clipped_loss(logits, values, actions[part], old[part], returns[part], advantages[part],
                                clip_range=cfg.clip_range, value_coef=cfg.value_coef, entropy_coef=cfg.entropy_coef)
            local.zero_grad(set_to_none=True)
            loss.total.backward()
            frames, lr, grad_norm = ctx.push(local, cfg, frames_done if first else 0)
            first = False
    report_step(ctx, worker, frames, episodes, loss, lr, grad_norm)
    return episodes, frames


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


def load_agent(path: str | Path, *, task: str | None = None, greedy: bool = False, seed: int = 0,
               game: str | None = None, simulations: int | None = None) -> Agent:
    """The trained policy of an A3C checkpoint or run folder."""
    refuse_options("a3c", task=task, game=game, simulations=simulations)
    ckpt, model = load_a3c_checkpoint(path)
    return Agent(model, ckpt["game"], frames=ckpt["state"]["frames"], greedy=greedy, seed=seed)


register(AgentEntry(name="a3c", config=A3CConfig, train=train, load=load_agent, checkpoint_format=CHECKPOINT_FORMAT,
                    description="A3C with a dual residual network", resumable=RESUMABLE, ray=True))
