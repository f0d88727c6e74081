"""Run folders: config.json, TensorBoard scalars and episodes.csv, shared by every agent."""
from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

EPISODE_FIELDS = ("frames", "wall_seconds", "return", "length", "worker")


def new_run_dir(logdir: str | Path, game: str, agent: str, seed: int) -> Path:
    """`logdir/<game>__<agent>__<seed>__<time>`, created; a clash gets a numeric suffix."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(logdir) / f"{game}__{agent}__{seed}__{stamp}"
    run_dir, n = base, 1
    while run_dir.exists():
        run_dir, n = Path(f"{base}-{n}"), n + 1
    run_dir.mkdir(parents=True)
    return run_dir


def write_config(run_dir: Path, config: Any) -> None:
    data = asdict(config) if is_dataclass(config) else dict(config)
    (run_dir / "config.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_config(run_dir: Path) -> dict:
    return json.loads((run_dir / "config.json").read_text())


class RunLog:
    """TensorBoard scalars plus one csv row per finished episode; appends when resumed."""

    def __init__(self, run_dir: Path, purge_step: int | None = None) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.run_dir = Path(run_dir)
        self.writer = SummaryWriter(str(self.run_dir), purge_step=purge_step)
        path = self.run_dir / "episodes.csv"
        fresh = not path.exists() or path.stat().st_size == 0
        self._csv_file = path.open("a", newline="")
        self._csv = csv.writer(self._csv_file)
        if fresh:
            self._csv.writerow(EPISODE_FIELDS)
            self._csv_file.flush()

    def episode(self, frames: int, wall_seconds: float, ret: float, length: int, worker: int) -> None:
        self._csv.writerow([frames, f"{wall_seconds:.2f}", f"{ret:g}", length, worker])
        self._csv_file.flush()  # episodes are rare; a reader (or a crash) sees every finished one
        self.writer.add_scalar("charts/episodic_return", ret, frames)
        self.writer.add_scalar("charts/episodic_length", length, frames)

    def scalars(self, values: dict[str, float], frames: int) -> None:
        for tag, value in values.items():
            self.writer.add_scalar(tag, value, frames)

    def flush(self) -> None:
        self._csv_file.flush()
        self.writer.flush()

    def close(self) -> None:
        self._csv_file.close()
        self.writer.close()


def read_episodes(run_dir: Path) -> list[dict[str, float]]:
    """The rows of a run's episodes.csv as dicts of numbers."""
    path = Path(run_dir) / "episodes.csv"
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]
