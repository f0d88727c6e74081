"""Asynchronous advantage actor-critic (Mnih et al. 2016), Hogwild-style.

Several worker processes (spawn context, one torch thread each) act and learn at once on one
`DualNet` in shared memory, with an optimizer whose statistics are shared too. Each worker loops:

    copy the shared weights -> act for t_max steps in its B envs -> n-step returns (or GAE)
    -> policy-gradient + value + entropy loss -> clip the gradient norm
    -> hand the gradients to the shared parameters -> step the shared optimizer.

A global frame counter (emulator frames) drives a linear learning-rate decay to zero at
`total_frames`. `serial=True` runs one worker loop in the calling process, for tests and
debugging. The main process only listens: it logs, shows progress, checkpoints and notices
workers that die.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from agents.common.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from agents.common.optim import OPTIMIZERS, load_state_in_place, make_shared_optimizer, set_learning_rate
from agents.common.returns import LossTerms, actor_critic_loss, gae_advantages, n_step_returns
from agents.common.runlog import RunLog, new_run_dir, write_config
from agents.common.threads import one_torch_thread
from agents.rollout import EnvBatch, Rollout
from envs import GameSpec, UsageError, make_env, resolve_game
from nets import DualNet, NetConfig

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
    """Game: an ALE name (Pong, space_invaders, ALE/Pong-v5), MinAtar/<Game>, or a gymnasium id."""
    workers: int = field(default_factory=default_workers)
    """Actor-learner processes (default: one per CPU core)."""
    envs_per_worker: int = 16
    """Environments each worker steps, acting for all of them with one batched forward pass."""
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
    """Shared optimizer: rmsprop (the paper's, decay 0.99) or adam."""
    optim_eps: float = 1e-5
    """Epsilon of the optimizer."""
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
    checkpoint_minutes: float = 5.0
    """Minutes between checkpoints (one is also written at the end and on Ctrl-C)."""
    replay_episodes: int = 1
    """Episodes of the final agent recorded to replay.mp4 at the end (0: none)."""
    replay_max_steps: int = 4500
    """Cap on agent steps per replay episode (4500 steps = 5 minutes of Atari)."""
    target_return: float | None = None
    """Stop early once the mean return of the last 20 episodes reaches this (None: never)."""
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
            (self.channels >= 1 and self.hidden >= 1 and self.blocks >= 0,
             "--channels and --hidden must be >= 1 and --blocks >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise UsageError(message)

    @property
    def net(self) -> NetConfig:
        return NetConfig(channels=self.channels, blocks=self.blocks, hidden=self.hidden)


# ----------------------------------------------------------------------------------------------
# The worker loop's parts, small so that PathNet's workers reuse them.

def rollout_loss(rollout: Rollout, cfg: A3CConfig) -> LossTerms:
    """Returns (n-step or GAE), advantages and the A3C loss of a rollout."""
    values = rollout.values  # [T, B]
    if cfg.gae_lambda >= 1.0:
        returns = n_step_returns(rollout.rewards, rollout.dones, rollout.bootstrap, cfg.gamma)  # [T, B]
        advantages = returns - values.detach()
    else:
        advantages = gae_advantages(rollout.rewards, values.detach(), rollout.dones, rollout.bootstrap,
                                    cfg.gamma, cfg.gae_lambda)
        returns = advantages + values.detach()
    return actor_critic_loss(rollout.logits.flatten(0, 1), values.flatten(), rollout.actions.flatten(),
                             returns.flatten(), advantages.flatten(), value_coef=cfg.value_coef,
                             entropy_coef=cfg.entropy_coef)


def apply_gradients(local: nn.Module, shared: nn.Module, optimizer: torch.optim.Optimizer,
                    max_grad_norm: float) -> float:
    """Clips the local gradients, hands them to the shared parameters and steps the optimizer.

    Returns the gradient norm before clipping.
    """
    norm = nn.utils.clip_grad_norm_(local.parameters(), max_grad_norm)
    for lp, sp in zip(local.parameters(), shared.parameters()):
        sp.grad = lp.grad
    optimizer.step()
    return float(norm)


def learning_rate(cfg: A3CConfig, frames: int) -> float:
    if not cfg.lr_decay:
        return cfg.lr
    return cfg.lr * max(0.0, 1.0 - frames / cfg.total_frames)


def worker_seed(cfg_seed: int, resumes: int, worker: int) -> int:
    return int(np.random.SeedSequence([cfg_seed, resumes, worker]).generate_state(1)[0])


class EpisodeMsg(NamedTuple):
    worker: int
    frames: int  # the global frame counter when the episode ended
    ret: float  # unclipped game score
    length: int  # agent steps


class UpdateMsg(NamedTuple):
    worker: int
    frames: int
    policy: float
    value: float
    entropy: float
    lr: float
    grad_norm: float


class ErrorMsg(NamedTuple):
    worker: int
    text: str


class DoneMsg(NamedTuple):
    worker: int


class ScalarsMsg(NamedTuple):
    """Agent-specific scalars (PathNet's evolution), logged to TensorBoard as they are."""

    worker: int
    frames: int
    values: dict


Message = EpisodeMsg | UpdateMsg | ErrorMsg | DoneMsg | ScalarsMsg


@dataclass
class WorkerContext:
    """What a worker shares with the others and with the main process."""

    shared_model: nn.Module
    optimizer: torch.optim.Optimizer
    frames: Any  # a multiprocessing Value('q'): emulator frames done, all workers together
    stop: Any  # a multiprocessing Event: set when the run must end
    sink: Any  # has put(message); a multiprocessing Queue, or the monitor itself in serial mode
    extra: Any = None  # what an agent shares besides the network (PathNet: the population table)


def learn_step(worker: int, local: nn.Module, forward: Callable, envs: EnvBatch, spec: GameSpec,
               cfg: A3CConfig, ctx: WorkerContext) -> tuple[list, int]:
    """One actor-learner update: copy the shared weights -> act t_max steps -> loss -> shared step.

    `forward` maps observations to a DualOutput through `local` (the whole network, or a PathNet
    pathway). Reports the episodes and losses to the sink; returns (finished episodes, global frames).
    """
    local.load_state_dict(ctx.shared_model.state_dict())
    rollout, episodes = envs.collect(forward, cfg.t_max)
    loss = rollout_loss(rollout, cfg)
    local.zero_grad(set_to_none=True)
    loss.total.backward()
    with ctx.frames.get_lock():
        ctx.frames.value += rollout.actions.numel() * spec.frames_per_step
        frames = ctx.frames.value
    lr = learning_rate(cfg, frames)
    set_learning_rate(ctx.optimizer, lr)
    grad_norm = apply_gradients(local, ctx.shared_model, ctx.optimizer, cfg.max_grad_norm)
    for ep in episodes:
        ctx.sink.put(EpisodeMsg(worker, frames, ep.ret, ep.length))
    ctx.sink.put(UpdateMsg(worker, frames, loss.policy.item(), loss.value.item(), loss.entropy.item(),
                           lr, grad_norm))
    return episodes, frames


def parent_gone() -> bool:
    """True in a worker process whose main process was killed: nobody listens, so stop rather than run on."""
    parent = mp.parent_process()  # None in serial mode
    return parent is not None and not parent.is_alive()


def make_env_batch(cfg: A3CConfig, spec: GameSpec, seed: int) -> EnvBatch:
    return EnvBatch(spec, cfg.envs_per_worker, seed % (2**31), clip_rewards=cfg.clip_rewards,
                    life_loss=cfg.life_loss)


def worker_loop(worker: int, cfg: A3CConfig, ctx: WorkerContext, seed: int) -> None:
    """One actor-learner: act, compute the loss, update the shared network, until the budget is spent."""
    torch.manual_seed(seed)
    spec = resolve_game(cfg.game)
    envs = make_env_batch(cfg, spec, seed)
    local = DualNet.from_description(ctx.shared_model.describe())
    try:
        while not ctx.stop.is_set() and not parent_gone():
            _, frames = learn_step(worker, local, local, envs, spec, cfg, ctx)
            if frames >= cfg.total_frames:
                break
    finally:
        envs.close()
    ctx.sink.put(DoneMsg(worker))


def _process_main(loop: Callable, worker: int, cfg: A3CConfig, ctx: WorkerContext, seed: int) -> None:
    """Entry point of a worker process: one torch thread, Ctrl-C left to the main process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(1)
    try:
        loop(worker, cfg, ctx, seed)
    except BaseException as exc:  # report why, then die
        last = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f" at {Path(last.filename).name}:{last.lineno}" if last else ""
        ctx.sink.put(ErrorMsg(worker, f"{type(exc).__name__}: {exc}{where}"))
        raise SystemExit(1)


# ----------------------------------------------------------------------------------------------
# The main process: run folders, monitoring, checkpoints.

class TrainingError(RuntimeError):
    """Training stopped because of a failure (a worker died); a checkpoint was written."""


@dataclass
class RunState:
    """Counters that continue across resumes."""

    frames: int = 0
    episodes: int = 0
    updates: int = 0
    wall_seconds: float = 0.0
    resumes: int = 0
    fps: float = 0.0  # emulator frames per second of the latest session, after start-up


class Monitor:
    """Receives the workers' messages: logs them, drives the progress bar, checkpoints on time."""

    def __init__(self, run_dir: Path, cfg: A3CConfig, state: RunState, save: Callable[[], None],
                 log: RunLog, stop, agent: str = "a3c") -> None:
        self.run_dir, self.cfg, self.state, self.save, self.log = run_dir, cfg, state, save, log
        self.stop, self.agent = stop, agent
        self.start_wall = time.monotonic() - state.wall_seconds
        self.recent: deque[float] = deque(maxlen=20)
        self.errors: list[str] = []
        self.done: set[int] = set()
        self.frames = state.frames
        self.bar = tqdm(total=cfg.total_frames, initial=min(state.frames, cfg.total_frames), unit="frame",
                        unit_scale=True, dynamic_ncols=True, disable=not cfg.progress,
                        desc=f"{agent} {cfg.game}", mininterval=1.0)
        self._first_update: tuple[float, int] | None = None  # (time, frames) when learning began
        self._losses: list[UpdateMsg] = []  # since the last scalars were written
        self._last_log = (time.monotonic(), state.frames)
        self._last_ckpt = time.monotonic()
        self.log_every = max(cfg.total_frames // 400, 1)

    def elapsed(self) -> float:
        return time.monotonic() - self.start_wall

    def put(self, message: Message) -> None:
        if isinstance(message, EpisodeMsg):
            self.state.episodes += 1
            self.recent.append(message.ret)
            self.log.episode(message.frames, self.elapsed(), message.ret, message.length, message.worker)
            mean = float(np.mean(self.recent))
            self.bar.set_postfix(ret=f"{mean:.1f}", eps=self.state.episodes, refresh=False)
            target = self.cfg.target_return
            if target is not None and len(self.recent) == self.recent.maxlen and mean >= target:
                self.stop.set()
        elif isinstance(message, UpdateMsg):
            self.state.updates += 1
            if self._first_update is None:
                self._first_update = (time.monotonic(), message.frames)
            self._losses.append(message)
            self._advance(message.frames)
        elif isinstance(message, ErrorMsg):
            self.errors.append(f"worker {message.worker} failed: {message.text}")
        elif isinstance(message, DoneMsg):
            self.done.add(message.worker)
        elif isinstance(message, ScalarsMsg):
            self.log.scalars(message.values, message.frames)
        self.tick()

    def _advance(self, frames: int) -> None:
        if frames > self.frames:
            self.bar.update(min(frames, self.cfg.total_frames) - min(self.frames, self.cfg.total_frames))
            self.frames = frames
            self.state.frames = frames

    def tick(self) -> None:
        """Periodic duties: scalars every log_every frames, a checkpoint every checkpoint_minutes."""
        now = time.monotonic()
        last_t, last_f = self._last_log
        if self._losses and self.frames - last_f >= self.log_every:
            def mean(field: str) -> float:
                return float(np.mean([getattr(m, field) for m in self._losses]))
            self.log.scalars({"losses/policy": mean("policy"), "losses/value": mean("value"),
                              "losses/entropy": mean("entropy"), "losses/grad_norm": mean("grad_norm"),
                              "charts/learning_rate": mean("lr"),
                              "charts/fps": (self.frames - last_f) / max(now - last_t, 1e-9)}, self.frames)
            self._losses.clear()
            self._last_log = (now, self.frames)
        if now - self._last_ckpt >= self.cfg.checkpoint_minutes * 60:
            self.checkpoint()

    def checkpoint(self) -> None:
        self.state.wall_seconds = self.elapsed()
        if self._first_update is not None:
            t0, f0 = self._first_update
            self.state.fps = (self.frames - f0) / max(time.monotonic() - t0, 1e-9)
        self.log.flush()
        self.save()
        self._last_ckpt = time.monotonic()

    def close(self) -> None:
        self.bar.close()


def game_shapes(spec: GameSpec) -> tuple[tuple[int, ...], int]:
    """(observation shape, number of actions) of a game, as the agents see it."""
    env = make_env(spec)
    try:
        return tuple(env.observation_space.shape), int(env.action_space.n)
    finally:
        env.close()


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


class Recipe:
    """What an agent adds to the shared actor-learner machinery of `train`; this base is A3C.

    PathNet (agents/pathnet.py) overrides the network it builds, what its workers share and run,
    what its checkpoints hold and what happens at the end; run folders, monitoring, checkpoints,
    Ctrl-C and dying workers are handled once, here.
    """

    agent = "a3c"
    checkpoint_format = CHECKPOINT_FORMAT
    worker = staticmethod(worker_loop)  # a module-level function, so spawned processes can import it

    def build(self, cfg: A3CConfig, spec: GameSpec, ckpt: dict | None, where: Path | None) -> nn.Module:
        """The network, with the checkpoint's weights when resuming (refusing a foreign one)."""
        model = build_model(spec, cfg.net)
        if ckpt is not None:
            check_compatible(ckpt, model, spec, where)
            model.load_state_dict(ckpt["model"])
        return model

    def parameters(self, model: nn.Module) -> list[nn.Parameter]:
        """The parameters the shared optimizer holds."""
        return list(model.parameters())

    def share(self, cfg: A3CConfig, model: nn.Module, ckpt: dict | None, mp_ctx) -> Any:
        """What the workers share besides the network and optimizer (WorkerContext.extra)."""
        return None

    def payload(self, model: nn.Module, extra: Any) -> dict:
        """What the checkpoint holds besides the config, optimizer, counters and RNG."""
        return {**model.describe(), "model": model.state_dict()}

    def finish(self, cfg: A3CConfig, spec: GameSpec, run_dir: Path, model: nn.Module, extra: Any,
               log: RunLog, state: RunState) -> None:
        """After training: record the replay video of the final agent."""
        if cfg.replay_episodes > 0:
            from agents.replay import record_replay

            results = record_replay(model, spec, run_dir / "replay.mp4", episodes=cfg.replay_episodes,
                                    seed=cfg.seed + 10_000, max_steps=cfg.replay_max_steps)
            log.scalars({"eval/replay_return": float(np.mean([r.ret for r in results]))}, state.frames)


def train(cfg: A3CConfig, resume: str | Path | None = None, recipe: Recipe | None = None) -> Path:
    """Trains A3C (or the agent of `recipe`) as `cfg` says, or continues the run in `resume`;
    returns the run folder.

    On Ctrl-C the workers stop, a checkpoint is written, and KeyboardInterrupt is raised again.
    """
    recipe = recipe or Recipe()
    torch.manual_seed(cfg.seed)
    spec = resolve_game(cfg.game)
    state = RunState()
    ckpt = None
    if resume is not None:
        run_dir = Path(resume)
        if not run_dir.is_dir():
            raise UsageError(f"run folder {run_dir} does not exist; give a folder made by pathzero train "
                             "(e.g. runs/Pong__a3c__1__20260101-120000)")
        ckpt = load_checkpoint(run_dir, recipe.checkpoint_format)
    model = recipe.build(cfg, spec, ckpt, run_dir / CHECKPOINT_NAME if ckpt is not None else None)
    if ckpt is not None:
        state = RunState(**ckpt["state"])
        state.resumes += 1
        torch.set_rng_state(ckpt["rng"])
        if state.frames >= cfg.total_frames:
            raise UsageError(f"{run_dir} has already trained {state.frames} of its {cfg.total_frames} frames; "
                             "raise --total-frames to train further")
    model.share_memory()
    optimizer = make_shared_optimizer(cfg.optimizer, recipe.parameters(model), cfg.lr, eps=cfg.optim_eps)
    mp_ctx = mp.get_context("spawn")
    extra = recipe.share(cfg, model, ckpt, mp_ctx)
    if ckpt is not None:
        load_state_in_place(optimizer, ckpt["optimizer"])
    else:
        run_dir = new_run_dir(cfg.logdir, spec.name, recipe.agent, cfg.seed)
    write_config(run_dir, cfg)

    def save() -> None:
        save_checkpoint(run_dir / CHECKPOINT_NAME, {
            "format": recipe.checkpoint_format, "version": 1, "game": spec.env_id, "config": asdict(cfg),
            **recipe.payload(model, extra), "optimizer": optimizer.state_dict(), "state": asdict(state),
            "rng": torch.get_rng_state()})

    log = RunLog(run_dir, purge_step=state.frames if ckpt is not None else None)
    frames = mp_ctx.Value("q", state.frames)
    stop = mp_ctx.Event()
    monitor = Monitor(run_dir, cfg, state, save, log, stop, recipe.agent)
    ctx = WorkerContext(model, optimizer, frames, stop, monitor, extra)
    interrupted = False
    previous_sigterm = None
    if threading.current_thread() is threading.main_thread():
        # `kill` (SIGTERM) stops as cleanly as Ctrl-C: workers stopped, checkpoint written
        previous_sigterm = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        if cfg.serial:
            try:
                with one_torch_thread():  # as in a worker process
                    recipe.worker(0, cfg, ctx, worker_seed(cfg.seed, state.resumes, 0))
            except KeyboardInterrupt:
                interrupted = True
            except Exception as exc:  # the same report as a worker process gives
                monitor.errors.append(f"worker 0 failed: {type(exc).__name__}: {exc}")
        else:
            interrupted = _run_processes(recipe.worker, cfg, ctx, monitor, state)
    finally:
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)
        monitor.close()
        state.frames = max(state.frames, frames.value)
        monitor.checkpoint()
    if monitor.errors:
        log.close()
        raise TrainingError("; ".join(monitor.errors) + f" — checkpoint saved; resume with "
                            f"`pathzero train --resume {run_dir}`")
    if cfg.progress:
        print(f"{state.frames:,} frames in {state.wall_seconds:.0f} s ({state.fps:,.0f} emulator frames/s "
              f"after start-up), {state.episodes} episodes")
    if interrupted:
        log.close()
        print(f"interrupted at {state.frames:,} frames; checkpoint saved; resume with "
              f"`pathzero train --resume {run_dir}`", file=sys.stderr)
        raise KeyboardInterrupt
    recipe.finish(cfg, spec, run_dir, model, extra, log, state)
    log.close()
    return run_dir


def _raise_keyboard_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _run_processes(loop: Callable, cfg: A3CConfig, ctx: WorkerContext, monitor: Monitor, state: RunState) -> bool:
    """Starts the workers and listens to them; returns True when interrupted by Ctrl-C."""
    mp_ctx = mp.get_context("spawn")
    messages = mp_ctx.Queue()
    stop = ctx.stop
    ctx = WorkerContext(ctx.shared_model, ctx.optimizer, ctx.frames, stop, messages, ctx.extra)
    procs = [mp_ctx.Process(target=_process_main, args=(loop, w, cfg, ctx, worker_seed(cfg.seed, state.resumes, w)),
                            name=f"{monitor.agent}-worker-{w}", daemon=True)
             for w in range(cfg.workers)]
    for p in procs:
        p.start()
    interrupted = False
    try:
        last_check = time.monotonic()
        while len(monitor.done) < len(procs) and not monitor.errors:
            try:
                monitor.put(messages.get(timeout=0.5))
            except queue.Empty:
                monitor.tick()
            if time.monotonic() - last_check < 1.0:
                continue
            last_check = time.monotonic()
            for w, p in enumerate(procs):
                if p.exitcode is not None and w not in monitor.done:
                    _drain(messages, monitor)  # what it said before dying comes first
                    if w not in monitor.done and not monitor.errors:
                        monitor.errors.append(f"worker {w} died (exit code {p.exitcode})")
    except KeyboardInterrupt:
        interrupted = True
    finally:
        stop.set()
        deadline = time.monotonic() + 30
        for p in procs:
            while p.is_alive() and time.monotonic() < deadline:
                _drain(messages, monitor)
                p.join(timeout=0.2)
            if p.is_alive():
                p.terminate()
                p.join()
        _drain(messages, monitor)
    return interrupted


def _drain(messages, monitor: Monitor) -> None:
    while True:
        try:
            monitor.put(messages.get_nowait())
        except (queue.Empty, OSError, ValueError):
            return
