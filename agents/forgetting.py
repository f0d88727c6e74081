"""Forgetting-aware fine-tuning: a quadratic anchor on the source task's weights.

While the target task trains on weights shared with the source task, the loss gains

    penalty = (strength / 2) * sum_i F_i * (theta_i - theta*_i)^2

with theta* the weights at the end of the source's training and F an importance per weight:

- **EWC** (Kirkpatrick et al. 2017): F is the diagonal Fisher information of the source policy,
  E_s E_{a ~ pi(s)} [(d log pi(a|s) / d theta)^2], over every parameter the target trains; the states
  come from the source policy playing its own game, one gradient per state. strength = lambda.
- **WPL**, the weight-plasticity loss (Benyahia et al., ICML 2019): only the parameters the two
  tasks share (the source pathway's modules), F an exponential average (momentum 0.9) of the
  squared gradients of the source task's own A3C loss over rollouts of the source policy, its norm
  clipped to 10 as in the authors' code. strength = alpha.

In pathzero's fine-tuning the target trains along the source's best pathway with heads of its own
and the source's heads frozen, so both anchor the same modules; they differ in the importance F
(the policy's Fisher against the loss-gradient average, clipped) and in its scale.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from pathzero.agents.common.returns import LossTerms
from pathzero.agents.common.rollout import EnvBatch
from pathzero.envs import GameSpec

Anchor = dict[str, dict[str, torch.Tensor]]  # {"theta": {name: tensor}, "fisher": {name: tensor}}
PENALTIES = ("none", "ewc", "wpl")
WPL_MOMENTUM = 0.9
WPL_MAX_NORM = 10.0


def _states(policy: nn.Module, spec: GameSpec, count: int, envs: int, seed: int) -> torch.Tensor:
    """`count` observations of the source policy playing its own game, [count, *obs_shape]."""
    from pathzero.agents.common.rollout import sample_actions

    batch = EnvBatch(spec, envs, seed, clip_rewards=False, life_loss=False)
    out = []
    try:
        while sum(len(o) for o in out) < count:
            obs = torch.from_numpy(batch.obs.copy())
            out.append(obs)
            actions = sample_actions(policy, obs).numpy()
            batch.step(actions)
    finally:
        batch.close()
    return torch.cat(out)[:count]


def ewc_fisher(policy: nn.Module, params: dict[str, nn.Parameter], spec: GameSpec, samples: int,
               envs: int = 8, seed: int = 0) -> dict[str, torch.Tensor]:
    """The diagonal Fisher of `policy` over `params`, from `samples` states of its own play."""
    states = _states(policy, spec, samples, envs, seed)
    fisher = {name: torch.zeros_like(p) for name, p in params.items()}
    generator = torch.Generator().manual_seed(seed)
    names, tensors = list(params), list(params.values())
    for obs in states:
        log_probs = torch.log_softmax(policy(obs[None]).logits[0], -1)
        action = torch.multinomial(log_probs.exp().detach(), 1, generator=generator)[0]
        grads = torch.autograd.grad(log_probs[action], tensors, allow_unused=True)
        for name, g in zip(names, grads):
            if g is not None:
                fisher[name] += g.detach() ** 2
    return {name: f / len(states) for name, f in fisher.items()}


def wpl_fisher(policy: nn.Module, params: dict[str, nn.Parameter], spec: GameSpec, samples: int,
               loss_fn: Callable, cfg, seed: int = 0) -> dict[str, torch.Tensor]:
    """An exponential average of the squared gradients of the source's own loss over rollouts of
    about `samples` states in all, its global norm clipped to WPL_MAX_NORM."""
    batch = EnvBatch(spec, cfg.envs_per_worker, seed, clip_rewards=cfg.clip_rewards, life_loss=cfg.life_loss)
    fisher = {name: torch.zeros_like(p) for name, p in params.items()}
    names, tensors = list(params), list(params.values())
    rollouts = max(1, samples // (cfg.t_max * cfg.envs_per_worker))
    try:
        for i in range(rollouts):
            rollout, _ = batch.collect(policy, cfg.t_max)
            grads = torch.autograd.grad(loss_fn(rollout, cfg).total, tensors, allow_unused=True)
            for name, g in zip(names, grads):
                square = torch.zeros_like(fisher[name]) if g is None else g.detach() ** 2
                fisher[name] = square if i == 0 else WPL_MOMENTUM * fisher[name] + (1 - WPL_MOMENTUM) * square
    finally:
        batch.close()
    norm = torch.sqrt(sum((f ** 2).sum() for f in fisher.values()))
    if norm > WPL_MAX_NORM:
        fisher = {name: f * (WPL_MAX_NORM / norm) for name, f in fisher.items()}
    return fisher


def make_anchor(params: dict[str, nn.Parameter], fisher: dict[str, torch.Tensor]) -> Anchor:
    """theta* and F of the parameters whose importance is not all zero (the others add nothing to the
    penalty, and skipping them keeps every update's penalty cheap: EWC's Fisher is zero off the
    source's pathway)."""
    kept = [name for name in params if bool(fisher[name].any())]
    return {"theta": {name: params[name].detach().clone() for name in kept},
            "fisher": {name: fisher[name].clone() for name in kept}}


def penalty(model: nn.Module, anchor: Anchor, strength: float) -> torch.Tensor:
    """(strength / 2) * sum F (theta - theta*)^2 over the anchored parameters of `model`."""
    params = dict(model.named_parameters())
    total = torch.zeros(())
    for name, theta_star in anchor["theta"].items():
        total = total + (anchor["fisher"][name] * (params[name] - theta_star) ** 2).sum()
    return 0.5 * strength * total


def penalised(loss_fn: Callable, model: nn.Module, anchor: Anchor, strength: float) -> Callable:
    """`loss_fn` with the anchor's penalty on `model` added to what is differentiated."""
    def loss(rollout, cfg) -> LossTerms:
        terms = loss_fn(rollout, cfg)
        return terms._replace(total=terms.total + penalty(model, anchor, strength))
    return loss


def anchor_size(anchor: Anchor) -> int:
    return sum(t.numel() for t in anchor["theta"].values())
