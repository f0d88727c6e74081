"""Evaluation during training: every `eval_every` frames, a copy of the current policy plays
`evaluation_episodes` whole episodes on environments of its own (unclipped game scores, no life-loss
resets: the game's own episodes), in a background thread while the workers go on learning.

Each evaluation appends a row to evals.csv (frames, episodes, mean_return, median_return, ci_low,
ci_high, wall_seconds) and one row per episode to eval_returns.csv (frames, episode, return: what an
interval over episodes, or one across games, is computed from), logs `eval/return` (and its median)
to TensorBoard at the frame count it started at, and, every `eval_video_every` evaluations, the
first episode as a TensorBoard video (`eval/video`). Training-episode returns (episodes.csv,
`charts/episodic_return`) are unchanged.
"""
from __future__ import annotations

import copy
import csv
import os
import threading
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from pathzero.agents.common.runlog import number, truncate_csv
from pathzero.agents.common.stats import mean_interval
from pathzero.envs import GameSpec

EVAL_FIELDS = ("frames", "episodes", "mean_return", "median_return", "ci_low", "ci_high", "wall_seconds")
RETURN_FIELDS = ("frames", "episode", "return")
TASK_FIELDS = ("frames", "task", "game", "episodes", "mean_return", "median_return", "ci_low", "ci_high")
VIDEO_MAX_FRAMES = 900  # of the first episode, in a TensorBoard video (a minute of Atari)
EVAL_SEED = 1_000_003  # evaluation episodes start from seeds no training environment uses


class Evaluation(NamedTuple):
    frames: int
    returns: list[float]
    wall_seconds: float
    video: np.ndarray | None  # [T, H, W, 3] uint8, or None
    tasks: list  # with eval_tasks: [(task, game id, returns)], the run's own task first


class FrameBuffer:
    """Collects RGB frames up to a cap: what `play` streams to a video, kept in memory."""

    def __init__(self, max_frames: int) -> None:
        self.max_frames, self.images, self.frames = max_frames, [], 0

    def append(self, frame: np.ndarray) -> None:
        from pathzero.agents.common.replay import _rgb

        if len(self.images) < self.max_frames:
            self.images.append(_rgb(frame))
        self.frames += 1


def read_evals(run_dir: str | Path) -> list[dict[str, float]]:
    """The rows of a run's evals.csv as dicts of numbers (empty when it has none)."""
    path = Path(run_dir) / "evals.csv"
    if not path.exists():
        return []
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [{k: int(float(row[k])) if k in ("frames", "episodes") else float(row[k]) for k in EVAL_FIELDS}
            for row in rows if all(number(row.get(k) or "") is not None for k in EVAL_FIELDS)]


def read_eval_returns(run_dir: str | Path) -> dict[int, list[float]]:
    """Each evaluation's episode returns (eval_returns.csv), keyed by its frames; empty for runs from
    before the file was written."""
    path = Path(run_dir) / "eval_returns.csv"
    if not path.exists():
        return {}
    out: dict[int, list[float]] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            frames, ret = number(row.get("frames") or ""), number(row.get("return") or "")
            if frames is not None and ret is not None:
                out.setdefault(int(frames), []).append(ret)
    return out


def read_task_evals(run_dir: str | Path) -> list[dict]:
    """The rows of a run's evals_tasks.csv (every task of a PathNet run evaluated, with --eval-tasks)."""
    path = Path(run_dir) / "evals_tasks.csv"
    if not path.exists():
        return []
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for row in rows:
        if all(number(row.get(k) or "") is not None for k in ("frames", "episodes", "mean_return")):
            out.append({**row, **{k: float(row[k]) for k in ("frames", "episodes", "mean_return", "median_return")}})
    return out


def _interval_text(returns: np.ndarray) -> list[str]:
    interval = mean_interval(returns)
    return ["" if interval.low is None else f"{interval.low:g}", "" if interval.high is None else f"{interval.high:g}"]


def evaluation_mode(greedy: bool) -> str:
    return "greedy (the most likely action)" if greedy else "sampled from the policy"


class Evaluator:
    """Runs one evaluation at a time in a daemon thread; the monitor calls `poll` often and
    `finish` at the end. `purge_frames`: when resuming, drop evals.csv rows after the checkpoint.
    `tasks`: evaluations also play the network's other tasks, into evals_tasks.csv."""

    def __init__(self, cfg: Any, spec: GameSpec, run_dir: Path, writer, purge_frames: int | None,
                 tasks: bool = False) -> None:
        self.cfg, self.spec, self.writer = cfg, spec, writer
        self.every, self.episodes = cfg.eval_every, cfg.evaluation_episodes
        self.path = Path(run_dir) / "evals.csv"
        self.returns_path = Path(run_dir) / "eval_returns.csv"
        self.tasks_path = Path(run_dir) / "evals_tasks.csv" if tasks else None
        for path in (self.path, self.returns_path, self.tasks_path):
            if purge_frames is not None and path is not None and path.exists():
                truncate_csv(path, purge_frames)
        if self.tasks_path is not None and not self.tasks_path.exists():
            with self.tasks_path.open("w", newline="") as f:
                csv.writer(f).writerow(TASK_FIELDS)
        done = read_evals(run_dir)
        self.count = len(done)  # evaluations so far, resumes included
        self.means = [float(row["mean_return"]) for row in done]  # their mean returns, oldest first
        self.next = (int(done[-1]["frames"]) // self.every + 1) * self.every if done and self.every else self.every
        self.stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._result: Evaluation | None = None
        self._error: str | None = None
        for path, fields in ((self.path, EVAL_FIELDS), (self.returns_path, RETURN_FIELDS)):
            if not path.exists() or path.stat().st_size == 0:
                with path.open("w", newline="") as f:
                    csv.writer(f).writerow(fields)

    @property
    def enabled(self) -> bool:
        return self.every > 0

    def held(self, target: float, count: int) -> bool:
        """Whether the last `count` evaluations (resumes included) each reached `target`."""
        return len(self.means) >= count and all(m >= target for m in self.means[-count:])

    def busy(self) -> bool:
        return self._thread is not None

    def poll(self, frames: int, policy: Any, wall_seconds: float) -> None:
        """Logs a finished evaluation; starts the next one once `frames` reaches its turn.
        `policy`: a callable returning the module that acts, or, with eval_tasks, the list of every
        task's (task, game spec, module), the run's own first (copied before play starts)."""
        if not self.enabled:
            return
        if self._thread is not None and not self._thread.is_alive():
            self._thread.join()
            self._thread = None
            self._log()
        if self._thread is None and frames >= self.next:
            self.start(frames, policy(), wall_seconds)
            self.next = (frames // self.every + 1) * self.every

    def start(self, frames: int, acting: Any, wall_seconds: float) -> None:
        tasks = acting if isinstance(acting, list) else [(self.spec.name, self.spec, acting)]
        snapshot = copy.deepcopy([module for _, _, module in tasks])  # one copy of a network the tasks share
        tasks = [(task, spec, module.eval()) for (task, spec, _), module in zip(tasks, snapshot)]
        video = self.cfg.eval_video_every > 0 and self.count % self.cfg.eval_video_every == 0
        self._thread = threading.Thread(target=self._run, args=(frames, tasks, wall_seconds, video),
                                        name="pathzero-eval", daemon=True)
        self._thread.start()

    def _run(self, frames: int, tasks: list, wall_seconds: float, video: bool) -> None:
        from pathzero.agents.common.replay import play

        model = tasks[0][2]
        try:
            seed, greedy = EVAL_SEED + self.cfg.seed, self.cfg.eval_greedy
            buffer = FrameBuffer(VIDEO_MAX_FRAMES) if video else None
            results = []
            if buffer is not None:  # the first episode on a rendering environment, the rest without
                results = play(model, self.spec, episodes=1, seed=seed, greedy=greedy, video=buffer, stop=self.stop)
            results += play(model, self.spec, episodes=self.episodes - len(results), seed=seed + len(results),
                            greedy=greedy, stop=self.stop)
            done = [(tasks[0][0], tasks[0][1].env_id, [r.ret for r in results])]
            for task, spec, module in tasks[1:] if self.tasks_path is not None else []:
                other = play(module, spec, episodes=self.episodes, seed=seed, greedy=greedy, stop=self.stop)
                done.append((task, spec.env_id, [r.ret for r in other]))
            if all(len(returns) == self.episodes for _, _, returns in done):  # cut short by the end: dropped
                clip = np.stack(buffer.images) if buffer is not None and buffer.images else None
                self._result = Evaluation(frames, [r.ret for r in results], wall_seconds, clip, done)
        except Exception as exc:  # an evaluation must never stop training; the monitor reports it
            self._error = f"{type(exc).__name__}: {exc}"

    def _log(self) -> None:
        if self._error is not None:
            print(f"evaluation failed: {self._error}")
            self._error = None
        result, self._result = self._result, None
        if result is None:
            return
        returns = np.asarray(result.returns, dtype=float)
        row = [result.frames, len(returns), f"{returns.mean():g}", f"{np.median(returns):g}",
               *_interval_text(returns), f"{result.wall_seconds:.2f}"]
        with self.returns_path.open("a", newline="") as f:  # first, so that an evals.csv row has its episodes
            csv.writer(f).writerows([result.frames, i, f"{r:.10g}"] for i, r in enumerate(returns))
        with self.path.open("a", newline="") as f:
            csv.writer(f).writerow(row)
        if self.tasks_path is not None:
            with self.tasks_path.open("a", newline="") as f:
                for task, game, task_returns in result.tasks:
                    values = np.asarray(task_returns, dtype=float)
                    csv.writer(f).writerow([result.frames, task, game, len(values), f"{values.mean():g}",
                                            f"{np.median(values):g}", *_interval_text(values)])
                    self.writer.add_scalar(f"eval_tasks/{task}", float(values.mean()), result.frames)
        self.means.append(float(returns.mean()))
        self.writer.add_scalar("eval/return", float(returns.mean()), result.frames)
        self.writer.add_scalar("eval/median_return", float(np.median(returns)), result.frames)
        if result.video is not None:
            add_video(self.writer, "eval/video", result.video, result.frames, fps=15 if self.spec.kind == "ale" else 30)
        self.count += 1

    def finish(self, frames: int, policy: Any, wall_seconds: float, final: bool) -> None:
        """Waits for the running evaluation and logs it; with `final`, evaluates the end of
        training too, unless the last evaluation already played the final policy: one at these
        frames, or one at or past the budget when the learning rate decays to zero there (the
        updates after it, the last batch's overshoot, change nothing). Not final (interrupted or
        failed): the running evaluation is stopped and dropped."""
        if not self.enabled:
            return
        if not final:
            self.stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
            self._log()
        if final:
            last = read_evals(self.path.parent)
            at = int(last[-1]["frames"]) if last else -1
            budget = getattr(self.cfg, "total_frames", 0)
            frozen = getattr(self.cfg, "lr_decay", False) and budget and at >= budget
            if at < frames and not frozen:
                self.start(frames, policy(), wall_seconds)
                self._thread.join()
                self._thread = None
                self._log()


def add_video(writer, tag: str, frames: np.ndarray, step: int, fps: int) -> None:
    """`frames` [T, H, W, 3] uint8 as a TensorBoard video (SummaryWriter.add_video, which encodes
    a GIF with moviepy). SDL, which moviepy's imports wake through pygame, is kept off the sound
    card and display: a server has neither."""
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    video = torch.from_numpy(frames).permute(0, 3, 1, 2).unsqueeze(0)  # [1, T, 3, H, W]
    writer.add_video(tag, video, step, fps=fps)
