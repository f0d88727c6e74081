"""PathNet (Fernando et al. 2017): a tournament-selection genetic algorithm evolves pathways
through a module grid (nets/pathnet.py) while A3C trains them.

The story of one worker:

    take a pathway from the shared population table -> train it with the A3C update (Hogwild, in
    shared memory, the runner's learn_step with A3C's loss) until T episodes have ended -> its fitness is their
    mean unclipped return -> compare with a random other pathway of the table; if that one is
    fitter, overwrite this genotype with a mutated copy of it -> next pathway.

Transfer: `transfer_from` a finished PathNet run freezes the source's best pathway (modules and
heads), re-initialises every other module and evolves a fresh population on the new game; with
`freeze_source=False` every weight trains on (fine-tuning, a control). `evolve=False` trains one
fixed maximal pathway (modules 0..N-1 in every layer) without evolution: the independent learner.

The supervised version (the paper's binary classification experiment on scikit-learn's digits) is a
benchmark, not part of the library: benchmarks/digits.py, run from a checkout.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar, NamedTuple

import numpy as np
import torch

from pathzero.agents.common.checkpoint import load_checkpoint
from pathzero.agents.common.config import RESUMABLE, ActorCriticConfig, choices
from pathzero.agents.common.registry import AgentEntry, register
from pathzero.agents.common.returns import rollout_loss
from pathzero.agents.common.runlog import RunLog
from pathzero.agents.common.trained import Agent, refuse_options
from pathzero.agents.common.runner import (DoneMsg, Recipe, RunState, ScalarsMsg, WorkerContext, game_shapes,
                                           learn_step, make_env_batch, parent_gone, train)
from pathzero.agents.forgetting import PENALTIES, penalised
from pathzero.envs import GameSpec, UsageError, resolve_game
from pathzero.nets.dual import VALUE_INITS
from pathzero.nets.pathnet import (GridConfig, PathNet, PathwayPolicy, fixed_pathway, layer_modules, pathway_modules,
                                   random_pathway)

CHECKPOINT_FORMAT = "pathzero-pathnet"


# ----------------------------------------------------------------------------------------------
# Genotypes: mutation and the binary tournament (pure functions, tested alone).

def mutation_rate(cfg: GridConfig) -> float:
    """The paper's per-gene mutation probability, 1 / (N * L)."""
    return 1.0 / (cfg.active * cfg.layers)


def mutate(genotype: np.ndarray, cfg: GridConfig, rng: np.random.Generator, rate: float | None = None) -> np.ndarray:
    """A copy in which each gene, with probability `rate` (default 1/(N*L)), shifts by an integer
    in [-2, 2], clipped to [0, M-1]."""
    rate = mutation_rate(cfg) if rate is None else rate
    genotype = np.asarray(genotype, dtype=np.int64)
    hit = rng.random(genotype.shape) < rate
    shift = rng.integers(-2, 3, size=genotype.shape)
    return np.clip(genotype + hit * shift, 0, cfg.modules - 1)


def tournament(genotypes: np.ndarray, fitness: np.ndarray, a: int, b: int, cfg: GridConfig,
               rng: np.random.Generator) -> tuple[int, int]:
    """Binary tournament between rows a and b: the loser's genotype becomes a mutated copy of the
    winner's, in place. Returns (winner, loser); ties go to a."""
    winner, loser = (a, b) if fitness[a] >= fitness[b] else (b, a)
    genotypes[loser] = mutate(genotypes[winner], cfg, rng)
    return winner, loser


# ----------------------------------------------------------------------------------------------
# The population table shared by the worker processes.

class Trial(NamedTuple):
    """A pathway taken from the table for evaluation: its slot, genotype and the genotype's version."""

    slot: int
    genotype: np.ndarray
    version: int


class Outcome(NamedTuple):
    """What `Population.compete` did with a fitness."""

    recorded: bool  # False: the slot's genotype changed while it was evaluated, so the fitness was dropped
    opponent: int  # the slot it met, or -1 (none evaluated yet, not recorded, or no evolution)
    adopted: bool  # whether the evaluated slot lost and now holds a mutated copy of the opponent


class Population:
    """P genotypes, their latest fitness and a version counter per slot, in shared memory, read and
    written under one lock.

    A fitness of NaN means "not evaluated": a new genotype, or one a tournament has just overwritten.
    Every overwrite bumps the slot's version, and a fitness is recorded only against the version it
    was earned by, so a worker that was evaluating a slot when it was overwritten loses its result
    instead of crediting it to a genotype it never ran. Workers take slots in turn (`claim`), so every
    slot is visited, whatever the number of workers; a slot being evaluated is skipped while others
    are free.
    """

    def __init__(self, size: int, grid: GridConfig, lock) -> None:
        self.grid = grid
        self.genotypes = torch.zeros(size, grid.layers, grid.active, dtype=torch.int64).share_memory_()
        self.fitness = torch.full((size,), math.nan, dtype=torch.float64).share_memory_()
        self.evaluations = torch.zeros(size, dtype=torch.int64).share_memory_()
        self.versions = torch.zeros(size, dtype=torch.int64).share_memory_()
        self.busy = torch.zeros(size, dtype=torch.bool).share_memory_()
        self.cursor = torch.zeros(1, dtype=torch.int64).share_memory_()
        self.lock = lock

    def __len__(self) -> int:
        return self.genotypes.shape[0]

    def claim(self) -> Trial:
        """The next slot in turn that no other worker is evaluating (the next in turn if all are)."""
        with self.lock:
            size = len(self)
            start = int(self.cursor[0])
            free = [s % size for s in range(start, start + size) if not bool(self.busy[s % size])]
            slot = free[0] if free else start % size
            self.busy[slot] = True
            self.cursor[0] = (slot + 1) % size
            return Trial(slot, self.genotypes[slot].numpy().copy(), int(self.versions[slot]))

    def release(self, trial: Trial) -> None:
        """Gives a slot back without a fitness (the run stopped during its evaluation)."""
        with self.lock:
            self.busy[trial.slot] = False

    def compete(self, trial: Trial, fitness: float, rng: np.random.Generator) -> Outcome:
        """Records the trial's fitness (if its genotype is still the one in the table), then meets a
        random other evaluated slot: the loser's genotype becomes a mutated copy of the winner's, not
        evaluated until it has been run."""
        with self.lock:
            if not self._record(trial, fitness):
                return Outcome(False, -1, False)
            slot = trial.slot
            others = [i for i in range(len(self)) if i != slot and not math.isnan(float(self.fitness[i]))]
            if not others:
                return Outcome(True, -1, False)
            other = int(rng.choice(others))
            _, loser = tournament(self.genotypes.numpy(), self.fitness.numpy(), slot, other, self.grid, rng)
            self.fitness[loser] = math.nan  # a fresh mutant, and a new version of the slot
            self.versions[loser] += 1
            return Outcome(True, other, loser == slot)

    def record(self, trial: Trial, fitness: float) -> Outcome:
        """Records a fitness without a tournament (the fixed-pathway controls)."""
        with self.lock:
            return Outcome(self._record(trial, fitness), -1, False)

    def _record(self, trial: Trial, fitness: float) -> bool:
        self.busy[trial.slot] = False
        if int(self.versions[trial.slot]) != trial.version:
            return False
        self.fitness[trial.slot] = fitness
        self.evaluations[trial.slot] += 1
        return True

    def best(self) -> tuple[int, np.ndarray, float]:
        """(slot, genotype, fitness) of the fittest evaluated pathway (slot 0 if none is)."""
        with self.lock:
            fit = self.fitness.numpy()
            scores = np.where(np.isnan(fit), -np.inf, fit)
            slot = int(np.argmax(scores))
            return slot, self.genotypes[slot].numpy().copy(), float(fit[slot])

    def summary(self, frozen: set[tuple[int, int]]) -> dict[str, float]:
        """TensorBoard scalars: best and mean fitness, modules in use, modules shared with frozen pathways."""
        _, best, best_fit = self.best()
        with self.lock:
            fit = self.fitness.numpy()
            in_use = set().union(*(pathway_modules(g) for g in self.genotypes.numpy()))
        evaluated = fit[~np.isnan(fit)]
        return {"pathnet/best_fitness": best_fit,
                "pathnet/mean_fitness": float(evaluated.mean()) if evaluated.size else math.nan,
                "pathnet/modules_in_use": float(len(in_use)),
                "pathnet/best_modules": float(len(pathway_modules(best))),
                "pathnet/best_shared_with_frozen": float(len(pathway_modules(best) & frozen))}

    def state_dict(self) -> dict[str, torch.Tensor]:
        with self.lock:
            return {"genotypes": self.genotypes.clone(), "fitness": self.fitness.clone(),
                    "evaluations": self.evaluations.clone(), "versions": self.versions.clone(),
                    "cursor": self.cursor.clone()}

    def load_state_dict(self, saved: dict[str, torch.Tensor]) -> None:
        if saved["genotypes"].shape != self.genotypes.shape:
            raise UsageError(f"the saved population has shape {tuple(saved['genotypes'].shape)}, this run "
                             f"{tuple(self.genotypes.shape)}; resume with the run's own --population and grid")
        with self.lock:
            self.genotypes.copy_(saved["genotypes"])
            self.fitness.copy_(saved["fitness"])
            self.evaluations.copy_(saved["evaluations"])
            if "versions" in saved:  # checkpoints before version counters have none
                self.versions.copy_(saved["versions"])
                self.cursor.copy_(saved["cursor"])
            self.busy.zero_()  # no evaluation survives a restart


# ----------------------------------------------------------------------------------------------
# RL: PathNet driven by A3C workers.

@dataclass(frozen=True)
class PathwayConfig(ActorCriticConfig):
    """A run on PathNet's module grid (agents/pathnet.py evolves its pathways, agents/gumbel.py searches
    them): the runner's settings, the actor-critic loss, the grid and transfer from an earlier run."""

    layers: int = 4
    """L: layers of the module grid."""
    modules: int = 10
    """M: modules per layer."""
    active: int = 4
    """N: at most this many modules per layer on a pathway."""
    channels: int = 8
    """Channels of each conv module (the paper's 8 kernels)."""
    width: int = 64
    """Width of each MLP module (vector observations such as CartPole)."""
    hidden: int = 256
    """Width of each task's fully connected layer after the grid."""
    value_init: str = field(default="torch", metadata=choices(*VALUE_INITS))
    """Initial weights of each task's value head: torch (PyTorch's default) or orthogonal (gain 1)."""
    combine: str = field(default="sum", metadata=choices("sum", "mean"))
    """How a layer combines its active modules: sum (the paper) or mean."""
    fc_in_grid: bool = False
    """The last of the --layers is fully connected: --modules modules of --hidden units each, as the
    paper's fourth layer, in place of each game's own fc layer. The fc layer is then shared, evolved and
    frozen like the other modules, and a game owns only its input stem and output heads (with it off, the
    default, the grid holds a small share of the network's parameters: see `pathzero transfer`'s output)."""
    transfer_from: str | None = None
    """A finished PathNet run folder (or checkpoint) of another game to transfer from."""
    freeze_source: bool = True
    """With --transfer-from: freeze the source's best pathway and re-initialise every other module
    (PathNet); --no-freeze-source keeps every weight and trains on (fine-tuning)."""
    copy_stem: bool = False
    """With --transfer-from: the new task's input stem and fully connected layer start as copies of the
    latest earlier task's with the same observation shape; off (the default): they start fresh and only
    the module grid carries knowledge over. (The paper has no per-task stem: its first modules read the
    pixels; for games of one observation shape, on is the nearer to it.)"""
    eval_tasks: bool = False
    """Evaluations (--eval-every) also play every earlier task of the network along its best pathway on
    its own game: evals_tasks.csv (frames, task, game, ...) and eval_tasks/<task> in TensorBoard."""
    revisit: bool = False
    """With --transfer-from and --no-freeze-source: when the network already has a task for this
    game (a continual sequence's later cycle), train that task again, its own heads along its own
    pathway, instead of adding a new task."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.copy_stem and self.transfer_from is None:
            raise UsageError("--copy-stem copies a source task's input stem: give --transfer-from RUN too")
        if self.revisit and (self.transfer_from is None or self.freeze_source):
            raise UsageError("--revisit trains an earlier task again: give --transfer-from RUN and --no-freeze-source "
                             "(PathNet's frozen tasks cannot change)")
        if self.hidden < 1:
            raise UsageError(f"--hidden must be >= 1, got {self.hidden}")
        try:
            self.grid
        except ValueError as exc:
            raise UsageError(f"bad grid: {exc}") from None

    @property
    def grid(self) -> GridConfig:
        return GridConfig(layers=self.layers, modules=self.modules, active=self.active, channels=self.channels,
                          width=self.width, hidden=self.hidden, combine=self.combine, value_init=self.value_init,
                          fc_in_grid=self.fc_in_grid)

    @property
    def population_size(self) -> int:
        """Pathways in the shared population table (1: one fixed pathway)."""
        return 1

    @property
    def evolves(self) -> bool:
        """Whether the population's pathways start random and evolve (else: the fixed start pathway)."""
        return False

    @property
    def anchored(self) -> bool:
        """Whether fine-tuning anchors the source's weights (PathNet's --penalty)."""
        return False

    @property
    def penalty_strength(self) -> float:
        """The anchor's strength on the source's weights."""
        return 0.0


@dataclass(frozen=True)
class PathNetConfig(PathwayConfig):
    """A PathNet run: the grid, the tournament that evolves its pathways, and anchors for fine-tuning."""

    RETIRED: ClassVar[frozenset[str]] = frozenset({"blocks"})  # in config.json of runs made before RunConfig

    population: int = 16
    """P: pathways in the population table."""
    eval_episodes: int = 16
    """T: a worker trains a pathway until this many of its episodes have ended; their mean
    unclipped return is the pathway's fitness (--evaluation-episodes is --eval-every's count)."""
    evolve: bool = True
    """Evolve pathways; --no-evolve trains one fixed maximal pathway (modules 0..N-1 of every layer,
    or the source's best with --transfer-from): the independent-learner and fine-tuning controls."""
    penalty: str = field(default="none", metadata=choices(*PENALTIES))
    """Fine-tuning only (--no-freeze-source): anchor the source's weights while the target trains,
    ewc (Fisher of the source policy, every trained weight) or wpl (weight-plasticity loss: the
    shared pathway's weights, averaged squared loss gradients); none: plain fine-tuning."""
    ewc_lambda: float = 1e4
    """EWC's strength lambda in (lambda / 2) * sum F (theta - theta*)^2 (CORA's Atari value)."""
    wpl_alpha: float = 60.0
    """WPL's strength alpha in (alpha / 2) * sum F (theta - theta*)^2 (the authors' value)."""
    fisher_samples: int = 2048
    """Source states over which EWC's Fisher (or WPL's gradient average) is estimated."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.population < 2 and self.evolve:
            raise UsageError(f"--population must be >= 2 for a tournament, got {self.population}")
        if self.eval_episodes < 1:
            raise UsageError(f"--eval-episodes must be >= 1, got {self.eval_episodes}")
        if self.penalty != "none" and (self.transfer_from is None or self.freeze_source):
            raise UsageError(f"--penalty {self.penalty} anchors fine-tuning: give --transfer-from RUN and "
                             "--no-freeze-source (PathNet's frozen pathway needs no anchor)")
        if not (self.ewc_lambda >= 0 and self.wpl_alpha >= 0):
            raise UsageError(f"--ewc-lambda and --wpl-alpha must be >= 0 (0: no anchor), got "
                             f"{self.ewc_lambda} and {self.wpl_alpha}")
        if self.fisher_samples < 1:
            raise UsageError(f"--fisher-samples must be >= 1, got {self.fisher_samples}")

    @property
    def population_size(self) -> int:
        return self.population if self.evolve else 1

    @property
    def evolves(self) -> bool:
        return self.evolve

    @property
    def anchored(self) -> bool:
        return self.penalty != "none"

    @property
    def penalty_strength(self) -> float:
        return {"ewc": self.ewc_lambda, "wpl": self.wpl_alpha}.get(self.penalty, 0.0)


@dataclass
class PathNetShared:
    """What PathNet's workers share besides the network: the task they train and the population."""

    task: str
    population: Population
    frozen: set = field(default_factory=set)
    anchor: dict | None = None  # fine-tuning with --penalty: the source's weights and their importance


class EpisodeLedger:
    """Which finished episodes count towards the fitness of the pathway being evaluated.

    A worker's environments keep running when it moves on to the next pathway, so the episodes in
    progress at that moment were begun by the previous pathway. An episode counts only if the current
    trial played every step of it: it must have started after the trial began.
    """

    def __init__(self, n_envs: int) -> None:
        self.started_in = np.zeros(n_envs, dtype=np.int64)  # the trial each env's episode began in
        self.trial = 0  # the environments were reset for the first trial

    def next_trial(self) -> None:
        """The worker moves on to another pathway: every episode in progress now is a mixed one."""
        self.trial += 1

    def count(self, episodes: list) -> list[float]:
        """The returns of the finished episodes that the current trial played whole."""
        whole = []
        for ep in episodes:
            if self.started_in[ep.env_index] == self.trial:
                whole.append(ep.ret)
            self.started_in[ep.env_index] = self.trial  # the env's next episode begins now
        return whole


def pathnet_worker_loop(worker: int, cfg: PathNetConfig, ctx: WorkerContext, seed: int) -> None:
    """One PathNet worker: evaluate pathways from the table by training them with A3C, then compete."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    shared: PathNetShared = ctx.extra
    spec = resolve_game(cfg.game)
    envs = make_env_batch(cfg, spec, seed)
    local = PathNet.from_description(ctx.shared_model.describe())
    loss_fn = rollout_loss
    if shared.anchor is not None:
        loss_fn = penalised(rollout_loss, local, shared.anchor, cfg.penalty_strength)
    ledger = EpisodeLedger(len(envs))
    try:
        while not ctx.stop.is_set() and not parent_gone():
            trial = shared.population.claim()
            policy = PathwayPolicy(local, trial.genotype, shared.task)
            returns: list[float] = []
            frames = 0
            while len(returns) < cfg.eval_episodes and not ctx.stop.is_set() and frames < cfg.total_frames:
                episodes, frames = learn_step(worker, local, policy, envs, spec, cfg, ctx, loss_fn)
                returns += ledger.count(episodes)
                if parent_gone():
                    return
            if len(returns) < cfg.eval_episodes:
                shared.population.release(trial)
                break
            fitness = float(np.mean(returns))
            if cfg.evolve:
                outcome = shared.population.compete(trial, fitness, rng)
            else:
                outcome = shared.population.record(trial, fitness)
            values = {"pathnet/fitness": fitness, "pathnet/adopted": float(outcome.adopted),
                      "pathnet/stale": float(not outcome.recorded), **shared.population.summary(shared.frozen)}
            ctx.sink.put(ScalarsMsg(worker, frames, values))
            ledger.next_trial()
            if frames >= cfg.total_frames:
                break
    finally:
        envs.close()
    ctx.sink.put(DoneMsg(worker))


def task_name(model: PathNet, spec: GameSpec) -> str:
    """The game's name (a "." of a variant's value as "_": torch's module names cannot hold one), made
    unique among the tasks the network already has."""
    base = spec.name.replace(".", "_")
    name, n = base, 2
    while name in model.heads:
        name, n = f"{base}#{n}", n + 1
    return name


def load_pathnet_checkpoint(path: str | Path) -> tuple[dict, PathNet]:
    """A PathNet checkpoint file or run folder -> (checkpoint dict, PathNet with its weights)."""
    ckpt = load_checkpoint(path, CHECKPOINT_FORMAT)
    try:
        model = PathNet.from_description(ckpt["pathnet"])
        model.load_state_dict(ckpt["model"])
    except (KeyError, TypeError, RuntimeError, ValueError) as exc:
        raise UsageError(f"{path} holds a damaged or foreign PathNet ({type(exc).__name__}: {exc}); "
                         "use a checkpoint written by pathzero train --agent pathnet") from None
    return ckpt, model


def load_pathnet_policy(path: str | Path, task: str | None = None) -> tuple[dict, PathwayPolicy, str]:
    """(checkpoint, the policy of `task` along its best pathway, the game it plays) from a PathNet
    run; `task` defaults to the run's own game, and may name any earlier task it was transferred from."""
    ckpt, model = load_pathnet_checkpoint(path)
    task = task or ckpt["task"]
    if task not in model.best:
        raise UsageError(f"{path} has no task {task!r}; its tasks: {', '.join(model.best)}")
    game = task_games(ckpt).get(task, ckpt["game"])
    return ckpt, PathwayPolicy(model, model.best[task], task).eval(), game


def task_games(ckpt: dict) -> dict[str, str]:
    """Every task of a PathNet checkpoint -> the game (env id) it plays."""
    return dict(ckpt.get("task_games") or {ckpt["task"]: ckpt["game"]})


def best_pathway(ckpt: dict) -> np.ndarray:
    """The best pathway a PathNet checkpoint knows for its own task."""
    return np.asarray(ckpt["pathnet"]["best"][ckpt["task"]], dtype=np.int64)


class PathNetRecipe(Recipe):
    """PathNet's additions to the A3C training machinery."""

    agent = "pathnet"
    checkpoint_format = CHECKPOINT_FORMAT
    worker = staticmethod(pathnet_worker_loop)

    def __init__(self) -> None:
        self.task = ""
        self.start: np.ndarray | None = None  # the fixed pathway of the controls
        self.task_games: dict[str, str] = {}  # every task of the network -> the game it plays
        self.anchor: dict | None = None  # --penalty: the source's weights and their importance

    def build(self, cfg: PathNetConfig, spec: GameSpec, ckpt: dict | None, where: Path | None) -> PathNet:
        obs_shape, n_actions = game_shapes(spec)
        if ckpt is not None:  # resuming this run
            if ckpt.get("game") != spec.env_id:
                raise UsageError(f"{where} was trained on {ckpt.get('game')}, not {spec.env_id}")
            _, model = load_pathnet_checkpoint(where)
            self.task = ckpt["task"]
            self.start = np.asarray(ckpt["start"], dtype=np.int64)
            self.task_games = task_games(ckpt)
            self.anchor = ckpt.get("anchor")
            return model
        if cfg.transfer_from is None:
            model = PathNet(PathNet.grid_kind_for(obs_shape), cfg.grid)
            self.start = fixed_pathway(cfg.grid)
        else:
            source, model = load_pathnet_checkpoint(cfg.transfer_from)
            if model.cfg != cfg.grid:
                raise UsageError(f"{cfg.transfer_from} has the grid {asdict(model.cfg)}; the grid flags must match it")
            if model.grid_kind != PathNet.grid_kind_for(obs_shape):
                raise UsageError(f"{cfg.transfer_from} has a {model.grid_kind} grid, which cannot take "
                                 f"{spec.env_id}'s observations of shape {obs_shape}")
            self.start = best_pathway(source)
            self.task_games = task_games(source)
            if cfg.freeze_source:
                model.freeze(self.start, source["task"])
                model.reinit_unfrozen()
            else:
                model.keep_task(source["task"], self.start)
                if cfg.anchored:
                    self.anchor = source_anchor(model, source, cfg)
            if cfg.revisit:
                return self._revisit(model, spec, cfg)
        self.task = task_name(model, spec)
        self.task_games[self.task] = spec.env_id
        copy_from = model.same_shape_task(obs_shape) if cfg.copy_stem else None
        if cfg.copy_stem and copy_from is None:
            raise UsageError(f"--copy-stem: {cfg.transfer_from} has no task with {spec.env_id}'s observation shape "
                             f"{tuple(obs_shape)} to copy the stem from; drop --copy-stem")
        model.add_task(self.task, obs_shape, n_actions, copy_from=copy_from)
        return model

    def _revisit(self, model: PathNet, spec: GameSpec, cfg: PathNetConfig) -> PathNet:
        """The network's latest task for this game trains again: its heads unfrozen, its pathway the start."""
        earlier = [task for task, game in self.task_games.items() if game == spec.env_id]
        if not earlier:
            raise UsageError(f"--revisit: {cfg.transfer_from} has no task for {spec.env_id}; its tasks play "
                             f"{', '.join(sorted(set(self.task_games.values())))}")
        self.task = earlier[-1]
        model.frozen_tasks.discard(self.task)
        model._apply_freeze()
        self.start = np.asarray(model.best[self.task], dtype=np.int64)
        return model

    def parameters(self, model: PathNet) -> list:
        return model.trainable_parameters()

    def share(self, cfg: PathNetConfig, model: PathNet, ckpt: dict | None, mp_ctx) -> PathNetShared:
        size = cfg.population_size
        population = Population(size, cfg.grid, mp_ctx.Lock())
        if ckpt is not None:
            population.load_state_dict(ckpt["population"])
        else:
            rng = np.random.default_rng(cfg.seed)
            for slot in range(size):
                population.genotypes[slot] = torch.from_numpy(
                    random_pathway(cfg.grid, rng) if cfg.evolves else self.start)
        if self.anchor is not None:
            for group in self.anchor.values():
                for tensor in group.values():
                    tensor.share_memory_()
        return PathNetShared(self.task, population, set(model.frozen), self.anchor)

    def policy(self, model: PathNet, extra: PathNetShared) -> PathwayPolicy:
        return PathwayPolicy(model, extra.population.best()[1], self.task)

    def evaluates_tasks(self, cfg: PathwayConfig) -> bool:
        return cfg.eval_tasks

    def evaluated(self, cfg: PathNetConfig, spec: GameSpec, model: PathNet, extra: PathNetShared):
        own = self.policy(model, extra)
        if not cfg.eval_tasks:
            return own
        others = [(task, resolve_game(self.task_games[task]), PathwayPolicy(model, pathway, task))
                  for task, pathway in model.best.items()
                  if task != self.task and task in self.task_games and model.tasks[task]["kind"] == "rl"]
        return [(self.task, spec, own), *others]

    def payload(self, model: PathNet, extra: PathNetShared) -> dict:
        model.best[self.task] = extra.population.best()[1]  # the best so far
        anchor = {"anchor": self.anchor} if self.anchor is not None else {}
        return {**anchor, "task": self.task, "task_games": self.task_games, "start": self.start.tolist(),
                "pathnet": model.describe(),
                "model": model.state_dict(), "population": extra.population.state_dict()}

    def finish(self, cfg: PathNetConfig, spec: GameSpec, run_dir: Path, model: PathNet, extra: PathNetShared,
               log: RunLog, state: RunState) -> None:
        from pathzero.agents.pictures import draw_grid

        _, best, fitness = extra.population.best()
        model.best[self.task] = best
        figure = draw_grid(model, title=f"{spec.name}: best pathway (fitness {fitness:.1f})")
        figure.savefig(run_dir / "pathnet_grid.png", dpi=120)
        log.writer.add_figure("pathnet/grid", figure, state.frames)
        if cfg.progress:
            print(f"best pathway on {self.task}: {pathway_text(best)} (fitness {fitness:g})")
        super().finish(cfg, spec, run_dir, PathwayPolicy(model, best, self.task), extra, log, state)


def source_anchor(model: PathNet, source: dict, cfg: PathNetConfig) -> dict:
    """The source task's weights and their importance (agents/forgetting.py): EWC over every
    parameter the target trains, WPL over the source pathway's modules (those the tasks share). A
    source that had an anchor itself (an earlier task of a sequence) passes its importance on,
    added to the new one, with the anchor at the source's final weights (online EWC)."""
    from pathzero.agents.common.threads import one_torch_thread

    with one_torch_thread():  # batches of one: a second torch thread only contends
        return _source_anchor(model, source, cfg)


def _source_anchor(model: PathNet, source: dict, cfg: PathNetConfig) -> dict:
    from pathzero.agents.forgetting import ewc_fisher, make_anchor, wpl_fisher

    task, pathway = source["task"], np.asarray(model.best[source["task"]])
    policy = PathwayPolicy(model, pathway, task)
    game = resolve_game(task_games(source)[task])
    if cfg.penalty == "ewc":
        params = {n: p for n, p in model.named_parameters() if p.requires_grad}
        fisher = ewc_fisher(policy, params, game, cfg.fisher_samples, seed=cfg.seed)
    else:
        shared = {f"grid.{layer}.{m}." for layer, m in pathway_modules(pathway)}
        params = {n: p for n, p in model.named_parameters() if p.requires_grad and n.startswith(tuple(shared))}
        fisher = wpl_fisher(policy, params, game, cfg.fisher_samples, rollout_loss, cfg, seed=cfg.seed)
    previous = source.get("anchor")  # a sequence: the earlier tasks' importance adds up (online EWC)
    if previous is not None:
        named = dict(model.named_parameters())
        for name, f in previous["fisher"].items():
            if name in named:
                params.setdefault(name, named[name])
                fisher[name] = fisher.get(name, torch.zeros_like(f)) + f
    return make_anchor(params, fisher)


def pathway_text(pathway: np.ndarray) -> str:
    """'L1: 0 3 7 | L2: ...', the distinct modules of each layer."""
    return " | ".join(f"L{i + 1}: {' '.join(map(str, row))}" for i, row in enumerate(layer_modules(pathway)))


def train_pathnet(cfg: PathNetConfig, resume: str | Path | None = None) -> Path:
    """Trains PathNet on cfg.game (or continues `resume`); returns the run folder."""
    return train(cfg, PathNetRecipe(), resume)


def load_agent(path: str | Path, *, task: str | None = None, greedy: bool = False, seed: int = 0,
               game: str | None = None, simulations: int | None = None) -> Agent:
    """A PathNet checkpoint's policy on one of its tasks (`task`; default: the run's own) along its best pathway."""
    refuse_options("pathnet", game=game, simulations=simulations)
    ckpt, policy, played = load_pathnet_policy(path, task)
    return Agent(policy, played, frames=ckpt["state"]["frames"], greedy=greedy, task=policy.task, kind="pathnet",
                 seed=seed)


register(AgentEntry(name="pathnet", config=PathNetConfig, train=train_pathnet, load=load_agent,
                    checkpoint_format=CHECKPOINT_FORMAT, resumable=RESUMABLE,
                    description="PathNet: pathways through a residual module grid, evolved while A3C trains them",
                    legacy_keys=frozenset({"layers", "modules", "active", "population"})))
