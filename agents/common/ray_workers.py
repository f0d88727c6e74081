"""A3C's actor-learners as Ray actors around a parameter server: `pathzero train --backend ray`.

The parameter server is one Ray actor holding the network, the optimizer's statistics (RMSProp's
square averages, shared by every worker as in the A3C paper) and the frame counter. Each worker actor
runs the agent's usual worker loop against a `RayContext` instead of shared memory: after each rollout
it sends its clipped gradients (and the episodes and losses it has to report) to the server, which
applies them with the shared optimizer at once and answers with the new weights: asynchronous updates,
no barrier, as in Hogwild, but across machines. The driver (the `train` call) polls the server for the
reports, so the run folder is written exactly as with local workers: episodes.csv, TensorBoard,
evaluations, checkpoints, resume.

A worker actor that dies (its process killed, its node lost) is replaced by a new one; the frames it had
counted stay counted, only its unfinished rollout is lost. If the parameter server dies, training stops
with the last checkpoint kept, and the run resumes from it. A dead server fails the driver's call at
once; a slow one (its process still starting, or starved on a loaded machine) is waited for, up to
SERVER_PATIENCE seconds without an answer, before it counts as hung.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable

import torch
from torch import nn

from pathzero.agents.common.schedule import learning_rate, worker_seed
from pathzero.agents.common.optim import load_state_in_place, make_shared_optimizer, set_learning_rate
from pathzero.nets import DualNet

Config = Any
SERVER_PATIENCE = 600.0  # seconds; a shorter wait once stopped a healthy run on a busy 2-core machine


class _Flag:
    """What worker loops call `stop`: set when the server says the run is over."""

    def __init__(self) -> None:
        self.value = False

    def is_set(self) -> bool:
        return self.value

    def set(self) -> None:
        self.value = True


class _Counter:
    def __init__(self, value: int) -> None:
        self.value = value


class ParameterServer:
    """The network, the optimizer and the frame counter; Ray runs its methods one at a time."""

    def __init__(self, description: dict, weights: dict, cfg: Config, optimizer_state: dict | None,
                 frames: int) -> None:
        torch.set_num_threads(1)
        self.cfg = cfg
        self.model = DualNet.from_description(description)
        self.model.load_state_dict(weights)
        self.optimizer = make_shared_optimizer(cfg.optimizer, list(self.model.parameters()), cfg.lr,
                                               eps=cfg.optim_eps)
        if optimizer_state is not None:
            load_state_in_place(self.optimizer, optimizer_state)
        self.frames, self.stopped, self.outbox, self.updates = frames, False, [], 0
        self.busy, self.born = 0.0, time.perf_counter()  # seconds spent applying updates, since when

    def weights(self) -> dict:
        return self.model.state_dict()

    def push(self, grads: list[torch.Tensor], frames_done: int, messages: list) -> tuple[int, float, bool, dict]:
        """Applies one worker's gradients; returns (frames, learning rate, stop, the new weights)."""
        start = time.perf_counter()
        self.frames += frames_done
        lr = learning_rate(self.cfg, self.frames)
        set_learning_rate(self.optimizer, lr)
        for p, g in zip(self.model.parameters(), grads):
            p.grad = g
        self.optimizer.step()
        self.updates += 1
        self.outbox.extend(messages)
        weights = self.model.state_dict()
        self.busy += time.perf_counter() - start
        return self.frames, lr, self.stopped, weights

    def post(self, messages: list) -> None:
        self.outbox.extend(messages)

    def drain(self) -> tuple[list, int]:
        """The workers' reports since the last call, and the frame counter."""
        out, self.outbox = self.outbox, []
        return out, self.frames

    def state(self) -> tuple[dict, dict, int]:
        return self.model.state_dict(), self.optimizer.state_dict(), self.frames

    def stop(self) -> None:
        self.stopped = True

    def stats(self) -> dict:
        """What scaling estimates need: updates applied, the seconds spent applying them, the bytes
        of one gradient message and of one weights message (float32 tensors)."""
        size = sum(p.numel() for p in self.model.parameters()) * 4
        return {"updates": self.updates, "busy_seconds": self.busy, "alive_seconds": time.perf_counter() - self.born,
                "gradient_bytes": size, "weights_bytes": sum(t.numel() * t.element_size()
                                                             for t in self.model.state_dict().values())}


class RayContext:
    """A worker's view of the run (runner.WorkerContext's fields and methods) over Ray."""

    def __init__(self, server, description: dict, frames: int) -> None:
        import ray

        self.ray, self.server = ray, server
        self.shared_model = DualNet.from_description(description)  # for its shape: worker loops copy it
        self.optimizer = None
        self.frames = _Counter(frames)
        self.stop = _Flag()
        self.sink = self
        self.extra = None
        self._outbox: list = []
        self._weights = ray.get(server.weights.remote())

    def put(self, message) -> None:
        self._outbox.append(message)  # sent with the next gradients

    def pull(self, local: nn.Module) -> None:
        local.load_state_dict(self._weights)

    def push(self, local: nn.Module, cfg: Config, frames_done: int) -> tuple[int, float, float]:
        norm = nn.utils.clip_grad_norm_(local.parameters(), cfg.max_grad_norm)
        grads = [torch.zeros_like(p) if p.grad is None else p.grad for p in local.parameters()]
        frames, lr, stop, self._weights = self.ray.get(self.server.push.remote(grads, frames_done, self._outbox))
        self._outbox = []
        self.frames.value = frames
        if stop:
            self.stop.set()
        return frames, lr, float(norm)

    def flush(self) -> None:
        self.ray.get(self.server.post.remote(self._outbox))
        self._outbox = []


class RayWorker:
    """One actor-learner: the agent's worker loop in a Ray actor."""

    def run(self, loop: Callable, worker: int, cfg: Config, seed: int, server, description: dict,
            frames: int) -> int:
        torch.set_num_threads(1)
        ctx = RayContext(server, description, frames)
        loop(worker, cfg, ctx, seed)
        ctx.flush()
        return worker

    def pid(self) -> int:
        return os.getpid()


def worker_name(run_dir, worker: int, attempt: int) -> str:
    """The Ray actor name of a worker (tests find workers by it)."""
    return f"pathzero/{os.path.basename(run_dir)}/worker-{worker}/{attempt}"


def server_name(run_dir, resumes: int) -> str:
    """The Ray actor name of the parameter server of a run's `resumes`-th session."""
    return f"pathzero/{os.path.basename(run_dir)}/server/{resumes}"


def check_cluster(cfg: Config) -> None:
    """Starts or joins Ray (a one-line error without it) and refuses more workers than the cluster has
    CPUs: an actor without a CPU would wait forever, and the run with it."""
    from pathzero.agents.common.backend import start_ray
    from pathzero.envs import UsageError

    cpus = start_ray(cfg.ray_address).cluster_resources().get("CPU", 0)
    if cpus < cfg.workers:
        raise UsageError(f"--workers {cfg.workers} needs {cfg.workers} CPUs on the Ray cluster, which has {cpus:g}; "
                         f"give --workers {int(cpus)} or fewer")


def run_ray_workers(loop: Callable, cfg: Config, ctx, monitor, state) -> bool:
    """Trains with cfg.workers Ray actors and a parameter server; returns True when interrupted.

    `ctx.shared_model` and `ctx.optimizer` are the driver's copies: they start the server and are
    brought up to date from it before every checkpoint and evaluation."""
    from pathzero.agents.common.backend import start_ray

    ray = start_ray(cfg.ray_address)
    model, optimizer = ctx.shared_model, ctx.optimizer
    description = model.describe()
    server = ray.remote(num_cpus=0)(ParameterServer).options(name=server_name(monitor.run_dir, state.resumes)).remote(
        description, model.state_dict(), cfg, optimizer.state_dict(), state.frames)
    actor_class = ray.remote(num_cpus=1, max_restarts=0)(RayWorker)
    running: dict[Any, tuple[int, Any]] = {}  # the run() call's ref -> (worker, actor)
    attempts = {w: 0 for w in range(cfg.workers)}

    def start(w: int) -> None:
        actor = actor_class.options(name=worker_name(monitor.run_dir, w, attempts[w])).remote()
        seed = worker_seed(cfg.seed, state.resumes, w + 1000 * attempts[w])
        running[actor.run.remote(loop, w, cfg, seed, server, description, state.frames)] = (w, actor)

    server_alive = [True]

    def sync() -> bool:
        """The server's weights, optimizer statistics and frames into the driver's copies."""
        if not server_alive[0]:
            return False
        try:
            weights, opt_state, frames = ray.get(server.state.remote(), timeout=SERVER_PATIENCE)
        except (ray.exceptions.RayError, ray.exceptions.GetTimeoutError) as exc:
            server_alive[0] = False
            monitor.errors.append(f"the parameter server died ({type(exc).__name__})")
            return False
        model.load_state_dict(weights)
        load_state_in_place(optimizer, opt_state)
        with ctx.frames.get_lock():
            ctx.frames.value = max(ctx.frames.value, frames)
        return True

    save, policy = monitor.save, monitor.policy
    monitor.save = lambda: save() if sync() else None  # a dead server: the last good checkpoint stays
    monitor.policy = lambda: (sync(), policy())[1]

    def report() -> None:
        try:
            messages, frames = ray.get(server.drain.remote(), timeout=SERVER_PATIENCE)
        except (ray.exceptions.RayError, ray.exceptions.GetTimeoutError) as exc:
            if server_alive[0]:
                server_alive[0] = False
                monitor.errors.append(f"the parameter server died ({type(exc).__name__})")
            return
        for message in messages:
            monitor.put(message)
        with ctx.frames.get_lock():
            ctx.frames.value = max(ctx.frames.value, frames)

    for w in range(cfg.workers):
        start(w)
    interrupted = False
    try:
        while len(monitor.done) < cfg.workers and not monitor.errors:
            report()
            if ctx.stop.is_set():  # the monitor reached the target return
                server.stop.remote()
            monitor.tick()
            ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
            for ref in ready:
                w, actor = running.pop(ref)
                try:
                    ray.get(ref)
                except ray.exceptions.RayActorError as exc:  # the process or its node died: replace it
                    report()
                    if w in monitor.done:
                        continue
                    attempts[w] += 1
                    state.replaced_workers += 1
                    monitor.log.scalars({"charts/replaced_workers": state.replaced_workers}, monitor.frames)
                    print(f"worker {w} died ({type(exc).__name__}); replaced by a new actor "
                          f"({state.replaced_workers} replaced in this run)", file=sys.stderr, flush=True)
                    start(w)
                except ray.exceptions.RayTaskError as exc:
                    cause = exc.cause if isinstance(getattr(exc, "cause", None), BaseException) else exc
                    monitor.errors.append(f"worker {w} failed: {type(cause).__name__}: {cause}")
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if server_alive[0]:
            server.stop.remote()
        deadline = time.monotonic() + 60
        while running and time.monotonic() < deadline:
            ready, _ = ray.wait(list(running), num_returns=len(running), timeout=1.0)
            for ref in ready:
                running.pop(ref)
            if server_alive[0]:
                report()
        for _, actor in running.values():
            ray.kill(actor)  # the server and the driver's copies stay: the runner checkpoints next
        if server_alive[0]:
            _write_stats(monitor.run_dir, ray.get(server.stats.remote()), cfg.workers)
    return interrupted


def _write_stats(run_dir, stats: dict, workers: int) -> None:
    """ray.json in the run folder: the parameter server's load in this session."""
    import json

    from pathzero.agents.common.runlog import write_atomic

    stats = {**stats, "workers": workers,
             "busy_fraction": stats["busy_seconds"] / max(stats["alive_seconds"], 1e-9),
             "updates_per_second": stats["updates"] / max(stats["alive_seconds"], 1e-9)}
    write_atomic(run_dir / "ray.json", json.dumps(stats, indent=1) + "\n")
