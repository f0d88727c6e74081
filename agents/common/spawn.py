"""Worker processes that cannot hang their parent while they start.

Python's spawn start method (3.11) writes a new process's pickled arguments into a pipe while the
parent still holds the child's end of that pipe. Arguments larger than the pipe's buffer (64 KiB: a
PathNet's shared tensors are more) are written while the child reads them; a child that dies before it
has read them all (a script that trains when it is imported, a missing module, an out-of-memory kill)
leaves the parent blocked in that write for ever, deaf to Ctrl-C. `start_workers` starts processes
whose parent closes the child's end first, so that a dead child breaks the pipe at once, and writes
in slices with a deadline, watching a stop flag (Ctrl-C, SIGTERM): a worker that dies or stalls while
starting is reported in one line. What a worker prints to stderr before pathzero's code runs in it (the
traceback of an import that fails there) goes to a report file; the parent quotes its last line, the error
itself, and the worker's own stderr is restored as its first step (`worker_started`).

A script without `if __name__ == "__main__":` is imported again by every worker and would start a second
training inside it: `refuse_training_at_import` stops that in the worker and says what to add, and the
parent reports it. A main module with no file to import again (a script fed on stdin, `python -c`) is not
imported by the workers at all.
"""
from __future__ import annotations

import contextlib
import functools
import io
import multiprocessing as mp
import os
import select
import signal
import sys
import tempfile
import time
import types
from multiprocessing import context as mp_context, popen_spawn_posix, reduction, spawn, util
from pathlib import Path
from typing import Callable, Iterator

from pathzero.errors import UsageError

STARTUP_DEADLINE = 300.0  # seconds a worker may take to read its start-up state (cold imports, a loaded machine)
REPORT_ENV = "PATHZERO_WORKER_REPORT"  # where a worker stopped during its import writes why
STDERR_ENV = "PATHZERO_WORKER_STDERR"  # the descriptor of the worker's real stderr while it starts
GUARD_MESSAGE = ("the script starts training when it is imported, and every worker process imports it again: put "
                 "the code that trains under `if __name__ == \"__main__\":` (Python's multiprocessing docs, \"Safe "
                 "importing of main module\")")


class WorkerStartError(UsageError):
    """A worker process died, or did not read its start-up state, while it started."""


class MissingMainGuard(WorkerStartError):
    """The user's script trains when it is imported, so every worker would train too."""


def entry_point(fn: Callable) -> Callable:
    """For the public entry points (pathzero.train, transfer, continual): inside a worker still importing a
    script without a main guard, they do not train (`refuse_training_at_import`); in the script itself,
    that mistake ends with one line saying what to add and exit code 2, not a traceback through pathzero."""
    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        refuse_training_at_import()
        try:
            return fn(*args, **kwargs)
        except MissingMainGuard as exc:
            print(f"pathzero: {exc}", file=sys.stderr)
            raise SystemExit(2) from None

    return wrapped


def refuse_training_at_import() -> None:
    """Called where training starts. Inside a worker that is still importing the user's main module (a script
    without a main guard), writes why where the parent reads it and leaves with exit code 2."""
    if getattr(mp.current_process(), "_inheriting", False):
        path = os.environ.get(REPORT_ENV)
        if path:
            Path(path).write_text(GUARD_MESSAGE)
        else:  # not a worker pathzero started: say it here
            print(f"pathzero: {GUARD_MESSAGE}", file=sys.stderr)
        raise SystemExit(2)


def start_workers(target: Callable, args: list[tuple], names: list[str], stop_asked: Callable[[], bool] = lambda: False,
                  deadline: float = STARTUP_DEADLINE) -> list[mp.Process]:
    """One daemon process per entry of `args`, running `target(*args[i])`, started. Raises WorkerStartError
    if one dies or stalls while it starts, KeyboardInterrupt if `stop_asked()` turns true first; either way
    every process started here is ended before."""
    procs: list[mp.Process] = []
    spawn_ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="pathzero-start-") as reports:
        try:
            flags = []
            for w, (values, name) in enumerate(zip(args, names)):
                flag = spawn_ctx.Value("b", 0, lock=False)  # set by the worker once pathzero's code runs in it
                proc = _WatchedProcess(target=_started, args=(flag, target, values), name=name, daemon=True)
                report = Path(reports) / f"{w}.txt"
                with _environ(REPORT_ENV, str(report)), _main_import_if_possible(), _watching(stop_asked, deadline, report):
                    proc.start()
                procs.append(proc)
                flags.append(flag)
            end = time.monotonic() + deadline
            for w, (proc, flag) in enumerate(zip(procs, flags)):
                while not flag.value:
                    if stop_asked():
                        raise KeyboardInterrupt
                    if proc.exitcode is not None:
                        raise _start_failure(proc.name, proc.exitcode, Path(reports) / f"{w}.txt")
                    if time.monotonic() > end:
                        raise WorkerStartError(_stalled(proc.name, deadline))
                    proc.join(timeout=0.05)
        except BaseException:
            stop_processes(procs)
            raise
    return procs


def _started(flag, target: Callable, values: tuple) -> None:
    """A worker's first steps in pathzero's code: its own stderr back, "started" said, then its work."""
    worker_started()
    flag.value = 1
    target(*values)


def _start_failure(name: str, exitcode: int | None, report: Path | None) -> WorkerStartError:
    """Why a worker died while starting: the missing main guard, or the last line its stderr printed."""
    said = report.read_text(errors="replace") if report is not None and report.is_file() else ""
    if GUARD_MESSAGE in said:
        return MissingMainGuard(GUARD_MESSAGE)
    lines = [line.strip() for line in said.splitlines() if line.strip()]
    error = f": {lines[-1]}" if lines else ""
    return WorkerStartError(f"{name} died while starting (exit code {exitcode}){error}; nothing was trained")


def _stalled(name: str, deadline: float) -> str:
    return (f"{name} did not start within {deadline:.0f} s; is the machine out of memory or swapping? (nothing was "
            "trained)")


def stop_processes(procs: list[mp.Process], grace: float = 5.0) -> None:
    """Terminates the processes still alive and reaps them, each within `grace` seconds (then killed)."""
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=grace)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=grace)


# -- the start of one process -------------------------------------------------------------------------

_WATCH: dict = {}  # what the process being started watches: set by `_watching` around `start()`


@contextlib.contextmanager
def _watching(stop_asked: Callable[[], bool], deadline: float, report: Path) -> Iterator[None]:
    _WATCH.update(stop_asked=stop_asked, deadline=deadline, report=report)
    try:
        yield
    finally:
        _WATCH.clear()


class _WatchedPopen(popen_spawn_posix.Popen):
    """The spawn start method's Popen, but the child's end of the pipe is closed in the parent before the
    arguments are written, and they are written in slices, watched (see the module's docstring)."""

    def _launch(self, process_obj) -> None:
        from multiprocessing import resource_tracker

        tracker_fd = resource_tracker.getfd()
        self._fds.append(tracker_fd)
        data = io.BytesIO()
        mp_context.set_spawning_popen(self)  # lets shared tensors and locks be pickled for this child
        try:
            reduction.dump(spawn.get_preparation_data(process_obj._name), data)
            reduction.dump(process_obj, data)
        finally:
            mp_context.set_spawning_popen(None)
        parent_r, child_w = os.pipe()  # the child's exit closes child_w: parent_r, the sentinel, then reads EOF
        child_r, parent_w = os.pipe()  # the arguments travel here
        report: Path | None = _WATCH.get("report")
        stderr = os.dup(2)  # the child's real stderr, restored by `worker_started`
        try:
            self._fds.extend([child_r, child_w, stderr])
            command = spawn.get_command_line(tracker_fd=tracker_fd, pipe_handle=child_r)
            with _stderr_to(report), _environ(STDERR_ENV, str(stderr)):
                self.pid = util.spawnv_passfds(spawn.get_executable(), command, self._fds)
            self.sentinel = parent_r
        finally:
            for fd in (child_r, child_w, stderr):
                os.close(fd)
            self.finalizer = util.Finalize(self, util.close_fds, [parent_r, parent_w])
        try:
            self._write(parent_w, data.getbuffer(), process_obj._name)
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.wait()
            raise

    def _write(self, fd: int, data: memoryview, name: str) -> None:
        stop_asked = _WATCH.get("stop_asked", lambda: False)
        deadline = _WATCH.get("deadline", STARTUP_DEADLINE)
        report: Path | None = _WATCH.get("report")
        os.set_blocking(fd, False)
        end, offset = time.monotonic() + deadline, 0
        while offset < len(data):
            if stop_asked():
                raise KeyboardInterrupt
            if time.monotonic() > end:
                raise WorkerStartError(_stalled(name, deadline))
            try:
                offset += os.write(fd, data[offset:offset + 65536])
            except BlockingIOError:
                select.select([], [fd], [], 0.2)
            except BrokenPipeError:  # the child is gone
                self.wait(timeout=5)
                raise _start_failure(name, self.returncode, report) from None


class _WatchedProcess(mp.get_context("spawn").Process):
    @staticmethod
    def _Popen(process_obj):
        return _WatchedPopen(process_obj)


def worker_started() -> None:
    """A worker's stderr back from the report file to the real one (its first step in pathzero's code)."""
    fd = os.environ.pop(STDERR_ENV, None)
    if fd is not None:
        sys.stderr.flush()
        os.dup2(int(fd), 2)
        os.close(int(fd))


@contextlib.contextmanager
def _stderr_to(path: Path | None) -> Iterator[None]:
    """This process's stderr descriptor points at `path` inside (what a child spawned there inherits)."""
    if path is None:
        yield
        return
    sys.stderr.flush()
    saved, report = os.dup(2), os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(report, 2)
    os.close(report)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def _environ(name: str, value: str) -> Iterator[None]:
    """os.environ[name] = value inside (a child spawned there inherits it)."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


@contextlib.contextmanager
def _main_import_if_possible() -> Iterator[None]:
    """A worker imports the main module again (so what a guarded script registers at its top, such as a
    custom environment, exists in the worker too) unless that module has no file to import: a script fed
    on stdin or given with -c would make every worker die. Then the worker sees a bare main module."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or getattr(main, "__spec__", None) is not None or path is None or os.path.isfile(path):
        yield
        return
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main
