"""Run folders: config.json, TensorBoard scalars and episodes.csv, shared by every agent."""
from __future__ import annotations

import csv
import json
import os
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from pathzero.errors import UsageError

EPISODE_FIELDS = ("frames", "wall_seconds", "return", "length", "worker", "session", "row")
# session: how many times the run had been resumed when the episode ended (0: its first session); row: the
# row's number in the file, 0, 1, 2, ... across sessions. Workers report episodes as they end, each with the
# global frame count it last saw, so a worker slowed down on a busy machine can log a few frames behind
# another: within a session the frames column may step back, rows never repeat; a resume drops the rows
# beyond its checkpoint's frames (numbering the rest again) and begins a new session, whose rows all lie
# beyond it.
INTEGER_FIELDS = ("frames", "length", "worker", "session", "row")
REQUIRED_FIELDS = EPISODE_FIELDS[:5]  # what files written before session and row have


def file_name(text: str) -> str:
    """`text` as one path component: `/` becomes `-` and `>` is dropped (`MinAtar/Breakout->X` -> `MinAtar-Breakout-X`)."""
    return text.replace("/", "-").replace(">", "")


def new_run_dir(logdir: str | Path, game: str, agent: str, seed: int) -> Path:
    """`logdir/<game>__<agent>__<seed>__<time>`, created; a clash gets a numeric suffix."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(logdir) / f"{game}__{agent}__{seed}__{stamp}"
    run_dir, n = base, 1
    while run_dir.exists():
        run_dir, n = Path(f"{base}-{n}"), n + 1
    run_dir.mkdir(parents=True)
    return run_dir


def write_config(run_dir: Path, config: Any, agent: str | None = None) -> None:
    """config.json, atomically (a new file, then a rename): a crash leaves the old one or the new one.
    `agent`: the registered agent that trains the run (agents/common/registry.py), recorded as "agent"."""
    data = asdict(config) if is_dataclass(config) else dict(config)
    if agent is not None:
        data = {"agent": agent, **data}
    write_atomic(Path(run_dir) / "config.json", json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def truncate_jsonl(path: Path, key: str, max_value: float) -> None:
    """Keeps the JSON lines whose `key` is at most `max_value` (atomically), e.g. the evaluation
    games of the iterations a resumed run's checkpoint holds; unreadable lines are dropped."""
    kept = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get(key), (int, float)) and record[key] <= max_value:
            kept.append(line)
    write_atomic(path, "".join(line + "\n" for line in kept))


def read_config(run_dir: Path) -> dict:
    """A run's config.json, or UsageError when it is missing or unreadable."""
    path = Path(run_dir) / "config.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} is missing or unreadable ({type(exc).__name__}); give a run folder "
                         "written by pathzero train") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path} does not hold a config (a JSON object); give a run folder written by pathzero train")
    return data


def truncate_csv(path: Path, max_frames: int) -> None:
    """Keeps the rows logged up to `max_frames` (atomically: a new file, then a rename). A `row` column
    (episodes.csv) is numbered again, 0, 1, 2, ...: a slow worker's row kept after a dropped one leaves no gap."""
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[:1], rows[1:]
    kept = [r for r in body if r and number(r[0]) is not None and number(r[0]) <= max_frames]
    if len(kept) == len(body):
        return
    if header and "row" in header[0]:
        column = header[0].index("row")
        kept = [r[:column] + [str(i)] + r[column + 1:] if len(r) > column else r for i, r in enumerate(kept)]
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as f:
        csv.writer(f).writerows(header + kept)
    os.replace(tmp, path)


def number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


class RunLog:
    """TensorBoard scalars plus one csv row per finished episode; appends when resumed."""

    def __init__(self, run_dir: Path, purge_step: int | None = None, episodes: bool = True, session: int = 0) -> None:
        """`purge_step`: when resuming from a checkpoint taken at this frame, drop what was logged
        after it (TensorBoard events and csv rows), so the logs continue without duplicates.
        `episodes=False`: scalars only, no episodes.csv. `session`: the run's resume count."""
        from torch.utils.tensorboard import SummaryWriter

        self.run_dir = Path(run_dir)
        self.writer = SummaryWriter(str(self.run_dir), purge_step=purge_step)
        self._csv_file = None
        if not episodes:
            return
        path = self.run_dir / "episodes.csv"
        if purge_step is not None and path.exists():
            truncate_csv(path, purge_step)
        self._session, self._row = session, _with_row_numbers(path)
        fresh = not path.exists() or path.stat().st_size == 0
        self._csv_file = path.open("a", newline="")
        self._csv = csv.writer(self._csv_file)
        if fresh:
            self._csv.writerow(EPISODE_FIELDS)
            self._csv_file.flush()

    def episode(self, frames: int, wall_seconds: float, ret: float, length: int, worker: int) -> None:
        self._csv.writerow([frames, f"{wall_seconds:.2f}", f"{ret:g}", length, worker, self._session, self._row])
        self._row += 1
        self._csv_file.flush()  # episodes are rare; a reader (or a crash) sees every finished one
        self.writer.add_scalar("charts/episodic_return", ret, frames)
        self.writer.add_scalar("charts/episodic_length", length, frames)

    def scalars(self, values: dict[str, float], frames: int) -> None:
        for tag, value in values.items():
            self.writer.add_scalar(tag, value, frames)

    def flush(self) -> None:
        if self._csv_file is not None:
            self._csv_file.flush()
        self.writer.flush()

    def close(self) -> None:
        if self._csv_file is not None:
            self._csv_file.close()
        self.writer.close()


def read_episodes(run_dir: Path) -> list[dict[str, float]]:
    """The rows of a run's episodes.csv as dicts of numbers."""
    path = Path(run_dir) / "episodes.csv"
    if not path.exists():
        return []
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    # a row cut short by a crash is skipped, not fatal
    return [{k: int(float(v)) if k in INTEGER_FIELDS else float(v) for k, v in row.items() if k in EPISODE_FIELDS}
            for row in rows if all(number(row.get(k) or "") is not None for k in REQUIRED_FIELDS)]


def _with_row_numbers(path: Path) -> int:
    """The number of rows episodes.csv holds; a file written before the session and row columns gets them
    (its rows session 0, numbered in order), atomically. 0 for no file."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], [r for r in rows[1:] if r]
    if tuple(header) == EPISODE_FIELDS:
        return len(body)
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as f:
        csv.writer(f).writerows([EPISODE_FIELDS] + [r[:5] + [0, i] for i, r in enumerate(body)])
    os.replace(tmp, path)
    return len(body)


def read_scalars(run_dir: Path, tags: list[str]) -> dict[str, list[tuple[int, float]]]:
    """A run's TensorBoard scalars: {tag: [(step, value), ...]} in step order; a tag the run
    never logged maps to []. When a resumed run logged a step twice, the last value wins."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    events.Reload()
    logged = set(events.Tags().get("scalars", []))
    out = {}
    for tag in tags:
        by_step = {e.step: e.value for e in events.Scalars(tag)} if tag in logged else {}
        out[tag] = sorted(by_step.items())
    return out
