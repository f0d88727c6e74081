"""PathNet's module grid (Fernando et al. 2017): L layers x M residual modules and per-task heads.

A *pathway* (the genotype) is an integer array [L, N]: for every layer, N module indices in
[0, M). A repeated index means the pathway uses fewer modules in that layer ("at most N").
`forward(x, pathway, task)` runs only the selected modules; nothing in the grid remembers a
"current" pathway.

Every module is the residual block of the A3C trunk (`nets.blocks`): a conv block for image
observations, an MLP block for vectors. A layer adds the residual branches of its active modules
around one skip connection, `h' = relu(h + sum_m branch_m(h))` (or their mean), so a pathway with
one module per layer is exactly a stack of A3C residual blocks, and the sum the paper uses does not
multiply activations by N at every layer.

Each task owns its *heads*: an input stem that maps the task's observations into the grid's
feature space (games differ in their input planes), a fully connected layer, and either a policy
and a value head (RL) or a classifier (supervised). A new task's heads start fresh: only the module
grid is shared between tasks. The paper's network has no input stem per task (its first layer of
modules reads the pixels, so everything but the final layer is shared); here games may differ in
their input planes, hence a stem per task, and a fresh stem means the frozen modules first see
features they were not trained on. `add_task(..., copy_from=T)` starts the new stem and fully
connected layer as copies of task T's instead (same observation shape: the nearest to the paper), a
separate, named setting of the agents (`copy_stem`), so that its effect is measured as an arm of its own.

With `GridConfig.fc_in_grid` the last layer holds fully connected modules instead (each a linear map of
the flattened features to `hidden` units and a ReLU; a layer sums them), as the paper's fourth layer: the
task's fc layer moves into the grid, where it is shared and frozen like every module, and a task owns only
its stem and output heads. Those modules' input size is set by the first task's stem; every later task's
features must have that size.

Freezing (`freeze(pathway, task)`) makes the pathway's modules and the task's heads immutable from
then on: `requires_grad` is switched off, `trainable_parameters()` leaves them out (so no
optimizer holds them) and `reinit_unfrozen()` re-initialises everything else in one call. The
frozen set, every task's heads and its best pathway are part of `describe()`, which checkpoints keep.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pathzero.nets.blocks import ResidualBlock, ResidualMLPBlock
from pathzero.nets.dual import (ConvStem, DualOutput, PolicyHead, ValueHead, orthogonal_init, probe_features, to_float,
                                trunk_kind)

COMBINE = ("sum", "mean")
TASK_KINDS = ("rl", "classifier")


@dataclass(frozen=True)
class GridConfig:
    """Sizes of a PathNet; the defaults are the paper's Atari grid (L, M, N = 4, 10, 4)."""

    layers: int = 4
    """L: layers of the grid."""
    modules: int = 10
    """M: modules per layer."""
    active: int = 4
    """N: at most this many modules of a layer are on a pathway."""
    channels: int = 8
    """Channels of each conv module (the paper's Atari modules had 8 kernels)."""
    width: int = 64
    """Width of each MLP module (vector observations)."""
    hidden: int = 256
    """Width of each task's fully connected layer after the grid."""
    combine: str = "sum"
    """How a layer combines its active modules: sum (the paper) or mean."""
    value_init: str = "torch"
    """Initial weights of each task's value head: torch or orthogonal (see nets.dual.ValueHead)."""
    fc_in_grid: bool = False
    """The last of the L layers is fully connected, M modules of `hidden` units each (the paper's fourth
    layer), in place of each task's own fc layer: the fc layer is then shared and frozen like the other
    modules, and a task owns only its input stem and output heads. Off: L layers of residual modules and
    an fc layer per task."""

    def __post_init__(self) -> None:
        for name in ("layers", "modules", "active", "channels", "width", "hidden"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.active > self.modules:
            raise ValueError(f"active (N={self.active}) cannot exceed modules per layer (M={self.modules})")
        if self.combine not in COMBINE:
            raise ValueError(f"combine must be one of {COMBINE}, got {self.combine!r}")


def check_pathway(pathway: Sequence[Sequence[int]] | np.ndarray | torch.Tensor, cfg: GridConfig) -> np.ndarray:
    """The pathway as an int64 array [L, N], or ValueError saying what is wrong with it."""
    arr = np.asarray(pathway.tolist() if torch.is_tensor(pathway) else pathway)
    if arr.shape != (cfg.layers, cfg.active) or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"a pathway is an integer array of shape [L={cfg.layers}, N={cfg.active}], "
                         f"got {arr.dtype} {arr.shape}")
    if arr.min() < 0 or arr.max() >= cfg.modules:
        raise ValueError(f"pathway module indices must be in [0, {cfg.modules - 1}], got {arr.min()}..{arr.max()}")
    return arr.astype(np.int64)


def layer_modules(pathway: np.ndarray) -> list[list[int]]:
    """The distinct modules of each layer, sorted: [[m, ...] per layer]."""
    return [sorted({int(m) for m in row}) for row in np.asarray(pathway)]


def pathway_modules(pathway: np.ndarray) -> set[tuple[int, int]]:
    """The (layer, module) pairs a pathway uses."""
    return {(layer, m) for layer, row in enumerate(layer_modules(pathway)) for m in row}


def fixed_pathway(cfg: GridConfig) -> np.ndarray:
    """Modules 0..N-1 in every layer: the largest pathway, used without evolution by the controls."""
    return np.tile(np.arange(cfg.active, dtype=np.int64), (cfg.layers, 1))


def random_pathway(cfg: GridConfig, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, cfg.modules, size=(cfg.layers, cfg.active), dtype=np.int64)


class FcModule(nn.Module):
    """A module of the grid's fully connected last layer (GridConfig.fc_in_grid): flattened features ->
    `width` units, ReLU."""

    def __init__(self, n_in: int, width: int) -> None:
        super().__init__()
        self.fc = nn.Linear(n_in, width)

    def branch(self, x: torch.Tensor) -> torch.Tensor:  # [B, F] -> [B, W]
        return torch.relu(self.fc(x))


class TaskHeads(nn.Module):
    """One task's own parts: input stem -> (grid) -> fc -> policy and value, or a classifier (with
    GridConfig.fc_in_grid the fc layer is the grid's, and `fc` here is the identity)."""

    def __init__(self, obs_shape: Sequence[int], n_outputs: int, kind: str, cfg: GridConfig) -> None:
        super().__init__()
        if kind not in TASK_KINDS:
            raise ValueError(f"task kind must be one of {TASK_KINDS}, got {kind!r}")
        self.vector = len(obs_shape) == 1
        if self.vector:
            self.stem = nn.Sequential(nn.Linear(obs_shape[0], cfg.width), nn.ReLU())
            n_flat = cfg.width
        else:
            self.stem = ConvStem(obs_shape, cfg.channels, trunk_kind(obs_shape), "none")
            n_flat = probe_features(self.stem, obs_shape)
        self.n_flat = n_flat  # the stem's features for one observation, flattened
        self.fc = nn.Identity() if cfg.fc_in_grid else nn.Linear(n_flat, cfg.hidden)
        orthogonal_init(self)
        if kind == "rl":
            self.policy = PolicyHead(cfg.hidden, n_outputs)
            self.value = ValueHead(cfg.hidden, init=cfg.value_init)
        else:
            self.classifier = nn.Linear(cfg.hidden, n_outputs)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.stem(to_float(x)) if self.vector else self.stem(x)  # a ConvStem converts (and scales) images itself

    def part_params(self) -> dict[str, int]:
        """Parameters of each of the task's own parts: the input stem, the fc layer and the output heads
        (policy and value, or the classifier)."""
        outputs = [self.policy, self.value] if hasattr(self, "policy") else [self.classifier]
        return {"stem": sum(p.numel() for p in self.stem.parameters()),
                "fc": sum(p.numel() for p in self.fc.parameters()),
                "heads": sum(p.numel() for m in outputs for p in m.parameters())}


class PathNet(nn.Module):
    """An L x M grid of residual modules shared by tasks, each task with its own heads."""

    def __init__(self, grid_kind: str, cfg: GridConfig | None = None) -> None:
        super().__init__()
        if grid_kind not in ("conv", "mlp"):
            raise ValueError(f"grid_kind must be conv or mlp, got {grid_kind!r}")
        self.cfg = cfg = cfg or GridConfig()
        self.grid_kind = grid_kind

        def module() -> nn.Module:
            return ResidualBlock(cfg.channels) if grid_kind == "conv" else ResidualMLPBlock(cfg.width)

        residual_layers = cfg.layers - 1 if cfg.fc_in_grid else cfg.layers
        self.grid = nn.ModuleList(nn.ModuleList(module() for _ in range(cfg.modules)) for _ in range(residual_layers))
        if cfg.fc_in_grid:
            self.grid.append(nn.ModuleList())  # its modules take the first task's flattened features: add_task makes them
        orthogonal_init(self.grid)
        self.heads = nn.ModuleDict()
        self.tasks: dict[str, dict] = {}  # name -> {"obs_shape", "n_outputs", "kind"}
        self.frozen: set[tuple[int, int]] = set()
        self.frozen_tasks: set[str] = set()
        self.best: dict[str, np.ndarray] = {}  # each task's best pathway, once known
        # Gumbel-softmax pathway search (SNAS): per task, logits [L, N, M + 1] of N choices per
        # layer among the M modules and "none" (the last column; never for the first choice)
        self.search = nn.ParameterDict()

    @staticmethod
    def grid_kind_for(obs_shape: Sequence[int]) -> str:
        return "mlp" if len(obs_shape) == 1 else "conv"

    # -- tasks ---------------------------------------------------------------------------------
    def add_task(self, name: str, obs_shape: Sequence[int], n_outputs: int, kind: str = "rl",
                 copy_from: str | None = None) -> None:
        """Adds a task's heads, all fresh; with `copy_from`, the new stem and fc layer start as copies
        of that earlier task's (which must take observations of the same shape)."""
        if name in self.heads:
            raise ValueError(f"task {name!r} already exists; tasks: {', '.join(self.heads)}")
        if (len(obs_shape) == 1) != (self.grid_kind == "mlp"):
            raise ValueError(f"a {self.grid_kind} grid cannot take observations of shape {tuple(obs_shape)}")
        heads = TaskHeads(obs_shape, n_outputs, kind, self.cfg)
        if self.cfg.fc_in_grid:
            top = self.grid[-1]
            if len(top) == 0:
                top.extend(FcModule(heads.n_flat, self.cfg.hidden) for _ in range(self.cfg.modules))
                orthogonal_init(top)
            elif top[0].fc.in_features != heads.n_flat:
                raise ValueError(f"the grid's fully connected layer takes {top[0].fc.in_features} features; "
                                 f"observations of shape {tuple(obs_shape)} give {heads.n_flat}")
        if copy_from is not None:
            source = self._heads(copy_from)
            if self.tasks[copy_from]["obs_shape"] != [int(s) for s in obs_shape]:
                raise ValueError(f"cannot copy the stem of task {copy_from!r}: it takes observations of shape "
                                 f"{tuple(self.tasks[copy_from]['obs_shape'])}, the new task {tuple(obs_shape)}")
            heads.stem.load_state_dict(source.stem.state_dict())
            heads.fc.load_state_dict(source.fc.state_dict())
        self.heads[name] = heads
        self.tasks[name] = {"obs_shape": [int(s) for s in obs_shape], "n_outputs": int(n_outputs), "kind": kind}

    def same_shape_task(self, obs_shape: Sequence[int]) -> str | None:
        """The most recent task whose observations have this shape (None if there is none)."""
        same = [t for t, spec in self.tasks.items() if spec["obs_shape"] == [int(s) for s in obs_shape]]
        return same[-1] if same else None

    def _heads(self, task: str) -> TaskHeads:
        if task not in self.heads:
            raise KeyError(f"no task {task!r} in this PathNet; tasks: {', '.join(self.heads) or 'none'}")
        return self.heads[task]

    # -- forward -------------------------------------------------------------------------------
    def features(self, x: torch.Tensor, pathway: np.ndarray, task: str,
                 active: list[list[int]] | None = None) -> torch.Tensor:
        """Observations [B, ...] -> the task's features [B, hidden], through the pathway's modules only.

        `active` is `layer_modules(pathway)` when the caller already has it (a PathwayPolicy does)."""
        heads = self._heads(task)
        h = heads.embed(x)
        for index, (layer, active) in enumerate(zip(self.grid, layer_modules(pathway) if active is None else active)):
            if self.is_fc_layer(index):
                return self.combined(self.fc_layer([layer[m] for m in active], h.flatten(1)), len(active))
            h = torch.relu(h + self.combined(self.branch_sum([layer[m] for m in active], h), len(active)))
        return torch.relu(heads.fc(h.flatten(1)))

    def combined(self, total: torch.Tensor, count: float | torch.Tensor) -> torch.Tensor:
        """A layer's modules combined from their sum: the sum itself, or (GridConfig.combine == "mean") divided by
        how many modules (or how much weight) it holds."""
        return total / count if self.cfg.combine == "mean" else total

    def is_fc_layer(self, index: int) -> bool:
        """Whether layer `index` of the grid is the fully connected one (GridConfig.fc_in_grid)."""
        return self.cfg.fc_in_grid and index == self.cfg.layers - 1

    def fc_layer(self, modules: list[nn.Module], h: torch.Tensor, w: torch.Tensor | None = None) -> torch.Tensor:
        """The fully connected layer: sum_m relu(module_m(h)) (weighted by `w` [k] when given), every module's
        linear map in one kernel."""
        y = torch.relu(F.linear(h, torch.cat([m.fc.weight for m in modules]), torch.cat([m.fc.bias for m in modules])))
        y = y.view(h.shape[0], len(modules), self.cfg.hidden)  # [B, k, hidden]
        return y.sum(1) if w is None else (y * w[None, :, None]).sum(1)

    # -- Gumbel-softmax pathway search -----------------------------------------------------------
    def add_search(self, task: str) -> None:
        """Learnable pathway logits for `task`, all choices equally likely to start."""
        self._heads(task)
        cfg = self.cfg
        self.search[task] = nn.Parameter(torch.zeros(cfg.layers, cfg.active, cfg.modules + 1))

    def search_mask(self) -> torch.Tensor:
        """[N, M + 1] additive mask: the first choice of a layer may not be "none", so every layer
        keeps at least one module."""
        mask = torch.zeros(self.cfg.active, self.cfg.modules + 1)
        mask[0, -1] = -math.inf
        return mask

    def search_pathway(self, task: str) -> np.ndarray:
        """The pathway the search settled on: each choice's most likely module, a "none" choice
        standing for the layer's first choice (a module counted once)."""
        choice = (self.search[task].detach() + self.search_mask()).argmax(-1).numpy()  # [L, N]
        none = choice == self.cfg.modules
        choice[none] = np.broadcast_to(choice[:, :1], choice.shape)[none]
        return check_pathway(choice, self.cfg)

    def layer_flops(self, obs_shape: Sequence[int]) -> list[float]:
        """Per layer: floating-point operations of one of its modules for one observation (a multiply-add
        counts 2): two 3x3 convolutions over the stem's output or two linear layers (a residual module),
        or one linear map of the flattened features (the fully connected layer)."""
        cfg = self.cfg
        if self.grid_kind == "mlp":
            n_flat, residual = cfg.width, 2 * 2.0 * cfg.width * cfg.width
        else:
            stem = ConvStem(obs_shape, cfg.channels, trunk_kind(obs_shape), "none")
            n_flat = probe_features(stem, obs_shape)
            residual = 2 * 2.0 * 9 * cfg.channels * cfg.channels * (n_flat // cfg.channels)
        return [2.0 * n_flat * cfg.hidden if self.is_fc_layer(i) else residual for i in range(cfg.layers)]

    def layer_params(self) -> list[int]:
        """Per layer: the parameters of one of its modules (the fully connected layer's exist once a task does)."""
        return [sum(p.numel() for p in layer[0].parameters()) if len(layer) else 0 for layer in self.grid]

    def pathway_costs(self, pathway: np.ndarray, obs_shape: Sequence[int]) -> dict[str, float]:
        """The pathway's distinct modules, and their FLOPs (one observation of `obs_shape`) and parameters."""
        per_layer = [len(row) for row in layer_modules(pathway)]
        return {"modules": sum(per_layer),
                "flops": sum(n * f for n, f in zip(per_layer, self.layer_flops(obs_shape))),
                "params": sum(n * q for n, q in zip(per_layer, self.layer_params()))}

    def task_params(self, task: str) -> dict[str, int]:
        """What the task owns and never shares (its stem, fc layer and heads, and their total), beside the
        parameters of the largest pathway (N modules in each of the L layers) it can use in the grid."""
        parts = self._heads(task).part_params()
        largest = self.pathway_costs(fixed_pathway(self.cfg), self.tasks[task]["obs_shape"])["params"]
        return {**parts, "own": sum(parts.values()), "largest_pathway": int(largest)}

    def soft_features(self, x: torch.Tensor, weights: torch.Tensor, task: str) -> torch.Tensor:
        """Observations -> the task's features, every layer combining all its modules weighted by
        `weights` [L, M] (a layer's relaxed choices summed): sum_m w_m * module_m.branch(h)."""
        heads = self._heads(task)
        h = heads.embed(x)
        for index, (layer, w) in enumerate(zip(self.grid, weights)):
            if self.is_fc_layer(index):
                return self.combined(self.fc_layer(list(layer), h.flatten(1), w), w.sum().clamp_min(1e-6))
            h = torch.relu(h + self.combined(self.weighted_branch_sum(list(layer), w, h), w.sum().clamp_min(1e-6)))
        return torch.relu(heads.fc(h.flatten(1)))

    def weighted_branch_sum(self, modules: list[nn.Module], w: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """sum_m w_m * module_m.branch(h) in two kernels, as `branch_sum`: the second layer is linear,
        so each module's first-layer output is scaled by its weight before it, and the bias is
        the weighted sum of the second layers' biases."""
        if self.grid_kind == "conv":
            first, second = [m.conv1 for m in modules], [m.conv2 for m in modules]
            y = torch.relu(F.conv2d(h, torch.cat([c.weight for c in first]), torch.cat([c.bias for c in first]),
                                    padding=1))  # [B, M*C, H, W]
            y = y * w.repeat_interleave(self.cfg.channels)[None, :, None, None]
            bias = (w[:, None] * torch.stack([c.bias for c in second])).sum(0)
            return F.conv2d(y, torch.cat([c.weight for c in second], 1), bias, padding=1)
        first, second = [m.fc1 for m in modules], [m.fc2 for m in modules]
        y = torch.relu(F.linear(h, torch.cat([f.weight for f in first]), torch.cat([f.bias for f in first])))
        y = y * w.repeat_interleave(self.cfg.width)[None, :]
        bias = (w[:, None] * torch.stack([f.bias for f in second])).sum(0)
        return F.linear(y, torch.cat([f.weight for f in second], 1), bias)

    def branch_sum(self, modules: list[nn.Module], h: torch.Tensor) -> torch.Tensor:
        """sum_m module_m.branch(h), computed for all k modules at once in two kernels instead of 2k,
        which keeps small grids cheap on a CPU: the first layers' weights concatenated into one
        conv (or linear) with k*C outputs; then, since only the sum of the second layers' outputs is
        needed, one conv (or linear) from those k*C channels back to C, whose weights are the
        second layers' placed side by side along the input channels and whose bias is their sum."""
        k = len(modules)
        if k == 1:
            return modules[0].branch(h)
        if self.grid_kind == "conv":
            first = [m.conv1 for m in modules]
            second = [m.conv2 for m in modules]
            y = torch.relu(F.conv2d(h, torch.cat([c.weight for c in first]), torch.cat([c.bias for c in first]),
                                    padding=1))  # [B, k*C, H, W]
            return F.conv2d(y, torch.cat([c.weight for c in second], 1),  # [C, k*C, 3, 3]
                            torch.stack([c.bias for c in second]).sum(0), padding=1)  # [B, C, H, W]
        first = [m.fc1 for m in modules]
        second = [m.fc2 for m in modules]
        y = torch.relu(F.linear(h, torch.cat([f.weight for f in first]), torch.cat([f.bias for f in first])))  # [B, k*W]
        return F.linear(y, torch.cat([f.weight for f in second], 1),  # [W, k*W]
                        torch.stack([f.bias for f in second]).sum(0))  # [B, W]

    def forward(self, x: torch.Tensor, pathway: np.ndarray, task: str,
                active: list[list[int]] | None = None) -> DualOutput:
        """An RL task's policy logits [B, A] and value [B] along `pathway` (see `features` for `active`)."""
        heads = self._heads(task)
        h = self.features(x, pathway, task, active)
        return DualOutput(heads.policy(h), heads.value(h))

    def classify(self, x: torch.Tensor, pathway: np.ndarray, task: str) -> torch.Tensor:
        """A supervised task's class logits [B, K] along `pathway`."""
        return self._heads(task).classifier(self.features(x, pathway, task))

    # -- freezing ------------------------------------------------------------------------------
    def freeze(self, pathway: np.ndarray, task: str | None = None) -> None:
        """Makes the pathway's modules (and the task's heads, recording the pathway as its best)
        immutable from now on."""
        pathway = check_pathway(pathway, self.cfg)
        self.frozen |= pathway_modules(pathway)
        if task is not None:
            self._heads(task)
            self.frozen_tasks.add(task)
            self.best[task] = pathway
        self._apply_freeze()

    def keep_task(self, task: str, pathway: np.ndarray) -> None:
        """Records the task's best pathway and freezes its heads only: its modules train on
        (fine-tuning), so what the task forgets can be measured."""
        self._heads(task)
        self.best[task] = check_pathway(pathway, self.cfg)
        self.frozen_tasks.add(task)
        self._apply_freeze()

    def _apply_freeze(self) -> None:
        for layer, row in enumerate(self.grid):
            for m, module in enumerate(row):
                module.requires_grad_((layer, m) not in self.frozen)
        for name, heads in self.heads.items():
            heads.requires_grad_(name not in self.frozen_tasks)
        for name, logits in self.search.items():
            logits.requires_grad_(name not in self.frozen_tasks)

    def frozen_parameters(self) -> Iterator[nn.Parameter]:
        for layer, m in sorted(self.frozen):
            yield from self.grid[layer][m].parameters()
        for task in sorted(self.frozen_tasks):
            yield from self.heads[task].parameters()

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Every parameter an optimizer may hold: all but the frozen ones."""
        return [p for p in self.parameters() if p.requires_grad]

    @torch.no_grad()
    def reinit_unfrozen(self) -> None:
        """Re-initialises every module and head that is not frozen (in place: shared memory stays shared)."""
        for layer, row in enumerate(self.grid):
            for m, module in enumerate(row):
                if (layer, m) not in self.frozen:
                    orthogonal_init(module)
        for name, heads in self.heads.items():
            if name not in self.frozen_tasks:
                fresh = TaskHeads(self.tasks[name]["obs_shape"], self.tasks[name]["n_outputs"],
                                  self.tasks[name]["kind"], self.cfg)
                for p, q in zip(heads.parameters(), fresh.parameters()):
                    p.copy_(q)

    # -- checkpoints ---------------------------------------------------------------------------
    def describe(self) -> dict:
        """Everything needed to rebuild this PathNet but the weights: grid, tasks, frozen set, best pathways."""
        return {"grid_kind": self.grid_kind, "grid": asdict(self.cfg),
                "tasks": [{"name": name, **spec} for name, spec in self.tasks.items()],
                "frozen": sorted([list(lm) for lm in self.frozen]),
                "frozen_tasks": sorted(self.frozen_tasks),
                "best": {task: p.tolist() for task, p in self.best.items()},
                "search": list(self.search)}  # in the order added: parameters pair up by position

    @classmethod
    def from_description(cls, desc: dict) -> "PathNet":
        net = cls(desc["grid_kind"], GridConfig(**desc["grid"]))
        for task in desc["tasks"]:
            net.add_task(task["name"], task["obs_shape"], task["n_outputs"], task["kind"])
        net.frozen = {(int(layer), int(m)) for layer, m in desc["frozen"]}
        net.frozen_tasks = set(desc["frozen_tasks"])
        net.best = {task: check_pathway(p, net.cfg) for task, p in desc["best"].items()}
        for task in desc.get("search", []):
            net.add_search(task)
        net._apply_freeze()
        return net


class GumbelPolicy(nn.Module):
    """A PathNet seen through a relaxed pathway for one RL task (SNAS): each layer's N choices are
    Z = softmax((logits + G) / tau) over its M modules and "none", G Gumbel noise drawn by
    `resample` and kept until the next draw, so that acting and the loss see one pathway per
    update while gradients reach the logits. `cost()` is sum Z * FLOPs, as a share of the
    largest pathway's (N modules in every layer).

    With `hard=True` (straight-through Gumbel) each choice is the one-hot of its largest Z in the
    forward pass, so a real pathway (modules on or off) acts and is scored, while gradients flow
    through the relaxed Z as if it had been used."""

    def __init__(self, net: PathNet, task: str, layer_flops: Sequence[float] | None = None, hard: bool = False) -> None:
        super().__init__()
        self.net, self.task, self.hard = net, task, hard
        # each layer's FLOPs per module (PathNet.layer_flops); None: every module costs the same
        self.layer_flops = torch.ones(net.cfg.layers) if layer_flops is None else torch.as_tensor(layer_flops, dtype=torch.float32)
        self.noise = torch.zeros_like(net.search[task])
        self.tau = 1.0

    def resample(self, tau: float, generator: torch.Generator | None = None) -> None:
        uniform = torch.rand(self.net.search[self.task].shape, generator=generator).clamp(1e-10, 1 - 1e-10)
        self.noise, self.tau = -torch.log(-torch.log(uniform)), tau

    def relaxed(self) -> torch.Tensor:
        """Z [L, N, M + 1]."""
        logits = self.net.search[self.task] + self.net.search_mask()
        z = torch.softmax((logits + self.noise) / self.tau, -1)
        if not self.hard:
            return z
        one_hot = F.one_hot(z.argmax(-1), z.shape[-1]).to(z.dtype)
        return one_hot + z - z.detach()  # forward: the one-hot; backward: the relaxed Z's gradient

    def weights(self, z: torch.Tensor | None = None) -> torch.Tensor:
        """[L, M]: each module's weight, the relaxed chance that at least one of the layer's choices picks
        it, 1 - prod_n (1 - Z_nm) ("none" dropped): a module chosen twice runs once, as on the pathway
        the search settles on."""
        z = self.relaxed() if z is None else z
        return 1 - torch.prod(1 - z[..., :-1], dim=1)

    def sampled_pathway(self) -> np.ndarray:
        """The pathway the current noise draws ([L, N] module indices, "none" standing for the layer's
        first choice), as `PathNet.search_pathway` settles it without noise."""
        with torch.no_grad():
            logits = self.net.search[self.task] + self.net.search_mask()
            choice = (logits + self.noise).argmax(-1).numpy()
        none = choice == self.net.cfg.modules
        choice[none] = np.broadcast_to(choice[:, :1], choice.shape)[none]
        return choice

    def cost(self) -> torch.Tensor:
        """Expected FLOPs of the modules in use over the largest pathway's (N modules in every layer)."""
        flops = self.layer_flops
        return (self.weights().sum(1) * flops).sum() / (self.net.cfg.active * flops.sum())

    def forward(self, obs: torch.Tensor) -> DualOutput:
        heads = self.net._heads(self.task)
        h = self.net.soft_features(obs, self.weights(), self.task)
        return DualOutput(heads.policy(h), heads.value(h))


class PathwayPolicy(nn.Module):
    """A PathNet seen along one explicit pathway for one RL task: `forward(obs) -> DualOutput`.

    What the acting and replay code (written for a DualNet) call; the pathway is fixed when the
    view is made, never read from hidden state in the grid.
    """

    def __init__(self, net: PathNet, pathway: np.ndarray, task: str) -> None:
        super().__init__()
        self.net = net
        self.pathway = check_pathway(pathway, net.cfg)
        self.active = layer_modules(self.pathway)  # what every forward needs, worked out once
        self.task = task

    def forward(self, obs: torch.Tensor) -> DualOutput:
        return self.net(obs, self.pathway, self.task, self.active)
