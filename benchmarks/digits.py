"""PathNet's supervised experiment (Fernando et al. 2017, the binary classification on MNIST), on
scikit-learn's bundled 8x8 digits: the library's module grid, genotypes and tournament
(agents/pathnet.py, nets/pathnet.py) trained with minibatch SGD instead of A3C.

A benchmark, not part of the installed package: `python -m benchmarks digits` runs it (scikit-learn
comes with the `bench` extra).
"""
from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from pathzero.agents.pathnet import tournament
from pathzero.envs import UsageError
from pathzero.nets.pathnet import GridConfig, GumbelPolicy, PathNet, check_pathway, fixed_pathway, random_pathway


# ----------------------------------------------------------------------------------------------
# The experiment: tasks, the config, training by tournaments or by the Gumbel search, and one trial.

class DigitTask(NamedTuple):
    name: str
    train_x: torch.Tensor  # [n, 64] float in [0, 1]
    train_y: torch.Tensor  # [n] int64, 0 for the first digit, 1 for the second
    test_x: torch.Tensor
    test_y: torch.Tensor


def digit_task(first: int, second: int, test_fraction: float = 0.3, seed: int = 0) -> DigitTask:
    """'first vs second' from scikit-learn's 8x8 digits, split into training and held-out parts."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not (0 <= first <= 9 and 0 <= second <= 9 and first != second):
        raise UsageError(f"a binary digit task needs two different digits 0-9, got {first} and {second}")
    digits = load_digits()
    mask = (digits.target == first) | (digits.target == second)
    x = digits.data[mask].astype(np.float32) / 16.0
    y = (digits.target[mask] == second).astype(np.int64)
    tx, vx, ty, vy = train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)
    return DigitTask(f"{first}v{second}", torch.from_numpy(tx), torch.from_numpy(ty), torch.from_numpy(vx),
                     torch.from_numpy(vy))


@dataclass(frozen=True)
class SupervisedConfig:
    """The binary-classification PathNet (defaults from the MNIST version: L, M, N = 3, 10, 3)."""

    layers: int = 3
    modules: int = 10
    active: int = 3
    width: int = 20
    """Units per module."""
    hidden: int = 20
    """Units of each task's layer after the grid."""
    population: int = 64
    batches: int = 50
    """Minibatches a pathway trains on per fitness evaluation."""
    batch_size: int = 16
    lr: float = 0.005
    """SGD learning rate."""
    generations: int = 300
    """Budget: tournaments (each trains two pathways for `batches` minibatches)."""
    threshold: float = 0.99
    """Held-out accuracy at which a task counts as learned (the paper: 99.8% on MNIST's training set)."""
    tau_start: float = 1.0
    """Gumbel search: the temperature at the start, annealed linearly over `generations` to tau_end."""
    tau_end: float = 0.03
    flops_penalty: float = 0.01
    """Gumbel search: lambda of the expected pathway FLOPs (as a share of the largest pathway's)."""
    search_lr: float = 0.05
    """Gumbel search: SGD learning rate of the pathway logits."""
    copy_stem: bool = False
    """A new task's input layer and the layer after the grid start as copies of the latest earlier
    task's (off: fresh; the paper's network has no per-task input layer)."""

    @property
    def grid(self) -> GridConfig:
        return GridConfig(layers=self.layers, modules=self.modules, active=self.active, width=self.width,
                          hidden=self.hidden)


class SupervisedResult(NamedTuple):
    generations: int | None  # first generation whose winner reached the threshold (None: never)
    accuracy: list[float]  # held-out accuracy of each generation's winner
    best: np.ndarray  # the final best pathway


def _train_and_score(model: PathNet, optimizer, pathway: np.ndarray, task: DigitTask, cfg: SupervisedConfig,
                     gen: torch.Generator) -> float:
    """Trains a pathway on `cfg.batches` minibatches; its fitness is the accuracy on those batches."""
    correct = total = 0
    for _ in range(cfg.batches):
        index = torch.randint(len(task.train_y), (cfg.batch_size,), generator=gen)
        logits = model.classify(task.train_x[index], pathway, task.name)
        loss = F.cross_entropy(logits, task.train_y[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        correct += int((logits.argmax(-1) == task.train_y[index]).sum())
        total += cfg.batch_size
    return correct / total


@torch.no_grad()
def held_out_accuracy(model: PathNet, pathway: np.ndarray, task: DigitTask) -> float:
    return float((model.classify(task.test_x, pathway, task.name).argmax(-1) == task.test_y).float().mean())


def add_digit_task(model: PathNet, task: DigitTask, cfg: SupervisedConfig) -> None:
    """The task's heads, fresh, or (cfg.copy_stem) starting from the latest earlier task's."""
    if task.name not in model.heads:
        shape = (task.train_x.shape[1],)
        model.add_task(task.name, shape, 2, kind="classifier",
                       copy_from=model.same_shape_task(shape) if cfg.copy_stem else None)


def evolve_supervised(model: PathNet, task: DigitTask, cfg: SupervisedConfig, seed: int, evolve: bool = True,
                      start: np.ndarray | None = None, stop_at_threshold: bool = True) -> SupervisedResult:
    """Trains `task` on `model` (its heads are added here): binary tournaments of pathways trained with
    SGD, or (evolve=False) one fixed pathway trained for the same number of minibatches per generation.

    Frozen modules stay untouched: the optimizer holds only `model.trainable_parameters()`.
    """
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    add_digit_task(model, task, cfg)
    optimizer = torch.optim.SGD(model.trainable_parameters(), lr=cfg.lr)
    if evolve:
        genotypes = np.stack([random_pathway(cfg.grid, rng) for _ in range(cfg.population)])
    else:
        genotypes = np.stack([fixed_pathway(cfg.grid) if start is None else check_pathway(start, cfg.grid)])
    fitness = np.full(len(genotypes), -np.inf)
    accuracy: list[float] = []
    reached = None
    for generation in range(1, cfg.generations + 1):
        if evolve:
            a, b = rng.choice(len(genotypes), size=2, replace=False)
            for slot in (a, b):
                fitness[slot] = _train_and_score(model, optimizer, genotypes[slot], task, cfg, gen)
            winner, loser = tournament(genotypes, fitness, int(a), int(b), cfg.grid, rng)
            fitness[loser] = -np.inf  # a fresh mutant: not evaluated until it has been trained
        else:
            winner = 0
            for _ in range(2):  # the compute of one tournament
                fitness[0] = _train_and_score(model, optimizer, genotypes[0], task, cfg, gen)
        accuracy.append(held_out_accuracy(model, genotypes[winner], task))
        if reached is None and accuracy[-1] >= cfg.threshold:
            reached = generation
            if stop_at_threshold:
                break
    best = genotypes[int(np.argmax(fitness))].copy()
    model.best[task.name] = best
    return SupervisedResult(reached, accuracy, best)


def gumbel_supervised(model: PathNet, task: DigitTask, cfg: SupervisedConfig, seed: int) -> SupervisedResult:
    """Trains `task` with a Gumbel-softmax pathway search (agents/gumbel.py) instead of tournaments: per
    generation the compute of one tournament (2 x `batches` minibatches), each with fresh Gumbel noise,
    the temperature annealed over the budget; the generation's accuracy is the settled (argmax)
    pathway's on held-out data, without retraining. Frozen modules stay untouched."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    add_digit_task(model, task, cfg)
    model.add_search(task.name)
    logits = model.search[task.name]
    weights = [p for p in model.trainable_parameters() if p is not logits]
    optimizer = torch.optim.SGD([{"params": weights, "lr": cfg.lr}, {"params": [logits], "lr": cfg.search_lr}])
    relaxed = GumbelPolicy(model, task.name)
    heads = model.heads[task.name]
    accuracy: list[float] = []
    reached = None
    for generation in range(1, cfg.generations + 1):
        done = (generation - 1) / max(cfg.generations - 1, 1)
        tau = cfg.tau_start + (cfg.tau_end - cfg.tau_start) * done
        for _ in range(2 * cfg.batches):
            relaxed.resample(tau, gen)
            index = torch.randint(len(task.train_y), (cfg.batch_size,), generator=gen)
            out = heads.classifier(model.soft_features(task.train_x[index], relaxed.weights(), task.name))
            loss = F.cross_entropy(out, task.train_y[index]) + cfg.flops_penalty * relaxed.cost()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        accuracy.append(held_out_accuracy(model, model.search_pathway(task.name), task))
        if accuracy[-1] >= cfg.threshold:
            reached = generation
            break
    best = model.search_pathway(task.name)
    model.best[task.name] = best
    return SupervisedResult(reached, accuracy, best)


DIGIT_METHODS = ("independent", "finetune", "pathnet", "pathnet_transfer", "gumbel", "gumbel_transfer")


def digits_trial(cfg: SupervisedConfig, seed: int, source: tuple[int, int] = (1, 7), target: tuple[int, int] = (3, 8),
                 source_generations: int = 100) -> dict[str, int | None]:
    """Generations to the held-out threshold on the target task, for one seed, by four methods:

    - independent: one fixed pathway (modules 0..N-1) trained on the target only, with the compute
      of one tournament per generation;
    - finetune: that fixed pathway trained on the source first (`source_generations`), then on the target;
    - pathnet: evolution on the target from scratch;
    - pathnet_transfer: evolution on the source, its best pathway frozen, the rest re-initialised,
      then evolution on the target;
    - gumbel, gumbel_transfer: the same two with a Gumbel-softmax pathway search on the target instead
      of evolution (the source is still evolved).
    None: not reached within `cfg.generations`.
    """
    a, b = digit_task(*source), digit_task(*target)
    src = replace(cfg, generations=source_generations)
    out: dict[str, int | None] = {}
    out["independent"] = evolve_supervised(PathNet("mlp", cfg.grid), b, cfg, seed, evolve=False).generations
    fixed = PathNet("mlp", cfg.grid)
    learned = evolve_supervised(fixed, a, src, seed + 1000, evolve=False, stop_at_threshold=False)
    fixed.keep_task(a.name, learned.best)
    out["finetune"] = evolve_supervised(fixed, b, cfg, seed, evolve=False, start=learned.best).generations
    out["pathnet"] = evolve_supervised(PathNet("mlp", cfg.grid), b, cfg, seed).generations
    net = PathNet("mlp", cfg.grid)
    learned = evolve_supervised(net, a, src, seed + 1000, stop_at_threshold=False)
    net.freeze(learned.best, a.name)
    net.reinit_unfrozen()
    twin = copy.deepcopy(net)  # the gumbel search starts from the same frozen source
    out["pathnet_transfer"] = evolve_supervised(net, b, cfg, seed).generations
    out["gumbel"] = gumbel_supervised(PathNet("mlp", cfg.grid), b, cfg, seed).generations
    out["gumbel_transfer"] = gumbel_supervised(twin, b, cfg, seed).generations
    return out


# ----------------------------------------------------------------------------------------------
# `python -m benchmarks digits`: the trials over seeds, a table, a picture and a section of the doc.

DEFAULT_DOC = "docs/BENCHMARKS.md"


def bootstrap_interval(values: np.ndarray, stat=np.mean) -> tuple[float, float]:
    """95% percentile-bootstrap interval of `stat` over the seeds."""
    from pathzero.agents.common.stats import bootstrap

    values = np.asarray(values)
    est = bootstrap(lambda i: stat(values[i]), len(values), reps=10_000)
    return est.low, est.high


def digits(args) -> int:
    """`python -m benchmarks digits`: digits_trial over the seeds, into a section and a picture."""
    from tqdm import tqdm

    from benchmarks.bench import machine, write_section
    from pathzero.agents.pictures import plt

    torch.set_num_threads(1)  # a tiny MLP: more threads only contend with whatever else runs
    cfg = SupervisedConfig(threshold=args.threshold, generations=args.generations, lr=args.lr)
    source, target = tuple(args.source), tuple(args.target)
    results = {m: [] for m in DIGIT_METHODS}
    for seed in tqdm(range(args.seeds), desc="digits seeds", unit="seed"):
        trial = digits_trial(cfg, seed, source, target, args.source_generations)
        for m in DIGIT_METHODS:
            results[m].append(trial[m])
    # a run that never reached the threshold counts as the budget: its mean is then a lower bound
    gens = {m: np.array([g if g is not None else cfg.generations for g in v], dtype=float) for m, v in results.items()}
    rows = []
    for m in DIGIT_METHODS:
        lo, hi = bootstrap_interval(gens[m])
        reached = sum(g is not None for g in results[m])
        rows.append(f"| {m} | {gens[m].mean():.1f} | [{lo:.1f}, {hi:.1f}] | {np.median(gens[m]):.0f} | "
                    f"{reached}/{args.seeds} |")
    ratio = lambda a, b: (gens[a].mean() / gens[b].mean())  # noqa: E731
    both = np.stack([gens["pathnet"], gens["pathnet_transfer"]])
    r_lo, r_hi = bootstrap_interval(np.arange(args.seeds), stat=lambda idx: both[0, idx].mean() / both[1, idx].mean())
    out = Path(args.doc).parent / "pathnet_digits.png"
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for k, m in enumerate(DIGIT_METHODS):
        jitter = np.random.default_rng(k).uniform(-0.12, 0.12, size=args.seeds)
        ax.scatter(np.full(args.seeds, k) + jitter, gens[m], alpha=0.6, s=18)
        ax.plot([k - 0.25, k + 0.25], [gens[m].mean()] * 2, color="black", lw=2)
    ax.set_xticks(range(len(DIGIT_METHODS)), DIGIT_METHODS)
    ax.set_yscale("log")
    ax.set_ylabel("generations to threshold")
    ax.set_title(f"digits {target[0]} vs {target[1]} after {source[0]} vs {source[1]}: held-out accuracy "
                 f">= {cfg.threshold:.0%} ({args.seeds} seeds; bar = mean)", fontsize=9)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    command = (f"python -m benchmarks digits --seeds {args.seeds} --threshold {args.threshold} --lr {args.lr} "
               f"--generations {args.generations} --source {source[0]} {source[1]} --target {target[0]} {target[1]} "
               f"--source-generations {args.source_generations}")
    body = f"""## PathNet: binary digits (the paper's supervised experiment)

Measured {dt.date.today().isoformat()} on {machine()}. Command: `{command}`.

Task A (source) is {source[0]} vs {source[1]}, task B (target) is {target[0]} vs {target[1]}, from scikit-learn's 8x8
digits (30% held out). Grid L, M, N = {cfg.layers}, {cfg.modules}, {cfg.active}; {cfg.width} units per module;
population {cfg.population}; a fitness evaluation is {cfg.batches} SGD minibatches of {cfg.batch_size} (lr {cfg.lr}).
A generation is one binary tournament: two pathways trained and compared; the controls train their
fixed pathway for the same number of minibatches per generation. Sources train {args.source_generations} generations.
The measure is the first generation whose winning pathway reaches **{cfg.threshold:.0%} held-out accuracy**
on B (budget {cfg.generations}; a run that never reaches it counts as {cfg.generations}, so its mean is a lower bound).

| method | mean generations | 95% bootstrap interval | median | reached |
|---|---:|---:|---:|---:|
{chr(10).join(rows)}

**PathNet transfer vs PathNet from scratch: {ratio('pathnet', 'pathnet_transfer'):.2f}x fewer generations**
(95% interval {r_lo:.2f}-{r_hi:.2f}; goal 2x; published MNIST versions report 1.7-2x).
Against the independent learner: {ratio('independent', 'pathnet_transfer'):.2f}x; against fine-tuning: \
{ratio('finetune', 'pathnet_transfer'):.2f}x.

![generations per method]({out.name})
"""
    write_section(Path(args.doc), "pathnet-digits", body, note=args.note)
    print(body)
    return 0


def add_parsers(sub) -> dict:
    dg = sub.add_parser("digits", help="PathNet's binary digits experiment: generations to a held-out threshold")
    dg.add_argument("--seeds", type=int, default=10, help="seeds (default: 10)")
    dg.add_argument("--threshold", type=float, default=0.99, help="held-out accuracy threshold (default: 0.99)")
    dg.add_argument("--lr", type=float, default=0.005, help="SGD learning rate (default: 0.005)")
    dg.add_argument("--generations", type=int, default=300, help="budget in generations (default: 300)")
    dg.add_argument("--source", type=int, nargs=2, default=[1, 7], help="source task digits (default: 1 7)")
    dg.add_argument("--target", type=int, nargs=2, default=[3, 8], help="target task digits (default: 3 8)")
    dg.add_argument("--source-generations", type=int, default=100,
                    help="generations the source task trains before transfer (default: 100)")
    dg.add_argument("--note", default="", help="a remark to add under the numbers")
    dg.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    return {"digits": digits}
