"""Transfer matrices: how much learning game A first speeds up learning game B, with seeds,
intervals and the controls that make the number mean something.

Runs. For every game and seed two runs are trained once and serve twice:

- `fixed`: one fixed maximal pathway (modules 0..N-1 in every layer), no evolution. On the target it
  is the *independent learner*; as a source it is what fine-tuning starts from.
- `evolved`: PathNet evolving pathways on the game. On the target it is *PathNet from scratch*
  (evolution without a frozen source); as a source, its best pathway is what PathNet transfer freezes.

For every ordered pair A -> B (the diagonal A -> A included unless `diagonal=False`: transfer from a
game to itself must come out clearly positive, or the instrument is broken) and every seed, the
transfer methods train on B with the same frame budget: `finetune` (the fixed run of A, every weight
trained on), `ewc` and `wpl` (fine-tuning with a quadratic anchor on A's weights: agents/forgetting.py)
`pathnet` (A's best pathway frozen, every other module re-initialised, a new population evolved)
and `gumbel` (the same, with a Gumbel-softmax pathway search instead of evolution: agents/gumbel.py).
Every transfer gives the target task fresh heads (input stem, fc layer, policy and value): only the
module grid carries knowledge. `finetune_stem` and `pathnet_stem` are fine-tuning and PathNet whose
target task starts with a copy of the source task's stem and fc layer, so what that copy buys is
measured as an arm of its own; they have cells only on pairs whose games' observations have one shape
(elsewhere there is no stem to copy: matrix.json's `no_stem_to_copy` lists those pairs).
Cells also give the size of the pathways the method's runs end with (modules, FLOPs, parameters). A uniform random policy is played on every game (`random_episodes` episodes).

Score. Performance is the area under the learning curve (AUC: the mean unclipped return per episode
over training, binned by frames), the paper's measure. Baselined by the random policy's mean return R,

    score = (AUC_method - R) / (AUC_control - R),

which is the paper's ratio of areas when R = 0 and is defined for games with negative returns too.
Each cell is scored against both controls, the independent learner and PathNet from scratch, so
"evolution helps" and "transfer helps" can be told apart. Over K seeds (paired: a method's run and
its control's share the seed) the cell holds the ratio of the mean areas and its 95% Fieller
interval (agents/common/stats.py: a percentile bootstrap under-covers at 3-5 seeds); where the
control did not beat random (its margin over R has a t-interval that reaches 0) the score is
undefined and the cell's `note` says so. The matrix summary is the interquartile mean (IQM) and the
mean over the off-diagonal cells' scores, with a jackknife-t interval that leaves out one seed of the
whole matrix at a time, controls included (their seeds are estimates too).

Forgetting: the source policy is scored on A (same episodes, same seeds) before and after the target
training, in A's units and normalised by A's learned margin over random; PathNet must keep it exactly,
and whether its weights are bit-identical is recorded too.

Every finished run is stored as a JSON cell under `DIR/cells/` when it finishes, so an interrupted
matrix resumes where it stopped (finished runs are skipped per seed); an unfinished run resumes from
its checkpoint.
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from pathlib import Path
from functools import lru_cache, partial
from typing import Any

import numpy as np
import torch
from torch import nn
from pathzero.agents.common.backend import Job, check_backend
from pathzero.agents.common.checkpoint import CHECKPOINT_NAME
from pathzero.agents.common.runlog import file_name, read_episodes
from pathzero.agents.common.runner import game_shapes
from pathzero.agents.common.stats import Estimate, mean_interval, normalised_ratio, ratio_summary
from pathzero.agents.experiment import Experiment, ExperimentRunConfig, check_folder_settings
from pathzero.agents.experiment import method as find_method
from pathzero.agents.experiment import method_of_kind, methods, train_or_resume
from pathzero.agents.pathnet import load_pathnet_checkpoint
from pathzero.agents.common.replay import play
from pathzero.envs import UsageError, resolve_game
from pathzero.nets import DualOutput
from pathzero.nets.pathnet import PathNet, PathwayPolicy, pathway_modules



def matrix_methods() -> tuple[str, ...]:
    """The methods a matrix can compare (agents/experiment.py registers them)."""
    return tuple(m.name for m in methods(matrix=True))


DEFAULT_METHODS = tuple(m.name for m in methods(matrix=True) if m.default)
# Settings that change what a run trains or records; a matrix folder refuses a rerun that differs in them.
RUN_SETTINGS = ("frames", "base", "score_episodes", "random_episodes", "bins")


@dataclass(frozen=True)
class TransferConfig:
    """A transfer matrix: games, methods, budget, seeds, and the options of every run in it."""

    games: tuple[str, ...] = ("MinAtar/Breakout", "MinAtar/SpaceInvaders", "MinAtar/Asterix")
    """Games of the matrix; every ordered pair is a cell (the diagonal too, unless diagonal=False)."""
    methods: tuple[str, ...] = DEFAULT_METHODS
    """Methods (agents/experiment.py): the controls independent (always trained: every score's baseline)
    and pathnet_scratch, and the transfer methods finetune, ewc, wpl (fine-tuning with a penalty), pathnet,
    gumbel, and finetune_stem and pathnet_stem (their target task's stem and fc layer copied from the source's;
    only on pairs of one observation shape)."""
    frames: int = 500_000
    """Frames of every run (source and target alike)."""
    seeds: int = 3
    """Seeds per cell (1, 2, ... K); raise it later to add seeds to a finished matrix."""
    logdir: str = "runs/transfer"
    """The matrix folder: runs, cells, matrix.csv/json and figures; rerun to resume."""
    base: ExperimentRunConfig = field(default_factory=lambda: ExperimentRunConfig(game="MinAtar/Breakout"))
    """Every other option of the runs (workers, envs, learning rate, grid, population, ...)."""
    score_episodes: int = 10
    """Episodes that score the source policy on the source game, before and after target training."""
    random_episodes: int = 100
    """Episodes of a uniform random policy on every game: the floor of the score."""
    bins: int = 20
    """Points of the learning curves (and of the area under them)."""
    pairs: tuple[tuple[str, str], ...] | None = None
    """Only these (source, target) pairs (default: every ordered pair of the games)."""
    diagonal: bool = True
    """Include the source = target cells (the sanity check) when pairs are not given."""

    @property
    def ordered_pairs(self) -> list[tuple[str, str]]:
        if self.pairs is not None:
            return [tuple(p) for p in self.pairs]
        return [(a, b) for a in self.games for b in self.games if a != b or self.diagonal]

    def runs_on(self, method: str, source: str, target: str) -> bool:
        """Whether `method` has a cell on source -> target: a `_stem` method only where the two games'
        observations have one shape (elsewhere there is no stem to copy, and its runs would repeat its plain
        method's)."""
        return not find_method(method).settings.get("copy_stem", False) or observation_shape(source) == observation_shape(target)

    def method_pairs(self, method: str) -> list[tuple[str, str]]:
        """The (source, target) pairs `method` has cells on."""
        return [(a, b) for a, b in self.ordered_pairs if self.runs_on(method, a, b)]

    def pairs_without_runs(self, method: str) -> list[tuple[str, str]]:
        """The pairs of the matrix `method` has no cell on (a `_stem` method's pairs of two shapes)."""
        return [(a, b) for a, b in self.ordered_pairs if not self.runs_on(method, a, b)]

    @property
    def transfers(self) -> tuple[str, ...]:
        return tuple(m.name for m in methods(matrix=True) if m.name in self.methods and not m.is_control)

    @property
    def controls(self) -> tuple[str, ...]:
        return tuple(m.name for m in methods(matrix=True) if m.name in self.methods and m.is_control)

    def __post_init__(self) -> None:
        unknown = [m for m in self.methods if m not in matrix_methods()]
        if unknown:
            raise UsageError(f"unknown method {unknown[0]!r}; choose from {', '.join(matrix_methods())}")
        if "independent" not in self.methods:
            raise UsageError("the methods must include independent: it is the baseline of every score")
        if set(self.methods) == {"independent"}:
            raise UsageError(f"independent alone scores nothing: it is the baseline; add a method to score against "
                             f"it ({', '.join(m for m in matrix_methods() if m != 'independent')})")
        for name in ("frames", "seeds", "score_episodes", "random_episodes", "bins"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if not self.games:
            raise UsageError("--games needs at least one game")
        if len(set(self.games)) != len(self.games):
            raise UsageError(f"--games lists a game twice: {list(self.games)}")
        for game in self.games:
            resolve_game(game)  # an unknown game fails here, before anything trains
        for source, target in self.pairs or ():
            if source not in self.games or target not in self.games:
                raise UsageError(f"pair {source}->{target}: both games must be among --games")
        if not self.ordered_pairs:
            raise UsageError(f"no cell to compute: {len(self.games)} game(s) without the diagonal; give two or "
                             "more games, or drop --no-diagonal")
        for method in self.transfers:
            if not self.method_pairs(method):
                shapes = ", ".join(f"{g} {observation_shape(g)}" for g in dict.fromkeys(g for p in self.ordered_pairs for g in p))
                raise UsageError(f"{method} copies the source's stem, but no pair here has two games with one observation "
                                 f"shape ({shapes}); pair games of one shape (a game with itself or its variants), "
                                 f"or drop {method}")


@dataclass(frozen=True)
class Cell:
    """One run of the matrix (or the random policy's episodes on a game, kind `random`)."""

    kind: str  # random, a control's runs (fixed, evolved: per game) or a transfer method's name (Method.kind)
    target: str
    seed: int
    source: str | None = None

    @property
    def key(self) -> str:
        pair = self.target if self.source is None else f"{self.source}->{self.target}"
        return file_name(f"{self.kind}__{pair}__{self.seed}")

    def path(self, root: Path) -> Path:
        return root / "cells" / f"{self.key}.json"


def run_cell(method: str, source: str | None, target: str, seed: int) -> Cell:
    """The run that holds `method`'s learning curve on `target` (from `source`) for one seed."""
    m = find_method(method)
    if m.is_control:
        return Cell(m.kind, target, seed)
    return Cell(m.kind, target, seed, source)


def source_cell(cell: Cell) -> Cell:
    """The run a transfer run starts from: its method's source control's run on the source game."""
    return Cell(find_method(method_of_kind(cell.kind).source).kind, cell.source, cell.seed)


def plan(cfg: TransferConfig) -> list[Cell]:
    """The runs, in an order where every source run comes before the transfers that need it."""
    pairs = cfg.ordered_pairs
    sources, targets = {a for a, _ in pairs}, {b for _, b in pairs}
    cells = [Cell("random", game, 0) for game in cfg.games if game in sources | targets]
    needed = {find_method(m).source for m in cfg.transfers}  # the controls whose source runs a transfer starts from
    for seed in range(1, cfg.seeds + 1):
        for game in cfg.games:
            for control in (m for m in methods(matrix=True) if m.is_control):
                if (game in targets and control.name in cfg.methods) or (game in sources and control.name in needed):
                    cells.append(Cell(control.kind, game, seed))
        for source, target in pairs:
            cells += [Cell(method, target, seed, source) for method in cfg.transfers if cfg.runs_on(method, source, target)]
    return cells


def pathway_size(run_dir: Path, loaded: tuple | None = None) -> dict:
    """The pathway a run ends with (its task's best): distinct modules, and their FLOPs and parameters
    per observation. `loaded`: the run's (checkpoint, network), if already loaded."""
    ckpt, net = loaded or load_pathnet_checkpoint(run_dir)
    task = ckpt["task"]
    return net.pathway_costs(net.best[task], net.tasks[task]["obs_shape"])


def task_parameters(games: list[str], base: ExperimentRunConfig) -> dict[str, dict[str, int]]:
    """Per game: the parameters of what its task owns and never shares (input stem, fc layer, policy and
    value heads: `own`, and each part), and of the largest pathway it can use in the grid. A transfer method
    shares only the grid (and, for a `_stem` method, starts from copies of the stem and fc layer): this says
    how much of the network that is."""
    out = {}
    for game in games:
        shape, n_actions = game_shapes(resolve_game(game))
        net = PathNet(PathNet.grid_kind_for(shape), base.grid)
        net.add_task("target", shape, n_actions)
        out[game] = net.task_params("target")
    return out


@lru_cache(maxsize=None)
def observation_shape(game: str) -> tuple[int, ...]:
    """The shape of a game's observations, as the agents see them."""
    return game_shapes(resolve_game(game))[0]


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


class UniformPolicy(nn.Module):
    """Every action equally likely: the random player whose mean return is the floor of the score."""

    def __init__(self, n_actions: int) -> None:
        super().__init__()
        self.n_actions = n_actions

    def forward(self, obs: torch.Tensor) -> DualOutput:
        return DualOutput(torch.zeros(obs.shape[0], self.n_actions), torch.zeros(obs.shape[0]))


def random_returns(game: str, episodes: int, seed: int) -> list[float]:
    """Unclipped returns of a uniform random policy on `game`, under the same protocol as training."""
    spec = resolve_game(game)
    _, n_actions = game_shapes(spec)
    return [r.ret for r in play(UniformPolicy(n_actions), spec, episodes=episodes, seed=seed)]


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


class TransferMatrix(Experiment):
    """Runs (or resumes) the cells of a matrix and writes its outputs."""

    desc = "transfer matrix"

    def __init__(self, cfg: TransferConfig) -> None:
        super().__init__(Path(cfg.logdir), cfg.base)
        self.cfg = cfg
        self._facts: dict[Path, dict | None] = {}  # run folder -> what its checkpoint says (see _checkpoint_facts)

    @classmethod
    def from_folder(cls, root: str | Path, workers: int = 1) -> "TransferMatrix":
        """The matrix a `pathzero transfer` folder was made with (its transfer.json), its runs on `workers`
        workers: to score, report or grow it."""
        from pathzero.agents.common.settings import saved_fields

        root = Path(root)
        if not (root / "transfer.json").is_file():
            raise UsageError(f"{root} holds no transfer.json; give a folder written by pathzero transfer")
        s = json.loads((root / "transfer.json").read_text())
        base = ExperimentRunConfig(**{**saved_fields(ExperimentRunConfig, s["base"]), "game": s["games"][0],
                                      "workers": workers, "progress": False})
        return cls(TransferConfig(
            games=tuple(s["games"]), methods=tuple(s["methods"]), frames=s["frames"], seeds=s["seeds"],
            logdir=str(root), base=base, score_episodes=s["score_episodes"], random_episodes=s["random_episodes"],
            bins=s["bins"], pairs=tuple(map(tuple, s["pairs"])) if s.get("pairs") else None,
            diagonal=s.get("diagonal", True)))

    # -- the settings file: a rerun must ask for runs trained the same way ------------------------
    def _settings(self) -> dict:
        data = asdict(self.cfg)
        data["games"], data["methods"] = list(self.cfg.games), list(self.cfg.methods)
        data["pairs"] = [list(p) for p in self.cfg.pairs] if self.cfg.pairs else None
        data["base"] = _run_options(data["base"])
        return data

    def _old_transfer_cells(self) -> list[dict]:
        """Finished transfer runs made before runs recorded whether they copied the stem."""
        out = []
        for path in sorted((self.root / "cells").glob("*.json")):
            cell = json.loads(path.read_text())
            if cell.get("kind") in self._transfer_kinds() and "copy_stem" not in cell:
                out.append(cell)
        return out

    @staticmethod
    def _transfer_kinds() -> set[str]:
        return {m.kind for m in methods(matrix=True) if not m.is_control}

    def check_settings(self) -> None:
        """Refuses to add runs to a folder whose runs were made otherwise; writes transfer.json."""
        check_folder_settings(self.root / "transfer.json", self._settings(), RUN_SETTINGS, "matrix",
                              normalise=lambda s: {**s, "base": comparable_base(s.get("base") or {})},
                              check=self._refuse_copied_stems)

    def _refuse_copied_stems(self) -> None:
        copied = [f"{c['source']}->{c['target']}" for c in self._old_transfer_cells()
                  if self._copied_before(c["source"], c["target"])]
        if copied:
            raise UsageError(f"{self.root} was made when a target task copied its source's stem on pairs with "
                             f"one observation shape ({copied[0]}); new runs start it fresh, so they cannot join "
                             "its cells: give another --logdir (python -m benchmarks transfer still reads this one)")

    # -- runs ----------------------------------------------------------------------------------
    def run_config(self, cell: Cell):
        """The run's config: its method's agent's config (agents/experiment.py), with the matrix's options."""
        base = self.cfg.base
        source = None
        if cell.source is not None:
            source = str(self._run_dir(self._source(source_cell(cell))))
        values = {"game": cell.target, "total_frames": self.cfg.frames,
                  "seed": base.seed * 1000 + cell.seed, "logdir": str(self.root / "runs" / cell.key),
                  "transfer_from": source, "copy_stem": self._copies_stem(cell),
                  "progress": False, "replay_episodes": 0, "eval_every": 0}
        return method_of_kind(cell.kind).config(base, values, from_source=cell.source is not None)

    def _copies_stem(self, cell: Cell) -> bool:
        """Whether the run's new task starts with a copy of the source task's stem and fc layer: a `_stem`
        method on a pair whose games' observations have one shape."""
        if cell.source is None or not method_of_kind(cell.kind).settings.get("copy_stem", False):
            return False
        return observation_shape(cell.source) == observation_shape(cell.target)

    def _copied_before(self, source: str | None, target: str) -> bool:
        """Whether a transfer run made before runs recorded `copy_stem` copied the source task's stem and fc
        layer: pathzero did then whenever the two games' observations had one shape."""
        return source is not None and observation_shape(source) == observation_shape(target)

    def _train(self, cell: Cell) -> Path:
        return train_or_resume(self.run_config(cell), method_of_kind(cell.kind).agent)

    def _load(self, cell: Cell) -> dict:
        return json.loads(cell.path(self.root).read_text())

    def _source(self, cell: Cell) -> dict:
        """A finished source run's cell, its run trained again if its folder is gone (a matrix whose
        cells were kept, as in a repository, but not its run folders). Transfer cells finished before
        keep their results: each records the source scores it was measured against."""
        result = self._load(cell)
        if not (self._run_dir(result) / CHECKPOINT_NAME).is_file():
            result = self._finish(cell)
        return result

    def _run_dir(self, result: dict) -> Path:
        """A cell's run folder; cells store it relative to the matrix folder, which may move."""
        return self.root / result["run_dir"]

    def _finish(self, cell: Cell) -> dict:
        if cell.kind == "random":
            returns = random_returns(cell.target, self.cfg.random_episodes, seed=90_000)
            result: dict[str, Any] = {**asdict(cell), "mean": float(np.mean(returns)), "returns": returns,
                                      "episodes": len(returns)}
        else:
            result = self._finish_run(cell)
        return self.store(cell.key, result)

    def _finish_run(self, cell: Cell) -> dict:
        run_dir = self._train(cell)
        result: dict[str, Any] = {**asdict(cell), "run_dir": str(run_dir.relative_to(self.root)),
                                  "curve": learning_curve(run_dir, self.cfg.frames, self.cfg.bins).tolist()}
        result["auc"] = area(np.array(result["curve"]))
        ckpt, _ = load_pathnet_checkpoint(run_dir)
        result["task"] = ckpt["task"]
        result["wall_seconds"] = float(ckpt["state"]["wall_seconds"])
        result["fps"] = float(ckpt["state"]["fps"])
        result["pathway"] = pathway_size(run_dir)
        result["copy_stem"] = bool(ckpt["config"].get("copy_stem", False))
        seed = 50_000 + cell.seed
        if cell.source is None:
            result["own_score"] = source_score(run_dir, ckpt["task"], cell.target, self.cfg.score_episodes, seed)
        else:
            source = self._source(source_cell(cell))
            result["source_before"] = source["own_score"]
            result["source_after"] = source_score(run_dir, source["task"], cell.source, self.cfg.score_episodes, seed)
            result["source_identical"] = source_weights_identical(self._run_dir(source), run_dir, source["task"])
        return result

    def jobs(self) -> list[Job]:
        """Every run of the matrix as a job (finished ones marked done), each transfer run needing its
        source run. A finished source run whose folder is gone (a matrix whose cells were kept, as in a
        repository, but not its run folders) is trained again first if an unfinished run needs it."""
        jobs, cells = [], {cell.key: cell for cell in plan(self.cfg)}
        for cell in cells.values():
            needs = () if cell.source is None else (source_cell(cell).key,)
            jobs.append(Job(cell.key, partial(self._finish, cell), needs, cell.path(self.root).exists()))
        by_key = {job.key: job for job in jobs}
        for job in jobs:
            for key in job.needs if not job.done else ():
                source = by_key[key]
                if source.done and not (self._run_dir(self._load(cells[key])) / CHECKPOINT_NAME).is_file():
                    source.done = False
        return jobs

    # -- outputs -------------------------------------------------------------------------------
    def _seeds(self, cell: Cell) -> list[dict]:
        return [self._load(replace(cell, seed=seed)) for seed in range(1, self.cfg.seeds + 1)]

    def random_floor(self, game: str) -> dict:
        return self._load(Cell("random", game, 0))

    def cells(self) -> list[dict]:
        """Every (source, target, method, control) of the matrix over its seeds, plus PathNet from
        scratch against the independent learner per target (source None)."""
        out = []
        for source, target in self.cfg.ordered_pairs:
            for method in self.cfg.transfers:
                for control in self.cfg.controls if self.cfg.runs_on(method, source, target) else ():
                    out.append(self._score(source, target, method, control))
        for target in dict.fromkeys(b for _, b in self.cfg.ordered_pairs):
            if "pathnet_scratch" in self.cfg.methods:
                out.append(self._score(None, target, "pathnet_scratch", "independent"))
        return out

    def _score(self, source: str | None, target: str, method: str, control: str) -> dict:
        runs = self._seeds(run_cell(method, source, target, 1))
        controls = self._seeds(run_cell(control, None, target, 1))
        auc = np.array([r["auc"] for r in runs])
        auc_control = np.array([r["auc"] for r in controls])
        floor = self.random_floor(target)["mean"]
        score, margin = normalised_ratio(auc, auc_control, floor)
        note = None
        if not np.isfinite(auc).all() or not np.isfinite(auc_control).all():
            note = "a run ended no episode, so it has no learning curve; no score"
        elif margin.value <= 0 or (margin.low is not None and margin.low <= 0):
            interval = "" if margin.low is None else f", interval [{margin.low:+.3g}, {margin.high:+.3g}]"
            note = (f"{control} did not beat random play on {target}: its AUC {auc_control.mean():.3g} vs random "
                    f"{floor:.3g} (margin {margin.value:+.3g}{interval}); no score")
        cell: dict[str, Any] = {
            "source": source, "target": target, "method": method, "control": control,
            "diagonal": source == target,
            "score": None if note else score.value,
            "ci_low": None if note else score.low, "ci_high": None if note else score.high,
            "excludes_one": False if note else score.excludes(1.0),
            "seeds": len(runs), "auc": float(auc.mean()), "auc_random": floor,
            "auc_control": float(auc_control.mean()),
            "auc_seeds": auc.tolist(), "auc_control_seeds": auc_control.tolist(),
            "forgetting": None, "forgetting_ci_low": None, "forgetting_ci_high": None, "forgetting_raw": None,
            "source_before": None, "source_after": None, "source_identical": None,
            "note": note, "frames": self.cfg.frames,
            "copy_stem": any(r["copy_stem"] if "copy_stem" in r else self._copied_before(source, target) for r in runs),
            "pathway_modules": None, "pathway_flops": None, "pathway_params": None,  # the method's final pathways
            "wall_seconds": None, "fps": None}  # a run's mean wall time (start-up included) and frames/s
        if source is not None:
            cell.update(self._forgetting(runs, source))
        cell.update({k: None if v is None else float(np.mean(v)) for k, v in self._run_costs(runs).items()})
        return cell

    def _run_costs(self, runs: list[dict]) -> dict[str, list[float] | None]:
        """Per run of `runs`: its pathway's modules, FLOPs and parameters, its wall seconds and frames/s
        (each None unless every run has it)."""
        facts = [r if "pathway" in r and "wall_seconds" in r else self._checkpoint_facts(r) for r in runs]
        out: dict[str, list[float] | None] = {}
        for key in ("modules", "flops", "params"):
            out[f"pathway_{key}"] = [float(f["pathway"][key]) for f in facts] if all(facts) else None
        for key in ("wall_seconds", "fps"):
            out[key] = [float(f[key]) for f in facts] if all(facts) else None
        return out

    def _checkpoint_facts(self, result: dict) -> dict | None:
        """A run's pathway size, wall seconds and frames/s read from its checkpoint (once per run), for
        cells of versions that did not store them; None when the run folder is gone (a fresh clone)."""
        run_dir = self._run_dir(result)
        if run_dir not in self._facts:
            facts = None
            if (run_dir / CHECKPOINT_NAME).is_file():
                ckpt, net = load_pathnet_checkpoint(run_dir)
                facts = {"pathway": pathway_size(run_dir, (ckpt, net)), "wall_seconds": float(ckpt["state"]["wall_seconds"]),
                         "fps": float(ckpt["state"]["fps"])}
            self._facts[run_dir] = facts
        return self._facts[run_dir]

    def costs(self) -> dict[str, dict]:
        """Per method: the pathways its runs end with (modules, FLOPs and parameters per observation)
        and a run's wall time and frames/s, each the mean over every run of the method (all its cells and
        seeds) with a 95% bootstrap interval over those runs. Wall times are comparable only between
        runs made on the same machine under the same load."""
        out: dict[str, dict] = {}
        targets = list(dict.fromkeys(b for _, b in self.cfg.ordered_pairs))
        per_run = {}
        for method in (*self.cfg.controls, *self.cfg.transfers):
            pairs = [(None, t) for t in targets] if find_method(method).is_control else self.cfg.method_pairs(method)
            runs = [r for source, target in pairs for r in self._seeds(run_cell(method, source, target, 1))]
            per_run[method] = self._run_costs(runs)  # the (pair, seed) order of the pairs' list, seed fastest
            out[method] = {"runs": len(runs), **{key: None if values is None else _estimate(mean_interval(np.array(values)))
                                                 for key, values in per_run[method].items()}}
            walls = per_run[method]["wall_seconds"]  # a run paused or slowed by other work pulls the mean, not the median
            out[method]["wall_seconds_median"] = None if walls is None else float(np.median(walls))
        for method in self.cfg.transfers if "pathnet" in self.cfg.transfers else ():
            # paired by pair and seed: each run against PathNet's run on the same pair, from the same source run
            theirs_runs = per_run["pathnet"]
            if self.cfg.pairs_without_runs(method):  # PathNet's runs on this method's pairs only
                theirs_runs = self._run_costs([r for source, target in self.cfg.method_pairs(method)
                                               for r in self._seeds(run_cell("pathnet", source, target, 1))])
            for key in ("pathway_flops", "wall_seconds"):
                mine, theirs = per_run[method][key], theirs_runs[key]
                ratio = None if mine is None or theirs is None else normalised_ratio(np.array(mine), np.array(theirs), 0.0)[0]
                out[method][f"{key}_vs_pathnet"] = None if ratio is None else _estimate(ratio)
        return out

    def _forgetting(self, runs: list[dict], source: str) -> dict:
        """The source's score before and after target training: raw, and over the source's margin on random."""
        before = np.array([r["source_before"] for r in runs])
        after = np.array([r["source_after"] for r in runs])
        floor = self.random_floor(source)["mean"]
        out = {"forgetting_raw": float((before - after).mean()), "source_before": float(before.mean()),
               "source_after": float(after.mean()),
               "source_identical": all(r["source_identical"] for r in runs)}
        if before.mean() - floor > 0:  # the source was learned: forgetting as a share of what was learned
            lost, _ = normalised_ratio(before - after + floor, before, floor)
            out.update(forgetting=lost.value, forgetting_ci_low=lost.low, forgetting_ci_high=lost.high)
        return out

    def summary(self, cells: list[dict]) -> dict:
        """Per method and control: the IQM and the mean of the cells' scores over the off-diagonal cells
        and over the diagonal (over the targets for PathNet from scratch), with seed-jackknife t
        intervals (stats.ratio_summary); mean forgetting."""
        out: dict[str, dict] = {}
        for method in (*self.cfg.transfers, "pathnet_scratch"):
            for control in self.cfg.controls:
                mine = [c for c in cells if c["method"] == method and c["control"] == control]
                if not mine:
                    continue
                entry: dict[str, Any] = {"method": method, "control": control}
                parts = ((("targets", mine),) if method == "pathnet_scratch" else
                         (("off_diagonal", [c for c in mine if not c["diagonal"]]),
                          ("diagonal", [c for c in mine if c["diagonal"]])))
                for part, chosen in parts:
                    defined = [c for c in chosen if c["score"] is not None]
                    if not defined:
                        entry[part] = None
                        continue
                    # [cells, seeds]: seed i of every cell (its method, control and source runs) is one
                    # replicate of the matrix, left out together by the jackknife
                    runs = np.array([c["auc_seeds"] for c in defined])
                    controls = np.array([c["auc_control_seeds"] for c in defined])
                    floors = np.array([c["auc_random"] for c in defined])
                    entry[part] = {"cells": len(defined), "undefined": len(chosen) - len(defined),
                                   "iqm": _estimate(ratio_summary(runs, controls, floors)),
                                   "mean": _estimate(ratio_summary(runs, controls, floors, np.mean))}
                forgetting = [c["forgetting"] for c in mine if c["forgetting"] is not None]
                identical = [c["source_identical"] for c in mine if c["source_identical"] is not None]
                entry["mean_forgetting"] = float(np.mean(forgetting)) if forgetting else None
                entry["source_identical"] = all(identical) if identical else None
                out[f"{method} vs {control}"] = entry
        return out

    def write_outputs(self) -> dict:
        """Writes matrix.json, matrix.csv, the heatmaps and the learning curves; returns matrix.json's content."""
        from pathzero.agents.pictures import learning_curves, plt, transfer_heatmap

        cells = self.cells()
        summary = self.summary(cells)
        columns = list(cells[0])
        with (self.root / "matrix.csv").open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            for cell in cells:
                writer.writerow({k: " ".join(f"{x:.6g}" for x in v) if isinstance(v, list) else
                                 ("" if v is None else v) for k, v in cell.items()})
        random = {game: {"mean": self.random_floor(game)["mean"], "episodes": self.random_floor(game)["episodes"],
                         "interval": list(mean_interval(np.array(self.random_floor(game)["returns"]))[1:])}
                  for game in dict.fromkeys(g for pair in self.cfg.ordered_pairs for g in pair)}
        matrix = {"games": list(self.cfg.games), "methods": list(self.cfg.methods), "frames": self.cfg.frames,
                  "seeds": self.cfg.seeds, "bins": self.cfg.bins, "diagonal": self.cfg.diagonal,
                  "copy_stem": {m: bool(find_method(m).settings.get("copy_stem", False)) for m in self.cfg.transfers},
                  "no_stem_to_copy": {m: [f"{a}->{b}" for a, b in self.cfg.pairs_without_runs(m)]
                                      for m in self.cfg.transfers if self.cfg.pairs_without_runs(m)},
                  "random": random, "summary": summary, "costs": self.costs(),
                  "task_parameters": task_parameters(list(dict.fromkeys(b for _, b in self.cfg.ordered_pairs)), self.cfg.base),
                  "cells": cells}
        (self.root / "matrix.json").write_text(json.dumps(matrix, indent=1, default=_json_default) + "\n")
        for method in self.cfg.transfers:
            for control in self.cfg.controls:
                mine = {(c["source"], c["target"]): c for c in cells
                        if c["method"] == method and c["control"] == control}
                fig = transfer_heatmap(list(self.cfg.games), mine,
                                       f"{method} vs {control}: transfer score, mean of {self.cfg.seeds} seed(s) "
                                       f"[95% interval]\n{self.cfg.frames:,} frames per run; "
                                       "bold: interval excludes 1")
                fig.savefig(self.root / f"heatmap_{method}_vs_{control}.png", dpi=120)
                plt.close(fig)
        curves_dir = self.root / "curves"
        curves_dir.mkdir(exist_ok=True)
        x = (np.arange(self.cfg.bins) + 0.5) / self.cfg.bins * self.cfg.frames
        for source, target in self.cfg.ordered_pairs:
            curves = {}
            for method in (*self.cfg.controls, *self.cfg.transfers):
                if self.cfg.runs_on(method, source, target):  # every control does
                    runs = self._seeds(run_cell(method, source, target, 1))
                    curves[method] = [(x, np.array(r["curve"], dtype=float)) for r in runs]
            fig = learning_curves(curves, f"{source} -> {target}", baseline=("random", self.random_floor(target)["mean"]))
            name = file_name(f"{source}__{target}")
            fig.savefig(curves_dir / f"{name}.png", dpi=110)
            plt.close(fig)
        return matrix


# Settings added to pathzero whose default is not what runs did before they existed: a folder started
# earlier, whose settings lack them, ran with these values.
BEFORE_ADDED = {"hard": False}  # the Gumbel search played the relaxed network


def comparable_base(base: dict) -> dict:
    """A base's run settings as two runs of a matrix or sequence compare them: those it lacks at their
    defaults (a setting added to pathzero after the folder was started had its default value there, or
    the value of BEFORE_ADDED), without those each run sets for itself or that do not change what a run
    computes."""
    defaults = {f.name: f.default for f in fields(ExperimentRunConfig) if f.default is not MISSING}
    saved = {k: v for k, v in base.items() if k not in ExperimentRunConfig.RETIRED}
    return _run_options({**defaults, **BEFORE_ADDED, **saved})


def _run_options(base: dict) -> dict:
    """The options of the runs that decide what they learn: not the worker count, the progress bar,
    the game or the folder (each run gets its own), so a matrix may be resumed with other workers or
    moved."""
    return {k: v for k, v in base.items() if k not in ("workers", *MATRIX_SET)}


EVAL_OPTIONS = ("eval_every", "evaluation_episodes", "eval_greedy", "eval_video_every", "target_eval_return",
                "target_eval_hold", "target_eval_from")  # off in matrix runs
# Options of the runs that the matrix sets itself.
MATRIX_SET = ("game", "total_frames", "logdir", "transfer_from", "freeze_source", "evolve", "copy_stem", "replay_episodes",
              "replay_max_steps", "progress", "blocks", "target_return", "penalty", "backend", "ray_address",
              *EVAL_OPTIONS)


def transfer_matrix(games: list[str] | tuple[str, ...], *, methods: list[str] | tuple[str, ...] = DEFAULT_METHODS,
                    pairs: list | None = None, frames: int | None = None, seeds: int | None = None,
                    logdir: str | None = None, diagonal: bool = True, random_episodes: int | None = None,
                    score_episodes: int | None = None, bins: int | None = None, progress: bool = True,
                    backend: str = "local", ray_address: str | None = None, ray_dashboard: bool = False,
                    **run_options) -> dict:
    """Runs (or resumes) a transfer matrix and returns it: {"dir", "summary", "cells", ...} as in
    matrix.json. `run_options`: settings of every run (ExperimentRunConfig's fields: PathNet's and the
    search's), over the preset of
    the first game's family. `backend="ray"` runs each run as a Ray task (on the cluster at
    `ray_address`, or on one started here). What `pathzero transfer` and `pathzero.transfer` both call."""
    from pathzero.agents.common.presets import apply_preset, describe_preset
    from pathzero.agents.common.settings import check_names

    check_names(ExperimentRunConfig, run_options, "the run options")
    check_backend(backend)
    fixed = sorted(set(run_options) & set(MATRIX_SET))
    if fixed:
        raise UsageError(f"{fixed[0]} is set by the matrix for each run; give frames=, logdir= and the methods "
                         "instead")
    games = tuple(games)
    if not games:
        raise UsageError("give at least one game")
    spec = resolve_game(games[0])  # the family of the first game sets the preset of every run
    base = ExperimentRunConfig(**{**apply_preset(ExperimentRunConfig, spec, run_options), "game": games[0]})
    if progress:  # the preset's values the matrix sets for each run itself (--eval-every: matrices do not evaluate) left out
        print(describe_preset(spec, ExperimentRunConfig, {**run_options, **dict.fromkeys(MATRIX_SET)}))
    defaults = {f.name: f.default for f in fields(TransferConfig)}
    chosen = {"frames": frames, "seeds": seeds, "logdir": logdir, "random_episodes": random_episodes,
              "score_episodes": score_episodes, "bins": bins}
    cfg = TransferConfig(games=games, methods=tuple(dict.fromkeys(["independent", *methods])),
                         base=base, diagonal=diagonal, pairs=tuple(map(tuple, pairs)) if pairs else None,
                         **{k: (defaults[k] if v is None else v) for k, v in chosen.items()})
    for method in cfg.transfers if progress else ():
        skipped = [f"{a} -> {b}" for a, b in cfg.pairs_without_runs(method)]
        if skipped:
            print(f"{method}: no runs on {len(skipped)} pair(s) whose games' observations differ in shape (no stem "
                  f"to copy): {', '.join(skipped)}")
    matrix = TransferMatrix(cfg).run(progress=progress, backend=backend, ray_address=ray_address,
                                     ray_dashboard=ray_dashboard)
    if progress:
        print(f"matrix folder: {cfg.logdir} (matrix.csv, matrix.json, heatmap_*_vs_*.png, curves/)")
    return {"dir": Path(cfg.logdir), **matrix}


def _estimate(est: Estimate) -> dict:
    return {"value": est.value, "ci_low": est.low, "ci_high": est.high}


def _interval(value: float | None, low: float | None, high: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" + ("" if low is None else f" [{low:.2f}, {high:.2f}]")


def summary_table(summary: dict, cells: list[dict], games: tuple[str, ...]) -> str:
    """The terminal summary: per method and control, the aggregate scores and forgetting, then the matrix
    of cells with their intervals (* where the interval excludes 1; ? where the score is undefined)."""
    lines = []
    width = max(max(len(g) for g in games) + 2, 20)
    for name, data in summary.items():
        parts = []
        for part in ("off_diagonal", "diagonal", "targets"):
            if data.get(part):
                iqm, mean = data[part]["iqm"], data[part]["mean"]
                parts.append(f"{part.replace('_', '-')} IQM {_interval(iqm['value'], iqm['ci_low'], iqm['ci_high'])}, "
                             f"mean {_interval(mean['value'], mean['ci_low'], mean['ci_high'])}")
        if data["mean_forgetting"] is not None:
            parts.append(f"forgetting {data['mean_forgetting']:+.2f} of the source's margin")
        if data["source_identical"] is not None:
            parts.append(f"source weights bit-identical: {'yes' if data['source_identical'] else 'no'}")
        lines.append(f"{name}: " + ("; ".join(parts) or "no defined score"))
        method, control = data["method"], data["control"]
        mine = {(c["source"], c["target"]): c for c in cells if c["method"] == method and c["control"] == control}
        if method == "pathnet_scratch":
            for (_, target), c in mine.items():
                lines.append(f"  {target}: {_cell_text(c)}")
            continue
        lines.append(" " * width + "".join(f"{g[-width + 1:]:>{width}}" for g in games) + "   (target)")
        for source in games:
            row = [_cell_text(mine[(source, target)]) if (source, target) in mine else "" for target in games]
            lines.append(f"{source[-width + 1:]:<{width}}" + "".join(f"{t:>{width}}" for t in row))
    return "\n".join(lines)


def _cell_text(cell: dict) -> str:
    if cell["score"] is None:
        return "? (see note)"
    mark = "*" if cell["excludes_one"] else ""
    return _interval(cell["score"], cell["ci_low"], cell["ci_high"]) + mark


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
