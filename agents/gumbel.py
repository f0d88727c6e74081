"""Differentiable pathway search on PathNet's grid (SNAS, Xie et al. 2019) instead of evolution.

Per layer, N choices each pick among the M modules and "none" through a relaxed one-hot
Z = softmax((log alpha + G) / tau), G Gumbel noise redrawn for every update (one pathway per
rollout), tau annealed linearly from `tau_start` to `tau_end` over the run (SNAS: 1 -> 0.03). The
layer sums its modules, each weighted by the relaxed chance that a choice picks it, so A3C's own gradients train the modules
and the logits alike; the loss adds `flops_penalty * cost`, cost the expected FLOPs of the pathway
as a share of the largest one (N modules in every layer), which drives unneeded choices to "none".
By default the choices are sampled hard (straight-through Gumbel: the one-hot of each choice acts
in the forward pass, the relaxed Z carries the gradient), so every training episode, the episodes a
transfer matrix scores, is played by a real pathway drawn from the search's distribution, whose
most likely member is the pathway the run ends with and whose FLOPs the matrix reports;
`--no-hard` plays the relaxed network instead (every module weighted by Z), whose scored episodes
belong to no pathway. The pathway the search settles on (each choice's most likely module) is used
as it is, without retraining. With --transfer-from the source's best pathway stays frozen and the search may use
its modules, as PathNet does.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from pathzero.agents.common.config import RESUMABLE
from pathzero.agents.common.registry import AgentEntry, register
from pathzero.agents.common.returns import rollout_loss
from pathzero.agents.common.runlog import RunLog
from pathzero.agents.common.runner import (DoneMsg, RunState, ScalarsMsg, WorkerContext, learn_step, make_env_batch,
                                           parent_gone, train)
from pathzero.agents.pathnet import (CHECKPOINT_FORMAT, PathNetRecipe, PathNetShared, PathwayConfig, load_agent,
                                     pathway_text)
from pathzero.envs import GameSpec, UsageError, resolve_game
from pathzero.nets.pathnet import GumbelPolicy, PathNet, PathwayPolicy, fixed_pathway, pathway_modules


@dataclass(frozen=True)
class GumbelConfig(PathwayConfig):
    """A run on PathNet's grid whose pathway is found by Gumbel-softmax search instead of evolution."""

    # in config.json of runs made before RunConfig (they held PathNet's evolution and anchor settings)
    RETIRED: ClassVar[frozenset[str]] = frozenset({"blocks", "evolve", "population", "eval_episodes", "penalty",
                                                   "ewc_lambda", "wpl_alpha", "fisher_samples"})
    tau_start: float = 1.0
    """Temperature of the relaxed choices at the start."""
    tau_end: float = 0.03
    """Temperature at the end of the run, reached linearly (SNAS: 1 -> 0.03)."""
    flops_penalty: float = 0.01
    """lambda of the resource cost: lambda * expected pathway FLOPs / the largest pathway's FLOPs."""
    hard: bool = True
    """Act along hard pathways sampled from the relaxed choices (straight-through Gumbel), so the episodes
    that score the run are played by real pathways; --no-hard: the relaxed network of weighted modules."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (self.tau_start > 0 and self.tau_end > 0):
            raise UsageError(f"--tau-start and --tau-end must be > 0, got {self.tau_start} and {self.tau_end}")
        if self.tau_end > self.tau_start:
            raise UsageError(f"the temperature must anneal: --tau-end {self.tau_end} is above --tau-start "
                             f"{self.tau_start} (e.g. 1.0 -> 0.03)")
        if not self.flops_penalty >= 0:
            raise UsageError(f"--flops-penalty must be >= 0 (0: no resource cost), got {self.flops_penalty}")


def temperature(cfg: GumbelConfig, frames: int) -> float:
    done = min(max(frames / cfg.total_frames, 0.0), 1.0)
    return cfg.tau_start + (cfg.tau_end - cfg.tau_start) * done


def gumbel_worker_loop(worker: int, cfg: GumbelConfig, ctx: WorkerContext, seed: int) -> None:
    """One worker: draw a relaxed pathway, act and learn along it (modules and logits), repeat."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    shared: PathNetShared = ctx.extra
    spec = resolve_game(cfg.game)
    envs = make_env_batch(cfg, spec, seed)
    local = PathNet.from_description(ctx.shared_model.describe())
    policy = GumbelPolicy(local, shared.task, local.layer_flops(local.tasks[shared.task]["obs_shape"]), hard=cfg.hard)

    def loss_fn(rollout, cfg):
        terms = rollout_loss(rollout, cfg)
        return terms._replace(total=terms.total + cfg.flops_penalty * policy.cost())

    frames, updates = ctx.frames.value, 0
    try:
        while not ctx.stop.is_set() and not parent_gone():
            tau = temperature(cfg, frames)
            policy.resample(tau, generator)
            _, frames = learn_step(worker, local, policy, envs, spec, cfg, ctx, loss_fn)
            updates += 1
            if updates % 50 == 0:
                with torch.no_grad():
                    cost = float(policy.cost())
                    probs = torch.softmax(local.search[shared.task] + local.search_mask(), -1)
                    entropy = float(-(probs * probs.clamp_min(1e-12).log()).sum(-1).mean())
                played = len(pathway_modules(policy.sampled_pathway()))  # the modules this update's pathway used
                ctx.sink.put(ScalarsMsg(worker, frames, {"gumbel/tau": tau, "gumbel/cost": cost,
                                                         "gumbel/choice_entropy": entropy,
                                                         "gumbel/sampled_modules": float(played)}))
            if frames >= cfg.total_frames:
                break
    finally:
        envs.close()
    ctx.sink.put(DoneMsg(worker))


def search_summary(model: PathNet, task: str, obs_shape) -> dict:
    """The settled pathway's size: modules, FLOPs and parameters per observation, and each module's
    expected number of choices [L, M] (the picture's tint)."""
    pathway = model.search_pathway(task)
    with torch.no_grad():
        probs = torch.softmax(model.search[task] + model.search_mask(), -1)[..., :-1].sum(1)  # [L, M]
    costs = model.pathway_costs(pathway, obs_shape)
    return {"pathway": pathway.tolist(), "modules": costs["modules"], "flops": costs["flops"], "params": costs["params"],
            "max_flops": model.pathway_costs(fixed_pathway(model.cfg), obs_shape)["flops"],
            "probabilities": probs.tolist()}


class GumbelRecipe(PathNetRecipe):
    """PathNet's grid and transfer, with the Gumbel-softmax search's logits and worker loop."""

    agent = "gumbel"
    worker = staticmethod(gumbel_worker_loop)

    def build(self, cfg: GumbelConfig, spec: GameSpec, ckpt: dict | None, where: Path | None) -> PathNet:
        model = super().build(cfg, spec, ckpt, where)
        if self.task not in model.search:  # a revisited task keeps the search it had
            model.add_search(self.task)
        self.obs_shape = model.tasks[self.task]["obs_shape"]
        return model

    def policy(self, model: PathNet, extra: PathNetShared) -> PathwayPolicy:
        return PathwayPolicy(model, model.search_pathway(self.task), self.task)

    def payload(self, model: PathNet, extra: PathNetShared) -> dict:
        out = super().payload(model, extra)
        model.best[self.task] = model.search_pathway(self.task)
        out["pathnet"] = model.describe()
        out["search"] = search_summary(model, self.task, self.obs_shape)
        return out

    def finish(self, cfg: GumbelConfig, spec: GameSpec, run_dir: Path, model: PathNet, extra: PathNetShared,
               log: RunLog, state: RunState) -> None:
        from pathzero.agents.common.runner import Recipe
        from pathzero.agents.pictures import draw_grid

        summary = search_summary(model, self.task, self.obs_shape)
        pathway = np.asarray(summary["pathway"])
        model.best[self.task] = pathway
        figure = draw_grid(model, title=f"{spec.name}: Gumbel search\n{summary['modules']} modules, "
                                        f"{summary['flops'] / 1e6:.2f} MFLOPs",
                           probabilities=np.asarray(summary["probabilities"]))
        figure.savefig(run_dir / "pathnet_grid.png", dpi=120)
        log.writer.add_figure("pathnet/grid", figure, state.frames)  # closes the figure
        log.scalars({"gumbel/modules": summary["modules"], "gumbel/mflops": summary["flops"] / 1e6}, state.frames)
        if cfg.progress:
            print(f"pathway found on {self.task}: {pathway_text(pathway)} ({summary['modules']} modules, "
                  f"{summary['flops'] / 1e6:.2f} of at most {summary['max_flops'] / 1e6:.2f} MFLOPs per observation)")
        Recipe.finish(self, cfg, spec, run_dir, PathwayPolicy(model, pathway, self.task), extra, log, state)


def train_gumbel(cfg: GumbelConfig, resume: str | Path | None = None) -> Path:
    """Trains a Gumbel-softmax pathway search on cfg.game (or continues `resume`); returns the run folder."""
    return train(cfg, GumbelRecipe(), resume)


register(AgentEntry(name="gumbel", config=GumbelConfig, train=train_gumbel, load=load_agent,
                    checkpoint_format=CHECKPOINT_FORMAT, resumable=RESUMABLE,
                    description="PathNet's module grid with a Gumbel-softmax pathway search (SNAS) instead of "
                                "evolution, with a FLOPs penalty",
                    legacy_keys=frozenset({"layers", "modules", "active", "tau_start", "tau_end", "flops_penalty"})))
