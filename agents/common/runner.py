"""One runner for every actor-learner agent (A3C, PathNet): Hogwild workers on one shared network.

Like Stable-Baselines3's `BaseAlgorithm.learn` or Sample Factory's runner, `train` does what every
agent needs once: run folders and config.json, the shared network and optimizer in shared memory,
worker processes (spawn context, one torch thread each) or one worker loop in this process
(`serial`), monitoring (logs, progress bar, dying workers), checkpoints (on time, at the end, on
Ctrl-C or SIGTERM) and resuming. An agent plugs in a `Recipe`: the network it builds, the parameters
the optimizer holds, what its workers share besides the network, its worker loop, what its
checkpoints hold and what happens at the end.

The pieces a worker loop is made of live here too: `learn_step` (copy the shared weights -> act
t_max steps -> the agent's loss -> clip -> shared optimizer step), the frame counter, the messages
workers send, `make_env_batch` and `parent_gone`.
"""
from __future__ import annotations

import multiprocessing as mp
import queue
import shutil
import signal
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from pathzero.agents.common.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from pathzero.agents.common.config import RunConfig
from pathzero.agents.common.evaluation import Evaluator, evaluation_mode
from pathzero.agents.common.optim import load_state_in_place, make_shared_optimizer, set_learning_rate
from pathzero.agents.common.registry import agent as registered_agent
from pathzero.agents.common.registry import agents as registered_agents
from pathzero.agents.common.returns import LossTerms
from pathzero.agents.common.schedule import learning_rate, worker_seed
from pathzero.agents.common.spawn import WorkerStartError, refuse_training_at_import, start_workers
from pathzero.agents.common.runlog import RunLog, new_run_dir, write_config
from pathzero.agents.common.threads import one_torch_thread
from pathzero.agents.common.rollout import EnvBatch, Rollout, VectorEnvBatch
from pathzero.envs import GameSpec, UsageError, make_env, resolve_game
from pathzero.nets.dual import DualOutput

Config = RunConfig  # an agent's config: the runner reads RunConfig's fields only
Loss = Callable[[Rollout, Config], LossTerms]  # the agent's loss of a rollout


# ----------------------------------------------------------------------------------------------
# The worker loop's parts.

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
    """What a worker shares with the others and with the main process.

    `pull` and `push` are the two points where a worker meets the shared network: here shared memory
    (Hogwild); agents/common/ray_workers.py gives the same two over Ray to a parameter server.
    """

    shared_model: nn.Module
    optimizer: torch.optim.Optimizer
    frames: Any  # a multiprocessing Value('q'): emulator frames done, all workers together
    stop: Any  # a multiprocessing Event: set when the run must end
    sink: Any  # has put(message); a multiprocessing Queue, or the monitor itself in serial mode
    extra: Any = None  # what an agent shares besides the network (PathNet: the population table)

    def pull(self, local: nn.Module) -> None:
        """Copies the shared weights into the worker's own network."""
        local.load_state_dict(self.shared_model.state_dict())

    def push(self, local: nn.Module, cfg: Config, frames_done: int) -> tuple[int, float, float]:
        """Counts `frames_done` and applies the local gradients to the shared network with the
        shared optimizer; returns (global frames, learning rate, gradient norm before clipping)."""
        with self.frames.get_lock():
            self.frames.value += frames_done
            frames = self.frames.value
        lr = learning_rate(cfg, frames)
        set_learning_rate(self.optimizer, lr)
        return frames, lr, apply_gradients(local, self.shared_model, self.optimizer, cfg.max_grad_norm)


STOP_GRACE = 5.0  # seconds the workers get to finish their update and leave once asked to stop (then terminated)


def with_precision(forward: Callable, precision: str, local: nn.Module | None = None) -> Callable:
    """`forward` in the worker's arithmetic: fp32, or bf16 (CPU autocast to bfloat16, its outputs cast
    back to float32 so that the loss, the returns and the sampling stay in float32).

    In both, the worker's own network (`local`) and image observations are laid out channels-last, the
    layout oneDNN's CPU convolutions run fastest in; the same arithmetic up to rounding (timings:
    `python -m benchmarks network`, docs/BENCHMARKS.md)."""
    if local is not None and not getattr(local, "_channels_last", False):
        local.to(memory_format=torch.channels_last)  # in place; pulls copy into this layout from now on
        local._channels_last = True

    def laid_out(obs: torch.Tensor) -> torch.Tensor:
        return obs.contiguous(memory_format=torch.channels_last) if obs.dim() == 4 else obs

    if precision == "fp32":
        def fp32_forward(obs: torch.Tensor) -> DualOutput:
            return forward(laid_out(obs))

        return fp32_forward

    def bf16_forward(obs: torch.Tensor) -> DualOutput:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = forward(laid_out(obs))
        return DualOutput(out.logits.float(), out.value.float())

    return bf16_forward


def learn_step(worker: int, local: nn.Module, forward: Callable, envs: EnvBatch, spec: GameSpec,
               cfg: Config, ctx: WorkerContext, loss_fn: Loss) -> tuple[list, int]:
    """One actor-learner update: copy the shared weights -> act t_max steps -> the agent's loss ->
    shared step.

    `forward` maps observations to a DualOutput through `local` (the whole network, or a PathNet
    pathway). Reports the episodes and losses to the sink; returns (finished episodes, global frames).
    """
    ctx.pull(local)
    rollout, episodes = envs.collect(with_precision(forward, cfg.precision, local), cfg.t_max)
    loss = loss_fn(rollout, cfg)
    local.zero_grad(set_to_none=True)
    loss.total.backward()
    frames, lr, grad_norm = ctx.push(local, cfg, rollout.actions.numel() * spec.frames_per_step)
    report_step(ctx, worker, frames, episodes, loss, lr, grad_norm)
    return episodes, frames


def report_step(ctx: WorkerContext, worker: int, frames: int, episodes: list, loss, lr: float,
                grad_norm: float) -> None:
    """Tells the main process about one update: the episodes it finished, then the losses."""
    for ep in episodes:
        ctx.sink.put(EpisodeMsg(worker, frames, ep.ret, ep.length))
    ctx.sink.put(UpdateMsg(worker, frames, loss.policy.item(), loss.value.item(), loss.entropy.item(),
                           lr, grad_norm))


def parent_gone() -> bool:
    """True in a worker process whose main process was killed: nobody listens, so stop rather than run on."""
    parent = mp.parent_process()  # None in serial mode
    return parent is not None and not parent.is_alive()


def make_env_batch(cfg: Config, spec: GameSpec, seed: int) -> EnvBatch:
    if cfg.vector_env:
        return VectorEnvBatch(spec, cfg.envs_per_worker, seed % (2**31), clip_rewards=cfg.clip_rewards,
                              life_loss=cfg.life_loss)
    return EnvBatch(spec, cfg.envs_per_worker, seed % (2**31), clip_rewards=cfg.clip_rewards,
                    life_loss=cfg.life_loss)


def _process_main(loop: Callable, worker: int, cfg: Config, ctx: WorkerContext, seed: int) -> None:
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
    complete: bool = False  # the budget trained and the end done: final evaluation, replay (a resume redoes them)
    replaced_workers: int = 0  # Ray worker actors that died and were replaced (--backend ray)


class Monitor:
    """Receives the workers' messages: logs them, drives the progress bar, checkpoints on time."""

    def __init__(self, run_dir: Path, cfg: Config, state: RunState, save: Callable[[], None],
                 log: RunLog, stop, agent: str, evaluator: Evaluator | None = None,
                 policy: Callable[[], nn.Module] | None = None) -> None:
        self.run_dir, self.cfg, self.state, self.save, self.log = run_dir, cfg, state, save, log
        self.evaluator, self.policy = evaluator, policy
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
        """Periodic duties: scalars every log_every frames, a checkpoint every checkpoint_minutes,
        an evaluation every eval_every frames."""
        now = time.monotonic()
        if self.evaluator is not None:
            self.evaluator.poll(self.frames, self.policy, self.elapsed())
            target = self.cfg.target_eval_return
            if (target is not None and not self.stop.is_set() and self.frames >= self.cfg.target_eval_from
                    and self.evaluator.held(target, self.cfg.target_eval_hold)):
                self.stop.set()
                self.bar.write(f"stopping at {self.frames:,} frames: {self.cfg.target_eval_hold} evaluation(s) in a "
                               f"row reached --target-eval-return {target:g}")
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


class Recipe:
    """What an agent adds to the runner: the network, its worker loop and what its checkpoints hold.

    A3C (agents/a3c.py) and PathNet (agents/pathnet.py) each subclass it; run folders, monitoring,
    checkpoints, Ctrl-C and dying workers are handled once, by `train`.
    """

    agent: str = ""  # the name in run folders
    checkpoint_format: str = ""
    worker: Callable  # (worker, cfg, ctx, seed) -> None; a module-level function, so spawned processes import it

    def build(self, cfg: Config, spec: GameSpec, ckpt: dict | None, where: Path | None) -> nn.Module:
        """The network, with the checkpoint's weights when resuming (refusing a foreign one)."""
        raise NotImplementedError

    def parameters(self, model: nn.Module) -> list[nn.Parameter]:
        """The parameters the shared optimizer holds."""
        return list(model.parameters())

    def share(self, cfg: Config, model: nn.Module, ckpt: dict | None, mp_ctx) -> Any:
        """What the workers share besides the network and optimizer (WorkerContext.extra)."""
        return None

    def payload(self, model: nn.Module, extra: Any) -> dict:
        """What the checkpoint holds besides the config, optimizer, counters and RNG."""
        raise NotImplementedError

    def policy(self, model: nn.Module, extra: Any) -> nn.Module:
        """The module that acts now (observations -> a DualOutput): what evaluations play."""
        return model

    def evaluates_tasks(self, cfg: Config) -> bool:
        """Whether `evaluated` returns every task's module (PathNet's eval_tasks) rather than one."""
        return False

    def evaluated(self, cfg: Config, spec: GameSpec, model: nn.Module, extra: Any) -> Any:
        """What an evaluation plays: the acting module, or (with PathNet's eval_tasks) the list of every
        task's (task, game spec, module), the run's own first."""
        return self.policy(model, extra)

    def finish(self, cfg: Config, spec: GameSpec, run_dir: Path, model: nn.Module, extra: Any,
               log: RunLog, state: RunState) -> None:
        """After training: record the replay video of the final agent (`model` maps observations to a DualOutput)."""
        if cfg.replay_episodes > 0:
            from pathzero.agents.common.replay import record_replay

            results = record_replay(model, spec, run_dir / "replay.mp4", episodes=cfg.replay_episodes,
                                    seed=cfg.seed + 10_000, max_steps=cfg.replay_max_steps)
            log.scalars({"eval/replay_return": float(np.mean([r.ret for r in results]))}, state.frames)


def train(cfg: Config, recipe: Recipe, resume: str | Path | None = None) -> Path:
    """Trains the agent of `recipe` as `cfg` says, or continues the run in `resume`; returns the run folder.

    On Ctrl-C the workers stop, a checkpoint is written, and KeyboardInterrupt is raised again. A new run
    stopped before it trained anything (a worker that died while starting, Ctrl-C during start-up)
    leaves no run folder behind.
    """
    refuse_training_at_import()
    if cfg.backend == "ray" and not registered_agent(recipe.agent).ray:
        raise UsageError(f"--backend ray cannot run {recipe.agent}'s workers (agents that can: "
                         f"{', '.join(e.name for e in registered_agents() if e.ray)}); {recipe.agent} runs with "
                         "--backend local (its matrices and sequences run on Ray with pathzero transfer/continual "
                         "--backend ray)")
    if cfg.backend == "ray" and not (resume is not None and not Path(resume).is_dir()):
        from pathzero.agents.common.ray_workers import check_cluster
        check_cluster(cfg)  # before a run folder is made
    torch.manual_seed(cfg.seed)
    spec = resolve_game(cfg.game)
    if cfg.vector_env and spec.kind != "ale":
        raise UsageError(f"--vector-env steps ALE games only; {spec.env_id} is a {spec.kind} game (drop the flag)")
    if cfg.replay_episodes > 0 or cfg.eval_video_every > 0:
        from pathzero.agents.common.replay import check_video_support

        check_video_support("or --replay-episodes 0 --eval-video-every 0")  # now, not after the training
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
        saved = dict(ckpt["state"])
        state = RunState(**{**saved, "complete": saved.get("complete", True)})  # older runs: complete when trained
        state.resumes += 1
        torch.set_rng_state(ckpt["rng"])
        if state.frames >= cfg.total_frames and state.complete:
            raise UsageError(f"{run_dir} has already trained {state.frames} of its {cfg.total_frames} frames; "
                             "raise --total-frames to train further")
        state.complete = False
    model.share_memory()
    optimizer = make_shared_optimizer(cfg.optimizer, recipe.parameters(model), cfg.lr, eps=cfg.optim_eps)
    mp_ctx = mp.get_context("spawn")
    extra = recipe.share(cfg, model, ckpt, mp_ctx)
    if ckpt is not None:
        load_state_in_place(optimizer, ckpt["optimizer"])
    else:
        run_dir = new_run_dir(cfg.logdir, spec.name, recipe.agent, cfg.seed)
    write_config(run_dir, cfg, agent=recipe.agent)

    def save() -> None:
        save_checkpoint(run_dir / CHECKPOINT_NAME, {
            "format": recipe.checkpoint_format, "version": 1, "game": spec.env_id, "config": asdict(cfg),
            **recipe.payload(model, extra), "optimizer": optimizer.state_dict(), "state": asdict(state),
            "rng": torch.get_rng_state()})

    log = RunLog(run_dir, purge_step=state.frames if ckpt is not None else None, session=state.resumes)
    evaluator = Evaluator(cfg, spec, run_dir, log.writer, purge_frames=state.frames if ckpt is not None else None,
                          tasks=recipe.evaluates_tasks(cfg))
    if evaluator.enabled and cfg.progress:
        print(f"evaluating every {cfg.eval_every:,} frames: {cfg.evaluation_episodes} episodes, actions "
              f"{evaluation_mode(cfg.eval_greedy)}; results in {run_dir / 'evals.csv'}")
    frames = mp_ctx.Value("q", state.frames)
    stop = mp_ctx.Event()
    monitor = Monitor(run_dir, cfg, state, save, log, stop, recipe.agent, evaluator,
                      lambda: recipe.evaluated(cfg, spec, model, extra))
    ctx = WorkerContext(model, optimizer, frames, stop, monitor, extra)
    interrupted = False
    previous_sigterm = None
    if threading.current_thread() is threading.main_thread():
        # `kill` (SIGTERM) stops as cleanly as Ctrl-C: workers stopped, checkpoint written
        previous_sigterm = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    started = state.frames
    try:
        if state.frames >= cfg.total_frames:
            pass  # trained before, stopped during the end: only the end is done again
        elif cfg.serial:
            try:
                with one_torch_thread():  # as in a worker process
                    recipe.worker(0, cfg, ctx, worker_seed(cfg.seed, state.resumes, 0))
            except KeyboardInterrupt:
                interrupted = True
            except Exception as exc:  # the same report as a worker process gives
                monitor.errors.append(f"worker 0 failed: {type(exc).__name__}: {exc}")
        elif cfg.backend == "ray":
            from pathzero.agents.common.ray_workers import run_ray_workers
            interrupted = run_ray_workers(recipe.worker, cfg, ctx, monitor, state)
        else:
            interrupted = _run_processes(recipe.worker, cfg, ctx, monitor, state)
    except WorkerStartError:
        interrupted = True  # ended like an interruption below, then raised
        raise
    finally:
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)
        monitor.close()
        if interrupted and ckpt is None and frames.value == started:  # stopped before anything trained
            log.close()
            shutil.rmtree(run_dir, ignore_errors=True)  # nothing to keep: the run never began
        else:
            state.frames = max(state.frames, frames.value)
            monitor.checkpoint()
    if interrupted and not run_dir.exists():
        print("interrupted before the run trained anything; no run folder kept", file=sys.stderr)
        raise KeyboardInterrupt
    final = not (monitor.errors or interrupted)
    evaluator.finish(state.frames, lambda: recipe.evaluated(cfg, spec, model, extra), monitor.elapsed(), final)
    if monitor.errors:
        log.close()
        raise TrainingError("; ".join(monitor.errors) + resume_hint(run_dir))
    if cfg.progress:
        print(f"{state.frames:,} frames in {state.wall_seconds:.0f} s ({state.fps:,.0f} emulator frames/s "
              f"after start-up), {state.episodes} episodes")
    if interrupted:
        log.close()
        print(f"interrupted at {state.frames:,} frames; checkpoint saved; resume with "
              f"`pathzero train --resume {run_dir}`", file=sys.stderr)
        raise KeyboardInterrupt
    recipe.finish(cfg, spec, run_dir, model, extra, log, state)
    state.complete = True
    monitor.checkpoint()  # the run is whole: evaluated to its end, its replay written
    log.close()
    return run_dir


def resume_hint(run_dir: Path) -> str:
    """How a failed run goes on: from its checkpoint, or (none written yet) from the start."""
    if (run_dir / CHECKPOINT_NAME).is_file():
        return f" — checkpoint saved; resume with `pathzero train --resume {run_dir}`"
    return f" — it stopped before its first checkpoint; start it again (nothing in {run_dir} resumes)"


def _raise_keyboard_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _run_processes(loop: Callable, cfg: Config, ctx: WorkerContext, monitor: Monitor, state: RunState) -> bool:
    """Starts the workers and listens to them; returns True when interrupted by Ctrl-C (or SIGTERM).

    While it listens, Ctrl-C and SIGTERM only set a flag that the loop checks: an exception raised by the
    signal in the middle of reading a message off the queue would leave the pipe inside that message, and
    every read after it (the workers' last words, drained at the end) would fail."""
    asked_to_stop = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: asked_to_stop.set())
    try:
        return _listen(loop, cfg, ctx, monitor, state, asked_to_stop)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _listen(loop: Callable, cfg: Config, ctx: WorkerContext, monitor: Monitor, state: RunState,
            asked_to_stop: threading.Event) -> bool:
    mp_ctx = mp.get_context("spawn")
    messages = mp_ctx.Queue()
    stop = ctx.stop
    ctx = WorkerContext(ctx.shared_model, ctx.optimizer, ctx.frames, stop, messages, ctx.extra)
    args = [(loop, w, cfg, ctx, worker_seed(cfg.seed, state.resumes, w)) for w in range(cfg.workers)]
    try:
        procs = start_workers(_process_main, args, [f"{monitor.agent} worker {w}" for w in range(cfg.workers)],
                              asked_to_stop.is_set)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM while they started: every one is ended already
        stop.set()
        return True
    interrupted = False
    try:
        last_check = time.monotonic()
        while len(monitor.done) < len(procs) and not monitor.errors:
            if asked_to_stop.is_set():
                interrupted = True
                break
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
    finally:
        stop.set()
        deadline = time.monotonic() + STOP_GRACE
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
