"""Transfer matrices: how much learning game A first speeds up learning game B.

For every game and seed two source runs are trained once:

- `fixed`: one fixed maximal pathway, no evolution. It is the independent learner ("scratch") when
  the game is the target, and the network that fine-tuning starts from when it is the source.
- `evolved`: PathNet on the game; its best pathway is what PathNet transfer freezes.

For every ordered pair A -> B (A != B) and seed, the methods train on B with the same frame budget:
`finetune` (the fixed run of A, every weight trained on) and `pathnet` (A's best pathway frozen,
everything else re-initialised, a new population evolved). `scratch` is the fixed run on B.

Transfer score = area under the method's learning curve on B (mean return over training, the
paper's measure) / the same area for scratch on B with the same seed and budget; > 1 is positive
transfer. Forgetting: the source policy is scored on A (same episodes, same seeds) before and
after the target training; PathNet keeps it exactly, and the check that its weights are
bit-identical is recorded too.

Every finished run is stored as a JSON cell under `DIR/cells/` when it finishes, so an interrupted
matrix resumes where it stopped; an unfinished run resumes from its checkpoint.
"""
from __future__ import annotations

import csv
import json
import math
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from agents.common.checkpoint import CHECKPOINT_NAME
from agents.common.runlog import read_episodes
from agents.pathnet import PathNetConfig, load_pathnet_checkpoint, train_pathnet
from agents.replay import play
from envs import UsageError, resolve_game
from nets.pathnet import PathwayPolicy, pathway_modules

METHODS = ("scratch", "finetune", "pathnet")


@dataclass(frozen=True)
class TransferConfig:
    """A transfer matrix: games, methods, budget, seeds, and the options of every run in it."""

    games: tuple[str, ...] = ("MinAtar/Breakout", "MinAtar/SpaceInvaders", "MinAtar/Freeway")
    """Games of the matrix; every ordered pair of different games is a cell."""
    methods: tuple[str, ...] = METHODS
    """Methods to compare: scratch (always trained: it is the baseline), finetune, pathnet."""
    frames: int = 500_000
    """Frames of every run (source and target alike)."""
    seeds: int = 1
    """Seeds per cell (1, 2, ... K)."""
    logdir: str = "runs/transfer"
    """The matrix folder: runs, cells, matrix.csv/json and figures; rerun to resume."""
    base: PathNetConfig = field(default_factory=lambda: PathNetConfig(game="MinAtar/Breakout"))
    """Every other option of the runs (workers, envs, learning rate, grid, population, ...)."""
    score_episodes: int = 10
    """Episodes that score the source policy on the source game, before and after target training."""
    bins: int = 20
    """Points of the learning curves (and of the area under them)."""
    pairs: tuple[tuple[str, str], ...] | None = None
    """Only these (source, target) pairs (default: every ordered pair of different games)."""

    @property
    def ordered_pairs(self) -> list[tuple[str, str]]:
        if self.pairs is not None:
            return [tuple(p) for p in self.pairs]
        return [(a, b) for a in self.games for b in self.games if a != b]

    def __post_init__(self) -> None:
        if len(self.games) < 2:
            raise UsageError(f"--games needs at least two games, got {list(self.games)}")
        if len(set(self.games)) != len(self.games):
            raise UsageError(f"--games lists a game twice: {list(self.games)}")
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown:
            raise UsageError(f"unknown method {unknown[0]!r}; choose from {', '.join(METHODS)}")
        for name in ("frames", "seeds", "score_episodes", "bins"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        for game in self.games:
            resolve_game(game)  # an unknown game fails here, before anything trains
        for source, target in self.pairs or ():
            if source not in self.games or target not in self.games or source == target:
                raise UsageError(f"pair {source}->{target}: both games must be among --games and differ")


@dataclass(frozen=True)
class Cell:
    """One run of the matrix."""

    kind: str  # fixed | evolved (source runs) or finetune | pathnet (transfer runs)
    target: str
    seed: int
    source: str | None = None

    @property
    def key(self) -> str:
        pair = self.target if self.source is None else f"{self.source}->{self.target}"
        return f"{self.kind}__{pair}__{self.seed}".replace("/", "-").replace(">", "")

    def path(self, root: Path) -> Path:
        return root / "cells" / f"{self.key}.json"


def plan(cfg: TransferConfig) -> list[Cell]:
    """The runs, in an order where every source run comes before the transfers that need it."""
    cells: list[Cell] = []
    for seed in range(1, cfg.seeds + 1):
        sources = {a for a, _ in cfg.ordered_pairs}
        needed = sources | {b for _, b in cfg.ordered_pairs}
        for game in cfg.games:
            if game in needed:
                cells.append(Cell("fixed", game, seed))
            if "pathnet" in cfg.methods and game in sources:
                cells.append(Cell("evolved", game, seed))
        for source, target in cfg.ordered_pairs:
            for method in ("finetune", "pathnet"):
                if method in cfg.methods:
                    cells.append(Cell(method, target, seed, source))
    return cells


def learning_curve(run_dir: Path, frames: int, bins: int) -> np.ndarray:
    """Mean unclipped return per frame bin [bins]; a bin without episodes carries the one before."""
    episodes = read_episodes(run_dir)
    curve = np.full(bins, np.nan)
    if episodes:
        at = np.array([e["frames"] for e in episodes])
        ret = np.array([e["return"] for e in episodes])
        index = np.minimum((at / frames * bins).astype(int), bins - 1)
        for b in range(bins):
            if (index == b).any():
                curve[b] = ret[index == b].mean()
            elif b > 0:
                curve[b] = curve[b - 1]
    return curve


def area(curve: np.ndarray) -> float:
    """Area under a learning curve, as the mean return over training (bins before the first episode left out)."""
    return float(np.nanmean(curve)) if np.isfinite(curve).any() else math.nan


def source_score(run_dir: Path, task: str, game: str, episodes: int, seed: int) -> float:
    """Mean return of a run's policy for `task` (its best pathway and heads) on `game`."""
    _, model = load_pathnet_checkpoint(run_dir)
    policy = PathwayPolicy(model, model.best[task], task).eval()
    results = play(policy, resolve_game(game), episodes=episodes, seed=seed)
    return float(np.mean([r.ret for r in results]))


def source_weights_identical(source_dir: Path, target_dir: Path, task: str) -> bool:
    """Whether the source task's pathway modules and heads are bit-identical after target training."""
    _, before = load_pathnet_checkpoint(source_dir)
    _, after = load_pathnet_checkpoint(target_dir)
    pathway = before.best[task]
    pairs = [(before.grid[layer][m], after.grid[layer][m]) for layer, m in pathway_modules(pathway)]
    pairs.append((before.heads[task], after.heads[task]))
    return all(torch.equal(p, q) for a, b in pairs for p, q in zip(a.parameters(), b.parameters()))


class TransferMatrix:
    """Runs (or resumes) the cells of a matrix and writes its outputs."""

    def __init__(self, cfg: TransferConfig) -> None:
        self.cfg = cfg
        self.root = Path(cfg.logdir)

    # -- the settings file: a rerun must ask for the same matrix ------------------------------
    def _settings(self) -> dict:
        data = asdict(self.cfg)
        data["games"], data["methods"] = list(self.cfg.games), list(self.cfg.methods)
        data["pairs"] = [list(p) for p in self.cfg.pairs] if self.cfg.pairs else None
        data["base"] = {k: v for k, v in data["base"].items() if k not in ("progress", "workers", "game")}
        return data

    def _check_settings(self) -> None:
        path = self.root / "transfer.json"
        settings = self._settings()
        if path.exists():
            saved = json.loads(path.read_text())
            differ = sorted(k for k in settings if k != "seeds" and saved.get(k) != settings[k])
            if differ:
                raise UsageError(f"{self.root} holds a matrix with other settings ({', '.join(differ)} differ); "
                                 "use those settings to resume it, or another --logdir")
        self.root.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings, indent=2) + "\n")  # more seeds may be added later

    # -- runs ----------------------------------------------------------------------------------
    def _run_config(self, cell: Cell) -> PathNetConfig:
        base = self.cfg.base
        source = None
        if cell.source is not None:
            kind = "fixed" if cell.kind == "finetune" else "evolved"
            source = self._load(Cell(kind, cell.source, cell.seed))["run_dir"]
        return replace(base, game=cell.target, total_frames=self.cfg.frames, seed=base.seed * 1000 + cell.seed,
                       logdir=str(self.root / "runs" / cell.key), evolve=cell.kind in ("evolved", "pathnet"),
                       transfer_from=source, freeze_source=cell.kind == "pathnet", progress=False,
                       replay_episodes=0)

    def _train(self, cfg: PathNetConfig) -> Path:
        """Trains a run, resuming it if an earlier attempt left a checkpoint."""
        folder = Path(cfg.logdir)
        previous = sorted(folder.glob("*/" + CHECKPOINT_NAME)) if folder.exists() else []
        if previous:
            run_dir = previous[-1].parent
            ckpt, _ = load_pathnet_checkpoint(run_dir)
            if ckpt["state"]["frames"] >= cfg.total_frames:
                return run_dir  # trained to the end; only its cell was not written
            return train_pathnet(cfg, resume=run_dir)
        if folder.exists():
            shutil.rmtree(folder)  # an attempt that died before its first checkpoint
        return train_pathnet(cfg)

    def _load(self, cell: Cell) -> dict:
        return json.loads(cell.path(self.root).read_text())

    def _finish(self, cell: Cell) -> dict:
        cfg = self._run_config(cell)
        run_dir = self._train(cfg)
        result: dict[str, Any] = {**asdict(cell), "run_dir": str(run_dir),
                                  "curve": learning_curve(run_dir, self.cfg.frames, self.cfg.bins).tolist()}
        result["auc"] = area(np.array(result["curve"]))
        ckpt, model = load_pathnet_checkpoint(run_dir)
        result["task"] = ckpt["task"]
        seed = 50_000 + cell.seed
        if cell.source is None:
            result["own_score"] = source_score(run_dir, ckpt["task"], cell.target, self.cfg.score_episodes, seed)
        else:
            source = self._load(Cell("fixed" if cell.kind == "finetune" else "evolved", cell.source, cell.seed))
            result["source_before"] = source["own_score"]
            result["source_after"] = source_score(run_dir, source["task"], cell.source, self.cfg.score_episodes, seed)
            result["source_identical"] = source_weights_identical(Path(source["run_dir"]), run_dir, source["task"])
        path = cell.path(self.root)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, indent=1) + "\n")
        tmp.replace(path)  # a cell is on disk whole, or not at all
        return result

    def run(self, progress: bool = True) -> dict:
        self._check_settings()
        cells = plan(self.cfg)
        done = sum(c.path(self.root).exists() for c in cells)
        bar = tqdm(total=len(cells), initial=done, unit="run", desc="transfer matrix", disable=not progress,
                   dynamic_ncols=True)
        try:
            for cell in cells:
                if cell.path(self.root).exists():
                    continue
                bar.set_postfix_str(cell.key)
                self._finish(cell)
                bar.update(1)
        finally:
            bar.close()
        return self.write_outputs()

    # -- outputs -------------------------------------------------------------------------------
    def rows(self) -> list[dict]:
        """One row per method, ordered pair and seed: its score against scratch on the same target."""
        rows = []
        seeds = range(1, self.cfg.seeds + 1)
        for seed in seeds:
            for source, target in self.cfg.ordered_pairs:
                scratch = self._load(Cell("fixed", target, seed))
                for method in self.cfg.methods:
                    if method == "scratch":
                        cell = scratch
                    else:
                        cell = self._load(Cell(method, target, seed, source))
                    base = scratch["auc"]
                    score = cell["auc"] / base if base and base > 0 and math.isfinite(base) else math.nan
                    rows.append({"method": method, "source": source, "target": target, "seed": seed,
                                 "score": score, "auc": cell["auc"], "scratch_auc": base,
                                 "source_before": cell.get("source_before"),
                                 "source_after": cell.get("source_after"),
                                 "forgetting": (cell["source_before"] - cell["source_after"])
                                 if "source_after" in cell else None,
                                 "source_identical": cell.get("source_identical"),
                                 "frames": self.cfg.frames, "run_dir": cell["run_dir"]})
        return rows

    def write_outputs(self) -> dict:
        from agents.pictures import learning_curves, transfer_heatmap

        rows = self.rows()
        with (self.root / "matrix.csv").open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        summary = summarise(rows, self.cfg.methods)
        (self.root / "matrix.json").write_text(json.dumps(
            {"games": list(self.cfg.games), "methods": list(self.cfg.methods), "frames": self.cfg.frames,
             "seeds": self.cfg.seeds, "bins": self.cfg.bins, "summary": summary, "rows": rows},
            indent=1, default=_json_default) + "\n")
        for method in self.cfg.methods:
            if method == "scratch":
                continue  # scratch is the denominator: 1 everywhere
            pairs = {tuple(k.split(" -> ")): v for k, v in summary[method]["pairs"].items()}
            fig = transfer_heatmap(list(self.cfg.games), pairs, f"{method}: transfer score\nmean of "
                                   f"{self.cfg.seeds} seed(s), {self.cfg.frames:,} frames per run")
            fig.savefig(self.root / f"heatmap_{method}.png", dpi=120)
            fig.clf()
        curves_dir = self.root / "curves"
        curves_dir.mkdir(exist_ok=True)
        x = (np.arange(self.cfg.bins) + 0.5) / self.cfg.bins * self.cfg.frames
        for source, target in self.cfg.ordered_pairs:
            curves = {}
            for method in self.cfg.methods:
                runs = []
                for seed in range(1, self.cfg.seeds + 1):
                    cell = Cell("fixed", target, seed) if method == "scratch" else \
                        Cell(method, target, seed, source)
                    runs.append((x, np.array(self._load(cell)["curve"], dtype=float)))
                curves[method] = runs
            fig = learning_curves(curves, f"{source} -> {target}")
            name = f"{source}__{target}".replace("/", "-")
            fig.savefig(curves_dir / f"{name}.png", dpi=110)
            fig.clf()
        return summary


def summarise(rows: list[dict], methods: tuple[str, ...]) -> dict:
    """Per method: the mean score of each pair over seeds, the overall mean, and forgetting."""
    out: dict[str, dict] = {}
    for method in methods:
        mine = [r for r in rows if r["method"] == method]
        pairs: dict[str, list[float]] = {}
        for r in mine:
            pairs.setdefault(f"{r['source']} -> {r['target']}", []).append(r["score"])
        forgetting = [r["forgetting"] for r in mine if r["forgetting"] is not None]
        identical = [r["source_identical"] for r in mine if r["source_identical"] is not None]
        out[method] = {"pairs": {k: float(np.nanmean(v)) if np.isfinite(v).any() else math.nan
                                 for k, v in pairs.items()},
                       "per_seed": {k: v for k, v in pairs.items()},
                       "mean_score": float(np.nanmean([r["score"] for r in mine])) if mine else math.nan,
                       "mean_forgetting": float(np.mean(forgetting)) if forgetting else None,
                       "source_identical": all(identical) if identical else None}
    return out


def summary_table(summary: dict, games: tuple[str, ...]) -> str:
    """The terminal summary: one line per method with its mean score and forgetting, then its matrix."""
    lines = []
    width = max(len(g) for g in games) + 2
    for method, data in summary.items():
        forget = data["mean_forgetting"]
        extra = "" if forget is None else f", mean forgetting of the source {forget:+.2f}"
        if data["source_identical"] is not None:
            extra += f", source weights bit-identical: {'yes' if data['source_identical'] else 'no'}"
        lines.append(f"{method}: mean transfer score {data['mean_score']:.3f}{extra}")
        if method == "scratch":
            continue
        lines.append(" " * width + "".join(f"{g[-width + 1:]:>{width}}" for g in games) + "   (target)")
        for source in games:
            cells = []
            for target in games:
                value = data["pairs"].get(f"{source} -> {target}")
                cells.append(f"{'—' if value is None or not math.isfinite(value) else f'{value:.2f}':>{width}}")
            lines.append(f"{source[-width + 1:]:<{width}}" + "".join(cells))
    return "\n".join(lines)


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
