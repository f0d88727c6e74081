"""Where the runs of a matrix or a sequence execute: one after another in this process (`local`), or as
Ray tasks (`ray`), each started as soon as the runs it needs are done.

A job is one run with a key, the keys of the jobs whose results it reads (a transfer run needs its
source run), and a callable that trains it and stores its result on disk. Finished jobs are skipped
by both backends, so a matrix resumes the same way whichever backend ran it before. With Ray, a task
whose worker process dies is retried (`RETRIES` times); the run inside resumes from its checkpoint.

Without an address Ray starts inside this process on 127.0.0.1 with its dashboard off; with one,
pathzero joins that cluster. Run folders must then be on a filesystem every node sees.
"""
from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from typing import Any, Callable

from tqdm import tqdm

from pathzero.envs import UsageError

BACKENDS = ("local", "ray")
RETRIES = 3  # a run whose Ray worker died is started again this many times (it resumes from its checkpoint)
LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # "0": Ray keeps every address on 127.0.0.1


@dataclass
class Job:
    key: str
    run: Callable[[], Any]
    needs: tuple[str, ...] = ()
    done: bool = False


def import_ray():
    """Ray, or a one-line UsageError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UsageError("--backend ray needs Ray, which is not installed: pip install 'pathzero[ray]' "
                         "(or use --backend local)") from None
    return ray


def check_backend(backend: str) -> None:
    """A one-line UsageError for an unknown backend, or for Ray when it is not installed."""
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if backend == "ray":
        import_ray()


def start_ray(address: str | None = None, dashboard: bool = False, num_cpus: int | None = None):
    """Connects to the cluster at `address`, or starts Ray in this process bound to 127.0.0.1 (an
    instance already started, by a test's cluster for example, is reused)."""
    if address is None:
        os.environ[LOOPBACK_ENV] = "0"  # read by Ray at import, here and in every process it starts
    ray = import_ray()
    if ray.is_initialized():
        return ray
    if address is None:
        from ray._private import ray_constants
        ray_constants.ENABLE_RAY_CLUSTER = False  # in case Ray was imported before the variable was set
        ray.init(num_cpus=num_cpus, include_dashboard=dashboard, configure_logging=False,
                 runtime_env={"env_vars": {LOOPBACK_ENV: "0"}})
    else:
        try:
            ray.init(address=address, include_dashboard=dashboard, configure_logging=False)
        except ConnectionError as exc:
            raise UsageError(f"--ray-address {address}: no Ray cluster answered there ({exc}); give the "
                             "address `ray start --head` printed, or leave --ray-address out") from None
    return ray


def _cpus_in_use(ray) -> str:
    total = ray.cluster_resources().get("CPU", 0)
    free = ray.available_resources().get("CPU", 0)
    return f"{total - free:g}/{total:g} CPUs"


def _call(job_run: Callable[[], Any], *_needs) -> Any:
    """A job, with one torch thread in the process that runs it (both backends): a serial run, or the
    monitoring and scoring around a run's worker processes, works on small batches, where more threads
    only contend; and a run then computes the same numbers wherever it runs. `_needs` are the results
    of the jobs this one reads, passed only so that Ray starts it after them."""
    from pathzero.agents.common.threads import one_torch_thread

    with one_torch_thread():
        return job_run()


def run_jobs(jobs: list[Job], *, backend: str = "local", address: str | None = None, cpus: float = 1,
             progress: bool = True, desc: str = "runs", dashboard: bool = False) -> None:
    """Runs every job not done. `jobs` are in an order where each comes after the jobs it needs."""
    check_backend(backend)
    todo = [j for j in jobs if not j.done]
    bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), unit="run", desc=desc, disable=not progress,
               dynamic_ncols=True)
    try:
        if backend == "local":
            for job in todo:
                bar.set_postfix_str(job.key)
                _call(job.run)
                bar.update(1)
            return
        _run_on_ray(todo, start_ray(address, dashboard), cpus, bar)
    finally:
        bar.close()


def _run_on_ray(todo: list[Job], ray, cpus: float, bar) -> None:
    largest = max((n["Resources"].get("CPU", 0) for n in ray.nodes() if n["Alive"]), default=0)
    if todo and cpus > largest:  # Ray would wait for such a node forever
        raise UsageError(f"each run asks for {cpus:g} CPUs (its --workers) but the largest Ray node has "
                         f"{largest:g}; give --workers {int(largest)} or fewer, or --serial")
    task = ray.remote(num_cpus=cpus, max_retries=RETRIES, retry_exceptions=False)(_call)
    refs: dict[str, Any] = {}
    for job in todo:  # Ray holds each task until the tasks it needs have returned
        refs[job.key] = task.options(name=job.key).remote(job.run, *[refs[k] for k in job.needs if k in refs])
    pending = {ref: key for key, ref in refs.items()}
    finished, last = 0, 0.0
    while pending:
        try:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=2.0)
        except Exception as exc:  # the cluster itself failed (its raylet or head node died)
            raise RayRunError(_ray_failure("the Ray cluster stopped answering", exc, finished, len(todo))) from None
        for ref in ready:
            key = pending.pop(ref)
            try:
                ray.get(ref)
            except ray.exceptions.RayError as exc:
                for other in pending:
                    with contextlib.suppress(Exception):
                        ray.cancel(other, force=True)
                cause = getattr(exc, "cause", None)
                cause = cause if isinstance(cause, BaseException) else exc
                if isinstance(cause, UsageError):
                    raise UsageError(str(cause)) from None
                raise RayRunError(_ray_failure(f"run {key} failed on Ray", cause, finished, len(todo))) from None
            finished += 1
            bar.update(1)
        if time.monotonic() - last > 2.0 or ready:
            last = time.monotonic()
            with contextlib.suppress(Exception):
                bar.set_postfix_str(f"{len(pending)} left, {_cpus_in_use(ray)}")


class RayRunError(UsageError):
    """A run failed on Ray, or the cluster did: the finished runs are kept and the rest resume."""


def _ray_failure(what: str, cause: BaseException, finished: int, total: int) -> str:
    text = str(cause).strip().splitlines()
    reason = f"{type(cause).__name__}: {text[0] if text else ''}".strip()
    return (f"{what} ({reason[:200]}); {finished} of the {total} runs to do had finished and are kept; the rest resume "
            "when you run the same command again")
