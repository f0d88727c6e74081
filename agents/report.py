"""`pathzero report PATH`: a run, a transfer matrix, a continual sequence or a folder of runs as a web page.

The report is a static site in one folder (index.html, assets/, videos/): the data it shows is inside
index.html as JSON, the charting library (Plotly's JavaScript bundle, from the `plotly` package) and the
page's own script and style are copied beside it, so it opens from file:// with no server and no internet.

- a run: its evaluation curve with intervals and its training episodes, against frames and hours; its
  config, checkpoints, the resume command and its replay video;
- a matrix: a heatmap per method and control (switchable), each cell with its score and interval, undefined
  cells with their note, unfinished ones marked "running"; a cell opens its pair: every seed's training curve
  of the method, both controls and random play, the cell's numbers, and replay videos of the source and target
  agents (recorded here from the checkpoints when the run folders are present);
- a continual sequence: the metric table with intervals, the phase plot per game and method;
- a folder of runs: a table of runs, each opening its run page.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import math
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from pathzero.envs import UsageError

SITE = Path(__file__).with_name("report_site")  # index.html (the template), report.js, report.css
MAX_POINTS = 4000  # training episodes drawn per run: more are thinned evenly (the last one kept)
VIDEO_STEPS = 3000  # agent steps of a replay video at most


def kind_of(path: Path) -> str:
    """'run', 'matrix', 'continual' or 'runs' (a folder of run folders); a one-line error otherwise."""
    if not path.is_dir():
        raise UsageError(f"{path} is not a folder; give a run folder, a matrix folder (pathzero transfer), "
                         "a continual folder (pathzero continual) or a folder of runs")
    if (path / "transfer.json").is_file():
        return "matrix"
    if (path / "settings.json").is_file() and (path / "cells").is_dir():
        return "continual"
    if (path / "config.json").is_file():
        return "run"
    if any(p.is_file() for p in path.glob("*/config.json")):
        return "runs"
    raise UsageError(f"{path} is not a run, matrix or continual folder (no config.json, transfer.json or "
                     "settings.json in it or in its subfolders); give a folder written by pathzero train, "
                     "transfer or continual")


# ---------------------------------------------------------------------------------------------
# Data

def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null, numpy numbers plain ones."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, Path):
        return str(value)
    return value


def _thin(rows: list, limit: int = MAX_POINTS) -> list:
    if len(rows) <= limit:
        return rows
    picks = np.linspace(0, len(rows) - 1, limit).round().astype(int)
    return [rows[i] for i in picks]


class Videos:
    """Records replay videos into the site's videos/ folder (or says why a video is missing)."""

    def __init__(self, out: Path, enabled: bool, max_steps: int = VIDEO_STEPS) -> None:
        self.out, self.enabled, self.max_steps = out, enabled, max_steps
        self.made: dict[tuple, dict] = {}

    def of(self, run_dir: Path | None, name: str, task: str | None = None) -> dict:
        """{"src": relative path} or {"note": why there is none}."""
        key = (str(run_dir), task)
        if key in self.made:
            return self.made[key]
        self.made[key] = result = self._record(run_dir, name, task)
        return result

    def _record(self, run_dir: Path | None, name: str, task: str | None) -> dict:
        from pathzero.agents.common.checkpoint import CHECKPOINT_NAME

        if run_dir is None or not (run_dir / CHECKPOINT_NAME).is_file():
            return {"note": "no video: the run folder (its checkpoint) is not here"}
        if not self.enabled:
            return {"note": "no video: the report was made with --no-videos"}
        from pathzero.agents.common.registry import load_trained
        from pathzero.agents.common.trained import Agent

        try:
            agent = load_trained(run_dir, **({"task": task} if task else {}))
        except UsageError as error:
            return {"note": f"no video: {error}"}
        if not isinstance(agent, Agent):
            return {"note": "no video: a self-play network plays board games (see its evaluation games)"}
        target = self.out / "videos" / f"{name}.mp4"
        target.parent.mkdir(parents=True, exist_ok=True)
        results = agent.play(1, seed=0, max_steps=self.max_steps, video=str(target))
        return {"src": f"videos/{target.name}", "score": results[0].ret, "steps": results[0].length}


def run_data(run_dir: Path, videos: Videos, name: str | None = None) -> dict:
    """What a run page shows."""
    from pathzero.agents.common.evaluation import read_evals
    from pathzero.agents.common.registry import agent_of_run
    from pathzero.agents.common.runlog import read_config, read_episodes

    config = read_config(run_dir)
    agent = agent_of_run(run_dir)
    name = name or run_dir.name
    evals = read_evals(run_dir)
    episodes = _thin(read_episodes(run_dir))
    checkpoints = sorted(p.name for p in run_dir.glob("*.pt"))
    data = {
        "name": name, "dir": str(run_dir), "agent": agent, "game": config.get("game"), "config": config,
        "evals": [{k: row.get(k) for k in ("frames", "mean_return", "ci_low", "ci_high", "wall_seconds", "episodes")}
                  for row in evals],
        "episodes": [[row["frames"], row["return"], row.get("wall_seconds")] for row in episodes],
        "checkpoints": checkpoints,
        "resume": f"pathzero {'selfplay' if agent == 'alphazero' else 'train'} --resume {run_dir}",
        "video": {"note": "no video"},
    }
    if agent == "alphazero":
        data["games"] = _selfplay_games(run_dir)
        data["video"] = {"note": "a self-play run plays board games: its evaluation games are listed below"}
    elif (run_dir / "replay.mp4").is_file():
        target = videos.out / "videos" / f"{file_safe(name)}.mp4"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(run_dir / "replay.mp4", target)
        data["video"] = {"src": f"videos/{target.name}", "note": "the run's final replay (replay.mp4)"}
    else:
        data["video"] = videos.of(run_dir, file_safe(name))
    return data


def _selfplay_games(run_dir: Path) -> list[dict]:
    """A self-play run's evaluation results per iteration and opponent (evaluation_games.jsonl)."""
    path = run_dir / "evaluation_games.jsonl"
    if not path.is_file():
        return []
    tally: dict[tuple, dict] = {}
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        key = (record.get("iteration"), record.get("opponent"))
        row = tally.setdefault(key, {"iteration": key[0], "opponent": key[1], "wins": 0, "draws": 0, "losses": 0})
        result = record.get("result")
        row[{1: "wins", 0: "draws", -1: "losses"}.get(result, "draws")] += 1
    return list(tally.values())


def file_safe(text: str) -> str:
    from pathzero.agents.common.runlog import file_name

    return file_name(text).replace(" ", "_")


def matrix_data(root: Path, videos: Videos) -> dict:
    """What a matrix page shows: every (source, target, method, control) cell, scored when all of its
    runs are finished and marked running otherwise, with each seed's curve and the pair's videos."""
    from pathzero.agents.transfer import Cell, TransferMatrix, plan, run_cell

    matrix = TransferMatrix.from_folder(root)
    cfg = matrix.cfg
    done = {p.stem for p in (root / "cells").glob("*.json")}

    def finished(cell: Cell) -> bool:
        return all(replace(cell, seed=s).key in done for s in range(1, cfg.seeds + 1))

    cells, curves = [], {}
    pairs = list(cfg.ordered_pairs)
    for source, target in pairs:
        random_ready = Cell("random", target, 0).key in done
        for method in cfg.transfers:
            for control in cfg.controls if cfg.runs_on(method, source, target) else ():
                ready = (random_ready and finished(run_cell(method, source, target, 1))
                         and finished(run_cell(control, None, target, 1)))
                if ready:
                    cells.append({**matrix._score(source, target, method, control), "status": "done"})
                else:
                    cells.append({"source": source, "target": target, "method": method, "control": control,
                                  "diagonal": source == target, "status": "running", "score": None,
                                  "note": "running: not every seed of this cell and its control has finished"})
    for source, target in pairs:
        pair = {}
        for method in (m for m in (*cfg.controls, *cfg.transfers) if cfg.runs_on(m, source, target)):
            runs = []
            for seed in range(1, cfg.seeds + 1):
                cell = run_cell(method, source, target, seed)
                if cell.key in done:
                    loaded = matrix._load(cell)
                    runs.append({"seed": seed, "curve": loaded.get("curve"), "auc": loaded.get("auc"),
                                 "run_dir": loaded.get("run_dir")})
            pair[method] = runs
        random = matrix._load(Cell("random", target, 0)) if Cell("random", target, 0).key in done else None
        curves[f"{source}|{target}"] = {"methods": pair, "random": None if random is None else random["mean"],
                                        "videos": _pair_videos(matrix, source, target, videos, done)}
    return {"games": list(cfg.games), "methods": list(cfg.methods), "transfers": list(cfg.transfers),
            "controls": list(cfg.controls), "frames": cfg.frames, "seeds": cfg.seeds, "bins": cfg.bins,
            "pairs": [list(p) for p in pairs], "cells": cells, "curves": curves,
            "no_stem_to_copy": {m: [f"{a}|{b}" for a, b in cfg.pairs_without_runs(m)] for m in cfg.transfers},
            "finished_runs": len(done), "expected_runs": len(plan(cfg))}


def _pair_videos(matrix, source: str, target: str, videos: Videos, done: set[str]) -> dict:
    """Seed 1's source agent (the run every transfer method starts from) and each transfer method's target
    agent, recorded from their checkpoints when the run folders are here."""
    from pathzero.agents.transfer import run_cell, source_cell

    out = {}
    for method in (m for m in matrix.cfg.transfers if matrix.cfg.runs_on(m, source, target)):
        cell = run_cell(method, source, target, 1)
        if cell.key not in done:
            out[method] = {"target": {"note": "running"}, "source": {"note": "running"}}
            continue
        loaded = matrix._load(cell)
        src = source_cell(cell)
        src_loaded = matrix._load(src) if src.key in done else None
        target_dir = matrix.root / loaded["run_dir"] if loaded.get("run_dir") else None
        source_dir = matrix.root / src_loaded["run_dir"] if src_loaded and src_loaded.get("run_dir") else None
        out[method] = {
            "target": videos.of(target_dir, file_safe(f"{cell.key}__target"), loaded.get("task")),
            "source": videos.of(source_dir, file_safe(f"{src.key}__source"),
                                src_loaded.get("task") if src_loaded else None),
        }
    return out


def continual_data(root: Path) -> dict:
    """What a continual page shows: the figures with intervals and, when the run folders are here, every
    method's normalised evaluation line per game (the phase plot)."""
    from pathzero.agents.continual import Continual

    summary_path = root / "continual.json"
    data: dict[str, Any] = {"summary": None, "lines": None, "note": None}
    settings = json.loads((root / "settings.json").read_text())
    data["settings"] = settings
    if summary_path.is_file():
        data["summary"] = json.loads(summary_path.read_text())
    else:
        data["note"] = "running: continual.json is written when every phase of every method and seed has finished"
    if (root / "continual.png").is_file():
        data["picture"] = "continual.png"
    run_dirs = [json.loads(p.read_text()).get("run_dir") for p in (root / "cells").glob("*.json")]
    missing = [d for d in run_dirs if d and not (root / d).is_dir()]
    if missing or data["summary"] is None:
        data["lines_note"] = ("the phase plot is drawn from the run folders (runs/), which are not all here"
                              + ("; continual.png, drawn when the sequence finished, is shown instead"
                                 if data.get("picture") else "") if missing else
                              "the phase plot is drawn when the sequence has finished")
    else:
        data["lines"] = Continual.from_folder(root, data["summary"]).normalised_lines()
    return data


def runs_data(root: Path, videos: Videos) -> dict:
    runs = sorted(p.parent for p in root.glob("*/config.json"))
    return {"runs": [run_data(r, videos) for r in runs]}


# ---------------------------------------------------------------------------------------------
# The site

def build_report(path: str | Path, out: str | Path | None = None, *, videos: bool = True,
                 video_steps: int = VIDEO_STEPS) -> Path:
    """Writes the report of `path` into `out` (default: PATH/report) and returns its index.html."""
    path = Path(path)
    kind = kind_of(path)
    out = Path(out) if out is not None else path / "report"
    out.mkdir(parents=True, exist_ok=True)
    recorder = Videos(out, videos, video_steps)
    payload: dict[str, Any] = {"kind": kind, "path": str(path), "title": f"pathzero report: {path.name or path}",
                               "generated": dt.datetime.now().isoformat(timespec="seconds")}
    if kind == "run":
        payload["run"] = run_data(path, recorder)
    elif kind == "runs":
        payload.update(runs_data(path, recorder))
    elif kind == "matrix":
        payload["matrix"] = matrix_data(path, recorder)
    else:
        payload["continual"] = continual_data(path)
        if payload["continual"].get("picture"):
            shutil.copyfile(path / "continual.png", out / "continual.png")
    write_site(out, payload)
    return out / "index.html"


def write_site(out: Path, payload: dict) -> None:
    import plotly

    assets = out / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", assets / "plotly.min.js")
    for name in ("report.js", "report.css"):
        shutil.copyfile(SITE / name, assets / name)
    data = json.dumps(_clean(payload), allow_nan=False).replace("</", "<\\/")  # safe inside <script>
    page = (SITE / "index.html").read_text()
    page = page.replace("{{title}}", html.escape(payload["title"])).replace("{{data}}", data)
    (out / "index.html").write_text(page)


def serve(folder: Path, port: int = 8000, ready=None) -> None:
    """Serves `folder` on 127.0.0.1 only (reach it from another machine through an ssh tunnel), until
    Ctrl-C or SIGTERM."""
    import functools
    import http.server
    import signal
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))

    class Quiet(handler.func):  # type: ignore[misc, valid-type]
        def log_message(self, *args) -> None:
            pass

    def stop(signum, frame):  # `kill` stops the server as Ctrl-C does
        raise KeyboardInterrupt

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stop) if main else None
    try:
        with http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Quiet, directory=str(folder))) as server:
            if ready is not None:
                ready(server.server_address[1])
            server.serve_forever(poll_interval=0.5)
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
